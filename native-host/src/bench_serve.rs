//! `parla bench-serve`: load on a real `parla serve` over loopback, in bounded time.
//!
//! 1. One stream: requests one at a time, each dropped after its first audio: time to first
//!    byte (p50/p95/p99) on an idle server.
//! 2. Streams: N clients, each asking for speech (pcm) and playing it in real time (the next
//!    request only after the last one's playback ends), for a few seconds per N. Reported per N:
//!    time to first byte (p50/p95/p99) and underruns (audio arriving after its playback time,
//!    playback starting `--prebuffer-ms` after the first byte) and the server's CPU use (100% is
//!    one core busy), and the server's CPU time per second of audio it delivered (its RTF). The
//!    largest N without underrun is the capacity; since a run is noisy, the largest N below which
//!    every step was clean too is printed next to it. Without `--streams`, the steps search around
//!    the target `0.9 × cores / RTF`, with the RTF of one stream measured in the run
//!    ([`crate::bench_steps`]), and the capacity is printed as a ratio to that target.
//! 3. Idle WebSockets: K connections opened and held; the server's RSS grows by about
//!    (memory per connection × K).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

use crate::bench_steps::{Steps, TARGET_SHARE};
use crate::cli::BenchServeArgs;
use crate::error::HostError;

const SENTENCE: &str = "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet forest.";

fn err(what: &str) -> impl FnOnce(std::io::Error) -> HostError + '_ {
    move |e| HostError::Wasm(format!("bench-serve: {what}: {e}"))
}

/// Raises the soft limit of open files to the hard one; returns it.
fn raise_fd_limit() -> u64 {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain syscalls on a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return 1024;
        }
        l.rlim_cur = l.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut l);
    }
    l.rlim_cur
}

struct Server {
    child: Child,
    addr: String,
    _stdin: ChildStdin,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// CPU time the server has used so far (user + system).
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let ticks: u64 = rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse::<u64>().ok()).sum();
        // SAFETY: a plain query.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Duration::from_secs_f64(ticks as f64 / hz)
    }
}

fn start_server(args: &BenchServeArgs) -> Result<Server, HostError> {
    let exe = std::env::current_exe().map_err(err("finding parla"))?;
    let mut cmd = Command::new(exe);
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--exit-on-stdin-eof", "--per-key-concurrency", "0"]);
    cmd.args(["--workers", &args.workers.to_string(), "--queue", "256", "--max-connections", "1000000"]);
    cmd.arg("--engine").arg(match args.engine {
        crate::engine::EngineKind::Native => "native",
        crate::engine::EngineKind::Wasm => "wasm",
    });
    if let Some(v) = &args.voices {
        cmd.arg("--voices").arg(v);
    }
    cmd.args(&args.serve_args);
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(err("starting the server"))?;
    let stdin = child.stdin.take().expect("piped");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).map_err(err("reading its address"))?;
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_default().to_string();
    if addr.is_empty() {
        return Err(HostError::Wasm("bench-serve: the server did not start".into()));
    }
    Ok(Server { child, addr, _stdin: stdin })
}

async fn wait_ready(addr: &str) -> Result<(), HostError> {
    let t = Instant::now();
    loop {
        if let Ok(mut s) = TcpStream::connect(addr).await {
            let _ = s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
            let mut head = [0u8; 12];
            if s.read_exact(&mut head).await.is_ok() && &head[9..12] == b"200" {
                return Ok(());
            }
        }
        if t.elapsed() > Duration::from_secs(180) {
            return Err(HostError::Wasm("bench-serve: the server never became ready".into()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One request's course, as a player would see it.
#[derive(Debug, Clone, Copy)]
struct Played {
    ttfb: Duration,
    underruns: usize,
    /// When playback of the whole response ends.
    ends: Instant,
    /// How long the response plays.
    audio: Duration,
}

/// A pcm response whose status and headers have been read: its body comes in HTTP chunks.
struct Response {
    body: AsyncBufReader<TcpStream>,
    line: String,
    chunk: Vec<u8>,
}

impl Response {
    /// Asks for speech as pcm, over a fresh connection.
    async fn request(addr: &str, text: &str) -> std::io::Result<Response> {
        let body = format!("{{\"model\":\"tts-1\",\"voice\":\"alloy\",\"response_format\":\"pcm\",\"input\":\"{text}\"}}");
        let mut s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let req = format!("POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        s.write_all(req.as_bytes()).await?;
        let mut r = Response { body: AsyncBufReader::new(s), line: String::new(), chunk: Vec::new() };
        r.body.read_line(&mut r.line).await?;
        if !r.line.starts_with("HTTP/1.1 200") {
            return Err(std::io::Error::other(format!("status: {}", r.line.trim())));
        }
        loop {
            r.line.clear();
            r.body.read_line(&mut r.line).await?;
            if r.line == "\r\n" || r.line.is_empty() {
                return Ok(r);
            }
        }
    }

    /// Bytes of the next piece of audio; 0 at the end.
    async fn next_chunk(&mut self) -> std::io::Result<usize> {
        self.line.clear();
        self.body.read_line(&mut self.line).await?;
        let n = usize::from_str_radix(self.line.trim(), 16).map_err(|_| std::io::Error::other("bad chunk"))?;
        self.chunk.resize(n + 2, 0);
        self.body.read_exact(&mut self.chunk).await?;
        Ok(n)
    }
}

/// Time from sending a request to its first audio; the connection is then dropped, which
/// cancels the rest of the speech.
async fn first_byte(addr: &str, text: &str) -> std::io::Result<Duration> {
    let t0 = Instant::now();
    let mut r = Response::request(addr, text).await?;
    if r.next_chunk().await? == 0 {
        return Err(std::io::Error::other("no audio"));
    }
    Ok(t0.elapsed())
}

/// Requests speech as pcm and follows its arrival against a real-time playback clock.
async fn play(addr: &str, text: &str, rate: f64, prebuffer: Duration) -> std::io::Result<Played> {
    let t0 = Instant::now();
    let mut r = Response::request(addr, text).await?;
    let mut ttfb = None;
    let mut start = t0;
    let (mut bytes, mut underruns) = (0usize, 0usize);
    loop {
        let n = r.next_chunk().await?;
        if n == 0 {
            break;
        }
        let now = Instant::now();
        if ttfb.is_none() {
            ttfb = Some(now - t0);
            start = now + prebuffer;
        }
        let due = start + Duration::from_secs_f64((bytes / 2) as f64 / rate);
        if now > due {
            // The player ran dry and waits: playback resumes from now.
            underruns += 1;
            start += now - due;
        }
        bytes += n;
    }
    let audio = Duration::from_secs_f64((bytes / 2) as f64 / rate);
    Ok(Played { ttfb: ttfb.unwrap_or_default(), underruns, ends: start + audio, audio })
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// p50, p95 and p99 of sorted durations, in ms.
fn tails(sorted: &[Duration]) -> [f64; 3] {
    [0.5, 0.95, 0.99].map(|p| pct(sorted, p))
}

/// What the clients of one step found.
struct Round {
    /// Times to first byte, sorted.
    ttfb: Vec<Duration>,
    underruns: usize,
    /// Responses with an underrun.
    streams: usize,
    /// Requests that failed.
    failed: usize,
    /// Audio delivered in all.
    audio: Duration,
}

/// N clients, each playing one response after another for `window`.
async fn round(addr: &str, n: usize, window: Duration, prebuffer: Duration) -> Round {
    let deadline = Instant::now() + window;
    let mut tasks = Vec::new();
    for i in 0..n {
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            // Spread the first requests over a second, as independent clients would come.
            tokio::time::sleep(Duration::from_millis((i * 1000 / n.max(1)) as u64)).await;
            let mut out = Vec::new();
            let mut failed = 0;
            while Instant::now() < deadline {
                match play(&addr, SENTENCE, 22050.0, prebuffer).await {
                    Ok(p) => {
                        out.push(p);
                        tokio::time::sleep_until(p.ends.into()).await;
                    }
                    Err(_) => {
                        failed += 1;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
            (out, failed)
        }));
    }
    let mut r = Round { ttfb: Vec::new(), underruns: 0, streams: 0, failed: 0, audio: Duration::ZERO };
    for t in tasks {
        if let Ok((played, failed)) = t.await {
            r.failed += failed;
            for p in played {
                r.ttfb.push(p.ttfb);
                r.underruns += p.underruns;
                r.streams += usize::from(p.underruns > 0);
                r.audio += p.audio;
            }
        }
    }
    r.ttfb.sort();
    r
}

/// Opens a WebSocket by hand and keeps the bare socket.
async fn ws_open(addr: &str) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").await?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).await? == 0 {
            return Err(std::io::Error::other("closed during the handshake"));
        }
        head.push(b[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(std::io::Error::other(String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_string()));
    }
    Ok(s)
}

/// Runs `parla bench-serve`.
pub fn run(args: &BenchServeArgs) -> Result<(), HostError> {
    let limit = raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(err("runtime"))?;
    let server = start_server(args)?;
    let prebuffer = Duration::from_millis(args.prebuffer_ms);
    rt.block_on(async {
        wait_ready(&server.addr).await?;
        let started = Instant::now();
        println!(
            "bench-serve: {} workers, engine {:?}, server args {:?}, loopback {}, open-file limit {limit}",
            args.workers, args.engine, args.serve_args, server.addr
        );
        // Warm-up: one of each worker's first requests.
        for _ in 0..args.workers {
            play(&server.addr, SENTENCE, 22050.0, prebuffer).await.map_err(err("warm-up request"))?;
        }
        // One stream: requests one after another on an otherwise idle server.
        let mut alone = Vec::with_capacity(args.ttfb_requests);
        for _ in 0..args.ttfb_requests {
            alone.push(first_byte(&server.addr, SENTENCE).await.map_err(err("a request for the first byte"))?);
            // Let the server end the dropped stream before the next request.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        alone.sort();
        let [p50, p95, p99] = tails(&alone);
        println!(
            "\none stream, {} requests one at a time (each closed after its first audio): ttfb p50 {p50:.0} ms, p95 {p95:.0} ms, p99 {p99:.0} ms (target: p95 ≤ 50 ms)",
            alone.len()
        );
        println!("\nstreams played in real time ({} s per step, playback {} ms after the first byte; \"{SENTENCE}\")", args.window, args.prebuffer_ms);
        println!(
            "{:>4} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>7} {:>6} {:>6}",
            "N", "requests", "ttfb p50", "ttfb p95", "ttfb p99", "underruns", "streams", "failed", "cpu", "rtf"
        );
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut steps = Steps::new(&args.streams, cores);
        while let Some(n) = steps.next() {
            if started.elapsed() > Duration::from_secs(args.budget) {
                println!("(time budget reached)");
                break;
            }
            let (cpu, t) = (server.cpu(), Instant::now());
            let r = round(&server.addr, n, Duration::from_secs(args.window), prebuffer).await;
            let cpu = (server.cpu() - cpu).as_secs_f64();
            let busy = 100.0 * cpu / t.elapsed().as_secs_f64();
            let rtf = cpu / r.audio.as_secs_f64();
            let [p50, p95, p99] = tails(&r.ttfb);
            let (requests, underruns, streams, failed) = (r.ttfb.len(), r.underruns, r.streams, r.failed);
            println!("{n:>4} {requests:>9} {p50:>7.0}ms {p95:>7.0}ms {p99:>7.0}ms {underruns:>10} {streams:>8} {failed:>7} {busy:>5.0}% {rtf:>6.3}");
            steps.record(n, underruns == 0 && failed == 0 && requests > 0, rtf);
            if let (1, Some(rtf), Some(target)) = (n, steps.rtf(), steps.target()) {
                println!("(capacity target: {TARGET_SHARE} × {cores} cores / RTF {rtf:.3} of one stream = {target:.1} streams)");
            }
        }
        let (capacity, all_clean) = (steps.capacity(), steps.all_clean());
        match steps.target() {
            Some(target) => println!(
                "largest N without underrun: {capacity} (every step up to {all_clean} without); target {target:.1}: ratio {:.2} (target ≥ 1)",
                capacity as f64 / target
            ),
            None => println!("largest N without underrun: {capacity} (every step up to {all_clean} without)"),
        }

        // Idle WebSockets.
        let want = args.idle.min((limit as usize).saturating_sub(256));
        if want < args.idle {
            println!("\n(idle websockets: {want} of the {} asked for, as the open-file limit is {limit})", args.idle);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = server.rss_kib();
        let t = Instant::now();
        let mut conns = Vec::with_capacity(want);
        let mut failed = 0usize;
        let mut opening = tokio::task::JoinSet::new();
        let mut next = 0;
        while next < want || !opening.is_empty() {
            while next < want && opening.len() < 64 {
                let addr = server.addr.clone();
                opening.spawn(async move { ws_open(&addr).await });
                next += 1;
            }
            match opening.join_next().await {
                Some(Ok(Ok(s))) => conns.push(s),
                _ => failed += 1,
            }
        }
        let open_s = t.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = server.rss_kib();
        let per = (after.saturating_sub(before)) as f64 * 1024.0 / conns.len().max(1) as f64;
        println!(
            "\nidle websockets: {} open ({failed} failed) in {open_s:.1} s; server RSS {:.1} → {:.1} MiB: {:.1} KiB per connection",
            conns.len(),
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            per / 1024.0
        );
        // Still serving with all of them open?
        let p = play(&server.addr, "Still answering.", 22050.0, prebuffer).await.map_err(err("a request next to the idle connections"))?;
        println!("a request with them open: first byte after {:.0} ms", p.ttfb.as_secs_f64() * 1e3);
        drop(conns);
        println!("total {:.0} s", started.elapsed().as_secs_f64());
        Ok(())
    })
}
