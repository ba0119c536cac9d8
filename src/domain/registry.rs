//! The workflows this service runs, by name.

use std::path::Path;
use std::sync::Arc;

use super::exoneration::Exoneration;
use super::workflow::Workflow;

#[derive(Clone)]
pub struct Registry {
    workflows: Vec<Arc<dyn Workflow>>,
}

impl Registry {
    /// Loads every workflow's data from `dir` (the `workflows/` folder).
    pub fn load(dir: &Path, appeal_window_days: i64) -> Result<Registry, String> {
        let exoneration = Exoneration::load(dir, appeal_window_days)?;
        Ok(Registry {
            workflows: vec![Arc::new(exoneration)],
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
