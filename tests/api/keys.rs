//! Public-key configurations: the algorithm comes from configuration, never the token.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn public_key_configuration_accepts_its_own_tokens_only(algorithm: &str, key: &str) {
    let public = fixture(&format!("{key}-public.pem"));
    let private = fixture(&format!("{key}-private.pem"));
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("RONGCUO_JWT_ALGORITHM", algorithm),
            ("RONGCUO_JWT_PUBLIC_KEY_FILE", &public),
            ("RONGCUO_JWT_PRIVATE_KEY_FILE", &private),
        ],
    )
    .await
    .unwrap();
    let path = "/api/v1/exonerations";
    let good = app.token(&ZHANG);
    assert_eq!(
        app.request(Method::GET, path, Some(&good), None, &[])
            .await
            .status(),
        StatusCode::OK
    );

    // Algorithm confusion: an HS256 token "signed" with the public key as the secret.
    let public_bytes = std::fs::read(&public).unwrap();
    let confused = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &app.claims(&ZHANG),
        &jsonwebtoken::EncodingKey::from_secret(&public_bytes),
    )
    .unwrap();
    // A token signed with the shared test secret (HS256) is no good here either.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &app.claims(&ZHANG),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    for token in [confused, hs] {
        let r = app
            .request(Method::GET, path, Some(&token), None, &[])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eddsa_configuration_accepts_its_own_tokens_only() {
    public_key_configuration_accepts_its_own_tokens_only("EdDSA", "ed25519").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_configuration_accepts_its_own_tokens_only() {
    public_key_configuration_accepts_its_own_tokens_only("RS256", "rsa").await;
}

#[tokio::test]
async fn a_public_key_configuration_without_a_key_file_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/k.db", dir.path().display());
    let env = test_env(&db, &[("RONGCUO_JWT_ALGORITHM", "RS256")]);
    let err = rongcuo::settings::Settings::load_from(|k| env.get(k).cloned()).unwrap_err();
    assert_eq!(err.key, "auth.public_key_file");
    let env = test_env(
        &db,
        &[
            ("RONGCUO_JWT_ALGORITHM", "EdDSA"),
            ("RONGCUO_JWT_PUBLIC_KEY_FILE", "/nonexistent.pem"),
        ],
    );
    let settings = rongcuo::settings::Settings::load_from(|k| env.get(k).cloned()).unwrap();
    let err = rongcuo::startup::Application::build(settings)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("auth.public_key_file"), "{err}");
}
