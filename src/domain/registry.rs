//! The workflows this service runs, by name.

use std::path::Path;
use std::sync::Arc;

use super::calendar::Calendar;
use super::clarification::Clarification;
use super::exoneration::Exoneration;
use super::workflow::Workflow;
use crate::seal::Sealer;

#[derive(Clone)]
pub struct Registry {
    workflows: Vec<Arc<dyn Workflow>>,
}

impl Registry {
    /// Loads every workflow's data from `dir` (the `workflows/` folder).
    pub fn load(
        dir: &Path,
        appeal_window_days: i64,
        sealer: Arc<Sealer>,
    ) -> Result<Registry, String> {
        let calendar = Arc::new(Calendar::load(&dir.join("calendar"))?);
        let exoneration = Exoneration::load(dir, appeal_window_days, calendar)?;
        let clarification = Clarification::new(sealer);
        Ok(Registry {
            workflows: vec![Arc::new(exoneration), Arc::new(clarification)],
        })
    }

    pub fn get(&self, name: &str) -> Option<&dyn Workflow> {
        self.workflows
            .iter()
            .find(|w| w.def().name == name)
            .map(|w| w.as_ref())
    }

    pub fn all(&self) -> impl Iterator<Item = &dyn Workflow> {
        self.workflows.iter().map(|w| w.as_ref())
    }
}
