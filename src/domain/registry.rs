//! The workflows this service runs, by name. Adding one is a folder under `domain/` and a
//! line in [`BUILT_IN`]; a deployment or a test may also register its own
//! ([`Registry::with`]) before the service starts.

use std::path::Path;
use std::sync::Arc;

use super::calendar::Calendar;
use super::workflow::{Loader, Setup, Workflow};
use super::{clarification, exoneration};
use crate::seal::Sealer;
use crate::settings::Workflows;

/// The workflows every service runs, in the order the document lists them.
pub const BUILT_IN: &[Loader] = &[exoneration::load, clarification::load];

#[derive(Clone)]
pub struct Registry {
    workflows: Vec<Arc<dyn Workflow>>,
}

impl Registry {
    /// Loads the built-in workflows from `settings.dir` (the `workflows/` folder).
    pub fn load(settings: &Workflows, sealer: Arc<Sealer>) -> Result<Registry, String> {
        let dir = Path::new(&settings.dir);
        let setup = Setup {
            dir,
            settings,
            calendar: Arc::new(Calendar::load(&dir.join("calendar"))?),
            sealer,
        };
        let mut registry = Registry {
            workflows: Vec::new(),
        };
        for load in BUILT_IN {
            registry = registry.with(load(&setup)?)?;
        }
        Ok(registry)
    }

    /// The registry with `workflow` added; its name and collection must be new.
    pub fn with(mut self, workflow: Arc<dyn Workflow>) -> Result<Registry, String> {
        let def = workflow.def();
        if let Some(taken) = self.all().find(|w| {
            let other = w.def();
            other.name == def.name || other.collection == def.collection
        }) {
            return Err(format!(
                "workflow `{}` ({}) clashes with `{}` ({}): names and collections are unique",
                def.name,
                def.path(),
                taken.def().name,
                taken.def().path()
            ));
        }
        self.workflows.push(workflow);
        Ok(self)
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
