//! Value types every workflow uses: checked free text, reasons, who-did-what notes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// Longest text accepted in any free-text field.
pub const MAX_TEXT: usize = 20_000;

/// Free text that is not blank once trimmed, at most [`MAX_TEXT`] characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl utoipa::PartialSchema for Text {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"\S"))
            .max_length(Some(MAX_TEXT))
            .description(Some("free text, not blank; trimmed"))
            .into()
    }
}

impl utoipa::ToSchema for Text {}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        if t.is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        if t.chars().count() > MAX_TEXT {
            return Err(serde::de::Error::custom(format!(
                "must be at most {MAX_TEXT} characters"
            )));
        }
        Ok(Text(t.to_string()))
    }
}

impl Text {
    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Nothing {}

/// A reasoned act: who, when, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Note {
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Material {
    pub text: String,
    pub by: String,
    pub at: DateTime<Utc>,
}
