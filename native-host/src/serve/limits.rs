//! Admission: per-key concurrency and a token-bucket rate per key, and a cap on open
//! WebSocket connections. Each admission is a guard that gives its slot back when dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::StatusCode;

use super::api_error::ApiError;
use super::metrics::{Metrics, Reject};

/// Limits per API key (clients without a key share one).
#[derive(Debug, Clone, Copy)]
pub struct KeyLimits {
    /// Streams one key may have open at once (0: no limit).
    pub concurrency: usize,
    /// Requests per second one key may make on average (0: no limit).
    pub rate: f64,
    /// Requests one key may make at once before the rate applies.
    pub burst: f64,
}

#[derive(Debug)]
struct KeyState {
    active: usize,
    tokens: f64,
    refilled: Instant,
}

/// Tracks every key's open streams and tokens.
#[derive(Debug)]
pub struct Limits {
    config: KeyLimits,
    keys: Mutex<HashMap<String, KeyState>>,
    metrics: Arc<Metrics>,
    connections: AtomicUsize,
    max_connections: usize,
}

/// A stream's slot for its key; returned on drop.
#[derive(Debug)]
pub struct KeyPermit {
    limits: Arc<Limits>,
    key: String,
}

impl Drop for KeyPermit {
    fn drop(&mut self) {
        let mut keys = self.limits.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = keys.get_mut(&self.key) {
            k.active = k.active.saturating_sub(1);
        }
    }
}

/// An open connection's slot; returned on drop.
#[derive(Debug)]
pub struct ConnPermit(Arc<Limits>);

impl Drop for ConnPermit {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Relaxed);
    }
}

impl Limits {
    /// Limits with this configuration.
    pub fn new(config: KeyLimits, max_connections: usize, metrics: Arc<Metrics>) -> Arc<Limits> {
        Arc::new(Limits { config, keys: Mutex::new(HashMap::new()), metrics, connections: AtomicUsize::new(0), max_connections })
    }

    /// Admits one request of `key` that will hold a stream until the permit is dropped.
    pub fn admit(self: &Arc<Self>, key: &str) -> Result<KeyPermit, ApiError> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let state = keys.entry(key.to_string()).or_insert(KeyState { active: 0, tokens: self.config.burst.max(1.0), refilled: now });
        if self.config.concurrency > 0 && state.active >= self.config.concurrency {
            self.metrics.reject(Reject::Concurrency);
            let msg = format!("Too many concurrent streams for this key (limit {}).", self.config.concurrency);
            return Err(too_many("concurrency_limit_exceeded", msg));
        }
        if self.config.rate > 0.0 {
            let burst = self.config.burst.max(1.0);
            state.tokens = (state.tokens + now.duration_since(state.refilled).as_secs_f64() * self.config.rate).min(burst);
            state.refilled = now;
            if state.tokens < 1.0 {
                self.metrics.reject(Reject::Rate);
                let wait = ((1.0 - state.tokens) / self.config.rate).ceil().max(1.0) as u32;
                let mut e = too_many("rate_limit_exceeded", format!("Rate limit reached for this key ({} requests/s).", self.config.rate));
                e.retry_after = Some(wait);
                return Err(e);
            }
            state.tokens -= 1.0;
        }
        state.active += 1;
        Ok(KeyPermit { limits: self.clone(), key: key.to_string() })
    }

    /// Admits one more connection, if there is room.
    pub fn connect(self: &Arc<Self>) -> Result<ConnPermit, ApiError> {
        if self.connections.fetch_add(1, Relaxed) >= self.max_connections {
            self.connections.fetch_sub(1, Relaxed);
            self.metrics.reject(Reject::Connections);
            let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", None, "too_many_connections", "Too many open connections.");
            e.retry_after = Some(5);
            return Err(e);
        }
        Ok(ConnPermit(self.clone()))
    }
}

fn too_many(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", None, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_and_rate_per_key() {
        let m = Arc::new(Metrics::default());
        let l = Limits::new(KeyLimits { concurrency: 1, rate: 0.0, burst: 0.0 }, 1, m.clone());
        let a = l.admit("a").unwrap();
        assert_eq!(l.admit("a").unwrap_err().status, StatusCode::TOO_MANY_REQUESTS);
        let _b = l.admit("b").unwrap();
        drop(a);
        let _a = l.admit("a").unwrap();

        let l = Limits::new(KeyLimits { concurrency: 0, rate: 0.5, burst: 2.0 }, 1, m);
        let _p = (l.admit("k").unwrap(), l.admit("k").unwrap());
        let e = l.admit("k").unwrap_err();
        assert_eq!(e.code, "rate_limit_exceeded");
        assert_eq!(e.retry_after, Some(2));

        let c = l.connect().unwrap();
        assert!(l.connect().is_err());
        drop(c);
        assert!(l.connect().is_ok());
    }
}
