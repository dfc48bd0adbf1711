//! Bearer-token access to `/v1/*`: when keys are configured, each request must carry one
//! (`Authorization: Bearer KEY`, or `?api_key=KEY` for browsers opening a WebSocket). The key
//! found is passed on as [`ClientKey`] for per-key limits.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api_error::ApiError;
use super::metrics::Reject;
use super::App;

/// The key a request was admitted with (empty when the server has no keys).
#[derive(Debug, Clone)]
pub struct ClientKey(pub Arc<str>);

/// Middleware: rejects requests without a valid key, with OpenAI's 401.
pub async fn require_key(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    if app.config.api_keys.is_empty() {
        req.extensions_mut().insert(ClientKey(Arc::from("")));
        return next.run(req).await;
    }
    let given = bearer(&req).or_else(|| query_key(&req));
    let found = given.as_deref().and_then(|g| app.config.api_keys.iter().find(|k| same(k.as_bytes(), g.as_bytes())));
    match found {
        Some(k) => {
            req.extensions_mut().insert(ClientKey(Arc::from(k.as_str())));
            next.run(req).await
        }
        None => {
            app.metrics.reject(Reject::Auth);
            let msg = match given {
                None => "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.",
                Some(_) => "Incorrect API key provided.",
            };
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_request_error", None, "invalid_api_key", msg).into_response()
        }
    }
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

fn query_key(req: &Request) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix("api_key=")).map(str::to_string)
}

/// Compares without stopping at the first difference (keys should not leak through timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
