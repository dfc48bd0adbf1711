//! `GET /v1/models` (OpenAI's list: every id is served by the same engine) and `GET /v1/voices`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::App;

/// Model ids accepted in `model`; all are served alike.
pub const MODELS: &[&str] = &["parla-1", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"];

/// `GET /v1/models`
pub async fn models() -> Json<Value> {
    let data: Vec<Value> = MODELS.iter().map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "parla"})).collect();
    Json(json!({"object": "list", "data": data}))
}

/// `GET /v1/voices`: every voice, its names, sample rate and speakers.
pub async fn voices(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({"object": "list", "data": app.registry.summaries()}))
}
