//! A form for each event, built from the event's schema in the OpenAPI document (the same
//! types the API parses its bodies into), so a field added to an event appears in the
//! console without writing HTML; and the posted form turned back into the event's JSON.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// What kind of input a field is.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Kind {
    /// One line (`long`: a text area).
    Text {
        long: bool,
    },
    Select {
        options: Vec<String>,
    },
    /// Several of a list.
    Checks {
        options: Vec<String>,
    },
    /// A list of texts, one per line.
    Lines,
    /// A time, entered in Beijing time.
    DateTime,
    Date,
    Integer,
    Bool,
    /// The case's files, to cite.
    Files,
    /// Anything else, as JSON.
    Json,
}

/// One input of a form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    /// The JSON path, dotted: `rectification.due_at`.
    pub name: String,
    pub required: bool,
    pub help: Option<String>,
    #[serde(flatten)]
    pub kind: Kind,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/components/schemas/")
            .and_then(|n| doc["components"]["schemas"].get(n))
            .map(|s| resolve(doc, s))
            .unwrap_or(schema),
        None => schema,
    }
}

/// The schema without its `null` alternative, and whether there was one.
fn non_null<'a>(doc: &'a Value, schema: &'a Value) -> (&'a Value, bool) {
    let schema = resolve(doc, schema);
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let real: Vec<&Value> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if real.len() == 1 && real.len() < alts.len() {
            return (resolve(doc, real[0]), true);
        }
    }
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let nullable = types.iter().any(|t| t == "null");
        return (schema, nullable);
    }
    (schema, false)
}

fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The fields of an event's schema (its `event` property left out).
pub fn fields(doc: &Value, schema: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    walk(doc, resolve(doc, schema), "", true, &mut out);
    // What must be filled in first; otherwise the document's (alphabetical) order.
    out.sort_by_key(|f| !f.required);
    out
}

fn walk(doc: &Value, schema: &Value, prefix: &str, required_here: bool, out: &mut Vec<Field>) {
    let required = strings(&schema["required"]);
    let Some(props) = schema["properties"].as_object() else {
        return;
    };
    for (name, prop) in props {
        if prefix.is_empty() && name == "event" {
            continue;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let (s, nullable) = non_null(doc, prop);
        let req = required_here && required.contains(name) && !nullable;
        let help = prop
            .get("description")
            .or_else(|| s.get("description"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let kind = if name == "attachments" && prefix.is_empty() {
            Kind::Files
        } else if let Some(options) = s.get("enum") {
            Kind::Select {
                options: strings(options),
            }
        } else {
            match type_of(s) {
                Some("string") => match s.get("format").and_then(Value::as_str) {
                    Some("date-time") => Kind::DateTime,
                    Some("date") => Kind::Date,
                    _ => Kind::Text {
                        long: s
                            .get("maxLength")
                            .and_then(Value::as_u64)
                            .is_none_or(|n| n > 200),
                    },
                },
                Some("integer") => Kind::Integer,
                Some("boolean") => Kind::Bool,
                Some("array") => {
                    let items = resolve(doc, &s["items"]);
                    match (items.get("enum"), type_of(items)) {
                        (Some(options), _) => Kind::Checks {
                            options: strings(options),
                        },
                        (None, Some("string")) => Kind::Lines,
                        _ => Kind::Json,
                    }
                }
                Some("object") if s.get("properties").is_some() => {
                    walk(doc, s, &path, req, out);
                    continue;
                }
                _ => Kind::Json,
            }
        };
        out.push(Field {
            name: path,
            required: req,
            help,
            kind,
        });
    }
}

/// A field the posted form got wrong: its name and why.
pub type FieldProblem = (String, String);

fn put(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut map = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            map.insert(part.to_string(), value);
            return;
        }
        let next = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(m) = next else { return };
        map = m;
    }
}

/// The event's body from the posted form: each field converted to its type; empty
/// optional fields left out.
pub fn to_json(
    event: &str,
    fields: &[Field],
    form: &[(String, String)],
) -> Result<Value, Vec<FieldProblem>> {
    let mut body = Map::new();
    body.insert("event".into(), json!(event));
    let mut problems = Vec::new();
    for f in fields {
        let all: Vec<&str> = form
            .iter()
            .filter(|(k, _)| *k == f.name)
            .map(|(_, v)| v.as_str())
            .collect();
        let one = all.first().map(|v| v.trim()).unwrap_or("");
        let value = match &f.kind {
            Kind::Checks { .. } | Kind::Files => {
                let picked: Vec<&str> = all.iter().filter(|v| !v.is_empty()).copied().collect();
                if picked.is_empty() && !f.required && matches!(f.kind, Kind::Files) {
                    continue;
                }
                json!(picked)
            }
            Kind::Bool => json!(one == "true" || one == "on"),
            _ if one.is_empty() => {
                if f.required {
                    problems.push((f.name.clone(), "必填 / is required".into()));
                }
                continue;
            }
            Kind::Text { .. } | Kind::Select { .. } | Kind::Date => json!(one),
            Kind::Lines => json!(
                one.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
            ),
            Kind::DateTime => {
                // `datetime-local` sends `2026-12-10T09:00`: Beijing time.
                let t = if one.len() == 16 {
                    format!("{one}:00+08:00")
                } else {
                    one.to_string()
                };
                json!(t)
            }
            Kind::Integer => match one.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    problems.push((f.name.clone(), "须为整数 / must be a whole number".into()));
                    continue;
                }
            },
            Kind::Json => match serde_json::from_str::<Value>(one) {
                Ok(v) => v,
                Err(_) => {
                    problems.push((f.name.clone(), "须为 JSON / must be JSON".into()));
                    continue;
                }
            },
        };
        put(&mut body, &f.name, value);
    }
    if problems.is_empty() {
        Ok(Value::Object(body))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"components": {"schemas": {
            "Text": {"type": "string", "minLength": 1},
            "Outcome": {"type": "string", "enum": ["exonerate", "deny"]},
            "Order": {"type": "object", "properties": {
                "requirements": {"$ref": "#/components/schemas/Text"},
                "due_at": {"type": "string", "format": "date-time"}
            }, "required": ["requirements", "due_at"]},
            "Decide": {"type": "object", "properties": {
                "event": {"type": "string", "enum": ["decide"]},
                "outcome": {"$ref": "#/components/schemas/Outcome"},
                "explanation": {"$ref": "#/components/schemas/Text"},
                "rectification": {"oneOf": [{"$ref": "#/components/schemas/Order"}, {"type": "null"}]},
                "months": {"type": ["integer", "null"]},
                "red_lines": {"type": "array", "items": {"type": "string", "enum": ["integrity", "shirking"]}},
                "attachments": {"type": "array", "items": {"type": "string"}}
            }, "required": ["event", "outcome", "explanation"]}
        }}})
    }

    #[test]
    fn a_schema_becomes_fields_and_a_form_becomes_its_json() {
        let d = doc();
        let f = fields(&d, &d["components"]["schemas"]["Decide"]);
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "explanation",
                "outcome",
                "attachments",
                "months",
                "rectification.due_at",
                "rectification.requirements",
                "red_lines"
            ]
        );
        assert!(f[0].required && f[1].required && !f[2].required && !f[5].required);
        assert_eq!(f[4].kind, Kind::DateTime);
        assert_eq!(f[2].kind, Kind::Files);
        let form: Vec<(String, String)> = [
            ("outcome", "deny"),
            ("explanation", "不符合"),
            ("rectification.requirements", "整改"),
            ("rectification.due_at", "2026-12-10T09:00"),
            ("months", "6"),
            ("red_lines", "integrity"),
            ("red_lines", "shirking"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let body = to_json("decide", &f, &form).unwrap();
        assert_eq!(
            body,
            json!({"event": "decide", "outcome": "deny", "explanation": "不符合",
                   "rectification": {"requirements": "整改", "due_at": "2026-12-10T09:00:00+08:00"},
                   "months": 6, "red_lines": ["integrity", "shirking"]})
        );
        let problems = to_json("decide", &f, &[("months".into(), "six".into())]).unwrap_err();
        let named: Vec<&str> = problems.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(named, ["explanation", "outcome", "months"]);
    }
}
