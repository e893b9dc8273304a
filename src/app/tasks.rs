//! The registry of background tasks: every long-running task of the process (the audit writer,
//! security monitoring, audit retention; the job runner, sync and delivery as they land) is
//! registered here when the application is built, reported by `/readyz`, and drained at shutdown.
//!
//! Invariant: shutdown drains tasks in the reverse order of registration, so a task that others
//! feed (the audit writer, registered first) stops last and commits what they gave it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;
use utoipa::ToSchema;

/// A task the application runs beside the HTTP server.
#[async_trait]
pub trait BackgroundTask: Send {
    fn name(&self) -> &'static str;
    /// `false` once the task has ended (it stopped, or failed).
    fn is_running(&self) -> bool;
    /// Finishes what is queued, then stops.
    async fn drain(self: Box<Self>);
}

/// How one task is doing, as `/readyz` shows it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct TaskHealth {
    pub name: &'static str,
    pub running: bool,
}

/// The registered tasks. Cheap to clone: clones share one registry.
#[derive(Clone, Default)]
pub struct Tasks {
    tasks: Arc<Mutex<Vec<Box<dyn BackgroundTask>>>>,
}

impl Tasks {
    pub fn register(&self, task: impl BackgroundTask + 'static) {
        self.lock().push(Box::new(task));
    }

    /// Every registered task with whether it still runs, in registration order.
    pub fn health(&self) -> Vec<TaskHealth> {
        self.lock()
            .iter()
            .map(|t| TaskHealth {
                name: t.name(),
                running: t.is_running(),
            })
            .collect()
    }

    /// Drains every task, the last registered first.
    pub async fn drain(&self) {
        let tasks = std::mem::take(&mut *self.lock());
        for task in tasks.into_iter().rev() {
            let name = task.name();
            task.drain().await;
            tracing::debug!(task = name, "background task drained");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn BackgroundTask>>> {
        // A panic while holding this lock leaves a valid Vec: keep using it.
        self.tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A task whose drain is an abort: it holds no queue (audit retention, periodic work).
pub struct Aborting {
    pub name: &'static str,
    pub handle: tokio::task::JoinHandle<()>,
}

#[async_trait]
impl BackgroundTask for Aborting {
    fn name(&self) -> &'static str {
        self.name
    }
    fn is_running(&self) -> bool {
        !self.handle.is_finished()
    }
    async fn drain(self: Box<Self>) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Probe {
        name: &'static str,
        order: Arc<Mutex<Vec<&'static str>>>,
        drained: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl BackgroundTask for Probe {
        fn name(&self) -> &'static str {
            self.name
        }
        fn is_running(&self) -> bool {
            self.drained.load(Ordering::SeqCst) == 0
        }
        async fn drain(self: Box<Self>) {
            self.order.lock().unwrap().push(self.name);
            self.drained.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn drains_the_last_registered_first_and_reports_every_task() {
        let tasks = Tasks::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        for name in ["audit", "monitor"] {
            tasks.register(Probe {
                name,
                order: order.clone(),
                drained: Arc::new(AtomicUsize::new(0)),
            });
        }
        let health = tasks.health();
        assert_eq!(health.len(), 2);
        assert!(health.iter().all(|t| t.running));
        tasks.drain().await;
        assert_eq!(*order.lock().unwrap(), ["monitor", "audit"]);
        assert!(tasks.health().is_empty());
    }

    #[tokio::test]
    async fn a_finished_task_is_reported_as_not_running() {
        let tasks = Tasks::default();
        let handle = tokio::spawn(async {});
        while !handle.is_finished() {
            tokio::task::yield_now().await;
        }
        tasks.register(Aborting {
            name: "retention",
            handle,
        });
        assert_eq!(
            tasks.health(),
            [TaskHealth {
                name: "retention",
                running: false
            }]
        );
    }
}
