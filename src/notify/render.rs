//! Mail templates (minijinja), loaded from `workflows/templates/`: for each template
//! `<name>.subject`, `<name>.txt` and `<name>.html` (HTML auto-escaped).

use std::path::Path;

use minijinja::Environment;
use serde_json::Value;

pub struct Templates {
    env: Environment<'static>,
    names: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Templates {
    pub fn load(dir: &Path) -> Result<Templates, String> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let source =
                std::fs::read_to_string(entry.path()).map_err(|e| format!("{name}: {e}"))?;
            files.push(name.clone());
            env.add_template_owned(name.clone(), source)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        let mut names: Vec<String> = files
            .iter()
            .filter_map(|f| f.strip_suffix(".subject"))
            .filter(|n| files.contains(&format!("{n}.txt")) && files.contains(&format!("{n}.html")))
            .map(str::to_string)
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(format!(
                "{}: no complete template (.subject, .txt, .html)",
                dir.display()
            ));
        }
        Ok(Templates { env, names })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn render(&self, name: &str, ctx: &Value) -> Result<Rendered, String> {
        // The context becomes a template value once, for all three parts (rendering from
        // serde_json's value converts it again at every render).
        let ctx = minijinja::Value::from_serialize(ctx);
        let part = |suffix: &str, ctx: &minijinja::Value| -> Result<String, String> {
            let t = self
                .env
                .get_template(&format!("{name}.{suffix}"))
                .map_err(|e| e.to_string())?;
            t.render(ctx).map_err(|e| format!("{name}.{suffix}: {e}"))
        };
        let subject = part("subject", &ctx)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let html = part(
            "html",
            &minijinja::context! { subject => subject.clone(), ..ctx.clone() },
        )?;
        Ok(Rendered {
            subject,
            text: tidy(&part("txt", &ctx)?),
            html,
        })
    }
}

/// At most one blank line in a row, no trailing spaces.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_start_matches('\n').to_string()
}
