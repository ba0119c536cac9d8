//! Notifications: rules (who, which template) as data, templates, the outbox rows written
//! in the transition's transaction, and the delivery worker that sends them after commit.

pub mod mailer;
pub mod outbox;
pub mod recipients;
pub mod render;
pub mod rules;
pub mod worker;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use self::outbox::Transition;
use self::render::Templates;
use self::rules::Rules;
use crate::db::DbConnection;
use crate::db::models::OutboxRow;
use crate::domain::registry::Registry;
use crate::domain::workflow::{Case, Workflow};

pub struct Notifier {
    rules: Rules,
    templates: Templates,
    public_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("{0}")]
    Render(String),
}

impl Notifier {
    /// Loads the rules of every workflow in `dir` and the templates of `dir/templates`.
    pub fn load(dir: &Path, registry: &Registry, public_url: &str) -> Result<Notifier, String> {
        let templates = Templates::load(&dir.join("templates"))?;
        let rules = Rules::load(dir, registry, templates.names())?;
        Ok(Notifier {
            rules,
            templates,
            public_url: public_url.trim_end_matches('/').to_string(),
        })
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    pub fn case_url(&self, case: &Case) -> String {
        format!("{}/api/v1/{}s/{}", self.public_url, case.workflow, case.id)
    }

    /// One pending outbox row per recipient of this transition, rendered now from the data
    /// being committed, each with a stable Message-ID.
    #[allow(clippy::too_many_arguments)]
    pub fn rows(
        &self,
        conn: &mut DbConnection,
        wf: &dyn Workflow,
        case: &Case,
        event: &str,
        from: Option<&str>,
        payload: &Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>, NotifyError> {
        let rule = self.rules.get(&case.workflow, event).ok_or_else(|| {
            NotifyError::Render(format!("no rule for {} `{event}`", case.workflow))
        })?;
        let recipients = recipients::for_case(conn, case, &rule.recipients)?;
        let t = Transition {
            wf,
            case,
            event,
            from,
            payload,
            at,
            link: self.case_url(case),
        };
        let naive = at.naive_utc();
        let mut rows = Vec::with_capacity(recipients.len());
        for r in &recipients {
            let ctx = outbox::context(&t, rule, &self.rules, r);
            let rendered = self
                .templates
                .render(&rule.template, &ctx)
                .map_err(NotifyError::Render)?;
            let id = uuid::Uuid::now_v7().to_string();
            rows.push(OutboxRow {
                message_id: format!("<{id}@rongcuo>"),
                id,
                case_id: case.id.clone(),
                seq: case.version,
                recipient_id: r.id.clone(),
                recipient_name: r.name.clone(),
                recipient_email: r.email.clone(),
                relation: r.relation.to_string(),
                template: rule.template.clone(),
                subject: rendered.subject,
                body_text: rendered.text,
                state: "pending".into(),
                attempts: 0,
                next_attempt_at: naive,
                last_error: None,
                created_at: naive,
                sent_at: None,
                body_html: rendered.html,
            });
        }
        Ok(rows)
    }
}
