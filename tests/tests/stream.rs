//! The streaming path (`parla say --stream`, the bench) gives the same audio as one-shot
//! synthesis whether text arrives whole, word by word or character by character, and its first
//! audio comes before the whole text is synthesized.

use std::sync::Arc;

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Request, Voice};
use parla_host::backend::NativeBackend;
use parla_host::say::{settings, single_stream};
use parla_host::stream::{speak, Spoken};
use parla_tests::*;

const TEXT: &str = "Hello there, this is Parla. Dr. Smith paid $3.14 <break time=\"200ms\"/> and left!";

fn run(mux: &parla_host::mux::Mux, request: Request, pieces: Vec<String>) -> (Vec<f32>, Spoken) {
    let mut audio = Vec::new();
    let spoken = speak(mux, pieces, settings(request, Default::default()), |f| {
        audio.extend_from_slice(f);
        Ok(())
    })
    .unwrap();
    (audio, spoken)
}

#[test]
fn pieces_whole_words_and_characters_sound_like_one_shot() {
    let (onnx, json) = default_voice_bytes();
    let chunking = Chunking { first: 16, size: 64, context: 24 };
    let voice = Voice::load(&onnx, &json, &LoadOptions::new(chunking)).unwrap();
    let request = Request { seed: 11, chunking, ..Request::defaults(voice.config()) };
    let expected = one_shot(&voice, TEXT, &request, Default::default());
    let mux = single_stream(Arc::new(NativeBackend(voice.clone())));
    let (whole, spoken) = run(&mux, request, vec![TEXT.to_string()]);
    let seconds = whole.len() as f64 / voice.sample_rate() as f64;
    assert!(seconds > 3.0, "{seconds} s");
    assert_eq!(spoken.samples, whole.len());
    // Every segment is spoken, the last one too (it ends the text without a following space).
    let mut segmenter = parla_core::segment::Segmenter::default();
    let mut segments = Vec::new();
    segmenter.push(TEXT, &mut segments);
    segmenter.flush(&mut segments);
    let texts = segments.iter().filter(|s| matches!(s, parla_core::segment::Segment::Text { .. })).count();
    assert_eq!(spoken.segments, texts);
    assert_eq!(texts, 4);
    assert!(rms(&whole) > 0.02);
    let words: Vec<String> = TEXT.split_inclusive(' ').map(String::from).collect();
    let chars: Vec<String> = TEXT.chars().map(String::from).collect();
    for (name, audio) in [("whole", whole), ("words", run(&mux, request, words).0), ("characters", run(&mux, request, chars).0)] {
        let snr = snr_db(&expected, &audio);
        eprintln!("{name}: {snr:.1} dB against one-shot synthesis");
        assert!(snr >= 40.0, "{name}: {snr:.1} dB");
    }
    let first = spoken.times.first_audio.unwrap().as_secs_f64();
    let total = (spoken.times.encoder + spoken.times.decoder).as_secs_f64();
    eprintln!("first audio after {:.0} ms of {:.0} ms of synthesis", first * 1e3, total * 1e3);
    assert!(first < total / 2.0, "audio streams out before the end");
}

#[test]
fn a_failing_sink_stops_the_stream_and_the_mux_still_serves() {
    let voice = native_voice();
    let request = Request { seed: 3, ..Request::defaults(voice.config()) };
    let mux = single_stream(Arc::new(NativeBackend(voice.clone())));
    let mut calls = 0;
    let err = speak(&mux, [TEXT.repeat(4)], settings(request, Default::default()), |_| {
        calls += 1;
        Err(parla_host::error::HostError::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe)))
    })
    .unwrap_err();
    assert!(matches!(err, parla_host::error::HostError::Output(_)), "{err}");
    assert_eq!(calls, 1, "no audio is handed out after the sink failed");
    assert_eq!(mux.open_streams(), 0, "the stream's slot is back");
    let (audio, _) = run(&mux, request, vec!["Still here.".into()]);
    assert!(rms(&audio) > 0.02);
}
