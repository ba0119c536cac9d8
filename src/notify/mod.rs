//! Notifications: rules (who, which template) as data, templates, the outbox rows written
//! in the transition's transaction, and the delivery worker that sends them after commit.

pub mod mailer;
pub mod outbox;
pub mod recipients;
pub mod render;
pub mod rules;
pub mod smtp;
pub mod worker;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use self::outbox::Transition;
use self::render::Templates;
use self::rules::{Rule, Rules};
use crate::db::DbConnection;
use crate::db::models::OutboxRow;
use crate::domain::access::available_events;
use crate::domain::registry::Registry;
use crate::domain::workflow::{Case, TimerKind, Workflow};

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
        for needed in ["reminder", "influence_end"] {
            if !templates.names().iter().any(|n| n == needed) {
                return Err(format!(
                    "templates: `{needed}` (.subject, .txt, .html) is missing"
                ));
            }
        }
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

    /// Where a mail sends its reader: the case's page in the web console (which asks them
    /// to sign in first when they have no session).
    pub fn case_url(&self, wf: &dyn Workflow, case: &Case) -> String {
        format!(
            "{}/console/{}/{}",
            self.public_url,
            wf.def().collection,
            case.id
        )
    }

    /// One pending outbox row per recipient of this transition, rendered now from the data
    /// being committed, each with a stable Message-ID. `known`: directory rows already read
    /// with the case ([`recipients::for_case`]).
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
        known: &[(String, Option<crate::db::models::PersonRow>)],
        author: Option<&crate::domain::Actor>,
    ) -> Result<Vec<OutboxRow>, NotifyError> {
        let rule = self.rules.get(&case.workflow, event).ok_or_else(|| {
            NotifyError::Render(format!("no rule for {} `{event}`", case.workflow))
        })?;
        let mut recipients = recipients::for_case(conn, case, &rule.recipients, known)?;
        if event == "note" {
            // A note goes to the others its rule names who may read it: a staff note only
            // to those who handle the case, never to its author.
            let staff = payload.get("visibility").and_then(Value::as_str) != Some("parties");
            recipients.retain(|r| {
                let own = author.is_some_and(|a| r.id.as_deref() == Some(a.id.as_str()));
                let reads = !staff
                    || r.actor
                        .as_ref()
                        .is_some_and(|a| crate::domain::material::handles(a, case));
                !own && reads
            });
        }
        let t = Transition {
            wf,
            case,
            event,
            from,
            payload,
            at,
            link: self.case_url(wf, case),
        };
        self.build(&t, rule, &recipients, case.version, None)
    }

    /// Mail about a deadline, not tied to a transition (seq 0): a reminder before it to
    /// whoever must act, or the notice that an influence period has ended.
    #[allow(clippy::too_many_arguments)]
    pub fn deadline_rows(
        &self,
        conn: &mut DbConnection,
        wf: &dyn Workflow,
        case: &Case,
        kind: TimerKind,
        name: &str,
        due: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>, NotifyError> {
        use rules::RecipientKind::*;
        let (zh, en) = wf.def().deadline_label(name);
        let influence = name == "influence_end";
        let (template, label, kinds) = match kind {
            TimerKind::Notice => (
                "influence_end",
                "影响期届满 / influence period ended".to_string(),
                vec![Subject, UnitContact],
            ),
            _ if influence => (
                "reminder",
                format!("期限提醒：{zh} / reminder: {en}"),
                vec![Subject, UnitContact],
            ),
            // The follow-up talk is held by the jurisdiction's investigators or the unit.
            _ if name == "talk_overdue" => (
                "reminder",
                format!("期限提醒：{zh} / reminder: {en}"),
                vec![Investigators, UnitContact],
            ),
            _ => (
                "reminder",
                format!("期限提醒：{zh} / reminder: {en}"),
                vec![Subject, Applicant, Investigator, UnitContact],
            ),
        };
        let rule = Rule {
            event: name.to_string(),
            label,
            template: template.into(),
            recipients: kinds,
        };
        let mut recipients = recipients::for_case(conn, case, &rule.recipients, &[])?;
        if kind == TimerKind::Reminder && !influence {
            // The one who must act: whoever may apply an event now.
            recipients.retain(|r| {
                r.actor
                    .as_ref()
                    .is_some_and(|a| !available_events(wf, a, case, at).is_empty())
            });
        }
        let payload = Value::Null;
        let t = Transition {
            wf,
            case,
            event: name,
            from: None,
            payload: &payload,
            at,
            link: self.case_url(wf, case),
        };
        self.build(&t, &rule, &recipients, 0, Some((zh, en, due)))
    }

    fn build(
        &self,
        t: &Transition<'_>,
        rule: &Rule,
        recipients: &[recipients::Recipient],
        seq: i64,
        deadline: Option<(&str, &str, DateTime<Utc>)>,
    ) -> Result<Vec<OutboxRow>, NotifyError> {
        let naive = t.at.naive_utc();
        let mut rows = Vec::with_capacity(recipients.len());
        for r in recipients {
            let mut ctx = outbox::context(t, rule, &self.rules, r);
            if let Some((zh, en, due)) = deadline {
                ctx["deadline"] = outbox::deadline_json(zh, en, due);
            }
            let rendered = self
                .templates
                .render(&rule.template, &ctx)
                .map_err(NotifyError::Render)?;
            let id = uuid::Uuid::now_v7().to_string();
            rows.push(OutboxRow {
                message_id: format!("<{id}@rongcuo>"),
                id,
                case_id: t.case.id.clone(),
                seq,
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
