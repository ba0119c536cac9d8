//! Signing and verifying keys. The algorithm comes from configuration only.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::claims::Claims;
use crate::settings::Auth;

pub struct Keys {
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
}

/// Longest token accepted (bytes); longer ones are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

impl Keys {
    pub fn from_settings(auth: &Auth) -> Result<Keys, String> {
        let read = |key: &str, path: &str| {
            std::fs::read(path)
                .map_err(|e| format!("configuration key `{key}`: cannot read {path}: {e}"))
        };
        let (algorithm, decoding, encoding) = match auth.algorithm.as_str() {
            "HS256" => (
                Algorithm::HS256,
                DecodingKey::from_secret(auth.secret.as_bytes()),
                Some(EncodingKey::from_secret(auth.secret.as_bytes())),
            ),
            "RS256" | "EdDSA" => {
                let rsa = auth.algorithm == "RS256";
                let public = read("auth.public_key_file", &auth.public_key_file)?;
                let decoding = if rsa {
                    DecodingKey::from_rsa_pem(&public)
                } else {
                    DecodingKey::from_ed_pem(&public)
                }
                .map_err(|e| format!("configuration key `auth.public_key_file`: {e}"))?;
                let encoding = if auth.private_key_file.is_empty() {
                    None
                } else {
                    let private = read("auth.private_key_file", &auth.private_key_file)?;
                    Some(
                        if rsa {
                            EncodingKey::from_rsa_pem(&private)
                        } else {
                            EncodingKey::from_ed_pem(&private)
                        }
                        .map_err(|e| format!("configuration key `auth.private_key_file`: {e}"))?,
                    )
                };
                (
                    if rsa {
                        Algorithm::RS256
                    } else {
                        Algorithm::EdDSA
                    },
                    decoding,
                    encoding,
                )
            }
            other => {
                return Err(format!(
                    "configuration key `auth.algorithm`: `{other}` is not supported"
                ));
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[auth.issuer.as_str()]);
        validation.set_audience(&[auth.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = auth.leeway_seconds;
        validation.validate_nbf = true;
        Ok(Keys {
            algorithm,
            decoding,
            encoding,
            validation,
        })
    }

    /// Verifies a token; the error says why, without echoing the token.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        if token.len() > MAX_TOKEN_LEN {
            return Err("token too long".into());
        }
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "token expired".to_string(),
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                    "token not yet valid".to_string()
                }
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => "wrong issuer".to_string(),
                jsonwebtoken::errors::ErrorKind::InvalidAudience => "wrong audience".to_string(),
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => "wrong algorithm".to_string(),
                jsonwebtoken::errors::ErrorKind::InvalidSignature => "bad signature".to_string(),
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(c) => {
                    format!("missing claim `{c}`")
                }
                _ => "invalid token".to_string(),
            })
    }

    /// Mints a token (development and tests); needs a signing key.
    pub fn mint(&self, claims: &Claims) -> Result<String, String> {
        let key = self.encoding.as_ref().ok_or(
            "no signing key: set auth.private_key_file (RONGCUO_JWT_PRIVATE_KEY_FILE) to mint tokens",
        )?;
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, key).map_err(|e| e.to_string())
    }
}
