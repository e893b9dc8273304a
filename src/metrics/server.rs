//! The metrics listener: `GET /metrics` only, on its own address.

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::Metrics;
use crate::store::SchemaStore;

#[derive(Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    store: Arc<dyn SchemaStore>,
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
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
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { metrics, store });
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "metrics listener failed");
    }
}
