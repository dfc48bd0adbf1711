//! `parla say`: text or phonemes to a file or stdout (WAV, pcm, FLAC, MP3 or Ogg Opus), written
//! chunk by chunk.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Request};
use parla_core::segment::Policy;

use crate::cli::{SayArgs, SynthArgs};
use crate::encode::{Encoder, Format};
use crate::engine::{self, Engine};
use crate::mux::{Mux, MuxConfig, StreamSettings};
use crate::stream::Spoken;
use crate::error::HostError;
use crate::voice_files;

/// Reads the voice named by the arguments once, checks the request they ask for against its
/// config, and loads it into the chosen engine.
pub fn prepare(args: &SynthArgs) -> Result<(Box<dyn Engine>, Request), HostError> {
    let (onnx, config, request) = read_voice(args)?;
    Ok((engine::open(args.engine, onnx, config, chunking(args))?, request))
}

/// Like [`prepare`], but a one-stream-at-a-time [`Mux`] over the chosen engine: the path every
/// text request takes (segmenter, front end, encoder, decoder chunks, frames).
pub fn prepare_mux(args: &SynthArgs) -> Result<(Mux, Request), HostError> {
    let (onnx, config, request) = read_voice(args)?;
    let backend = crate::backend::open(args.engine, &onnx, &config, &LoadOptions::new(chunking(args)), 1)?;
    Ok((single_stream(backend), request))
}

/// The voice's model and config bytes, and the checked request the arguments ask for.
fn read_voice(args: &SynthArgs) -> Result<(Vec<u8>, Vec<u8>, Request), HostError> {
    let files = voice_files::resolve(args.voice.as_deref())?;
    let (onnx, config) = files.read()?;
    let request = request(args, parla_core::config::VoiceConfig::from_json(&config)?.scales);
    request.scales.validate()?;
    Ok((onnx, config, request))
}

/// A mux for one stream at a time on one worker.
pub fn single_stream(backend: std::sync::Arc<dyn crate::backend::Backend>) -> Mux {
    Mux::new(backend, parla_core::front::ENGLISH, MuxConfig { workers: 1, max_streams: 1, ring_frames: 300 })
}

/// Settings of a stream that runs to its end, however long.
pub fn settings(request: Request, policy: Policy) -> StreamSettings {
    StreamSettings { request, timeout: None, policy }
}

/// The chunking the arguments ask for.
pub fn chunking(args: &SynthArgs) -> Chunking {
    Chunking { first: args.first_chunk.max(1), size: args.chunk.max(1), context: args.context }
}

/// The request the arguments ask for, over the voice's defaults.
pub fn request(args: &SynthArgs, defaults: parla_core::config::Scales) -> Request {
    let mut scales = defaults;
    if let Some(v) = args.noise_scale {
        scales.noise_scale = v;
    }
    if let Some(v) = args.noise_w {
        scales.noise_w = v;
    }
    if let Some(v) = args.length_scale {
        scales.length_scale = v;
    }
    Request { scales, speaker: args.speaker, seed: args.seed, chunking: chunking(args) }
}

/// Runs `parla say`.
pub fn run(args: &SayArgs) -> Result<(), HostError> {
    match (&args.phonemes, args.stream, &args.each_line) {
        (Some(ipa), _, _) => say_phonemes(args, ipa),
        (None, true, _) => run_stream(args),
        (None, false, Some(dir)) => say_lines(args, dir),
        (None, false, None) => say_text(args),
    }
}

fn read_text(args: &SayArgs) -> Result<String, HostError> {
    match &args.text {
        Some(t) => Ok(t.clone()),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(HostError::io("<stdin>"))?;
            Ok(s)
        }
    }
}

/// All the audio of `text`, through the streaming path.
fn synthesize(mux: &Mux, request: &Request, text: &str) -> Result<(Vec<f32>, Spoken), HostError> {
    let mut audio = Vec::new();
    let times = crate::stream::speak(mux, [text], settings(*request, Policy::whole_text()), |f| {
        audio.extend_from_slice(f);
        Ok(())
    })?;
    if audio.is_empty() {
        return Err(parla_core::Error::Empty.into());
    }
    Ok((audio, times))
}

/// The output's encoding: `--format`, else the output file's extension, else WAV.
fn format(args: &SayArgs) -> Format {
    args.format.or_else(|| args.output.as_deref().and_then(Format::from_path)).unwrap_or(Format::Wav)
}

/// Writes encoded bytes and flushes them, so a reader downstream gets them now.
fn write(out: &mut dyn Write, bytes: &[u8]) -> Result<(), HostError> {
    out.write_all(bytes).and_then(|_| out.flush()).map_err(HostError::Output)
}

fn write_whole(out: &mut dyn Write, mut encoder: Encoder, audio: &[f32]) -> Result<(), HostError> {
    write(out, &encoder.push(audio)?)?;
    write(out, &encoder.finish()?)
}

/// `--each-line DIR`: every non-empty line of the text becomes DIR/0001.wav, DIR/0002.wav, …
/// (or another `--format`) with the voice loaded once (for benchmarks over many sentences).
fn say_lines(args: &SayArgs, dir: &Path) -> Result<(), HostError> {
    let text = read_text(args)?;
    let (mux, request) = prepare_mux(&args.synth)?;
    std::fs::create_dir_all(dir).map_err(HostError::io(dir))?;
    let format = format(args);
    for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let path = dir.join(format!("{:04}.{}", i + 1, format.extension()));
        let (audio, _) = synthesize(&mux, &request, line)?;
        let encoder = Encoder::new(format, mux.sample_rate(), Some(audio.len()))?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(HostError::io(&path))?);
        write_whole(&mut file, encoder, &audio)?;
    }
    Ok(())
}

/// Text, read whole, goes through the same segmenter as `--stream` (so text of any length
/// works); the output is written once its length is known.
fn say_text(args: &SayArgs) -> Result<(), HostError> {
    let text = read_text(args)?;
    let (mux, request) = prepare_mux(&args.synth)?;
    let (audio, times) = synthesize(&mux, &request, &text)?;
    // The encoder first: a format that cannot be written here leaves no empty file behind.
    let encoder = Encoder::new(format(args), mux.sample_rate(), Some(audio.len()))?;
    let (mut out, path) = output(args)?;
    write_whole(&mut out, encoder, &audio)?;
    if let Some(p) = path {
        eprintln!("parla: wrote {} ({:.2} s)", p.display(), audio.len() as f64 / mux.sample_rate() as f64);
    }
    if args.timings {
        eprintln!("{}", times.to_json());
    }
    Ok(())
}

/// IPA: one utterance, written chunk by chunk as it is decoded.
fn say_phonemes(args: &SayArgs, ipa: &str) -> Result<(), HostError> {
    let (mut engine, request) = prepare(&args.synth)?;
    let started = engine.start(ipa, &request)?;
    if !started.skipped.is_empty() {
        eprintln!("parla: warning: skipped phonemes the voice does not know: {}", started.skipped);
    }
    let samples = started.frames * engine.hop();
    let encoder = Encoder::new(format(args), engine.sample_rate(), Some(samples))?;
    let (mut out, path) = output(args)?;
    write_chunks(engine.as_mut(), &mut out, encoder)?;
    if let Some(p) = path {
        eprintln!("parla: wrote {} ({:.2} s)", p.display(), samples as f64 / engine.sample_rate() as f64);
    }
    Ok(())
}

/// Streams the started utterance: each chunk encoded and written as soon as it is decoded.
fn write_chunks(engine: &mut dyn Engine, out: &mut dyn Write, mut encoder: Encoder) -> Result<(), HostError> {
    let mut chunk = Vec::new();
    while engine.next_chunk(&mut chunk)? {
        write(out, &encoder.push(&chunk)?)?;
    }
    write(out, &encoder.finish()?)
}

/// Where audio goes: stdout (when `-o -` or piped) or a file.
fn output(args: &SayArgs) -> Result<(Box<dyn Write>, Option<PathBuf>), HostError> {
    let to_stdout = match &args.output {
        Some(p) => p == Path::new("-"),
        None => !std::io::stdout().is_terminal(),
    };
    if to_stdout {
        return Ok((Box::new(std::io::stdout().lock()), None));
    }
    let path = args.output.clone().unwrap_or_else(|| PathBuf::from(format!("parla.{}", format(args).extension())));
    let file = std::fs::File::create(&path).map_err(HostError::io(&path))?;
    Ok((Box::new(std::io::BufWriter::new(file)), Some(path)))
}

/// `parla say --stream`: text from the argument or, piece by piece, from stdin.
fn run_stream(args: &SayArgs) -> Result<(), HostError> {
    let (mux, request) = prepare_mux(&args.synth)?;
    let mut encoder = Encoder::new(format(args), mux.sample_rate(), None)?;
    let (mut out, path) = output(args)?;
    let sink = |frames: &[f32]| write(&mut out, &encoder.push(frames)?);
    let settings = settings(request, Policy::default());
    let times = match &args.text {
        Some(t) => crate::stream::speak(&mux, [t.as_str()], settings, sink)?,
        None => crate::stream::speak(&mux, crate::stream::Utf8Pieces::new(std::io::stdin()), settings, sink)?,
    };
    write(&mut out, &encoder.finish()?)?;
    if let Some(p) = path {
        eprintln!("parla: wrote {} ({:.2} s, streamed)", p.display(), times.samples as f64 / mux.sample_rate() as f64);
    }
    if args.timings {
        eprintln!("{}", times.to_json());
    }
    Ok(())
}
