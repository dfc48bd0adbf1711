//! `parla serve` end to end: a real server on loopback with the real voice and the wasm engine.
//!
//! Two servers are shared by the tests: an open one (2 workers) and a strict one (1 worker, a
//! queue of 1, API keys, one stream per key, a trap hook, a short idle timeout, no MP3 library);
//! tests on the strict one take turns. Each server exits when this test process ends (it watches its stdin).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

struct Server {
    base: String,
    pid: u32,
    _child: Child,
    _stdin: ChildStdin,
}

fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
    let log = std::env::temp_dir().join(format!("parla-serve-test-{}-{}.log", std::process::id(), args.len()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(["serve", "--addr", "127.0.0.1:0", "--exit-on-stdin-eof", "--engine", "wasm"])
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("parla serve starts");
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("first line");
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?} (log: {})", log.display())).to_string();
    let server = Server { base, pid: child.id(), _child: child, _stdin: stdin };
    let t = Instant::now();
    while get_status(&server.base, "/readyz") != Some(200) {
        assert!(t.elapsed() < Duration::from_secs(180), "server not ready; log: {}", log.display());
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// A blocking GET's status, without a client library (used before any runtime exists).
fn get_status(base: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(base.strip_prefix("http://")?).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn open() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| start(&["--workers", "2"], &[]))
}

const KEYS: [&str; 3] = ["k1", "k2", "k3"];

fn strict() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        start(
            &[
                "--workers", "1", "--queue", "1", "--per-key-concurrency", "1", "--api-key", "k1", "--api-key", "k2",
                "--max-input-chars", "3000", "--idle-timeout", "2", "--ping-interval", "1",
            ],
            &[("PARLA_TEST_TRAP", "1"), ("PARLA_API_KEYS", "k3"), ("PARLA_LAME", "/nonexistent/libmp3lame.so.0")],
        )
    })
}

/// Tests on the strict server take turns (it has one worker).
static STRICT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn speech(base: &str, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut r = client().post(format!("{base}/v1/audio/speech")).json(&body);
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    r.send().await.expect("request")
}

fn samples_of(pcm: &[u8]) -> Vec<f32> {
    pcm.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32767.0).collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

async fn metric(base: &str, name: &str) -> f64 {
    let text = client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

async fn assert_healthy(base: &str) {
    let r = client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "server still ready");
}

const LONG: &str = "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet forest. ";

#[tokio::test(flavor = "multi_thread")]
async fn wav_is_the_audio_parla_say_makes() {
    let s = open();
    let text = "Hello there. This is a test of the speech server.";
    let r = speech(&s.base, None, json!({"model": "tts-1", "input": text, "voice": "alloy", "response_format": "wav"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert_eq!(r.headers()["x-sample-rate"], "22050");
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[0..4], b"RIFF");
    assert_eq!(&body[8..16], b"WAVEfmt ");
    assert_eq!(u32::from_le_bytes(body[24..28].try_into().unwrap()), 22050);
    let got = samples_of(&body[44..]);
    assert!(got.len() > 22050, "over a second of audio: {}", got.len());
    assert!(rms(&got) > 0.01, "not silent: rms {}", rms(&got));

    // The same text through `parla say` with the server's chunking: the same samples.
    let out = std::env::temp_dir().join(format!("parla-serve-ref-{}.wav", std::process::id()));
    let first = parla_core::chunk::FIRST_CHUNK.to_string();
    let st = Command::new(env!("CARGO_BIN_EXE_parla"))
        .args(["say", "--engine", "wasm", "--first-chunk", &first, "--chunk", "64", "--context", "24", "-o"])
        .arg(&out)
        .arg(text)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let reference = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let want = samples_of(&reference[44..]);
    assert_eq!(got.len(), want.len(), "length of the audio");
    let max_diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(max_diff < 1e-3, "same samples (max diff {max_diff})");
}

#[tokio::test(flavor = "multi_thread")]
async fn pcm_streams_as_it_is_made() {
    let s = open();
    let text = "First a short clause, then a longer sentence that keeps going for a while. And one more.";
    let t = Instant::now();
    let r = speech(&s.base, None, json!({"input": text, "voice": "joe", "response_format": "pcm", "speed": 1.25})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/pcm");
    assert_eq!(r.headers()["x-sample-rate"], "22050");
    let mut body = r.bytes_stream();
    let (mut chunks, mut bytes, mut first) = (0, Vec::new(), None);
    while let Some(c) = body.next().await {
        let c = c.unwrap();
        first.get_or_insert(t.elapsed());
        chunks += 1;
        bytes.extend_from_slice(&c);
    }
    assert!(chunks > 3, "audio arrives in pieces ({chunks})");
    assert_eq!(bytes.len() % 2, 0);
    let pcm = samples_of(&bytes);
    assert!(pcm.len() > 2 * 22050 && rms(&pcm) > 0.01);
    eprintln!("pcm: first bytes after {:?}, {} chunks, {:.2} s of audio", first.unwrap(), chunks, pcm.len() as f64 / 22050.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn opus_is_ogg_that_decodes_to_the_speech() {
    let s = open();
    let text = "Opus, in an Ogg stream.";
    let r = speech(&s.base, None, json!({"input": text, "voice": "joe", "response_format": "opus"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/ogg");
    let ogg = r.bytes().await.unwrap();
    assert!(ogg.starts_with(b"OggS"));
    let pcm = speech(&s.base, None, json!({"input": text, "voice": "joe", "response_format": "pcm"})).await.bytes().await.unwrap();
    let mut reader = opus_pure::OggOpusReader::new(std::io::Cursor::new(ogg.to_vec())).unwrap();
    let head = reader.head().clone();
    let mut decoder = head.decoder(24_000).unwrap();
    let mut trim = opus_pure::Trim::new(&head, 24_000, 1).unwrap();
    let (mut buf, mut decoded) = (vec![0f32; 2880], Vec::new());
    while let Some(p) = reader.read_packet().unwrap() {
        let n = decoder.decode(&p.data, 2880, &mut buf).unwrap();
        decoded.extend_from_slice(trim.keep(&p, &buf[..n]));
    }
    let want = (pcm.len() / 2) as f64 * 24_000.0 / 22_050.0;
    assert!((decoded.len() as f64 - want).abs() < 2.0, "{} samples at 24 kHz for {want}", decoded.len());
    let (a, b) = (rms(&decoded), rms(&samples_of(&pcm)));
    assert!((a / b - 1.0).abs() < 0.2, "loudness kept: rms {a} vs {b}");
}

#[tokio::test(flavor = "multi_thread")]
async fn flac_is_the_pcm_losslessly_and_mp3_has_its_length() {
    let s = open();
    let text = "Lossless, then small.";
    let pcm = speech(&s.base, None, json!({"input": text, "voice": "joe", "response_format": "pcm"})).await.bytes().await.unwrap();
    let r = speech(&s.base, None, json!({"input": text, "voice": "joe", "response_format": "flac"})).await;
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "audio/flac"));
    let mut flac = claxon::FlacReader::new(std::io::Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
    assert_eq!(flac.streaminfo().sample_rate, 22_050);
    let decoded: Vec<u8> = flac.samples().flat_map(|v| (v.unwrap() as i16).to_le_bytes()).collect();
    assert!(decoded == pcm, "flac decodes to the pcm response ({} vs {} bytes)", decoded.len(), pcm.len());

    // OpenAI's Python client asks for mp3 unless told otherwise.
    let r = speech(&s.base, None, json!({"input": text, "voice": "alloy", "model": "tts-1", "response_format": "mp3"})).await;
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "audio/mpeg"));
    let mp3 = r.bytes().await.unwrap();
    assert_eq!(&mp3[..2], [0xFF, 0xF3], "MPEG-2 layer III at the voice's rate");
    // 64 kb/s over the audio, plus LAME's delay and last frame (about 100 ms).
    let seconds = (pcm.len() / 2) as f64 / 22_050.0;
    let want = 8_000.0 * seconds;
    assert!(mp3.len() as f64 > want && (mp3.len() as f64) < want + 8_000.0 * 0.15, "{} bytes of mp3 for {seconds:.2} s", mp3.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_gives_deltas_then_done() {
    use base64::Engine as _;
    let s = open();
    let r = speech(&s.base, None, json!({"input": "Streaming as events.", "voice": "en_US-joe-medium", "response_format": "pcm", "stream_format": "sse"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    let events: Vec<Value> = text.split("\n\n").filter_map(|e| e.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect();
    let (last, deltas) = events.split_last().unwrap();
    assert_eq!(last["type"], "speech.audio.done");
    assert!(deltas.len() > 1);
    let mut pcm = Vec::new();
    for d in deltas {
        assert_eq!(d["type"], "speech.audio.delta");
        pcm.extend(base64::engine::general_purpose::STANDARD.decode(d["audio"].as_str().unwrap()).unwrap());
    }
    assert_eq!(last["samples"].as_u64().unwrap() as usize, pcm.len() / 2);
    assert!(rms(&samples_of(&pcm)) > 0.01);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_openai_errors() {
    let s = open();
    let url = format!("{}/v1/audio/speech", s.base);
    let long = "a".repeat(4097);
    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("broken json", "{\"input\": \"hi\",".into(), 400, None),
        ("not an object", "[1,2]".into(), 400, None),
        ("missing input", json!({"voice": "alloy"}).to_string(), 400, Some("input")),
        ("empty input", json!({"input": "  ", "voice": "alloy"}).to_string(), 400, Some("input")),
        ("missing voice", json!({"input": "hi"}).to_string(), 400, Some("voice")),
        ("unknown voice", json!({"input": "hi", "voice": "nobody"}).to_string(), 400, Some("voice")),
        ("unknown format", json!({"input": "hi", "voice": "alloy", "response_format": "ogg"}).to_string(), 400, Some("response_format")),
        ("aac", json!({"input": "hi", "voice": "alloy", "response_format": "aac"}).to_string(), 400, Some("response_format")),
        ("slow speed", json!({"input": "hi", "voice": "alloy", "speed": 0.1}).to_string(), 400, Some("speed")),
        ("fast speed", json!({"input": "hi", "voice": "alloy", "speed": 4.5}).to_string(), 400, Some("speed")),
        ("unknown model", json!({"input": "hi", "voice": "alloy", "model": "whisper-9"}).to_string(), 400, Some("model")),
        ("stream format", json!({"input": "hi", "voice": "alloy", "stream_format": "ws"}).to_string(), 400, Some("stream_format")),
        ("nothing speakable", json!({"input": "...!?", "voice": "alloy"}).to_string(), 400, Some("input")),
        ("input too long", json!({"input": long, "voice": "alloy"}).to_string(), 413, Some("input")),
        ("body too large", format!("{{\"input\": \"{}\"}}", "b".repeat(2 << 20)), 413, None),
    ];
    for (what, body, status, param) in cases {
        let r = client().post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{what}");
        let v: Value = r.json().await.unwrap_or_else(|e| panic!("{what}: JSON error body: {e}"));
        let e = &v["error"];
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {v}");
        assert!(e["type"].is_string() && e["code"].is_string(), "{what}: {v}");
        assert_eq!(e["param"].as_str(), param, "{what}: {v}");
    }
    assert_healthy(&s.base).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn catalog_health_metrics_and_static_files() {
    let s = open();
    let c = client();
    let models: Value = c.get(format!("{}/v1/models", s.base)).send().await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = models["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(["parla-1", "tts-1", "tts-1-hd"].iter().all(|m| ids.contains(m)), "{ids:?}");
    let voices: Value = c.get(format!("{}/v1/voices", s.base)).send().await.unwrap().json().await.unwrap();
    let joe = voices["data"].as_array().unwrap().iter().find(|v| v["id"] == "en_US-joe-medium").expect("the default voice");
    assert_eq!(joe["sample_rate"], 22050);
    assert!(joe["names"].as_array().unwrap().iter().any(|n| n == "joe"));
    assert!(joe["names"].as_array().unwrap().iter().any(|n| n == "alloy"));
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().await.unwrap().status(), 200);
    let page = c.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cross-origin-opener-policy"], "same-origin");
    assert_eq!(page.headers()["cross-origin-embedder-policy"], "require-corp");
    // The demo page (a redirect from `/`) and the voice files the browser package loads.
    let demo = c.get(format!("{}/", s.base)).send().await.unwrap();
    assert!(demo.url().path().starts_with("/demo/"), "{}", demo.url());
    assert!(demo.text().await.unwrap().contains("id=\"speak\""));
    let json = c.get(format!("{}/voices/en_US-joe-medium.onnx.json", s.base)).send().await.unwrap();
    assert_eq!(json.status(), 200);
    assert_eq!(json.headers()["cross-origin-embedder-policy"], "require-corp");
    assert_eq!(json.headers()["cache-control"], "no-cache");
    assert!(json.json::<Value>().await.unwrap()["phoneme_id_map"].is_object());
    // Kept by the browser but checked before each use: unchanged, a 304 without the file.
    let index = c.get(format!("{}/src/index.js", s.base)).send().await.unwrap();
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let modified = index.headers()["last-modified"].clone();
    let again = c.get(format!("{}/src/index.js", s.base)).header("if-modified-since", modified).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // The engine's module goes out gzipped to a client that takes gzip (`just web` writes the
    // .gz beside it), and whole to one that does not.
    let module = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/pkg/parla_web_bg.wasm");
    let sizes = [module.to_string(), format!("{module}.gz")].map(|f| std::fs::metadata(&f).unwrap_or_else(|_| panic!("{f}: run `just web`")).len());
    let url = format!("{}/pkg/parla_web_bg.wasm", s.base);
    let gzipped = c.get(&url).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert_eq!(gzipped.headers()["vary"], "accept-encoding");
    assert_eq!(gzipped.headers()["content-type"], "application/wasm");
    let body = gzipped.bytes().await.unwrap();
    assert_eq!((body.len() as u64, &body[..2]), (sizes[1], &[0x1f, 0x8b][..]));
    let whole = c.get(&url).send().await.unwrap();
    assert!(whole.headers().get("content-encoding").is_none());
    assert_eq!(whole.bytes().await.unwrap().len() as u64, sizes[0]);
    let missing = c.get(format!("{}/no-such-file.js", s.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["cross-origin-embedder-policy"], "require-corp");
    let m = c.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    for name in ["parla_ttfa_seconds_bucket", "parla_rtf_bucket", "parla_active_streams", "parla_queue_depth", "parla_rejected_total", "parla_requests_total"] {
        assert!(m.contains(name), "{name} in /metrics");
    }
}

/// The demo's first visit downloads the voice (63 MB) from here. With a 32 KiB send buffer that
/// took 31 s over loopback (2 MB/s: each send waited for a delayed ACK); it takes well under a
/// second with a buffer that holds more than one loopback segment. The bound is loose: it tells a
/// stalled transfer from a fast one, not a fast machine from a slow one.
#[tokio::test(flavor = "multi_thread")]
async fn voice_files_download_at_loopback_speed() {
    let s = open();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/voices/en_US-joe-medium.onnx");
    let size = std::fs::metadata(path).expect("the default voice").len() as usize;
    let t = Instant::now();
    let response = client().get(format!("{}/voices/en_US-joe-medium.onnx", s.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let took = t.elapsed();
    assert_eq!(bytes.len(), size);
    let mb_per_s = size as f64 / 1e6 / took.as_secs_f64();
    eprintln!("voice download: {size} bytes in {took:?} ({mb_per_s:.0} MB/s)");
    assert!(took < Duration::from_secs(8), "{size} bytes took {took:?} ({mb_per_s:.1} MB/s)");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_disconnecting_mid_stream_frees_its_worker() {
    let s = open();
    let r = speech(&s.base, None, json!({"input": LONG.repeat(6), "voice": "joe", "response_format": "pcm"})).await;
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    let t = Instant::now();
    while metric(&s.base, "parla_active_streams").await > 0.0 {
        assert!(t.elapsed() < Duration::from_secs(5), "the stream ends when its client leaves");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = speech(&s.base, None, json!({"input": "Still here.", "voice": "joe"})).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().len() > 44 + 10_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_required_when_configured() {
    let s = strict();
    let _turn = STRICT.lock().await;
    let body = json!({"input": "Hi.", "voice": "joe"});
    for key in [None, Some("wrong")] {
        let r = speech(&s.base, key, body.clone()).await;
        assert_eq!(r.status(), 401, "key {key:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "invalid_api_key");
    }
    assert_eq!(client().get(format!("{}/v1/models", s.base)).send().await.unwrap().status(), 401);
    for key in KEYS {
        let r = speech(&s.base, Some(key), body.clone()).await;
        assert_eq!(r.status(), 200, "key {key} (from --api-key or PARLA_API_KEYS)");
        r.bytes().await.unwrap();
    }
    // Health, metrics and static files stay open.
    for path in ["/healthz", "/readyz", "/metrics", "/"] {
        assert_eq!(client().get(format!("{}{path}", s.base)).send().await.unwrap().status(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn per_key_concurrency_and_overload() {
    let s = strict();
    let _turn = STRICT.lock().await;
    let long = json!({"input": LONG.repeat(8), "voice": "joe", "response_format": "pcm"});
    // k1 has a stream open (its client reads nothing, so it does not hold the worker).
    let a = speech(&s.base, Some("k1"), long.clone()).await;
    assert_eq!(a.status(), 200);
    // A second stream of k1: 429.
    let r = speech(&s.base, Some("k1"), long.clone()).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "concurrency_limit_exceeded");
    // k2 takes the one place left (one worker + a queue of one)...
    let b = speech(&s.base, Some("k2"), long.clone()).await;
    assert_eq!(b.status(), 200);
    // ...so k3 finds the server full: 503 with Retry-After.
    let r = speech(&s.base, Some("k3"), json!({"input": "No room.", "voice": "joe"})).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "overloaded");
    drop(b);
    // Once a stream ends its place is free again.
    let t = Instant::now();
    let status = loop {
        let r = speech(&s.base, Some("k3"), json!({"input": "Room now.", "voice": "joe"})).await;
        if r.status() != 503 || t.elapsed() > Duration::from_secs(5) {
            break r.status();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 200, "served once a place is free");
    drop(a);
    assert_healthy(&s.base).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_mp3_library_mp3_is_a_clear_400_and_other_formats_work() {
    let s = strict();
    let _turn = STRICT.lock().await;
    let r = speech(&s.base, Some("k1"), json!({"input": "Hello.", "voice": "joe", "response_format": "mp3"})).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["error"]["code"].as_str(), v["error"]["param"].as_str()), (Some("unsupported_format"), Some("response_format")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("libmp3lame"), "the message says what is missing: {v}");
    let r = speech(&s.base, Some("k1"), json!({"input": "Hello.", "voice": "joe", "response_format": "flac"})).await;
    assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "audio/flac"));
    assert!(r.bytes().await.unwrap().starts_with(b"fLaC"));
    assert_healthy(&s.base).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_trap_fails_one_request_and_the_server_recovers() {
    let s = strict();
    let _turn = STRICT.lock().await;
    let traps = metric(&s.base, "parla_guest_traps_total").await;
    let r = speech(&s.base, Some("k1"), json!({"input": "[[parla-test-trap]] Hello.", "voice": "joe"})).await;
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "engine_trap", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("trap"), "{v}");
    assert_eq!(metric(&s.base, "parla_guest_traps_total").await, traps + 1.0);
    // The worker replaced its instance: the next request is spoken.
    let r = speech(&s.base, Some("k1"), json!({"input": "Back again.", "voice": "joe", "response_format": "pcm"})).await;
    assert_eq!(r.status(), 200);
    let pcm = samples_of(&r.bytes().await.unwrap());
    assert!(pcm.len() > 11025 && rms(&pcm) > 0.01);
    assert_healthy(&s.base).await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_reader_stalls_its_stream_with_bounded_memory() {
    let s = strict();
    let _turn = STRICT.lock().await;
    let text = LONG.repeat(25); // about three minutes of speech
    let body = json!({"input": text, "voice": "joe", "response_format": "pcm"}).to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut conn = socket.connect(s.base.strip_prefix("http://").unwrap().parse().unwrap()).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let rss_before = rss_kib(s.pid);
    // Stop reading: synthesis must stall once the bounded buffers are full.
    let t = Instant::now();
    let mut last = metric(&s.base, "parla_audio_samples_total").await;
    let stalled = loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = metric(&s.base, "parla_audio_samples_total").await;
        if now == last {
            break now;
        }
        last = now;
        assert!(t.elapsed() < Duration::from_secs(60), "synthesis never stalled");
    };
    let rss_after = rss_kib(s.pid);
    let produced_s = stalled / 22050.0;
    eprintln!("slow reader: synthesis stalled after {:.1} s; RSS {} → {} KiB", t.elapsed().as_secs_f64(), rss_before, rss_after);
    assert!(rss_after < rss_before + 64 * 1024, "memory stays bounded: {rss_before} → {rss_after} KiB");
    drop(conn);
    let _ = produced_s;
    let t = Instant::now();
    while metric(&s.base, "parla_active_streams").await > 0.0 {
        assert!(t.elapsed() < Duration::from_secs(5), "the stalled stream ends when its client leaves");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_healthy(&s.base).await;
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(base: &str, query: &str) -> Ws {
    let url = format!("{}/v1/stream?{query}", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "ready");
    assert_eq!(hello["sample_rate"], 22050);
    ws
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next()).await.expect("a message in time").expect("open").unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Binary(_) => panic!("expected an event"),
            _ => continue,
        }
    }
}

fn text_msg(v: Value) -> Message {
    Message::text(v.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_speaks_text_pieces_in_order() {
    let s = open();
    let mut ws = ws_connect(&s.base, "voice=joe&speed=1&format=pcm").await;
    for piece in ["Hello there, ", "this text arrives ", "in pieces", ". And it is spoken", " as it comes."] {
        ws.send(text_msg(json!({"type": "text", "text": piece}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ws.send(text_msg(json!({"type": "flush"}))).await.unwrap();
    let (mut pcm, mut segments, mut words, mut starts) = (Vec::new(), Vec::new(), 0, Vec::new());
    let done = loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next()).await.unwrap().unwrap().unwrap() {
            Message::Binary(b) => {
                assert!(!segments.is_empty(), "a segment event comes before its audio");
                pcm.extend_from_slice(&b);
            }
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["type"].as_str().unwrap() {
                    "segment" => {
                        assert_eq!(v["index"].as_u64().unwrap() as usize, segments.len());
                        // Where the segment's audio starts: after the audio sent so far (some may
                        // still wait in the frame ring, less than a ring of 64 frames).
                        let at = v["sample"].as_u64().unwrap() as usize;
                        assert!(at >= pcm.len() / 2 && at < pcm.len() / 2 + 64 * 221, "segment at {at}, {} samples sent", pcm.len() / 2);
                        starts.push(at);
                        segments.push(v["text"].as_str().unwrap().to_string());
                    }
                    "word" => {
                        assert!(v["end"].as_u64() >= v["start"].as_u64());
                        words += 1;
                    }
                    "done" => break v,
                    other => panic!("unexpected event {other}: {v}"),
                }
            }
            _ => {}
        }
    };
    assert_eq!(done["samples"].as_u64().unwrap() as usize, pcm.len() / 2);
    assert!(segments.len() >= 2, "{segments:?}");
    assert!(starts.windows(2).all(|w| w[0] < w[1]) && *starts.last().unwrap() < pcm.len() / 2, "{starts:?}");
    assert!(words >= 10, "word events: {words}");
    assert!(rms(&samples_of(&pcm)) > 0.01);
    // The connection takes another utterance.
    ws.send(text_msg(json!({"type": "text", "text": "Again."}))).await.unwrap();
    ws.send(text_msg(json!({"type": "flush"}))).await.unwrap();
    loop {
        if let Message::Text(t) = ws.next().await.unwrap().unwrap() {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "done" {
                assert!(v["samples"].as_u64().unwrap() > 5000);
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_cancel_stops_quickly() {
    let s = open();
    let mut ws = ws_connect(&s.base, "voice=alloy").await;
    ws.send(text_msg(json!({"type": "text", "text": LONG.repeat(6)}))).await.unwrap();
    ws.send(text_msg(json!({"type": "flush"}))).await.unwrap();
    loop {
        if let Message::Binary(_) = ws.next().await.unwrap().unwrap() {
            break;
        }
    }
    let t = Instant::now();
    ws.send(text_msg(json!({"type": "cancel"}))).await.unwrap();
    loop {
        if let Message::Text(m) = ws.next().await.unwrap().unwrap() {
            let v: Value = serde_json::from_str(&m).unwrap();
            if v["type"] == "done" {
                assert_eq!(v["cancelled"], true);
                break;
            }
        }
    }
    assert!(t.elapsed() < Duration::from_millis(500), "cancelled in {:?}", t.elapsed());
    let t = Instant::now();
    while metric(&s.base, "parla_active_streams").await > 0.0 {
        assert!(t.elapsed() < Duration::from_secs(3), "the worker lets go");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Bad messages get error events; the connection stays usable.
    ws.send(text_msg(json!({"type": "dance"}))).await.unwrap();
    assert_eq!(next_json(&mut ws).await["code"], "invalid_message");
    ws.send(text_msg(json!({"type": "config", "voice": "nobody"}))).await.unwrap();
    assert_eq!(next_json(&mut ws).await["code"], "invalid_config");
    ws.send(text_msg(json!({"type": "flush"}))).await.unwrap();
    assert_eq!(next_json(&mut ws).await["samples"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_rejects_bad_queries_and_closes_idle_connections() {
    let s = strict();
    let _turn = STRICT.lock().await;
    let ws_base = s.base.replace("http://", "ws://");
    let err = tokio_tungstenite::connect_async(format!("{ws_base}/v1/stream?voice=joe")).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = tokio_tungstenite::connect_async(format!("{ws_base}/v1/stream?api_key=k1&voice=nobody")).await.unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    // The server's idle clock starts when it accepts, before the handshake returns here.
    let t = Instant::now();
    let mut ws = ws_connect(&s.base, "api_key=k1").await;
    let reason = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(Some(f)))) => break f.reason.to_string(),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(reason, "idle timeout");
    assert!(t.elapsed() >= Duration::from_secs(2) && t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_python_client_works_unmodified() {
    let s = open();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/serve/openai_client.py");
    let has_openai = Command::new("python3").args(["-c", "import openai"]).status().is_ok_and(|s| s.success());
    if !has_openai {
        assert!(std::env::var_os("CI").is_none(), "the openai package is missing (pip install -r tests/requirements.txt)");
        eprintln!("skipped: python3 -m pip install openai (tests/requirements.txt)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("parla-openai-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = tokio::process::Command::new("python3").arg(script).arg(format!("{}/v1", s.base)).arg(&dir).output().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn shutdown_lets_open_streams_finish() {
    // A long grace: on a loaded machine the stream may take a while to synthesize.
    let mut s = start(&["--workers", "1", "--grace", "120"], &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = speech(&s.base, None, json!({"input": LONG, "voice": "joe", "response_format": "pcm"})).await;
        assert_eq!(r.status(), 200);
        // SIGTERM while the stream is open: it still finishes whole.
        let st = Command::new("kill").args(["-TERM", &s.pid.to_string()]).status().unwrap();
        assert!(st.success());
        let pcm = r.bytes().await.expect("the stream completes");
        assert!(pcm.len() / 2 > 4 * 22050, "{} samples", pcm.len() / 2);
    });
    let t = Instant::now();
    loop {
        if let Some(st) = s._child.try_wait().unwrap() {
            assert!(st.success(), "clean exit: {st}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "the server exits after its streams");
        std::thread::sleep(Duration::from_millis(50));
    }
}
