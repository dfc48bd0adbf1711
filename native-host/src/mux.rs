//! Many streams on a few worker threads: the core's L2 [`Scheduler`] decides which stream's step
//! (the encoder of one segment, the decoder of one chunk) runs next; each stream's audio goes
//! into its own L3 frame ring, which its listener drains at its own pace. A full ring pauses
//! that stream's inference (backpressure), never memory growth.
//!
//! Text goes in with [`Mux::push`] (whole or in pieces), out come 10 ms frames and [`Event`]s on
//! the stream's audio clock through its [`Listener`]. [`Mux::cancel`] takes effect within one
//! chunk; dropping the listener closes the stream and gives its slot back.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parla_core::events::word_timings;
use parla_core::frames::{self, FrameReader, FrameWriter};
use parla_core::front::FrontEnd;
use parla_core::infer::pulse::MAX_PULSE_FRAMES;
use parla_core::infer::Request;
use parla_core::phonemes::PhonemeIds;
use parla_core::sched::{self, Outcome, Scheduler, Step, StepKind, Stop, StreamId, StreamOptions, Verdict};
use parla_core::segment::{Policy, Segment, Segmenter};

use crate::backend::{Backend, Decoding};
use crate::error::HostError;

/// Decoder frames of silence handed out per step for a `<break>`.
const SILENCE_CHUNK_FRAMES: usize = 64;

/// Longest a worker sleeps without looking for idle text (and for steps, should a wake-up be missed).
const WORKER_NAP: Duration = Duration::from_millis(50);

/// Something a listener learns about its stream, placed on the stream's audio clock (samples
/// from the stream's first sample).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A text segment starts being heard at `sample`.
    Segment {
        /// Segment number in the stream, from 0.
        index: usize,
        /// The text of the segment.
        text: String,
        /// First sample.
        sample: usize,
    },
    /// A word of the current segment is heard from `start` to `end`.
    Word {
        /// Segment number.
        segment: usize,
        /// Word number within the segment's phonemes.
        word: usize,
        /// First sample.
        start: usize,
        /// One past its last sample.
        end: usize,
    },
    /// The current segment's audio ends at `sample`.
    SegmentEnd {
        /// Segment number.
        index: usize,
        /// One past its last sample.
        sample: usize,
    },
    /// The stream is complete: `samples` samples in all.
    Done {
        /// Total samples.
        samples: usize,
    },
    /// The stream stopped early.
    Stopped {
        /// Why.
        reason: Stop,
        /// What failed, when a step failed.
        message: Option<String>,
    },
}

/// Where a stream's time went (summed over its steps), and when its first audio came.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamTimes {
    /// Text normalisation.
    pub normalize: Duration,
    /// Grapheme-to-phoneme.
    pub g2p: Duration,
    /// Encoder and length regulation.
    pub encoder: Duration,
    /// Decoder chunks.
    pub decoder: Duration,
    /// From opening the stream to its first audio being ready for the listener.
    pub first_audio: Option<Duration>,
}

/// Limits of a [`Mux`].
#[derive(Debug, Clone, Copy)]
pub struct MuxConfig {
    /// Worker threads (steps running at once).
    pub workers: usize,
    /// Streams open at once.
    pub max_streams: usize,
    /// Capacity of each stream's ring, in 10 ms frames.
    pub ring_frames: usize,
}

impl Default for MuxConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        MuxConfig { workers: cores, max_streams: 256, ring_frames: 300 }
    }
}

/// Per-stream options.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// Scales, speaker, seed and chunking.
    pub request: Request,
    /// Give up if not done within this long.
    pub timeout: Option<Duration>,
    /// How text is cut into segments.
    pub policy: Policy,
}

/// What a segment becomes once its encoder step has run.
enum Utterance {
    Speech(Box<Decoding>),
    Silence(usize),
}

/// An encoded segment, with what its events need, before it is heard.
struct Next {
    utterance: Utterance,
    text: Option<String>,
    words: Vec<std::ops::Range<usize>>,
    durations: Vec<u32>,
}

/// Queued text, waiting for its encoder step.
enum Pending {
    Text { text: String, rate: f32 },
    Break { millis: u32 },
}

struct Session {
    request: Request,
    segmenter: Segmenter,
    queue: VecDeque<Pending>,
    utterance: Option<Utterance>,
    /// The next segment, encoded ahead while `utterance` still decodes.
    next: Option<Next>,
    writer: FrameWriter,
    events: VecDeque<Event>,
    /// Samples delivered so far (the stream's audio clock).
    samples: usize,
    /// When the first samples were delivered (taken as the start of playback).
    play_start: Option<Instant>,
    segments: usize,
    /// Whether a text segment's audio is being delivered (its end not yet reported).
    speaking: bool,
    opened: Instant,
    times: StreamTimes,
    /// Free frames a decode step needs: below this the stream is blocked.
    needed_frames: usize,
    /// When the text the segmenter holds has waited its idle time ([`Segmenter::idle_deadline`]
    /// for a listener with nothing left to hear): no idle cut comes before it.
    idle_at: Option<u64>,
    ended: bool,
    finished: bool,
}

impl Session {
    /// Makes `next` the utterance being decoded; its segment's events start at the audio
    /// delivered so far.
    fn begin(&mut self, next: Next, hop: usize) {
        if let (Utterance::Speech(_), Some(text)) = (&next.utterance, next.text) {
            let index = self.segments;
            self.segments += 1;
            self.speaking = true;
            let at = self.samples;
            self.events.push_back(Event::Segment { index, text, sample: at });
            for w in word_timings(&next.durations, &next.words, hop) {
                self.events.push_back(Event::Word { segment: index, word: w.word, start: at + w.start_sample, end: at + w.end_sample });
            }
        }
        self.utterance = Some(next.utterance);
    }

    /// Audio delivered but not yet heard, if the listener plays in real time from the first
    /// delivered sample.
    fn buffered(&self, sample_rate: u32) -> Duration {
        let Some(start) = self.play_start else { return Duration::ZERO };
        Duration::from_secs_f64(self.samples as f64 / sample_rate as f64).saturating_sub(start.elapsed())
    }
}

struct State {
    sched: Scheduler,
    sessions: HashMap<StreamId, Session>,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Workers wait here for steps.
    work: Condvar,
    /// Listeners wait here for audio.
    audio: Condvar,
    backend: Arc<dyn Backend>,
    front: FrontEnd,
    ring_frames: usize,
    clock: Instant,
    /// Steps run since the start.
    steps: AtomicU64,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The multiplexer: owns the workers; see the module docs.
pub struct Mux {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

/// Names a stream when giving it text or cancelling it (from any thread; cheap to copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHandle(StreamId);

/// One stream's output side: frames and events, in order. Dropping it closes the stream.
pub struct Listener {
    id: StreamId,
    reader: FrameReader,
    capacity: usize,
    needed_frames: usize,
    /// One frame's scratch, allocated once per stream.
    frame: Vec<f32>,
    shared: Arc<Shared>,
}

/// What [`Listener::read`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// `n` frames were appended.
    Frames(usize),
    /// Nothing yet (the wait elapsed).
    Pending,
    /// The stream is over and every frame has been read.
    End,
}

impl Mux {
    /// Starts `config.workers` workers synthesizing with `backend`.
    pub fn new(backend: Arc<dyn Backend>, front: FrontEnd, config: MuxConfig) -> Mux {
        let lanes = backend.lanes();
        let sched = Scheduler::new(sched::Config { workers: config.workers, max_streams: config.max_streams, lanes, ..Default::default() });
        let shared = Arc::new(Shared {
            state: Mutex::new(State { sched, sessions: HashMap::new(), shutdown: false }),
            work: Condvar::new(),
            audio: Condvar::new(),
            backend,
            front,
            ring_frames: config.ring_frames.max(8),
            clock: Instant::now(),
            steps: AtomicU64::new(0),
        });
        let workers = (0..config.workers.max(1))
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("parla-worker-{i}"))
                    .spawn(move || work(&shared))
                    .expect("spawning a worker thread")
            })
            .collect();
        Mux { shared, workers }
    }

    /// Opens a stream; its text comes through [`Mux::push`], its audio out of the listener.
    pub fn open(&self, settings: StreamSettings) -> Result<Listener, HostError> {
        let sh = &self.shared;
        let mut st = sh.lock();
        let deadline_ms = settings.timeout.map(|t| sh.now_ms() + t.as_millis() as u64);
        let id = st.sched.open(StreamOptions { deadline_ms })?;
        let frame_len = frames::frame_len(sh.backend.sample_rate());
        let c = settings.request.chunking;
        // A streaming decoder hands out what its last pulse decoded beyond the chunk as well.
        let largest_step = (c.size.max(c.first) + MAX_PULSE_FRAMES).max(SILENCE_CHUNK_FRAMES);
        let needed_frames = (largest_step * sh.backend.hop()).div_ceil(frame_len) + 1;
        let capacity = sh.ring_frames.max(2 * needed_frames);
        let (writer, reader) = frames::ring(sh.backend.sample_rate(), capacity);
        st.sessions.insert(
            id,
            Session {
                request: settings.request,
                segmenter: Segmenter::new(settings.policy),
                queue: VecDeque::new(),
                utterance: None,
                next: None,
                writer,
                events: VecDeque::new(),
                samples: 0,
                play_start: None,
                segments: 0,
                speaking: false,
                opened: Instant::now(),
                times: StreamTimes::default(),
                needed_frames,
                idle_at: None,
                ended: false,
                finished: false,
            },
        );
        Ok(Listener { id, reader, capacity, needed_frames, frame: vec![0.0; frame_len], shared: sh.clone() })
    }

    /// Adds text to a stream (any piece: a token, a sentence, a book); `end` marks its last piece.
    pub fn push(&self, stream: StreamHandle, text: &str, end: bool) -> Result<(), HostError> {
        let id = stream.0;
        let mut st = self.shared.lock();
        let State { sched, sessions, .. } = &mut *st;
        let session = sessions.get_mut(&id).ok_or(sched::SchedError::UnknownStream)?;
        if session.ended {
            return Err(sched::SchedError::InputEnded.into());
        }
        let mut segments = Vec::new();
        session.segmenter.push_at(text, self.shared.now_ms(), &mut segments);
        if end {
            session.segmenter.flush(&mut segments);
        }
        session.idle_at = session.segmenter.idle_deadline(0);
        enqueue(sched, session, id, segments)?;
        if end {
            session.ended = true;
            sched.end_input(id)?;
        }
        settle(&mut st, id);
        drop(st);
        self.shared.work.notify_all();
        self.shared.audio.notify_all();
        Ok(())
    }

    /// Stops a stream: queued text is dropped now; a chunk being decoded is thrown away; its
    /// listener's next read empties the ring and ends, with [`Event::Stopped`] as the last event.
    pub fn cancel(&self, stream: StreamHandle) -> Result<(), HostError> {
        {
            let mut st = self.shared.lock();
            st.sched.cancel(stream.0)?;
            if let Some(s) = st.sessions.get_mut(&stream.0) {
                s.queue.clear();
                s.utterance = None;
                s.next = None;
                s.idle_at = None;
            }
            settle(&mut st, stream.0);
        }
        self.shared.audio.notify_all();
        Ok(())
    }

    /// Output sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.shared.backend.sample_rate()
    }

    /// Steps run so far (encoder and decoder steps of every stream).
    pub fn steps_run(&self) -> u64 {
        self.shared.steps.load(Ordering::Relaxed)
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.shared.lock().sched.open_streams()
    }

    /// Steps running now and streams waiting for a worker.
    pub fn load(&self) -> (usize, usize) {
        let st = self.shared.lock();
        (st.sched.running(), st.sched.waiting())
    }
}

impl Drop for Mux {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
        self.shared.audio.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Listener {
    /// The handle to give this stream text or cancel it.
    pub fn handle(&self) -> StreamHandle {
        StreamHandle(self.id)
    }

    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.reader.frame_len()
    }

    /// Appends every ready frame to `out`, waiting up to `wait` for at least one.
    pub fn read(&mut self, out: &mut Vec<f32>, wait: Duration) -> Read {
        let give_up = Instant::now() + wait;
        let mut st = self.shared.lock();
        loop {
            if st.sched.state(self.id).is_none_or(|s| s.stopped.is_some()) {
                self.reader.clear();
                return Read::End;
            }
            let mut n = 0;
            while self.reader.read_frame(&mut self.frame) {
                out.extend_from_slice(&self.frame);
                n += 1;
            }
            if n > 0 {
                // Space was freed: a blocked stream may go on, a finished one store its tail.
                if self.capacity - self.reader.ready_frames() >= self.needed_frames {
                    let _ = st.sched.set_blocked(self.id, false);
                }
                settle(&mut st, self.id);
                drop(st);
                self.shared.work.notify_all();
                return Read::Frames(n);
            }
            let finished = st.sessions.get(&self.id).is_none_or(|s| s.finished);
            if finished || st.shutdown {
                return Read::End;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Read::Pending;
            }
            st = self.shared.audio.wait_timeout(st, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Takes the events that have happened so far.
    pub fn events(&mut self) -> Vec<Event> {
        let mut st = self.shared.lock();
        st.sessions.get_mut(&self.id).map(|s| s.events.drain(..).collect()).unwrap_or_default()
    }

    /// Per-stage times so far.
    pub fn times(&self) -> StreamTimes {
        self.shared.lock().sessions.get(&self.id).map(|s| s.times).unwrap_or_default()
    }

    /// Frames ready to read now.
    pub fn ready_frames(&self) -> usize {
        self.reader.ready_frames()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        let _ = st.sched.close(self.id);
        st.sessions.remove(&self.id);
    }
}

/// Queues a stream's new segments for their encoder steps.
fn enqueue(sched: &mut Scheduler, session: &mut Session, id: StreamId, segments: Vec<Segment>) -> Result<(), sched::SchedError> {
    for segment in segments {
        session.queue.push_back(match segment {
            Segment::Text { text, rate, .. } => Pending::Text { text, rate },
            Segment::Break { millis } => Pending::Break { millis },
        });
        sched.push_segment(id)?;
    }
    Ok(())
}

/// Speaks the text of streams whose text has stalled past its idle deadline (which waits for
/// the audio they have to run low). Returns the earliest deadline still ahead.
fn cut_idle_text(st: &mut State, now_ms: u64, sample_rate: u32) -> Option<u64> {
    let State { sched, sessions, .. } = st;
    let mut next: Option<u64> = None;
    let mut soonest = |at: u64| next = Some(next.map_or(at, |n: u64| n.min(at)));
    for (&id, session) in sessions.iter_mut() {
        let Some(at) = session.idle_at else { continue };
        if now_ms < at {
            soonest(at);
            continue;
        }
        if session.utterance.is_some() || session.next.is_some() || !session.queue.is_empty() {
            continue; // its audio grows: looked at again when a worker next comes by
        }
        let audio_ends = now_ms.saturating_add(session.buffered(sample_rate).as_millis() as u64);
        let mut segments = Vec::new();
        session.segmenter.cut_idle(now_ms, audio_ends, &mut segments);
        session.idle_at = session.segmenter.idle_deadline(0);
        if let Some(at) = session.segmenter.idle_deadline(audio_ends) {
            soonest(at);
        }
        let _ = enqueue(sched, session, id, segments);
    }
    next
}

/// After any change: a stream whose work is all done gets its last frame padded out and its
/// final event.
fn settle(st: &mut State, id: StreamId) {
    let Some(state) = st.sched.state(id) else { return };
    let Some(session) = st.sessions.get_mut(&id) else { return };
    if session.finished {
        return;
    }
    match state.stopped {
        // Stopped: the listener hears nothing more, whatever is still running.
        Some(reason) => {
            session.finished = true;
            if !matches!(session.events.back(), Some(Event::Stopped { .. })) {
                session.events.push_back(Event::Stopped { reason, message: None });
            }
        }
        None if state.done && session.writer.finish() => {
            session.finished = true;
            session.events.push_back(Event::Done { samples: session.samples });
        }
        None => {}
    }
}

/// A worker: takes the most urgent step, runs it without the lock, reports it.
fn work(shared: &Shared) {
    loop {
        let (step, job) = {
            let mut st = shared.lock();
            loop {
                if st.shutdown {
                    return;
                }
                let now = shared.now_ms();
                let idle = cut_idle_text(&mut st, now, shared.backend.sample_rate());
                if let Some(step) = st.sched.next_step(now) {
                    let job = take_job(&mut st, step, &*shared.backend);
                    break (step, job);
                }
                let nap = idle.map_or(WORKER_NAP, |at| Duration::from_millis(at - now).clamp(Duration::from_millis(1), WORKER_NAP));
                st = shared.work.wait_timeout(st, nap).unwrap_or_else(|p| p.into_inner()).0;
            }
        };
        let mut spent = StreamTimes::default();
        let result = run(shared, job, step.lane, &mut spent);
        shared.steps.fetch_add(1, Ordering::Relaxed);
        let mut st = shared.lock();
        if let Some(s) = st.sessions.get_mut(&step.stream) {
            s.times.normalize += spent.normalize;
            s.times.g2p += spent.g2p;
            s.times.encoder += spent.encoder;
            s.times.decoder += spent.decoder;
        }
        deliver(shared, &mut st, step, result);
        settle(&mut st, step.stream);
        drop(st);
        shared.work.notify_all();
        shared.audio.notify_all();
    }
}

/// The inputs of a step, moved out of the session so it can run without the lock.
enum Job {
    Encode { pending: Pending, request: Request },
    Decode(Option<Utterance>, Request),
    /// The stream vanished or had nothing queued.
    Nothing,
}

/// The outputs of a step.
enum Done {
    Encoded { utterance: Option<Utterance>, text: Option<String>, words: Vec<std::ops::Range<usize>>, durations: Vec<u32> },
    Decoded { utterance: Option<Utterance>, samples: Vec<f32> },
    Failed(String),
}

fn take_job(st: &mut State, step: Step, backend: &dyn Backend) -> Job {
    let session = st.sessions.get_mut(&step.stream);
    match (step.kind, session) {
        (StepKind::Encode, Some(s)) => match s.queue.pop_front() {
            Some(pending) => {
                let mut request = s.request;
                if backend.streams() {
                    // A streaming decoder costs the same per frame whatever the chunk, so every
                    // chunk stays as small as the first: short steps let the scheduler reach a
                    // stream about to run dry sooner (with 64-frame chunks, two wasm streams on
                    // two workers ran dry; with 16, they did not).
                    request.chunking.size = request.chunking.first;
                } else if s.buffered(backend.sample_rate()) >= Duration::from_secs(1) {
                    // With a second or more of audio still to play, windows need no small first
                    // chunks: larger ones cost less.
                    request.chunking = request.chunking.steady();
                }
                Job::Encode { pending, request }
            }
            None => Job::Nothing,
        },
        (StepKind::Decode, Some(s)) => Job::Decode(s.utterance.take(), s.request),
        (_, None) => Job::Nothing,
    }
}

fn run(shared: &Shared, job: Job, lane: Option<usize>, spent: &mut StreamTimes) -> Done {
    match job {
        Job::Nothing | Job::Decode(None, _) => Done::Decoded { utterance: None, samples: Vec::new() },
        Job::Encode { pending: Pending::Break { millis }, .. } => Done::Encoded {
            utterance: Some(Utterance::Silence(shared.backend.sample_rate() as usize * millis as usize / 1000)),
            text: None,
            words: Vec::new(),
            durations: Vec::new(),
        },
        Job::Encode { pending: Pending::Text { text, rate }, mut request } => {
            request.scales.length_scale = (request.scales.length_scale / rate).clamp(0.05, 20.0);
            let t = Instant::now();
            let words = shared.front.normalized(&text);
            spent.normalize += t.elapsed();
            let t = Instant::now();
            let ipa = (shared.front.phonemize)(&words);
            spent.g2p += t.elapsed();
            let t = Instant::now();
            let ids = match PhonemeIds::from_ipa(shared.backend.config(), &ipa) {
                Ok(ids) => ids,
                // Nothing speakable in this segment (symbols only): skip it.
                Err(parla_core::Error::Empty) => return Done::Encoded { utterance: None, text: None, words: Vec::new(), durations: Vec::new() },
                Err(e) => return Done::Failed(e.to_string()),
            };
            let encoded = shared.backend.encode(&ipa, &ids, &request, lane);
            spent.encoder += t.elapsed();
            match encoded {
                Ok(e) => {
                    let utterance = Some(Utterance::Speech(Box::new(e.decoding)));
                    Done::Encoded { utterance, text: Some(text), words: ids.words, durations: e.durations }
                }
                Err(e) => Done::Failed(e.to_string()),
            }
        }
        Job::Decode(Some(Utterance::Silence(left)), _) => {
            let n = left.min(SILENCE_CHUNK_FRAMES * shared.backend.hop());
            let rest = (left > n).then_some(Utterance::Silence(left - n));
            Done::Decoded { utterance: rest, samples: vec![0.0; n] }
        }
        Job::Decode(Some(Utterance::Speech(mut speech)), request) => {
            let t = Instant::now();
            let decoded = shared.backend.decode(&mut speech, &request, lane);
            spent.decoder += t.elapsed();
            match decoded {
                Ok(samples) => {
                    let more = speech.remaining_frames() > 0;
                    Done::Decoded { utterance: more.then_some(Utterance::Speech(speech)), samples }
                }
                Err(e) => Done::Failed(e.to_string()),
            }
        }
    }
}

/// Hands a step's output to its stream (unless the scheduler says to discard it).
fn deliver(shared: &Shared, st: &mut State, step: Step, done: Done) {
    let sample_rate = shared.backend.sample_rate() as u64;
    let now = shared.now_ms();
    let outcome = match &done {
        Done::Encoded { utterance, .. } => Outcome::Encoded { has_audio: utterance.is_some() },
        Done::Decoded { utterance, samples } => {
            Outcome::Decoded { audio_ms: samples.len() as u64 * 1000 / sample_rate, more: utterance.is_some() }
        }
        Done::Failed(_) => Outcome::Failed,
    };
    let verdict = st.sched.finish(step, outcome, now);
    let Some(session) = st.sessions.get_mut(&step.stream) else { return };
    if let Done::Failed(message) = done {
        session.utterance = None;
        session.next = None;
        session.queue.clear();
        session.events.push_back(Event::Stopped { reason: Stop::Failed, message: Some(message) });
        return;
    }
    if verdict == Verdict::Discard {
        return;
    }
    match done {
        Done::Encoded { utterance: Some(utterance), text, words, durations } => {
            let next = Next { utterance, text, words, durations };
            // Encoded ahead: it waits until the current utterance has been decoded.
            match session.utterance {
                Some(_) => session.next = Some(next),
                None => session.begin(next, shared.backend.hop()),
            }
        }
        Done::Encoded { utterance: None, .. } => {}
        Done::Decoded { utterance, samples } => {
            let written = session.writer.write(&samples);
            debug_assert_eq!(written, samples.len(), "a decode step only runs with room for its chunk");
            session.samples += samples.len();
            if !samples.is_empty() {
                session.play_start.get_or_insert_with(Instant::now);
                let opened = session.opened;
                session.times.first_audio.get_or_insert_with(|| opened.elapsed());
            }
            if utterance.is_none() && session.speaking {
                session.speaking = false;
                session.events.push_back(Event::SegmentEnd { index: session.segments - 1, sample: session.samples });
            }
            session.utterance = utterance;
            if session.utterance.is_none() {
                if let Some(next) = session.next.take() {
                    session.begin(next, shared.backend.hop());
                }
            }
        }
        Done::Failed(_) => unreachable!("handled above"),
    }
    // Backpressure: without room for another whole chunk, wait for the listener.
    if session.writer.free_frames() < session.needed_frames {
        let _ = st.sched.set_blocked(step.stream, true);
    }
}
