use serde::{Deserialize, Serialize};

use crate::domain::{Actor, EmailAddress, OrgPath, Role};

/// The claims of docs/API.md.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub org: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

impl Claims {
    /// The actor these claims describe, or why they do not describe one.
    pub fn to_actor(&self) -> Result<Actor, String> {
        let sub = self.sub.trim();
        if sub.is_empty() || sub.len() > 128 || sub == "system" {
            return Err("`sub` must be a person id of 1–128 characters".into());
        }
        if self.name.trim().is_empty() {
            return Err("`name` must not be empty".into());
        }
        let email = EmailAddress::parse(&self.email).map_err(|e| format!("`email`: {e}"))?;
        let org = OrgPath::parse(&self.org).map_err(|e| format!("`org`: {e}"))?;
        if self.roles.is_empty() {
            return Err("`roles` must name at least one role".into());
        }
        let mut roles = Vec::new();
        for r in &self.roles {
            let role = Role::parse(r).ok_or_else(|| format!("`roles`: unknown role `{r}`"))?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        Ok(Actor {
            id: sub.to_string(),
            name: self.name.trim().to_string(),
            email: email.as_str().to_string(),
            roles,
            org,
        })
    }
}
