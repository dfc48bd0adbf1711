//! Counters, gauges and histograms in Prometheus' text format, kept with atomics (no registry
//! crate: a handful of series is all a speech server needs).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// A histogram with fixed bucket bounds (seconds, or a plain ratio).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// Sum of observations, in micro-units.
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|&b| v <= b) {
            self.counts[i].fetch_add(1, Relaxed);
        }
        self.sum_micros.fetch_add((v.max(0.0) * 1e6) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Why a request was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reject {
    /// Missing or wrong API key.
    Auth,
    /// The key has too many streams open.
    Concurrency,
    /// The key asked too often.
    Rate,
    /// Every worker is busy and the queue is full.
    Overloaded,
    /// Too many connections.
    Connections,
    /// Input or body too large.
    TooLarge,
    /// Malformed or invalid request.
    Invalid,
}

impl Reject {
    fn label(self) -> &'static str {
        match self {
            Reject::Auth => "auth",
            Reject::Concurrency => "concurrency",
            Reject::Rate => "rate",
            Reject::Overloaded => "overloaded",
            Reject::Connections => "connections",
            Reject::TooLarge => "too_large",
            Reject::Invalid => "invalid",
        }
    }
}

/// Everything `/metrics` reports.
#[derive(Debug)]
pub struct Metrics {
    /// Time from a request to its first audio, seconds.
    pub ttfa: Histogram,
    /// Synthesis time over audio time, per stream.
    pub rtf: Histogram,
    /// Streams being spoken now (HTTP responses and WebSocket utterances).
    pub active_streams: AtomicI64,
    /// Open WebSocket connections.
    pub ws_connections: AtomicI64,
    /// Jobs waiting for a worker.
    pub queue_depth: AtomicI64,
    /// Workers with their voices loaded.
    pub workers_ready: AtomicI64,
    /// Audio samples produced, all voices.
    pub samples: AtomicU64,
    /// Guest traps survived.
    pub traps: AtomicU64,
    rejected: Mutex<BTreeMap<Reject, u64>>,
    requests: Mutex<BTreeMap<u16, u64>>,
}

const TTFA_BOUNDS: &[f64] = &[0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0];
const RTF_BOUNDS: &[f64] = &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 4.0];

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            ttfa: Histogram::new(TTFA_BOUNDS),
            rtf: Histogram::new(RTF_BOUNDS),
            active_streams: AtomicI64::new(0),
            ws_connections: AtomicI64::new(0),
            queue_depth: AtomicI64::new(0),
            workers_ready: AtomicI64::new(0),
            samples: AtomicU64::new(0),
            traps: AtomicU64::new(0),
            rejected: Mutex::new(BTreeMap::new()),
            requests: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// Counts a request turned away.
    pub fn reject(&self, why: Reject) {
        *self.rejected.lock().unwrap_or_else(|e| e.into_inner()).entry(why).or_default() += 1;
    }

    /// Counts a response by status.
    pub fn request(&self, status: u16) {
        *self.requests.lock().unwrap_or_else(|e| e.into_inner()).entry(status).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.ttfa.render(&mut out, "parla_ttfa_seconds", "Time from request to first audio.");
        self.rtf.render(&mut out, "parla_rtf", "Synthesis time over audio duration, per stream.");
        let gauges = [
            ("parla_active_streams", "Streams being spoken now.", self.active_streams.load(Relaxed)),
            ("parla_ws_connections", "Open WebSocket connections.", self.ws_connections.load(Relaxed)),
            ("parla_queue_depth", "Jobs waiting for a worker.", self.queue_depth.load(Relaxed)),
            ("parla_workers_ready", "Workers with their voices loaded.", self.workers_ready.load(Relaxed)),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        let counters = [
            ("parla_audio_samples_total", "Audio samples produced.", self.samples.load(Relaxed)),
            ("parla_guest_traps_total", "Wasm guest traps survived.", self.traps.load(Relaxed)),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        }
        let _ = writeln!(out, "# HELP parla_rejected_total Requests turned away, by reason.\n# TYPE parla_rejected_total counter");
        for (why, n) in self.rejected.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "parla_rejected_total{{reason=\"{}\"}} {n}", why.label());
        }
        let _ = writeln!(out, "# HELP parla_requests_total Responses, by status.\n# TYPE parla_requests_total counter");
        for (status, n) in self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "parla_requests_total{{status=\"{status}\"}} {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets() {
        let m = Metrics::default();
        m.ttfa.observe(0.04);
        m.ttfa.observe(0.3);
        m.ttfa.observe(60.0);
        m.reject(Reject::Overloaded);
        m.request(200);
        let text = m.render();
        assert!(text.contains("parla_ttfa_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("parla_ttfa_seconds_bucket{le=\"0.3\"} 2\n"));
        assert!(text.contains("parla_ttfa_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("parla_rejected_total{reason=\"overloaded\"} 1\n"));
        assert!(text.contains("parla_requests_total{status=\"200\"} 1\n"));
    }
}
