//! `POST /v1/audio/speech`, compatible with OpenAI's speech API: the audio is streamed as it is
//! made (chunked), or as server-sent events with `"stream_format": "sse"`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use super::api_error::ApiError;
use super::auth::ClientKey;
use super::formats;
use super::limits::KeyPermit;
use super::metrics::{Metrics, Reject};
use super::pool::{CancelToken, Input, Out, PoolError, SpeakOptions};
use super::{catalog, App, Phase};
use crate::encode::{EncodeError, Encoder, Format};

/// The request body (fields OpenAI defines that do not apply, like `instructions`, are ignored).
#[derive(Debug, Deserialize)]
struct SpeechRequest {
    model: Option<String>,
    input: Option<String>,
    voice: Option<String>,
    response_format: Option<String>,
    speed: Option<f64>,
    stream_format: Option<String>,
    /// Parla: seed of all randomness (default 0: the same text gives the same audio).
    seed: Option<u64>,
    /// Parla: speaker id of a multi-speaker voice.
    speaker: Option<u32>,
}

/// A validated request.
struct Job {
    voice: usize,
    input: String,
    format: Format,
    sse: bool,
    options: SpeakOptions,
}

fn validate(app: &App, body: Result<Bytes, BytesRejection>) -> Result<Job, ApiError> {
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(r.status(), "invalid_request_error", None, "request_too_large", "The request body is too large."),
        s => ApiError::new(s, "invalid_request_error", None, "invalid_body", r.body_text()),
    })?;
    let req: SpeechRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(None, "invalid_json", format!("We could not parse the JSON body of your request: {e}"))
    })?;
    if let Some(m) = req.model.as_deref().filter(|m| !catalog::MODELS.contains(m)) {
        return Err(ApiError::invalid(Some("model"), "model_not_found", format!("Unknown model '{m}'; use one of {}.", catalog::MODELS.join(", "))));
    }
    let input = req.input.ok_or_else(|| ApiError::invalid(Some("input"), "missing_required_parameter", "Missing required parameter: 'input'."))?;
    if input.trim().is_empty() {
        return Err(ApiError::invalid(Some("input"), "empty_input", "'input' is empty."));
    }
    let chars = input.chars().count();
    if chars > app.config.max_input_chars {
        let msg = format!("'input' is {chars} characters long; the limit is {}.", app.config.max_input_chars);
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error", Some("input"), "string_above_max_length", msg));
    }
    let name = req.voice.ok_or_else(|| ApiError::invalid(Some("voice"), "missing_required_parameter", "Missing required parameter: 'voice'."))?;
    let voice = app.registry.find(&name).ok_or_else(|| {
        let known: Vec<&str> = app.registry.all().iter().map(|v| v.id.as_str()).collect();
        ApiError::invalid(Some("voice"), "voice_not_found", format!("Unknown voice '{name}'. Voices: {} (GET /v1/voices lists every name).", known.join(", ")))
    })?;
    let format = formats::response_format(req.response_format.as_deref())?;
    let speed = req.speed.unwrap_or(1.0);
    if !(0.25..=4.0).contains(&speed) {
        return Err(ApiError::invalid(Some("speed"), "invalid_value", format!("'speed' must be between 0.25 and 4.0 (got {speed}).")));
    }
    let sse = match req.stream_format.as_deref() {
        None | Some("audio") => false,
        Some("sse") => true,
        Some(f) => return Err(ApiError::invalid(Some("stream_format"), "invalid_value", format!("Invalid stream_format '{f}': expected 'audio' or 'sse'."))),
    };
    let options = SpeakOptions { speed: speed as f32, speaker: req.speaker.unwrap_or(0), seed: req.seed.unwrap_or(0) };
    Ok(Job { voice, input, format, sse, options })
}

/// Everything a stream holds until its response ends: dropping it cancels the synthesis,
/// returns the key's slot and lowers the active-stream gauge.
pub struct StreamGuard {
    cancel: CancelToken,
    metrics: Arc<Metrics>,
    _permit: KeyPermit,
}

impl StreamGuard {
    /// Counts a stream as active until dropped.
    pub fn new(cancel: CancelToken, metrics: Arc<Metrics>, permit: KeyPermit) -> StreamGuard {
        metrics.active_streams.fetch_add(1, Relaxed);
        StreamGuard { cancel, metrics, _permit: permit }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.metrics.active_streams.fetch_sub(1, Relaxed);
    }
}

/// The error for a failed stream.
pub fn stream_error(e: &PoolError) -> ApiError {
    match e {
        PoolError::Input(m) => ApiError::invalid(Some("input"), "invalid_input", m.clone()),
        PoolError::Engine { message, trap } => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            if *trap { "engine_trap" } else { "engine_error" },
            message.clone(),
        ),
    }
}

/// The error for a stream whose audio could not be encoded.
fn encode_error(e: &EncodeError) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None, "encoding_error", format!("{e}."))
}

/// `POST /v1/audio/speech`
pub async fn speech(
    State(app): State<Arc<App>>,
    Extension(key): Extension<ClientKey>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t0 = Instant::now();
    let job = validate(&app, body).inspect_err(|e| {
        app.metrics.reject(if e.status == StatusCode::PAYLOAD_TOO_LARGE { Reject::TooLarge } else { Reject::Invalid })
    })?;
    // Made before any synthesis, so a format this server cannot encode costs nothing.
    let rate = app.registry.get(job.voice).config.sample_rate;
    let encoder = formats::encoder(job.format, rate).inspect_err(|_| app.metrics.reject(Reject::Invalid))?;
    if app.shutting_down() {
        return Err(ApiError::overloaded());
    }
    let permit = app.limits.admit(&key.0)?;
    let cancel = CancelToken::default();
    let mut rx = app.pool.speak(job.voice, Input::Text(job.input), job.options, cancel.clone()).map_err(|_| {
        app.metrics.reject(Reject::Overloaded);
        ApiError::overloaded()
    })?;
    let guard = StreamGuard::new(cancel, app.metrics.clone(), permit);
    // Headers wait for the first audio, so a request that cannot be spoken still gets a status.
    let first = loop {
        match rx.recv().await {
            Some(Out::Audio(a)) => break a,
            Some(Out::Segment { .. } | Out::Word { .. }) => continue,
            Some(Out::Done(_)) => return Err(ApiError::invalid(Some("input"), "nothing_to_speak", "'input' has nothing speakable in it.")),
            Some(Out::Error(e)) => return Err(stream_error(&e)),
            None => return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None, "engine_error", "The stream ended without audio.")),
        }
    };
    app.metrics.ttfa.observe(t0.elapsed().as_secs_f64());
    let body = Stream { rx, encoder, sse: job.sse, first: Some(first), phase: app.phase(), _guard: guard, done: false };
    let content_type = if job.sse { "text/event-stream" } else { job.format.content_type() };
    let mut r = Response::new(Body::from_stream(futures_util::stream::unfold(body, Stream::next)));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert("x-sample-rate", HeaderValue::from(rate));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r.into_response())
}

/// A response body being produced.
struct Stream {
    rx: mpsc::Receiver<Out>,
    encoder: Encoder,
    sse: bool,
    first: Option<Vec<f32>>,
    phase: watch::Receiver<Phase>,
    _guard: StreamGuard,
    done: bool,
}

type Chunk = Result<Bytes, std::io::Error>;

impl Stream {
    async fn next(mut self) -> Option<(Chunk, Stream)> {
        if self.done {
            return None;
        }
        if let Some(a) = self.first.take() {
            return self.audio(&a);
        }
        loop {
            let out = tokio::select! {
                out = self.rx.recv() => out,
                _ = super::reached(&mut self.phase, Phase::Ending) => {
                    // The grace period is over: end the stream where it is.
                    self.done = true;
                    let end = self.sse.then(|| sse_event(&json!({"type": "error", "error": {"message": "server shutting down", "code": "server_shutdown"}})));
                    return end.map(|b| (Ok(b), self));
                }
            };
            match out {
                Some(Out::Audio(a)) => return self.audio(&a),
                Some(Out::Segment { .. } | Out::Word { .. }) => continue,
                Some(Out::Done(summary)) => {
                    self.done = true;
                    let tail = match self.encoder.finish() {
                        Ok(tail) => tail,
                        Err(e) => return self.fail(encode_error(&e)),
                    };
                    let bytes = if self.sse {
                        let mut b = Vec::new();
                        if !tail.is_empty() {
                            b.extend_from_slice(&self.sse_delta(&tail));
                        }
                        let done = json!({"type": "speech.audio.done", "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}, "samples": summary.samples});
                        b.extend_from_slice(&sse_event(&done));
                        Bytes::from(b)
                    } else {
                        Bytes::from(tail)
                    };
                    return Some((Ok(bytes), self));
                }
                Some(Out::Error(e)) => return self.fail(stream_error(&e)),
                None => {
                    self.done = true;
                    return Some((Err(std::io::Error::other("the stream ended early")), self));
                }
            }
        }
    }

    /// The body's next piece: these samples, encoded.
    fn audio(mut self, samples: &[f32]) -> Option<(Chunk, Stream)> {
        let bytes = match self.encoder.push(samples) {
            Ok(bytes) => bytes,
            Err(e) => return self.fail(encode_error(&e)),
        };
        let bytes = if self.sse { self.sse_delta(&bytes) } else { Bytes::from(bytes) };
        Some((Ok(bytes), self))
    }

    /// Ends the body with `err`, after its first audio: an SSE error event, or a broken chunked
    /// body (the status line is gone) so the client sees a failure rather than a short file.
    fn fail(mut self, err: ApiError) -> Option<(Chunk, Stream)> {
        self.done = true;
        tracing::warn!(error = %err.message, "stream failed after its first audio");
        if self.sse {
            return Some((Ok(sse_event(&json!({"type": "error", "error": err.body()["error"]}))), self));
        }
        Some((Err(std::io::Error::other(err.message)), self))
    }

    fn sse_delta(&self, audio: &[u8]) -> Bytes {
        let b64 = base64::engine::general_purpose::STANDARD.encode(audio);
        sse_event(&json!({"type": "speech.audio.delta", "audio": b64}))
    }
}

fn sse_event(v: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}
