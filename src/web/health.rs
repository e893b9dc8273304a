//! Liveness and readiness probes.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
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
}

/// 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// 200 when the database answers and its schema is current; 503 otherwise.
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
    match status.applied {
        Some(version) if status.is_current() => Ok(Json(Readiness {
            status: "ready",
            database: state.store.backend(),
            schema_version: version,
        })),
        _ => Err(Error::Unavailable(
            "database migrations are not current".to_owned(),
        )),
    }
}
