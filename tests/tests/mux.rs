//! Many streams on few workers (the L2 scheduler driving real inference): each stream sounds as
//! if it were alone, a cancel takes effect within one chunk and gives everything back, and a
//! listener consuming in real time never runs dry once playback has started.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parla_core::chunk::Chunking;
use parla_core::infer::{LoadOptions, Request, Voice};
use parla_host::mux::{Event, Listener, Mux, MuxConfig, Read, StreamSettings};
use parla_tests::*;

const CHUNKING: Chunking = Chunking { first: 16, size: 64, context: 24 };
const TEXT: &str = "Hello there, this is Parla. Dr. Smith paid $3.14 <break time=\"200ms\"/> and left!";

/// The default voice with decoder plans for [`CHUNKING`]'s windows.
fn voice() -> Arc<Voice> {
    static VOICE: OnceLock<Arc<Voice>> = OnceLock::new();
    VOICE
        .get_or_init(|| {
            let (onnx, json) = default_voice_bytes();
            Voice::load(&onnx, &json, &LoadOptions::new(CHUNKING)).unwrap()
        })
        .clone()
}

fn settings(seed: u64) -> StreamSettings {
    let voice = voice();
    StreamSettings {
        request: Request { seed, chunking: CHUNKING, ..Request::defaults(voice.config()) },
        timeout: None,
        policy: Default::default(),
    }
}

fn mux(workers: usize) -> Mux {
    Mux::new(
        Arc::new(parla_host::backend::NativeBackend(voice())),
        parla_core::front::ENGLISH,
        MuxConfig { workers, max_streams: 16, ring_frames: 300 },
    )
}

/// Reads a stream to its end as fast as it comes; returns audio and events.
fn drain(l: &mut Listener) -> (Vec<f32>, Vec<Event>) {
    let (mut audio, mut events) = (Vec::new(), Vec::new());
    while l.read(&mut audio, Duration::from_secs(30)) != Read::End {
        events.extend(l.events());
    }
    events.extend(l.events());
    (audio, events)
}

/// One-shot output for the same text and seed (each segment decoded whole).
fn reference(seed: u64) -> Vec<f32> {
    one_shot(&voice(), TEXT, &settings(seed).request, Default::default())
}

/// Serialises this file's tests.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn concurrent_streams_each_sound_as_if_alone() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let expected: Vec<Vec<f32>> = (0..2).map(reference).collect();
    let mux = mux(2);
    let mut listeners: Vec<Listener> = (0..4).map(|i| mux.open(settings(i % 2)).unwrap()).collect();
    // Stream i gets its text in its own way: whole, words, characters, two halves.
    for (i, l) in listeners.iter().enumerate() {
        let pieces: Vec<String> = match i {
            0 => vec![TEXT.into()],
            1 => TEXT.split_inclusive(' ').map(String::from).collect(),
            2 => TEXT.chars().map(String::from).collect(),
            _ => vec![TEXT[..20].into(), TEXT[20..].into()],
        };
        let n = pieces.len();
        for (k, p) in pieces.iter().enumerate() {
            mux.push(l.handle(), p, k + 1 == n).unwrap();
        }
    }
    let outputs: Vec<(Vec<f32>, Vec<Event>)> = std::thread::scope(|s| {
        let handles: Vec<_> = listeners.iter_mut().map(|l| s.spawn(move || drain(l))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for l in &listeners {
        let t = l.times();
        assert!(t.encoder > Duration::ZERO && t.decoder > t.encoder / 10 && t.first_audio.is_some(), "{t:?}");
    }
    for (i, (audio, events)) in outputs.iter().enumerate() {
        let want = &expected[i % 2];
        let snr = snr_db(want, audio);
        eprintln!("stream {i}: {:.2} s, {snr:.1} dB against one-shot synthesis", audio.len() as f64 / 22050.0);
        assert!(snr >= 40.0, "stream {i}: {snr:.1} dB");
        // Events: segments in order, words inside the audio and in order, Done last with the length.
        let mut last_sample = 0;
        let mut segments = 0;
        for e in events {
            match e {
                Event::Segment { index, sample, .. } => {
                    assert_eq!(*index, segments);
                    segments += 1;
                    assert!(*sample >= last_sample);
                    last_sample = *sample;
                }
                Event::Word { start, end, .. } => {
                    assert!(*start >= last_sample && end >= start && *end <= audio.len(), "{e:?}");
                    last_sample = *start;
                }
                Event::SegmentEnd { index, sample } => {
                    assert_eq!(*index + 1, segments, "ends the segment that started last");
                    assert!(*sample >= last_sample && *sample <= audio.len());
                    last_sample = *sample;
                }
                // The last frame is padded out with silence.
                Event::Done { samples } => {
                    assert!(*samples <= audio.len() && audio.len() < samples + 221)
                }
                Event::Stopped { .. } => panic!("stream {i} stopped: {e:?}"),
            }
        }
        assert_eq!(segments, 4, "stream {i}");
        let ends = events.iter().filter(|e| matches!(e, Event::SegmentEnd { .. })).count();
        assert_eq!(ends, 4, "stream {i}");
        assert!(matches!(events.last(), Some(Event::Done { .. })));
    }
    drop(listeners);
    assert_eq!(mux.open_streams(), 0);
}

#[test]
fn cancel_stops_within_one_chunk_and_gives_everything_back() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let mux = mux(1);
    let mut l = mux.open(settings(3)).unwrap();
    let long = "This sentence is long enough to keep the decoder busy for quite a while, on and on. ".repeat(8);
    mux.push(l.handle(), &long, true).unwrap();
    let mut audio = Vec::new();
    while audio.len() < 22050 / 2 {
        assert_ne!(l.read(&mut audio, Duration::from_secs(30)), Read::End);
    }
    mux.cancel(l.handle()).unwrap();
    let steps_at_cancel = mux.steps_run();
    let mut after = Vec::new();
    assert_eq!(l.read(&mut after, Duration::from_secs(5)), Read::End);
    assert!(after.is_empty(), "no audio after cancel");
    assert_eq!(l.ready_frames(), 0, "the ring is empty");
    let events = l.events();
    assert!(matches!(events.last(), Some(Event::Stopped { .. })), "{events:?}");
    // The step that was running finishes (and is thrown away); nothing else runs.
    let t = Instant::now();
    while mux.load().0 > 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let extra = mux.steps_run() - steps_at_cancel;
    assert!(extra <= 1, "{extra} steps ran after cancel");
    drop(l);
    assert_eq!(mux.open_streams(), 0, "the stream's slot is back");
    assert_eq!(mux.load(), (0, 0));
    // And the mux still serves.
    let mut l = mux.open(settings(0)).unwrap();
    mux.push(l.handle(), "Still here.", true).unwrap();
    let (audio, _) = drain(&mut l);
    assert!(rms(&audio) > 0.01);
}

/// Plays a stream like an audio device: from its first frame on, one 10 ms frame every 10 ms,
/// silence when nothing is there. Returns (frames of silence while the stream was not over,
/// seconds of audio played).
fn play_in_real_time(l: &mut Listener) -> (usize, f64) {
    let frame = l.frame_len();
    let mut buffered: Vec<f32> = Vec::new();
    let (mut device_frames, mut audio_frames, mut underruns) = (0usize, 0usize, 0usize);
    let mut start: Option<Instant> = None;
    loop {
        let ended = l.read(&mut buffered, Duration::from_millis(2)) == Read::End;
        let t0 = *start.get_or_insert_with(Instant::now);
        if device_frames == 0 && buffered.is_empty() {
            start = None; // not playing yet
            if ended {
                return (0, 0.0);
            }
            continue;
        }
        let due = (t0.elapsed().as_micros() / 10_000) as usize + 1;
        while device_frames < due {
            device_frames += 1;
            if buffered.len() >= frame {
                buffered.drain(..frame);
                audio_frames += 1;
            } else if ended {
                return (underruns, audio_frames as f64 / 100.0);
            } else {
                underruns += 1;
                if std::env::var_os("PARLA_DEBUG").is_some() {
                    eprintln!("underrun at {} ms", t0.elapsed().as_millis());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

#[test]
fn a_real_time_listener_never_runs_dry() {
    // Alone: the other tests here would take the CPU this one needs in real time.
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let mux = mux(2);
    let text = "It was a bright cold day in April, and the clocks were striking thirteen. \
        Winston Smith, his chin nuzzled into his breast in an effort to escape the vile wind, \
        slipped quickly through the glass doors of Victory Mansions, though not quickly enough \
        to prevent a swirl of gritty dust from entering along with him. The hallway smelt of \
        boiled cabbage and old rag mats. At one end of it a coloured poster, too large for \
        indoor display, had been tacked to the wall.";
    let mut l = mux.open(settings(5)).unwrap();
    let stream = l.handle();
    // Text arrives like an LLM's: a word every 50 ms (20 tokens/s).
    std::thread::scope(|s| {
        let listener = &mut l;
        let player = s.spawn(move || play_in_real_time(listener));
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        for (k, w) in words.iter().enumerate() {
            mux.push(stream, w, k + 1 == words.len()).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
        let (underruns, seconds) = player.join().unwrap();
        eprintln!("played {seconds:.1} s with {underruns} underruns");
        assert!(seconds > 15.0, "{seconds} s");
        assert_eq!(underruns, 0);
    });
}

#[test]
fn the_wasm_backend_multiplexes_streams_and_survives_a_trap() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let (onnx, json) = default_voice_bytes();
    let backend = Arc::new(parla_host::backend::WasmBackend::load(&onnx, &json, CHUNKING, 2).unwrap());
    let mux = Mux::new(backend.clone(), parla_core::front::ENGLISH, MuxConfig { workers: 2, max_streams: 8, ring_frames: 300 });
    let expected = reference(0);
    // A trap fails the call it happened in, and that instance only.
    let err = backend.trap_once().unwrap_err().to_string();
    assert!(err.contains("wasm"), "{err}");
    assert_eq!(backend.live_instances(), 1);
    let mut listeners: Vec<Listener> = (0..3).map(|_| mux.open(settings(0)).unwrap()).collect();
    for l in &listeners {
        mux.push(l.handle(), TEXT, true).unwrap();
    }
    let outputs: Vec<(Vec<f32>, Vec<Event>)> = std::thread::scope(|s| {
        let handles: Vec<_> = listeners.iter_mut().map(|l| s.spawn(move || drain(l))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, (audio, events)) in outputs.iter().enumerate() {
        let snr = snr_db(&expected, audio);
        eprintln!("wasm stream {i}: {snr:.1} dB against native one-shot synthesis");
        assert!(snr >= 40.0, "stream {i}: {snr:.1} dB");
        assert!(matches!(events.last(), Some(Event::Done { .. })), "{:?}", events.last());
    }
    assert_eq!(backend.live_instances(), 2, "the trapped instance was replaced");
    assert_eq!(backend.open_streams().unwrap(), 0, "finished streams are closed in the guests");
}

#[test]
fn a_wasm_stream_outlives_the_trap_of_its_instance() {
    use parla_host::backend::Backend;
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let (onnx, json) = default_voice_bytes();
    let backend = parla_host::backend::WasmBackend::load(&onnx, &json, CHUNKING, 2).unwrap();
    let ipa = "həlˈoʊ ðˈɛɹ, ðɪs ɪz pˈɑːɹlə, spˈiːkɪŋ ɐ lˈɔŋ sˈɛntəns fɔːɹ ðə tˈɛst.";
    let ids = parla_core::phonemes::PhonemeIds::from_ipa(backend.config(), ipa).unwrap();
    let request = settings(3).request;
    let expected = voice().synthesize(&ids, &request).unwrap().decode_whole().unwrap();
    // Two utterances, one per instance, each one chunk in.
    let mut streams: Vec<_> = (0..2).map(|_| backend.encode(ipa, &ids, &request, None).unwrap().decoding).collect();
    let mut audio: Vec<Vec<f32>> = streams.iter_mut().map(|d| backend.decode(d, &request, None).unwrap()).collect();
    assert_eq!(backend.open_streams().unwrap(), 2);
    // The first free instance traps: the utterance it held goes on window by window elsewhere.
    assert!(backend.trap_once().is_err());
    for (d, out) in streams.iter_mut().zip(&mut audio) {
        while d.remaining_frames() > 0 {
            out.extend(backend.decode(d, &request, None).unwrap());
        }
    }
    assert_eq!(backend.recovered_streams(), 1);
    for (i, out) in audio.iter().enumerate() {
        let snr = snr_db(&expected, out);
        eprintln!("utterance {i}: {snr:.1} dB against native whole decoding");
        assert!(snr >= 40.0, "utterance {i}: {snr:.1} dB");
    }
    assert_eq!(backend.open_streams().unwrap(), 0);
}

#[test]
fn the_wasm_backend_frees_the_streams_of_cancelled_utterances() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let (onnx, json) = default_voice_bytes();
    let backend = Arc::new(parla_host::backend::WasmBackend::load(&onnx, &json, CHUNKING, 1).unwrap());
    {
        // A request the guest refuses (this voice has one speaker) fails alone: the instance,
        // which may hold other streams, is kept.
        use parla_host::backend::Backend;
        let ids = parla_core::phonemes::PhonemeIds::from_ipa(backend.config(), "həlˈoʊ.").unwrap();
        let request = Request { speaker: 7, ..settings(0).request };
        let err = backend.encode("həlˈoʊ.", &ids, &request, None).err().expect("speaker 7 is refused");
        assert!(matches!(err, parla_host::error::HostError::Guest(_)), "{err}");
        assert_eq!(backend.live_instances(), 1, "the instance was kept");
    }
    let mux = Mux::new(backend.clone(), parla_core::front::ENGLISH, MuxConfig { workers: 1, max_streams: 8, ring_frames: 300 });
    let mut l = mux.open(settings(0)).unwrap();
    mux.push(l.handle(), "This sentence is long enough to be cut into several chunks before it ends.", true).unwrap();
    let mut audio = Vec::new();
    while audio.is_empty() {
        assert_ne!(l.read(&mut audio, Duration::from_secs(30)), Read::End);
    }
    assert!(backend.open_streams().unwrap() >= 1, "the utterance is open in the guest");
    mux.cancel(l.handle()).unwrap();
    drop(l);
    // The next utterance on that instance closes the cancelled one first.
    let expected = reference(0);
    let mut l = mux.open(settings(0)).unwrap();
    mux.push(l.handle(), TEXT, true).unwrap();
    let (audio, _) = drain(&mut l);
    assert!(snr_db(&expected, &audio) >= 40.0);
    assert_eq!(backend.open_streams().unwrap(), 0);
}

#[test]
fn text_that_stalls_mid_clause_is_spoken_without_waiting_for_its_end() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let mux = mux(2);
    let mut l = mux.open(settings(0)).unwrap();
    // An LLM says this much, then calls a tool for as long as it takes.
    mux.push(l.handle(), "Let me look ", false).unwrap();
    mux.push(l.handle(), "that up", false).unwrap();
    let pushed = Instant::now();
    let mut audio = Vec::new();
    let idle = Duration::from_millis(parla_core::segment::IDLE_MS.into());
    assert_eq!(l.read(&mut audio, idle / 2), Read::Pending, "held while more may come");
    assert!(matches!(l.read(&mut audio, Duration::from_secs(10)), Read::Frames(_)), "spoken once the text stalls");
    assert!(pushed.elapsed() >= idle, "{:?}", pushed.elapsed());
    // The rest comes after the first part has been heard, and is spoken as it would have been.
    mux.push(l.handle(), " for you. Sunny all week.", true).unwrap();
    let (rest, events) = drain(&mut l);
    assert!(rest.len() > audio.len());
    let spoken: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Segment { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(spoken, ["Let me look that up", "for you.", "Sunny all week."]);
}
