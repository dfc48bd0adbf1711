//! `parla bench`: real-time factors and load times of the engines on the same sentences, next to
//! onnxruntime running the original voice in the same run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use parla_core::chunk::Chunking;
use parla_core::config::VoiceConfig;
use parla_core::infer::LoadOptions;
use parla_core::phonemes::PhonemeIds;

use crate::cli::BenchArgs;
use crate::engine::{self, Engine, EngineKind, Request};
use crate::error::HostError;
use crate::mux::Mux;
use crate::say;
use crate::voice_files;

/// The benchmark's sentences, as IPA (short, medium, long).
pub const SENTENCES: &[&str] = &[
    "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɔːɡ.",
    "pˈɑːɹlə spˈiːks ˈɔflaɪn, ɹˈaɪt wˌɛɹ ðə lˈɪsənɚɹ ɪz.",
    "stɹˈiːmɪŋ spˈiːtʃ sˈɪnθəsɪs stˈɑːɹts plˈeɪɪŋ ðə fˈɜːst wˈɜːdz wˌaɪl ðə ɹˈɛst ʌv ðə sˈɛntəns ɪz stˈɪl bˈiːɪŋ kəmpjˈuːɾɪd, wˌɪtʃ kˈiːps ðə dɪlˈeɪ ʃˈɔːɹt ˈiːvən fɔːɹ lˈɔŋ ˈænsɚz.",
];

/// One engine's measurements.
#[derive(Debug, Clone, Default)]
pub struct EngineReport {
    /// Seconds to load the voice (parse, split, optimise).
    pub load_s: f64,
    /// Seconds to compile the wasm module, and whether it came from the cache.
    pub compile: Option<(f64, bool)>,
    /// Real-time factor decoding each utterance whole.
    pub rtf_whole: f64,
    /// Real-time factor decoding in chunks.
    pub rtf_chunked: f64,
    /// Seconds of audio per pass over the sentences.
    pub audio_s: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Time of one pass over all sentences, in seconds, and the audio length.
fn pass(engine: &mut dyn Engine, request: &Request) -> Result<(f64, f64), HostError> {
    let t = Instant::now();
    let mut samples = 0;
    for s in SENTENCES {
        samples += engine.synthesize(s, request)?.1.len();
    }
    Ok((t.elapsed().as_secs_f64(), samples as f64 / engine.sample_rate() as f64))
}

fn rtf(engine: &mut dyn Engine, request: &Request, runs: usize) -> Result<(f64, f64), HostError> {
    pass(engine, request)?; // warm-up
    let mut times = Vec::new();
    let mut audio = 0.0;
    for _ in 0..runs.max(1) {
        let (t, a) = pass(engine, request)?;
        times.push(t);
        audio = a;
    }
    Ok((median(times) / audio, audio))
}

/// Measures one engine.
pub fn measure(kind: EngineKind, onnx: &[u8], config: &[u8], args: &BenchArgs) -> Result<EngineReport, HostError> {
    let chunking = say::chunking(&args.synth);
    let mut report = EngineReport::default();
    let t = Instant::now();
    let mut engine: Box<dyn Engine> = match kind {
        EngineKind::Native => {
            let e = engine::native::NativeEngine::load(onnx, config, chunking)?;
            report.load_s = t.elapsed().as_secs_f64();
            Box::new(e)
        }
        EngineKind::Wasm => {
            let e = engine::wasm::WasmEngine::load(onnx, config, chunking)?;
            let lt = e.load_times;
            report.load_s = lt.voice_s;
            report.compile = Some((lt.compile_s, lt.source == engine::wasm::CompileSource::Cache));
            Box::new(e)
        }
    };
    let scales = VoiceConfig::from_json(config)?.scales;
    let mut request = say::request(&args.synth, scales);
    (report.rtf_chunked, report.audio_s) = rtf(engine.as_mut(), &request, args.runs)?;
    request.chunking = Chunking { first: usize::MAX / 4, size: usize::MAX / 4, context: 0 };
    report.rtf_whole = rtf(engine.as_mut(), &request, args.runs)?.0;
    Ok(report)
}

/// onnxruntime's figures for the original voice, from `tests/bench/ort_rtf.py`.
#[derive(Debug, Clone, Copy)]
pub struct OrtReport {
    /// Seconds to create the session.
    pub load_s: f64,
    /// Real-time factor, whole utterances, one thread.
    pub rtf: f64,
}

/// Runs onnxruntime on the same phoneme ids.
pub fn measure_ort(files: &voice_files::VoiceFiles, config: &[u8], args: &BenchArgs) -> Result<OrtReport, HostError> {
    let cfg = VoiceConfig::from_json(config)?;
    let ids: Vec<Vec<i64>> = SENTENCES
        .iter()
        .map(|s| PhonemeIds::from_ipa(&cfg, s).map(|p| p.ids))
        .collect::<Result<_, _>>()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/bench/ort_rtf.py");
    let s = say::request(&args.synth, cfg.scales).scales;
    let input = format!(
        "{{\"onnx\":{:?},\"ids\":{:?},\"runs\":{},\"scales\":[{},{},{}]}}",
        files.onnx.display().to_string(),
        ids,
        args.runs.max(1),
        s.noise_scale,
        s.length_scale,
        s.noise_w
    );
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(HostError::io(&script))?;
    use std::io::Write;
    child.stdin.take().expect("piped").write_all(input.as_bytes()).map_err(HostError::io(&script))?;
    let out = child.wait_with_output().map_err(HostError::io(&script))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> Option<f64> {
        let at = text.find(&format!("\"{name}\":"))? + name.len() + 3;
        text[at..].split([',', '}']).next()?.trim().parse().ok()
    };
    match (out.status.success(), field("load_s"), field("rtf")) {
        (true, Some(load_s), Some(rtf)) => Ok(OrtReport { load_s, rtf }),
        _ => Err(HostError::Wasm(format!("onnxruntime reference failed: {}", text.trim()))),
    }
}

/// Time-to-first-audio runs per `--runs`: 20 runs by default, so the p95 is the second slowest
/// (with 5 it was the slowest, and one hiccup of the machine moved it by 10 ms).
pub const TTFA_RUNS_PER_RUN: usize = 7;

/// A typical first clause of an answer.
pub const FIRST_CLAUSE: &str = "Sure, here is what I found about the weather tomorrow.";

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Time to first audio of the streaming path (text pushed → first 10 ms frame ready), in ms:
/// p50 and p95 over `runs` after a warm-up, with the text pushed whole and at `tokens_per_s`
/// (measured from the first token).
pub fn ttfa(mux: &Mux, request: &Request, runs: usize, tokens_per_s: f64) -> Result<[f64; 4], HostError> {
    let mut whole = Vec::new();
    let mut tokens = Vec::new();
    let settings = say::settings(*request, Default::default());
    for i in 0..=runs.max(2) {
        let t = crate::stream::speak(mux, [FIRST_CLAUSE], settings, |_| Ok(()))?;
        let gap = std::time::Duration::from_secs_f64(1.0 / tokens_per_s);
        let pieces = FIRST_CLAUSE.split_inclusive(' ').enumerate().map(|(k, w)| {
            if k > 0 {
                std::thread::sleep(gap);
            }
            w
        });
        let u = crate::stream::speak(mux, pieces, settings, |_| Ok(()))?;
        if i > 0 {
            whole.push(t.times.first_audio.unwrap_or_default().as_secs_f64() * 1e3);
            tokens.push(u.times.first_audio.unwrap_or_default().as_secs_f64() * 1e3);
        }
    }
    Ok([percentile(&mut whole, 0.5), percentile(&mut whole, 0.95), percentile(&mut tokens, 0.5), percentile(&mut tokens, 0.95)])
}

/// Runs `parla bench`.
pub fn run(args: &BenchArgs) -> Result<(), HostError> {
    let files = voice_files::resolve(args.synth.voice.as_deref())?;
    let (onnx, config) = files.read()?;
    println!(
        "parla bench: voice {}, {} sentences, median of {} runs after a warm-up, 1 thread",
        files.name(),
        SENTENCES.len(),
        args.runs
    );
    let c = say::chunking(&args.synth);
    println!("{:<12} {:>10} {:>10} {:>12}  notes", "engine", "load s", "RTF whole", "RTF chunked");
    let ort = if args.ort {
        let r = measure_ort(&files, &config, args)?;
        println!("{:<12} {:>10.3} {:>10.3} {:>12}  original voice, 1 thread", "onnxruntime", r.load_s, r.rtf, "-");
        Some(r)
    } else {
        None
    };
    if args.engines.contains(&EngineKind::Wasm) && !args.skip_compile {
        let path = engine::wasm::module_path();
        let wasm = std::fs::read(&path).map_err(HostError::io(&path))?;
        let t = Instant::now();
        wasmtime::Module::new(&engine::wasm::engine()?, &wasm)
            .map_err(|e| HostError::Wasm(format!("compiling: {e:#}")))?;
        println!(
            "{:<12} {:>10.3} {:>10} {:>12}  compiling the {:.1} MB module without the cache",
            "wasm-compile",
            t.elapsed().as_secs_f64(),
            "-",
            "-",
            wasm.len() as f64 / 1e6
        );
    }
    let mut reports = Vec::new();
    for &kind in &args.engines {
        let r = measure(kind, &onnx, &config, args)?;
        let note = match r.compile {
            Some((s, true)) => format!("module from cache in {s:.3} s"),
            Some((s, false)) => format!("module compiled in {s:.1} s (cached for next time)"),
            None => String::new(),
        };
        println!(
            "{:<12} {:>10.3} {:>10.3} {:>12.3}  {:.1} s audio/pass; chunked: exact stream, chunks of at least {}/{} frames {note}",
            format!("{kind:?}").to_lowercase(),
            r.load_s,
            r.rtf_whole,
            r.rtf_chunked,
            r.audio_s,
            c.first,
            c.size,
        );
        reports.push((kind, r));
    }
    // Time to first audio, with a small first decoder chunk (the native mux streams exactly; the
    // wasm mux decodes windows with `context` frames on each side, so any instance can take any).
    let ttfa_chunking = Chunking { first: parla_core::chunk::FIRST_CHUNK, ..c };
    for &kind in &args.engines {
        let mux = say::single_stream(crate::backend::open(kind, &onnx, &config, &LoadOptions::serving(ttfa_chunking), 1)?);
        let mut request = say::request(&args.synth, VoiceConfig::from_json(&config)?.scales);
        request.chunking = ttfa_chunking;
        let [p50, p95, t50, t95] = ttfa(&mux, &request, (args.runs * TTFA_RUNS_PER_RUN).max(20), 20.0)?;
        println!(
            "ttfa {:<7} clause pushed whole: p50 {p50:.0} ms, p95 {p95:.0} ms (target p95 <= 50); at 20 tokens/s from the first token: p50 {t50:.0} ms, p95 {t95:.0} ms",
            format!("{kind:?}").to_lowercase()
        );
    }
    let get = |k: EngineKind| reports.iter().find(|(kind, _)| *kind == k).map(|(_, r)| r);
    if let (Some(n), Some(o)) = (get(EngineKind::Native), ort) {
        println!("ratio native/onnxruntime (RTF whole): {:.2}x  (target <= 1.0)", n.rtf_whole / o.rtf);
        println!("ratio native/onnxruntime (RTF chunked, the streaming path): {:.2}x", n.rtf_chunked / o.rtf);
    }
    if let (Some(n), Some(w)) = (get(EngineKind::Native), get(EngineKind::Wasm)) {
        println!("ratio wasm/native (RTF whole): {:.2}x  (target <= 1.4)", w.rtf_whole / n.rtf_whole);
        println!("ratio wasm/native (RTF chunked): {:.2}x", w.rtf_chunked / n.rtf_chunked);
    }
    for (kind, r) in &reports {
        println!(
            "ratio streaming/whole RTF ({}): {:.2}x  (target <= 1.15)",
            format!("{kind:?}").to_lowercase(),
            r.rtf_chunked / r.rtf_whole
        );
    }
    let (norm, g2p) = front_throughput();
    println!("front end (1 thread): normalize {norm:.0} words/s, G2P {g2p:.0} words/s");
    Ok(())
}

/// Words per second through the normalizer and through G2P, on a paragraph of mixed prose.
pub fn front_throughput() -> (f64, f64) {
    const PROSE: &str = "On March 3, 2021, Dr. Smith paid $12.50 for 3 km of cable. The committee \
        will review every proposal before the deadline, and the results should arrive next week. \
        Honestly, I think the weather tomorrow looks wonderful for a long walk along the river.";
    let front = &parla_core::front::ENGLISH;
    let spoken = front.normalized(PROSE);
    let words = spoken.split_whitespace().count();
    let rounds = 400;
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(front.normalized(std::hint::black_box(PROSE)));
    }
    let norm = (rounds * PROSE.split_whitespace().count()) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box((front.phonemize)(std::hint::black_box(&spoken)));
    }
    (norm, (rounds * words) as f64 / t.elapsed().as_secs_f64())
}
