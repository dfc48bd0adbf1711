//! The streaming path gives the same audio whether text arrives whole, word by word or
//! character by character, and its first audio comes before the whole text is synthesized.

use parla_core::chunk::Chunking;
use parla_host::engine::native::NativeEngine;
use parla_host::engine::{Engine, Request};
use parla_host::stream::speak;
use parla_tests::*;

const TEXT: &str = "Hello there, this is Parla. Dr. Smith paid $3.14 <break time=\"200ms\"/> and left!";

fn run(engine: &mut NativeEngine, pieces: Vec<String>) -> (Vec<f32>, parla_host::stream::StageTimes) {
    let request = Request { seed: 11, ..Request::defaults(engine.voice().config()) };
    let mut audio = Vec::new();
    let times = speak(engine, pieces, &request, &parla_core::front::ENGLISH, Default::default(), |f| {
        audio.extend_from_slice(f);
        Ok(())
    })
    .unwrap();
    (audio, times)
}

#[test]
fn pieces_whole_words_and_characters_sound_the_same() {
    let (onnx, json) = default_voice_bytes();
    let mut engine = NativeEngine::load(&onnx, &json, Chunking { first: 16, size: 64, context: 24 }).unwrap();
    let (whole, times) = run(&mut engine, vec![TEXT.to_string()]);
    let seconds = whole.len() as f64 / engine.sample_rate() as f64;
    assert!(seconds > 3.0, "{seconds} s");
    assert_eq!(times.samples, whole.len());
    // Every segment is spoken, the last one too (it ends the text without a following space).
    let mut segmenter = parla_core::segment::Segmenter::default();
    let mut segments = Vec::new();
    segmenter.push(TEXT, &mut segments);
    segmenter.flush(&mut segments);
    let texts = segments.iter().filter(|s| matches!(s, parla_core::segment::Segment::Text { .. })).count();
    assert_eq!(times.segments, texts);
    assert_eq!(texts, 4);
    assert!(rms(&whole) > 0.02);
    let words: Vec<String> = TEXT.split_inclusive(' ').map(String::from).collect();
    let chars: Vec<String> = TEXT.chars().map(String::from).collect();
    for (name, pieces) in [("words", words), ("characters", chars)] {
        let (audio, _) = run(&mut engine, pieces);
        let snr = snr_db(&whole, &audio);
        eprintln!("{name}: {snr:.1} dB against whole text");
        assert!(snr >= 40.0, "{name}: {snr:.1} dB");
    }
    let first = times.first_audio.unwrap().as_secs_f64();
    let total = (times.encoder + times.decoder).as_secs_f64();
    eprintln!("first audio after {:.0} ms of {:.0} ms of synthesis", first * 1e3, total * 1e3);
    assert!(first < total / 2.0, "audio streams out before the end");
}
