//! Helpers shared by Parla's cross-crate tests: the real default voice, the onnxruntime
//! reference (through `tests/reference/ort_synth.py`), and signal comparisons.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Voice};

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The default voice's model, as `just setup` fetches it.
pub fn default_voice() -> PathBuf {
    let p = repo().join("models/voices/en_US-joe-medium.onnx");
    assert!(p.is_file(), "{} is missing: run `just setup`", p.display());
    p
}

/// The default voice's model and config bytes.
pub fn default_voice_bytes() -> (Vec<u8>, Vec<u8>) {
    let onnx = default_voice();
    let mut json = onnx.clone().into_os_string();
    json.push(".json");
    (std::fs::read(&onnx).unwrap(), std::fs::read(json).unwrap())
}

/// The default voice loaded natively once per test binary as a server loads it (with the
/// fixed-length encoder plans), with the default chunking and its window plans (tests compare
/// windowed decoding with the rest).
pub fn native_voice() -> Arc<Voice> {
    static VOICE: OnceLock<Arc<Voice>> = OnceLock::new();
    VOICE
        .get_or_init(|| {
            let (onnx, json) = default_voice_bytes();
            Voice::load(&onnx, &json, &LoadOptions { window_plans: true, ..LoadOptions::serving(Chunking::default()) })
                .expect("default voice loads")
        })
        .clone()
}

/// Signal-to-noise ratio of `test` against `reference`, in dB (equal lengths required).
pub fn snr_db(reference: &[f32], test: &[f32]) -> f64 {
    assert_eq!(reference.len(), test.len(), "lengths differ");
    let signal: f64 = reference.iter().map(|&x| (x as f64).powi(2)).sum();
    let noise: f64 = reference.iter().zip(test).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
    if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (signal / noise).log10()
    }
}

/// Root-mean-square level.
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// What onnxruntime produced for one utterance with the original voice.
#[derive(Debug, Clone)]
pub struct OrtUtterance {
    /// Frames per phoneme id (the model's `w_ceil`).
    pub durations: Vec<u32>,
    /// The audio.
    pub audio: Vec<f32>,
}

/// Runs the original voice in onnxruntime on these phoneme ids with these scales.
pub fn ort_reference(onnx: &Path, ids: &[Vec<i64>], scales: [f32; 3]) -> Vec<OrtUtterance> {
    ort_reference_speaker(onnx, ids, scales, 0)
}

/// [`ort_reference`] for one speaker of a multi-speaker voice.
pub fn ort_reference_speaker(onnx: &Path, ids: &[Vec<i64>], scales: [f32; 3], sid: u32) -> Vec<OrtUtterance> {
    let dir = std::env::temp_dir().join(format!("parla-ort-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = format!(
        "{{\"onnx\":{:?},\"ids\":{:?},\"scales\":{:?},\"out\":{:?},\"sid\":{sid}}}",
        onnx.display().to_string(),
        ids,
        scales,
        dir.display().to_string()
    );
    let mut child = Command::new("python3")
        .arg(repo().join("tests/reference/ort_synth.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "onnxruntime reference failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut result = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let durations = line.split(',').filter(|s| !s.is_empty()).map(|s| s.trim().parse().unwrap()).collect();
        let bytes = std::fs::read(dir.join(format!("{i}.f32"))).unwrap();
        let audio = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        result.push(OrtUtterance { durations, audio });
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(result.len(), ids.len());
    result
}

/// Sentences as IPA, written for these tests: a word, a clause, a sentence, a question.
pub const SENTENCES: &[&str] = &[
    "hˈɛloʊ.",
    "ðə kwˈɪk bɹˈaʊn fˈɑːks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɔːɡ.",
    "pˈɑːɹlə spˈiːks ˈɔflaɪn, ɹˈaɪt wˌɛɹ ðə lˈɪsənɚɹ ɪz.",
    "wˌʌt tˈaɪm ɪz ɪt ɪn tˈoʊkjoʊ ɹˈaɪt nˈaʊ?",
];

/// One-shot synthesis, the reference streaming is measured against: `text` cut by `policy`
/// all at once, each segment encoded and decoded whole (no chunks, no multiplexer), breaks as
/// silence, the end padded to a whole 10 ms frame as a stream's end is.
pub fn one_shot(voice: &Arc<Voice>, text: &str, request: &parla_core::infer::Request, policy: parla_core::segment::Policy) -> Vec<f32> {
    use parla_core::segment::{Segment, Segmenter};
    let front = parla_core::front::ENGLISH;
    let mut segmenter = Segmenter::new(policy);
    let mut segments = Vec::new();
    segmenter.push(text, &mut segments);
    segmenter.flush(&mut segments);
    let mut audio = Vec::new();
    for segment in segments {
        match segment {
            Segment::Break { millis } => audio.resize(audio.len() + voice.sample_rate() as usize * millis as usize / 1000, 0.0),
            Segment::Text { text, rate, .. } => {
                let ipa = (front.phonemize)(&front.normalized(&text));
                let ids = match parla_core::phonemes::PhonemeIds::from_ipa(voice.config(), &ipa) {
                    Ok(ids) => ids,
                    Err(parla_core::Error::Empty) => continue,
                    Err(e) => panic!("{text:?}: {e}"),
                };
                let mut request = *request;
                request.scales.length_scale = (request.scales.length_scale / rate).clamp(0.05, 20.0);
                audio.extend(voice.synthesize(&ids, &request).unwrap().decode_whole().unwrap());
            }
        }
    }
    let frame = parla_core::frames::frame_len(voice.sample_rate());
    audio.resize(audio.len().div_ceil(frame) * frame, 0.0);
    audio
}
