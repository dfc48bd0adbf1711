//! Liveness, readiness and the metrics page (all open, without a key).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;

use super::App;

/// `GET /healthz`: the process answers.
pub async fn alive() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: voices loaded in every worker, and not shutting down.
pub async fn ready(State(app): State<Arc<App>>) -> impl IntoResponse {
    let workers = app.metrics.workers_ready.load(Relaxed);
    let ready = app.pool.ready() && !app.shutting_down();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "ready": ready,
        "voices": app.registry.all().len(),
        "workers": app.pool.workers(),
        "workers_ready": workers,
        "shutting_down": app.shutting_down(),
    });
    (status, axum::Json(body))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render())
}
