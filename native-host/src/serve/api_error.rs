//! Errors in OpenAI's shape: `{"error":{"message","type","param","code"}}` with a fitting status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// For people.
    pub message: String,
    /// OpenAI's error type.
    pub kind: &'static str,
    /// The request field at fault.
    pub param: Option<&'static str>,
    /// A stable code for programs.
    pub code: &'static str,
    /// Seconds after which a retry may succeed.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// 400: the request is malformed or invalid.
    pub fn invalid(param: Option<&'static str>, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", param, code, message)
    }

    /// Any status.
    pub fn new(status: StatusCode, kind: &'static str, param: Option<&'static str>, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), kind, param, code, retry_after: None }
    }

    /// 503: every worker is busy.
    pub fn overloaded() -> ApiError {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", None, "overloaded", "The server is busy; retry shortly.");
        e.retry_after = Some(1);
        e
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}
