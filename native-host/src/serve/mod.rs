//! `parla serve`: an HTTP and WebSocket speech server.
//!
//! - `POST /v1/audio/speech`: OpenAI's speech API (wav, pcm, opus; streamed; `stream_format: "sse"`)
//! - `GET /v1/stream`: WebSocket; text in pieces, PCM frames and events out
//! - `GET /v1/models`, `GET /v1/voices`; `/healthz`, `/readyz`, `/metrics`; `www/` at `/`
//!
//! All synthesis goes through [`pool::Pool`]. Requests are admitted by [`auth`] and
//! [`limits`]; shutting down stops accepting, lets streams finish for a grace period, then ends them.

pub mod api_error;
pub mod auth;
pub mod catalog;
pub mod formats;
pub mod health;
pub mod limits;
pub mod metrics;
pub mod pool;
pub mod speech;
pub mod voices;
pub mod ws;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::sync::watch;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

use crate::cli::ServeArgs;
use crate::error::HostError;
use limits::{KeyLimits, Limits};
use metrics::Metrics;
use pool::{Pool, PoolConfig};
use voices::Registry;

/// Socket send buffer per connection (the kernel doubles it): about 12 s of 22 kHz 16-bit audio.
///
/// Bounded, so that a client that reads slowly stalls its stream after seconds of audio instead
/// of the minutes the kernel's own sizing allows (up to 4 MiB). Not smaller: at 32 KiB a buffer
/// held one loopback segment, every send waited for the peer's delayed ACK, and files went out at
/// 2 MB/s (the 63 MB voice in 31 s); at 48 KiB and above they go at GB/s over loopback, and this
/// size keeps a 50 ms path at about 10 MB/s.
const SEND_BUFFER: usize = 256 * 1024;

/// The server's settings, from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Accepted API keys (none: open).
    pub api_keys: Vec<String>,
    /// Longest `input`, in characters.
    pub max_input_chars: usize,
    /// A WebSocket connection without any message for this long is closed.
    pub idle_timeout: Duration,
    /// Interval of WebSocket pings.
    pub ping_interval: Duration,
    /// Largest WebSocket message.
    pub max_message_bytes: usize,
    /// How long open streams may go on after a shutdown signal.
    pub grace: Duration,
}

/// Where shutdown stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Serving.
    Running,
    /// No new connections or streams; open ones finish.
    Draining,
    /// The grace period is over: open streams end now.
    Ending,
}

/// What every handler shares.
pub struct App {
    /// Settings.
    pub config: Config,
    /// The voices.
    pub registry: Arc<Registry>,
    /// The synthesis workers.
    pub pool: Pool,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Admission.
    pub limits: Arc<Limits>,
    phase: watch::Sender<Phase>,
}

impl App {
    /// Whether a shutdown has begun.
    pub fn shutting_down(&self) -> bool {
        *self.phase.borrow() != Phase::Running
    }

    /// Follows the shutdown phase.
    pub fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }
}

/// Waits until the phase is at least `at`.
pub async fn reached(rx: &mut watch::Receiver<Phase>, at: Phase) {
    let rank = |p: Phase| p as u8;
    let _ = rx.wait_for(|p| rank(*p) >= rank(at)).await;
}

/// The routes: the API, health and metrics, the voices' files under `/voices/` (for the
/// browser package, which runs them itself), and `www/` at `/` (the demo page at `/demo/`).
pub fn router(app: Arc<App>, www: PathBuf, voices: PathBuf, max_body: usize) -> Router {
    let api = Router::new()
        .route("/v1/audio/speech", post(speech::speech))
        .route("/v1/stream", get(ws::upgrade))
        .route("/v1/models", get(catalog::models))
        .route("/v1/voices", get(catalog::voices))
        .route_layer(middleware::from_fn_with_state(app.clone(), auth::require_key));
    let index = www.join("index.html");
    let missing = move |uri: axum::http::Uri| placeholder(index.clone(), uri);
    let mut files = ServeDir::new(&www).fallback(missing.into_service());
    if gzip_is_current(&www.join("pkg")) {
        files = files.precompressed_gzip();
    } else {
        tracing::warn!(dir = %www.join("pkg").display(), "a .gz there is older than its file: serving the files uncompressed (`just web` writes both)");
    }
    // Which body a client gets depends on its Accept-Encoding: caches on the way must know.
    let files = revalidated(SetResponseHeader::appending(files, header::VARY, HeaderValue::from_static("accept-encoding")));
    let mut routes = Router::new().merge(api);
    if www.join("demo/index.html").is_file() && !www.join("index.html").is_file() {
        routes = routes.route("/", get(|| async { axum::response::Redirect::temporary("/demo/") }));
    }
    routes
        .nest_service("/voices", revalidated(ServeDir::new(voices)))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback_service(files)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(app.clone(), count_status))
        // Cross-origin isolation, so pages served here may use SharedArrayBuffer.
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-embedder-policy"),
            HeaderValue::from_static("require-corp"),
        ))
        .with_state(app)
}

/// Files a browser may keep but must check before each use (`no-cache`; a check whose file has
/// not changed since its `Last-Modified` is a bodiless 304). A browser that keeps the engine's
/// wasm keeps the optimised code it compiled from it too: a returning visitor's first voice was
/// ready in about 0.6 s instead of 1.5 s. A browser left to guess how long the files stay fresh
/// could run a page, its JavaScript and the module from different builds after an upgrade.
fn revalidated<S>(files: S) -> SetResponseHeader<S, HeaderValue> {
    SetResponseHeader::overriding(files, header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
}

/// Whether the `.gz` files in `dir` may stand for their sources: each is at least as new as the
/// file it compresses. `just web` writes the engine's module gzipped beside it (18.9 MB, 5.2 MB
/// gzipped), which clients that accept gzip get instead; a module rebuilt some other way must not
/// be shadowed by an old `.gz`, whose engine would not match the JavaScript around it. A folder
/// without any `.gz` is current.
fn gzip_is_current(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return true };
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "gz")).all(|gz| {
        match (modified(&gz), modified(&gz.with_extension(""))) {
            (Some(gz), Some(source)) => gz >= source,
            _ => false,
        }
    })
}

/// `/` when `www/` has no index yet; 404 for anything else that is missing.
async fn placeholder(index: PathBuf, uri: axum::http::Uri) -> Response {
    if uri.path() != "/" || index.is_file() {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    Html("<!doctype html><meta charset=utf-8><title>Parla</title><h1>Parla</h1>\
          <p>Speech server. POST /v1/audio/speech, WebSocket /v1/stream, GET /v1/voices.</p>")
    .into_response()
}

async fn count_status(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    app.metrics.request(r.status().as_u16());
    r
}

/// The first folder that exists: `arg`, then `./rel`, then `rel` in the source tree.
fn find_dir(arg: Option<&Path>, rel: &str) -> PathBuf {
    if let Some(a) = arg {
        return a.to_path_buf();
    }
    let here = PathBuf::from(rel);
    if here.is_dir() {
        return here;
    }
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    if tree.is_dir() {
        tree
    } else {
        here
    }
}

/// Runs `parla serve` until SIGINT/SIGTERM (or, with `--exit-on-stdin-eof`, stdin closing).
pub fn run(args: &ServeArgs) -> Result<(), HostError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::Wasm(format!("starting the runtime: {e}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: &ServeArgs) -> Result<(), HostError> {
    let voices_dir = find_dir(args.voices.as_deref(), "models/voices");
    let registry = Arc::new(Registry::scan(&voices_dir)?);
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let metrics = Arc::new(Metrics::default());
    let pool_config = PoolConfig {
        workers,
        instances: args.instances.unwrap_or(2 * workers).max(1),
        queue: args.queue.unwrap_or(8 * workers),
        engine: args.engine,
        chunking: parla_core::chunk::Chunking { first: args.first_chunk.max(1), size: args.chunk.max(1), context: args.context },
        test_trap: std::env::var("PARLA_TEST_TRAP").is_ok_and(|v| v == "1"),
    };
    let pool = Pool::start(registry.clone(), pool_config, metrics.clone())?;
    let mut api_keys = args.api_keys.clone();
    if let Ok(env) = std::env::var("PARLA_API_KEYS") {
        api_keys.extend(env.split(',').map(str::trim).filter(|k| !k.is_empty()).map(String::from));
    }
    let config = Config {
        api_keys,
        max_input_chars: args.max_input_chars,
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        ping_interval: Duration::from_secs(args.ping_interval.max(1)),
        max_message_bytes: args.max_message_bytes,
        grace: Duration::from_secs(args.grace),
    };
    let key_limits = KeyLimits { concurrency: args.per_key_concurrency, rate: args.rate_limit, burst: args.burst };
    let limits = Limits::new(key_limits, args.max_connections, metrics.clone());
    let (phase, _) = watch::channel(Phase::Running);
    let app = Arc::new(App { config, registry: registry.clone(), pool, metrics: metrics.clone(), limits, phase });

    let addr: SocketAddr = args.addr.parse().map_err(|e| HostError::Wasm(format!("--addr {}: {e}", args.addr)))?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| HostError::Io { path: args.addr.clone().into(), source: e })?;
    let local = listener.local_addr().map_err(HostError::Output)?;
    // The first line on stdout, for scripts and tests that start the server on port 0.
    println!("listening on http://{local}");
    let _ = std::io::stdout().flush();
    tracing::info!(%local, voices = %voices_dir.display(), count = registry.all().len(), workers, engine = ?args.engine, "serving");

    let www = find_dir(args.www.as_deref(), "www");
    let router = router(app.clone(), www, voices_dir.clone(), args.max_body_bytes);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
        // A modest send buffer (the kernel's default grows to megabytes): a client that reads
        // slowly stalls its stream's worker after seconds of audio instead of minutes.
        let _ = socket2::SockRef::from(&*tcp).set_send_buffer_size(SEND_BUFFER);
    });
    let mut draining = app.phase();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move { reached(&mut draining, Phase::Draining).await });
    let server = tokio::spawn(async move { server.await });

    shutdown_signal(args.exit_on_stdin_eof).await;
    tracing::info!(grace_s = app.config.grace.as_secs(), "shutting down: no new streams; open ones may finish");
    app.phase.send_replace(Phase::Draining);
    let deadline = Instant::now() + app.config.grace;
    while Instant::now() < deadline {
        let open = metrics.active_streams.load(Relaxed) + metrics.ws_connections.load(Relaxed);
        if open == 0 && server.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.phase.send_replace(Phase::Ending);
    // Streams still open end now; give them a moment to say so to their clients.
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline && metrics.active_streams.load(Relaxed) + metrics.ws_connections.load(Relaxed) > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT, SIGTERM, or stdin at its end when asked to watch it.
async fn shutdown_signal(watch_stdin: bool) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<&str>(4);
    if watch_stdin {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = tx.blocking_send("stdin closed");
        });
    }
    let ctrl_c = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = ctrl_c.send("SIGINT").await;
        }
    });
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        tokio::spawn(async move {
            term.recv().await;
            let _ = tx.send("SIGTERM").await;
        });
    }
    if let Some(why) = rx.recv().await {
        tracing::info!(signal = why, "shutdown requested");
    }
}

#[cfg(test)]
mod tests {
    use super::gzip_is_current;
    use std::time::{Duration, SystemTime};

    #[test]
    fn an_old_gz_is_not_served_for_a_newer_file() {
        let dir = std::env::temp_dir().join(format!("parla-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let touch = |name: &str, at: SystemTime| std::fs::File::create(dir.join(name)).unwrap().set_modified(at).unwrap();
        let now = SystemTime::now();
        touch("engine.wasm", now);
        assert!(gzip_is_current(&dir), "no .gz");
        touch("engine.wasm.gz", now);
        assert!(gzip_is_current(&dir), "written together (gzip keeps the file's time)");
        touch("engine.wasm.gz", now - Duration::from_secs(60));
        assert!(!gzip_is_current(&dir), "the file was rebuilt after its .gz");
        touch("orphan.js.gz", now);
        touch("engine.wasm.gz", now);
        assert!(!gzip_is_current(&dir), "a .gz without its file");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(gzip_is_current(&dir), "no folder");
    }
}
