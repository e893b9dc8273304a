//! The metrics listener: `GET /metrics` only, on its own address. Pool and job gauges are
//! sampled at each scrape.

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::Metrics;
use crate::jobs::JobStore;
use crate::store::SchemaStore;

#[derive(Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    store: Arc<dyn SchemaStore>,
    jobs: Arc<dyn JobStore>,
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    match scrape.jobs.count_jobs().await {
        Ok(counts) => scrape.metrics.set_jobs(&counts),
        Err(error) => tracing::warn!(%error, "cannot count jobs for metrics"),
    }
    let body = scrape.metrics.render(scrape.store.pool_stats());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    store: Arc<dyn SchemaStore>,
    jobs: Arc<dyn JobStore>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape {
            metrics,
            store,
            jobs,
        });
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "metrics listener failed");
    }
}
