//! `GET /v1/stream`: a WebSocket that speaks text as it arrives.
//!
//! Query: `?voice=joe&speed=1&format=pcm` (`seed`, `speaker` too). The client sends JSON text
//! messages: `{"type":"text","text":"…"}` (a message that is not JSON is taken as text too),
//! `{"type":"flush"}` (speak what is left and finish the utterance), `{"type":"cancel"}` and
//! `{"type":"config","voice":…,"speed":…}` (for the next utterance). The server sends binary
//! messages of 16-bit little-endian PCM at the voice's rate and JSON events: `ready`, `segment`
//! (`index`, `sample`, `text`), `word` (`segment`, `index`, `start`, `end` in samples), `done`
//! (`samples`), `error` (`code`, `message`). Samples count from the start of the utterance.
//!
//! An idle connection holds no worker and no engine: a worker is taken when an utterance's
//! first text arrives and given back when it is done.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::api_error::ApiError;
use super::auth::ClientKey;
use super::limits::ConnPermit;
use super::metrics::{Metrics, Reject};
use super::pool::{CancelToken, Input, Out, SpeakOptions};
use super::speech::{stream_error, StreamGuard};
use super::{reached, App, Phase};

/// The query string (and a `config` message's fields).
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    voice: Option<String>,
    speed: Option<f32>,
    format: Option<String>,
    seed: Option<u64>,
    speaker: Option<u32>,
}

/// What the next utterance is spoken with.
#[derive(Debug, Clone, Copy)]
struct Settings {
    voice: usize,
    options: SpeakOptions,
}

impl Settings {
    fn apply(mut self, app: &App, p: &Params) -> Result<Settings, ApiError> {
        if let Some(name) = &p.voice {
            self.voice = app
                .registry
                .find(name)
                .ok_or_else(|| ApiError::invalid(Some("voice"), "voice_not_found", format!("Unknown voice '{name}'.")))?;
        }
        if let Some(s) = p.speed {
            if !(0.25..=4.0).contains(&s) {
                return Err(ApiError::invalid(Some("speed"), "invalid_value", format!("'speed' must be between 0.25 and 4.0 (got {s}).")));
            }
            self.options.speed = s;
        }
        if let Some(f) = p.format.as_deref().filter(|f| !f.eq_ignore_ascii_case("pcm")) {
            return Err(ApiError::invalid(Some("format"), "unsupported_format", format!("format '{f}' is not supported on the WebSocket; use 'pcm'.")));
        }
        self.options.seed = p.seed.unwrap_or(self.options.seed);
        self.options.speaker = p.speaker.unwrap_or(self.options.speaker);
        Ok(self)
    }
}

/// `GET /v1/stream`: checks the query and the connection limit, then upgrades.
pub async fn upgrade(
    State(app): State<Arc<App>>,
    Extension(key): Extension<ClientKey>,
    query: Result<Query<Params>, QueryRejection>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::invalid(None, "invalid_query", e.body_text()))?;
    let defaults = Settings { voice: app.registry.default_voice(), options: SpeakOptions::default() };
    let settings = defaults.apply(&app, &params).inspect_err(|_| app.metrics.reject(Reject::Invalid))?;
    if app.shutting_down() {
        return Err(ApiError::overloaded());
    }
    let conn = app.limits.connect()?;
    let max = app.config.max_message_bytes;
    Ok(ws
        .max_message_size(max)
        .max_frame_size(max)
        // Small buffers: an idle connection should cost a few KiB.
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| Session::new(app, key, settings, conn).run(socket)))
}

/// An utterance being spoken.
struct Utterance {
    /// Text pieces to the worker; `None` once flushed.
    pieces: Option<mpsc::UnboundedSender<String>>,
    out: mpsc::Receiver<Out>,
    chars: usize,
    samples: usize,
    started: Instant,
    first_audio: bool,
    _guard: StreamGuard,
}

struct Session {
    app: Arc<App>,
    key: ClientKey,
    settings: Settings,
    utterance: Option<Utterance>,
    _conn: ConnPermit,
    _count: ConnCount,
}

/// Counts an open connection in the metrics.
struct ConnCount(Arc<Metrics>);

impl Drop for ConnCount {
    fn drop(&mut self) {
        self.0.ws_connections.fetch_sub(1, Relaxed);
    }
}

enum Next {
    Continue,
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The client is unreachable: stop without a close frame.
    Gone,
}

impl Session {
    fn new(app: Arc<App>, key: ClientKey, settings: Settings, conn: ConnPermit) -> Session {
        app.metrics.ws_connections.fetch_add(1, Relaxed);
        let count = ConnCount(app.metrics.clone());
        Session { app, key, settings, utterance: None, _conn: conn, _count: count }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let voice = self.app.registry.get(self.settings.voice);
        let hello = json!({"type": "ready", "voice": voice.id, "sample_rate": voice.config.sample_rate, "format": "pcm_s16le"});
        if socket.send(Message::text(hello.to_string())).await.is_err() {
            return;
        }
        let mut last_message = Instant::now();
        let mut ping = tokio::time::interval(self.app.config.ping_interval);
        ping.tick().await;
        let mut phase = self.app.phase();
        let mut draining = false;
        let close = loop {
            let next = tokio::select! {
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        last_message = Instant::now();
                        self.on_text(t.as_str(), &mut socket).await
                    }
                    Some(Ok(Message::Binary(_))) => {
                        last_message = Instant::now();
                        send_error(&mut socket, "invalid_message", "binary messages are not accepted; send JSON text").await
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => Next::Continue,
                },
                out = recv(&mut self.utterance) => self.on_out(out, &mut socket).await,
                _ = ping.tick() => {
                    if self.utterance.is_none() && last_message.elapsed() >= self.app.config.idle_timeout {
                        Next::Close(close_code::NORMAL, "idle timeout")
                    } else if socket.send(Message::Ping(Default::default())).await.is_err() {
                        break None;
                    } else {
                        Next::Continue
                    }
                }
                _ = reached(&mut phase, if draining { Phase::Ending } else { Phase::Draining }) => {
                    if draining {
                        // Grace is over: whatever is still being spoken ends here.
                        if self.utterance.take().is_some() {
                            let _ = send_error(&mut socket, "server_shutdown", "the server is shutting down").await;
                        }
                        Next::Close(close_code::AWAY, "server shutting down")
                    } else {
                        draining = true;
                        Next::Continue
                    }
                }
            };
            match next {
                Next::Close(code, reason) => break Some((code, reason)),
                Next::Gone => break None,
                Next::Continue if draining && self.utterance.is_none() => break Some((close_code::AWAY, "server shutting down")),
                Next::Continue => {}
            }
        };
        if let Some((code, reason)) = close {
            let frame = CloseFrame { code, reason: reason.into() };
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
    }

    async fn on_text(&mut self, text: &str, socket: &mut WebSocket) -> Next {
        let msg: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            // Plain text is text to speak.
            _ => json!({"type": "text", "text": text}),
        };
        match msg["type"].as_str() {
            Some("text") => match msg["text"].as_str() {
                Some(t) => self.push(t, socket).await,
                None => send_error(socket, "invalid_message", "a text message needs a string 'text'").await,
            },
            Some("flush") => {
                match self.utterance.as_mut() {
                    Some(u) => u.pieces = None,
                    None => return send(socket, json!({"type": "done", "samples": 0})).await,
                }
                Next::Continue
            }
            Some("cancel") => match self.utterance.take() {
                Some(u) => send(socket, json!({"type": "done", "samples": u.samples, "cancelled": true})).await,
                None => Next::Continue,
            },
            Some("config") => match serde_json::from_value::<Params>(msg.clone()).map_err(|e| e.to_string()).and_then(|p| {
                self.settings.apply(&self.app, &p).map_err(|e| e.message)
            }) {
                Ok(s) => {
                    self.settings = s;
                    Next::Continue
                }
                Err(m) => send_error(socket, "invalid_config", &m).await,
            },
            _ => send_error(socket, "invalid_message", "unknown message type; expected text, flush, cancel or config").await,
        }
    }

    /// Adds text to the current utterance, starting one if needed.
    async fn push(&mut self, text: &str, socket: &mut WebSocket) -> Next {
        let limit = self.app.config.max_input_chars.saturating_mul(16);
        if self.utterance.is_none() {
            if self.app.shutting_down() {
                return send_error(socket, "server_shutdown", "the server is shutting down").await;
            }
            let permit = match self.app.limits.admit(&self.key.0) {
                Ok(p) => p,
                Err(e) => return send_error(socket, e.code, &e.message).await,
            };
            let (tx, rx) = mpsc::unbounded_channel();
            let cancel = CancelToken::default();
            let s = self.settings;
            let out = match self.app.pool.speak(s.voice, Input::Pieces(rx), s.options, cancel.clone()) {
                Ok(out) => out,
                Err(_) => {
                    self.app.metrics.reject(Reject::Overloaded);
                    return send_error(socket, "overloaded", "the server is busy; retry shortly").await;
                }
            };
            let guard = StreamGuard::new(cancel, self.app.metrics.clone(), permit);
            self.utterance = Some(Utterance { pieces: Some(tx), out, chars: 0, samples: 0, started: Instant::now(), first_audio: false, _guard: guard });
        }
        let Some(u) = self.utterance.as_mut() else { return Next::Continue };
        u.chars += text.chars().count();
        if u.chars > limit {
            self.utterance = None;
            self.app.metrics.reject(Reject::TooLarge);
            return send_error(socket, "input_too_long", &format!("an utterance may have at most {limit} characters; flush more often")).await;
        }
        match &u.pieces {
            Some(tx) => {
                let _ = tx.send(text.to_string());
                Next::Continue
            }
            None => send_error(socket, "flushed", "the utterance was flushed; wait for done before sending more text").await,
        }
    }

    async fn on_out(&mut self, out: Option<Out>, socket: &mut WebSocket) -> Next {
        let Some(u) = self.utterance.as_mut() else { return Next::Continue };
        match out {
            Some(Out::Audio(a)) => {
                if !u.first_audio {
                    u.first_audio = true;
                    self.app.metrics.ttfa.observe(u.started.elapsed().as_secs_f64());
                }
                u.samples += a.len();
                let mut pcm = Vec::new();
                crate::wav::pcm16(&a, &mut pcm);
                match socket.send(Message::Binary(pcm.into())).await {
                    Ok(()) => Next::Continue,
                    Err(_) => Next::Gone,
                }
            }
            Some(Out::Segment { index, sample, text }) => send(socket, json!({"type": "segment", "index": index, "sample": sample, "text": text})).await,
            Some(Out::Word { segment, index, start, end }) => {
                send(socket, json!({"type": "word", "segment": segment, "index": index, "start": start, "end": end})).await
            }
            Some(Out::Done(_)) => {
                let samples = u.samples;
                self.utterance = None;
                send(socket, json!({"type": "done", "samples": samples})).await
            }
            Some(Out::Error(e)) => {
                self.utterance = None;
                let e = stream_error(&e);
                send_error(socket, e.code, &e.message).await
            }
            None => {
                self.utterance = None;
                send_error(socket, "engine_error", "the stream ended early").await
            }
        }
    }
}

/// The next output of the current utterance; never ready when there is none.
async fn recv(u: &mut Option<Utterance>) -> Option<Out> {
    match u {
        Some(u) => u.out.recv().await,
        None => std::future::pending().await,
    }
}

async fn send(socket: &mut WebSocket, v: Value) -> Next {
    match socket.send(Message::text(v.to_string())).await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Gone,
    }
}

async fn send_error(socket: &mut WebSocket, code: &str, message: &str) -> Next {
    send(socket, json!({"type": "error", "code": code, "message": message})).await
}
