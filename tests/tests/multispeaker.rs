//! Multi-speaker voices: the `sid` input reaches the model natively and in wasm, and unknown
//! speakers are refused. The voice is the default one given a `sid` input by
//! `tests/reference/make_multispeaker.py`: speaker s shifts the audio by s / 100.

use std::path::PathBuf;
use std::process::Command;

use parla_core::chunk::Chunking;
use parla_core::config::Scales;
use parla_core::infer::{LoadOptions, Request, Voice, VoiceError};
use parla_core::phonemes::PhonemeIds;
use parla_host::engine::wasm::WasmEngine;
use parla_host::engine::Engine;
use parla_tests::*;

const SPEAKERS: u32 = 4;
const IPA: &str = "ðə kwˈɪk bɹˈaʊn fˈɑːks.";

fn make_voice() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parla-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("multi.onnx");
    let ok = Command::new("python3")
        .arg(repo().join("tests/reference/make_multispeaker.py"))
        .args([default_voice().as_os_str(), dest.as_os_str()])
        .arg(SPEAKERS.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "make_multispeaker.py failed");
    dest
}

fn request(speaker: u32) -> Request {
    let scales = Scales { noise_scale: 0.0, length_scale: 1.0, noise_w: 0.0 };
    Request { scales, speaker, seed: 3, chunking: Chunking::default() }
}

#[test]
fn speakers_reach_the_model_natively_and_in_wasm() {
    let onnx_path = make_voice();
    let onnx = std::fs::read(&onnx_path).unwrap();
    let json = std::fs::read(onnx_path.with_extension("onnx.json")).unwrap();
    let voice = Voice::load(&onnx, &json, &LoadOptions::default()).unwrap();
    assert_eq!(voice.config().num_speakers, SPEAKERS);
    let ids = PhonemeIds::from_ipa(voice.config(), IPA).unwrap();

    let s0 = voice.synthesize(&ids, &request(0)).unwrap().collect_all().unwrap();
    let s2 = voice.synthesize(&ids, &request(2)).unwrap().collect_all().unwrap();
    let shift: Vec<f32> = s2.iter().zip(&s0).map(|(b, a)| b - a).collect();
    assert!(shift.iter().all(|d| (d - 0.02).abs() < 1e-3), "speaker 2 is speaker 0 shifted by 0.02");

    let refs = ort_reference_speaker(&onnx_path, std::slice::from_ref(&ids.ids), [0.0, 1.0, 0.0], 2);
    let snr = snr_db(&refs[0].audio, &s2);
    assert!(snr >= 40.0, "speaker 2 vs onnxruntime: {snr:.1} dB");

    let err = voice.synthesize(&ids, &request(SPEAKERS)).err().expect("speaker 4 does not exist");
    assert!(matches!(err, VoiceError::Core(parla_core::Error::UnknownSpeaker { speaker: 4, speakers: 4 })), "{err}");

    let mut wasm = WasmEngine::load(&onnx, &json, Chunking::default()).unwrap();
    let (_, w2) = wasm.synthesize(IPA, &request(2)).unwrap();
    let snr = snr_db(&s2, &w2);
    assert!(snr >= 40.0, "wasm vs native, speaker 2: {snr:.1} dB");
    let err = wasm.synthesize(IPA, &request(9)).expect_err("speaker 9 does not exist");
    assert!(err.to_string().contains("speaker 9 does not exist"), "{err}");
    let _ = std::fs::remove_dir_all(onnx_path.parent().unwrap());
}
