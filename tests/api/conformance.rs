//! Every request the API tests send through `TestApp::request` is checked against the
//! service's own `/openapi.json`: the status must be documented for the operation, a JSON
//! body must match the documented schema, and a body the service accepted must be one the
//! document accepts. A drift between the document and the code fails whichever test
//! happened to cross it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::Value;

pub struct Conformance {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

static SHARED: OnceLock<Mutex<HashMap<String, &'static Conformance>>> = OnceLock::new();

/// The checker of a document, made once per process: the apps of a run serve the same
/// document but for those that register a workflow of their own.
pub fn shared(doc_json: &str) -> &'static Conformance {
    let mut all = SHARED
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap();
    all.entry(doc_json.to_string()).or_insert_with(|| {
        Box::leak(Box::new(Conformance {
            doc: serde_json::from_str(doc_json).expect("/openapi.json is JSON"),
            validators: Mutex::new(HashMap::new()),
        }))
    })
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Does the concrete `path` fit the OpenAPI `template`?
fn fits(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    // `/docs/{file}` is the one tail parameter: it may be empty (`/docs/`).
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            (t.starts_with('{') && t.ends_with('}') && (!p.is_empty() || *t == "{file}")) || t == p
        })
}

impl Conformance {
    /// The validator of the schema at `pointer` (a JSON pointer into the document).
    pub fn validator(&self, pointer: &str) -> Arc<Validator> {
        if let Some(v) = self.validators.lock().unwrap().get(pointer) {
            return v.clone();
        }
        let mut root = self.doc.clone();
        // A URI fragment: the braces of path templates are percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = Value::String(format!("#{fragment}"));
        let v = Arc::new(
            jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}")),
        );
        self.validators
            .lock()
            .unwrap()
            .insert(pointer.to_string(), v.clone());
        v
    }

    fn check_schema(&self, pointer: &str, instance: &Value, what: &str) {
        let v = self.validator(pointer);
        let errors: Vec<String> = v
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not match /openapi.json ({pointer}):\n{}\n{instance:#}",
            errors.join("\n")
        );
    }

    /// Checks one exchange. `path` has no query string.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        request: Option<&Value>,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) {
        if status >= 400 {
            // No internals in an error body: no SQL, no driver, no panic, no source path.
            let text = String::from_utf8_lossy(body);
            for leak in [
                "SELECT ",
                "INSERT ",
                "UPDATE ",
                "DELETE ",
                "diesel",
                "panicked",
                "backtrace",
                "src/",
                ".rs:",
            ] {
                assert!(
                    !text.contains(leak),
                    "{method} {path} → {status} shows `{leak}`: {text}"
                );
            }
        }
        let Some((template, item)) = self.doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(t, _)| fits(t, path))
        else {
            // Not a documented resource: the service must say so, in the problem format.
            assert!(
                status == 404,
                "{method} {path}: {status}, but no path of /openapi.json serves it"
            );
            return;
        };
        let m = method.to_ascii_lowercase();
        let Some(op) = item.get(&m) else {
            assert_eq!(
                status, 405,
                "{method} {path}: the document has no {method} on {template}"
            );
            return;
        };
        let what = format!("{method} {template} → {status}");
        let op_ptr = format!("/paths/{}/{m}", escape(template));
        let status_key = status.to_string();
        let Some(response) = op["responses"].get(&status_key) else {
            panic!(
                "{what}: status not documented (documented: {:?}); body {}",
                op["responses"]
                    .as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>()),
                String::from_utf8_lossy(body)
            );
        };
        let media = content_type
            .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        if body.is_empty() && response.get("content").is_none() {
            return;
        }
        let content = &response["content"];
        assert!(
            content.get(&media).is_some(),
            "{what}: answered {media:?}, documented {:?}",
            content
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
        );
        if media == "application/json" || media == "application/problem+json" {
            let v: Value = serde_json::from_slice(body)
                .unwrap_or_else(|e| panic!("{what}: the {media} body is not JSON: {e}"));
            let ptr = format!(
                "{op_ptr}/responses/{status_key}/content/{}/schema",
                escape(&media)
            );
            self.check_schema(&ptr, &v, &format!("the answer of {what}"));
        }
        if let (Some(req), true) = (request, (200..300).contains(&status))
            && op.get("requestBody").is_some()
        {
            let ptr = format!("{op_ptr}/requestBody/content/application~1json/schema");
            self.check_schema(&ptr, req, &format!("the accepted request of {what}"));
        }
    }
}
