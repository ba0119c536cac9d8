//! The domain: workflows, their machines and records. Knows nothing of actix or diesel.

pub mod access;
pub mod calendar;
pub mod clarification;
pub mod common;
pub mod def;
pub mod describe;
pub mod exoneration;
pub mod material;
pub mod org;
pub mod registry;
pub mod workflow;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use org::OrgPath;

/// The roles of docs/API.md, plus `system` for timers.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cadre,
    UnitAdmin,
    Intake,
    Investigator,
    Reviewer,
    Admin,
    System,
}

impl Role {
    pub const HUMAN: [Role; 6] = [
        Role::Cadre,
        Role::UnitAdmin,
        Role::Intake,
        Role::Investigator,
        Role::Reviewer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cadre => "cadre",
            Role::UnitAdmin => "unit_admin",
            Role::Intake => "intake",
            Role::Investigator => "investigator",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::HUMAN.into_iter().find(|r| r.as_str() == s)
    }

    /// Staff roles see every case of their org subtree.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Cadre | Role::System)
    }

    /// Staff roles that see a case before it is disclosed to its subject: those who handle
    /// it, not the subject's unit.
    pub fn sees_undisclosed(self) -> bool {
        self.is_staff() && self != Role::UnitAdmin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts: an authenticated person, or the system (timers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub org: OrgPath,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            name: "rongcuo".into(),
            email: String::new(),
            roles: vec![Role::System],
            org: OrgPath::parse("system").expect("constant org path is valid"),
        }
    }

    /// Someone who may see nothing confidential: what mails are rendered for.
    pub fn nobody() -> Actor {
        Actor {
            id: String::new(),
            name: String::new(),
            email: String::new(),
            roles: Vec::new(),
            org: OrgPath::parse("nobody").expect("constant org path is valid"),
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The org subtrees in which this actor sees every case, disclosed or not.
    pub fn staff_subtrees(&self) -> Vec<String> {
        if self.roles.iter().any(|r| r.sees_undisclosed()) {
            vec![self.org.as_str().to_string()]
        } else {
            Vec::new()
        }
    }

    /// The org subtrees in which this actor sees disclosed cases only (a unit admin).
    pub fn disclosed_subtrees(&self) -> Vec<String> {
        let staff = self.roles.iter().any(|r| r.is_staff());
        if staff && self.staff_subtrees().is_empty() {
            vec![self.org.as_str().to_string()]
        } else {
            Vec::new()
        }
    }

    /// Staff role `role` held by this actor over a case about a cadre of `subject_org`.
    pub fn acts_as_staff(&self, role: Role, subject_org: &str) -> bool {
        role.is_staff() && self.has(role) && self.org.covers(subject_org)
    }
}

/// A field-level validation message (`errors[]` of a 422).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why the domain refuses an event. Mapped to 403 / 409 / 422 by the HTTP layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Forbidden(String),
    #[error("event `{event}` is not allowed in state `{state}`")]
    NotAllowed { state: String, event: String },
    /// The state allows the event but a condition of the case does not (a window closed,
    /// the rectification is not in the right state).
    #[error("{0}")]
    Conflict(String),
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    /// Not a refusal: a lookup the decision needed failed (the HTTP layer answers 503).
    #[error("{0}")]
    Unavailable(String),
}

impl Refusal {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal::Invalid(vec![FieldError::new(field, message)])
    }
}

/// An e-mail address, checked once at the edge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl utoipa::PartialSchema for EmailAddress {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Email,
            )))
            .max_length(Some(254))
            .into()
    }
}

impl utoipa::ToSchema for EmailAddress {}

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let valid = s.len() <= 254
            && !s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
            })
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(EmailAddress(s.to_string()))
        } else {
            Err(format!("`{s}` is not an e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EmailAddress::parse(&s).map_err(serde::de::Error::custom)
    }
}
