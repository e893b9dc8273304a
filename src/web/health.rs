//! Liveness and readiness probes.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::app::TaskHealth;
use crate::error::{Error, Result};

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    status: &'static str,
    database: &'static str,
    schema_version: i64,
    /// Every background task of the process, and whether it runs.
    tasks: Vec<TaskHealth>,
}

/// 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// 200 when the database answers, its schema is current and every background task runs; 503
/// otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = super::ErrorEnvelope)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>> {
    let check = async {
        state.store.ping().await?;
        state.store.schema_status().await
    };
    let status = match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(status)) => status,
        Ok(Err(error)) => {
            tracing::warn!(error = %crate::error::cause_chain(&error), "readiness: database check failed");
            return Err(Error::Unavailable(
                "the database is not reachable".to_owned(),
            ));
        }
        Err(_) => {
            return Err(Error::Unavailable(
                "the database did not answer in time".to_owned(),
            ))
        }
    };
    let tasks = state.tasks.health();
    if let Some(stopped) = tasks.iter().find(|t| !t.running) {
        tracing::error!(
            task = stopped.name,
            "readiness: a background task has stopped"
        );
        return Err(Error::Unavailable(format!(
            "the background task {} has stopped",
            stopped.name
        )));
    }
    match status.applied {
        Some(version) if status.is_current() => Ok(Json(Readiness {
            status: "ready",
            database: state.store.backend(),
            schema_version: version,
            tasks,
        })),
        _ => Err(Error::Unavailable(
            "database migrations are not current".to_owned(),
        )),
    }
}
