//! Organisation paths: the jurisdiction tree (`anhui/hefei/finance`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated org path: 1–12 segments of `a-z`, `0-9`, `-`, `_`, joined by `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > 200 {
            return Err("must be at most 200 characters".into());
        }
        let segments: Vec<&str> = s.split('/').collect();
        if segments.len() > 12 {
            return Err("must have at most 12 levels".into());
        }
        for seg in &segments {
            if seg.is_empty() {
                return Err(
                    "must be segments joined by single `/`, like `anhui/hefei/finance`".into(),
                );
            }
            if !seg
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                return Err(format!(
                    "segment `{seg}` may hold only lowercase letters, digits, `-` and `_`"
                ));
            }
        }
        Ok(OrgPath(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` is this org or lies below it.
    pub fn covers(&self, other: &str) -> bool {
        covers(&self.0, other)
    }

    /// This org and all its ancestors, root first.
    pub fn self_and_ancestors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut acc = String::new();
        for seg in self.0.split('/') {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(seg);
            out.push(acc.clone());
        }
        out
    }
}

/// True when the org path `inner` is `outer` or lies below it (`anhui/hefei` covers
/// `anhui/hefei/finance`, not `anhui/hefei2`).
pub fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || (inner.len() > outer.len()
            && inner.starts_with(outer)
            && inner.as_bytes()[outer.len()] == b'/')
}

impl fmt::Display for OrgPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for OrgPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrgPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OrgPath::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for OrgPath {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z0-9_-]+(/[a-z0-9_-]+){0,11}$"))
            .max_length(Some(200))
            .examples(["anhui/hefei/finance"])
            .into()
    }
}

impl utoipa::ToSchema for OrgPath {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_itself_and_descendants_only() {
        let org = OrgPath::parse("anhui/hefei").unwrap();
        assert!(org.covers("anhui/hefei"));
        assert!(org.covers("anhui/hefei/finance"));
        assert!(!org.covers("anhui/hefeixi"));
        assert!(!org.covers("anhui"));
        assert!(!org.covers("fujian/hefei"));
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "",
            "/anhui",
            "anhui/",
            "anhui//hefei",
            "Anhui",
            "anhui hefei",
            "安徽",
            "a/%",
        ] {
            assert!(OrgPath::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            OrgPath::parse("anhui/hefei/finance")
                .unwrap()
                .self_and_ancestors(),
            vec!["anhui", "anhui/hefei", "anhui/hefei/finance"]
        );
    }
}
