//! Notification rules as data: `[[notifications]]` in `workflows/<workflow>.toml`.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::domain::registry::Registry;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    Subject,
    Applicant,
    Investigator,
    Reviewers,
    UnitContact,
    /// The intake officers of the jurisdiction (the subject's org and its ancestors).
    IntakeOfficers,
    /// The investigators of the jurisdiction, assigned to the case or not.
    Investigators,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub event: String,
    /// "中文 / English".
    pub label: String,
    pub template: String,
    pub recipients: Vec<RecipientKind>,
}

impl Rule {
    pub fn label_zh(&self) -> &str {
        self.label.split(" / ").next().unwrap_or(&self.label).trim()
    }

    pub fn label_en(&self) -> &str {
        self.label.split(" / ").nth(1).unwrap_or(&self.label).trim()
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    notifications: Vec<Rule>,
}

#[derive(Clone, Debug, Default)]
pub struct Rules {
    by_event: HashMap<(String, String), Rule>,
}

impl Rules {
    /// Loads every workflow's rules and checks them: each event of each machine (and
    /// `create`) has exactly one rule, no rule names an unknown event or template.
    pub fn load(dir: &Path, registry: &Registry, templates: &[String]) -> Result<Rules, String> {
        let mut by_event = HashMap::new();
        for wf in registry.all() {
            let def = wf.def();
            let path = dir.join(format!("{}.toml", def.name));
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let file: File =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut events = def.events();
            events.push("create");
            // Notes are mailed too (files are not: the event citing them is).
            events.push("note");
            for rule in file.notifications {
                if !events.contains(&rule.event.as_str()) {
                    return Err(format!(
                        "{}: a rule names the unknown event `{}`",
                        path.display(),
                        rule.event
                    ));
                }
                if !templates.contains(&rule.template) {
                    return Err(format!(
                        "{}: the rule for `{}` names the unknown template `{}`",
                        path.display(),
                        rule.event,
                        rule.template
                    ));
                }
                if rule.recipients.is_empty() {
                    return Err(format!(
                        "{}: the rule for `{}` names no recipients",
                        path.display(),
                        rule.event
                    ));
                }
                let key = (def.name.to_string(), rule.event.clone());
                if by_event.insert(key, rule.clone()).is_some() {
                    return Err(format!(
                        "{}: two rules for `{}`",
                        path.display(),
                        rule.event
                    ));
                }
            }
            for e in events {
                if !by_event.contains_key(&(def.name.to_string(), e.to_string())) {
                    return Err(format!(
                        "{}: no notification rule for event `{e}`",
                        path.display()
                    ));
                }
            }
        }
        Ok(Rules { by_event })
    }

    pub fn get(&self, workflow: &str, event: &str) -> Option<&Rule> {
        self.by_event
            .get(&(workflow.to_string(), event.to_string()))
    }
}
