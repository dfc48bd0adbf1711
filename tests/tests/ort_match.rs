//! Parla's audio matches the original voice run in onnxruntime, natively and in wasm: same
//! durations, SNR ≥ 40 dB, with noise off (both sides then compute the same function).

use parla_core::chunk::Chunking;
use parla_core::config::Scales;
use parla_core::infer::Request;
use parla_core::phonemes::PhonemeIds;
use parla_host::engine::wasm::WasmEngine;
use parla_host::engine::Engine;
use parla_tests::*;

const NO_NOISE: Scales = Scales { noise_scale: 0.0, length_scale: 1.0, noise_w: 0.0 };

fn request() -> Request {
    Request { scales: NO_NOISE, speaker: 0, seed: 1, chunking: Chunking::default() }
}

fn reference() -> (Vec<Vec<i64>>, Vec<OrtUtterance>) {
    let voice = native_voice();
    let ids: Vec<Vec<i64>> = SENTENCES.iter().map(|s| PhonemeIds::from_ipa(voice.config(), s).unwrap().ids).collect();
    let s = NO_NOISE;
    let refs = ort_reference(&default_voice(), &ids, [s.noise_scale, s.length_scale, s.noise_w]);
    (ids, refs)
}

#[test]
fn native_matches_onnxruntime() {
    let voice = native_voice();
    let (_, refs) = reference();
    for (ipa, r) in SENTENCES.iter().zip(&refs) {
        let ids = PhonemeIds::from_ipa(voice.config(), ipa).unwrap();
        let mut synth = voice.synthesize(&ids, &request()).unwrap();
        assert_eq!(synth.durations(), r.durations.as_slice(), "durations differ for {ipa}");
        let chunked = synth.collect_all().unwrap();
        let snr = snr_db(&r.audio, &chunked);
        eprintln!("native vs onnxruntime, {ipa}: {snr:.1} dB over {} samples", r.audio.len());
        assert!(snr >= 40.0, "{ipa}: SNR {snr:.1} dB");
        assert!(rms(&chunked) > 0.01, "{ipa}: audio is silent");
    }
}

#[test]
fn wasm_matches_onnxruntime() {
    let (onnx, json) = default_voice_bytes();
    let mut engine = WasmEngine::load(&onnx, &json, Chunking::default()).expect("wasm engine loads (run `just wasm`)");
    let (_, refs) = reference();
    for (ipa, r) in SENTENCES.iter().zip(&refs) {
        let (started, audio) = engine.synthesize(ipa, &request()).unwrap();
        assert_eq!(started.durations, r.durations, "durations differ for {ipa}");
        let snr = snr_db(&r.audio, &audio);
        eprintln!("wasm vs onnxruntime, {ipa}: {snr:.1} dB");
        assert!(snr >= 40.0, "{ipa}: SNR {snr:.1} dB");
    }
}
