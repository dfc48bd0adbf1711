//! L2: which stream's inference step runs next.
//!
//! Inference is cut into bounded steps — the encoder of one text segment, the decoder of one
//! chunk — so a host can run many streams on a few workers. The scheduler holds no audio and
//! runs nothing: the host asks it for the next [`Step`], runs that step on a worker, and reports
//! back with [`Scheduler::finish`]. Time comes in as milliseconds on the caller's clock.
//!
//! Order: a playing stream whose listener runs out of audio within [`Config::urgent_ms`] goes
//! first, as a gap in speech is heard and a late start only waited for; then a stream that has
//! not produced audio yet (its listener hears silence), by arrival; then earliest deadline first,
//! where a playing stream's deadline is the moment its listener would run out of audio
//! (`playback start + audio produced`). A stream that has just started, with one short first
//! chunk buffered, is urgent at once: without this, under load its second chunk waited behind
//! newer streams' encoders and ran dry. At most `workers` steps run at once; a stream never has
//! two steps in flight; a stream whose output ring is full ([`Scheduler::set_blocked`]) waits
//! instead of growing memory. Cancellation drops queued work at once; a step already running
//! finishes and its output is discarded, so at most one more chunk is ever computed. A stream
//! past its hard deadline is expired the same way.
//!
//! Encoding ahead: a stream decoding one utterance with the next segment queued has that
//! segment encoded as soon as it is [`Config::encode_ahead_ms`] ahead of its listener, so the
//! encoder's time is not spent at the boundary between the two, where the listener would hear
//! a gap. The encoded utterance waits and is decoded once the current one is done.
//!
//! Lanes: a host whose steps need one of a few exclusive resources (the guest instances of a
//! wasm engine) declares them as [`Config::lanes`]. Every step then holds one lane while it
//! runs. An encode step takes a free lane (the one with the fewest streams on it), and the
//! stream stays on that lane until its utterance is decoded, because the lane keeps the
//! decoder's state. A stream whose lane is busy is passed over for one that can run now, so no
//! worker waits on a busy lane while another lane is idle.

use alloc::vec::Vec;
use core::fmt;

/// Limits of one scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Steps allowed to run at the same time (usually the number of cores or guest instances).
    pub workers: usize,
    /// Streams allowed open at the same time.
    pub max_streams: usize,
    /// Exclusive resources a step runs on, one step per lane at a time (0: none; see the
    /// module docs).
    pub lanes: usize,
    /// How far ahead of its listener (ms of audio not yet heard) a stream must be for its next
    /// segment to be encoded while the current one still decodes (see the module docs). It
    /// should exceed the encoder's time for a segment plus one decoder step.
    pub encode_ahead_ms: u64,
    /// A playing stream whose listener runs out of audio within this many ms is urgent: it goes
    /// before streams that have not started (see the module docs). It should exceed the longest
    /// step.
    pub urgent_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { workers: 1, max_streams: 64, lanes: 0, encode_ahead_ms: 300, urgent_ms: 250 }
    }
}

/// A stream's handle. Handles of closed streams are never reused, so a late report about a
/// closed stream is recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamId {
    slot: u32,
    generation: u32,
}

/// What a step computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Run the encoder on the stream's next text segment.
    Encode,
    /// Decode the next chunk of the stream's current utterance.
    Decode,
}

/// One bounded piece of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Whose work it is.
    pub stream: StreamId,
    /// What to compute.
    pub kind: StepKind,
    /// The lane it runs on (always `Some` when the scheduler has lanes, else `None`).
    pub lane: Option<usize>,
}

/// What a finished step produced, as the host reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The encoder ran; the utterance has chunks to decode (`false` for an empty segment).
    Encoded {
        /// Whether there is anything to decode.
        has_audio: bool,
    },
    /// A chunk was decoded.
    Decoded {
        /// Milliseconds of audio in it.
        audio_ms: u64,
        /// Whether the utterance has more chunks.
        more: bool,
    },
    /// The step failed; the stream is failed and takes no more work.
    Failed,
}

/// Whether the host should hand a finished step's output to the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Use it.
    Deliver,
    /// Throw it away: the stream was cancelled, expired or closed while the step ran.
    Discard,
}

/// Why a stream was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The host cancelled it.
    Cancelled,
    /// Its hard deadline passed before it finished.
    Expired,
    /// A step failed.
    Failed,
}

/// A request the scheduler cannot take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedError {
    /// `max_streams` streams are open already.
    Full {
        /// The limit.
        max_streams: usize,
    },
    /// The handle is not an open stream.
    UnknownStream,
    /// The stream was stopped and takes no more work.
    Stopped(Stop),
    /// Text arrived after the stream's input ended.
    InputEnded,
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedError::Full { max_streams } => write!(f, "too many streams (at most {max_streams})"),
            SchedError::UnknownStream => write!(f, "no such stream"),
            SchedError::Stopped(why) => write!(f, "stream was stopped ({why:?})"),
            SchedError::InputEnded => write!(f, "text arrived after the end of the stream's input"),
        }
    }
}

impl core::error::Error for SchedError {}

/// How a stream wants to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamOptions {
    /// Absolute time (ms, caller's clock) by which the stream must be done; past it the stream
    /// is expired.
    pub deadline_ms: Option<u64>,
}

/// A stream's place in the scheduler, for callers that report on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamState {
    /// Segments waiting for the encoder.
    pub segments_waiting: usize,
    /// Whether an encoded utterance has chunks left.
    pub decoding: bool,
    /// Whether a step of this stream is running.
    pub in_flight: bool,
    /// Whether the next segment is encoded and waits for the current one to be decoded.
    pub ahead: bool,
    /// Milliseconds of audio delivered so far.
    pub produced_ms: u64,
    /// Why it was stopped, if it was.
    pub stopped: Option<Stop>,
    /// Whether it is finished: input ended, all work done, nothing running.
    pub done: bool,
}

#[derive(Debug, Clone)]
struct Stream {
    generation: u32,
    open: bool,
    arrival: u64,
    options: StreamOptions,
    segments: usize,
    decoding: bool,
    /// The next segment is encoded and waits (on `ahead_lane`) for the current one's end.
    ahead: bool,
    in_flight: bool,
    input_ended: bool,
    blocked: bool,
    produced_ms: u64,
    playback_start_ms: Option<u64>,
    stopped: Option<Stop>,
    /// The lane holding its utterance's decoder state.
    lane: Option<usize>,
    /// The lane holding the encoded next utterance.
    ahead_lane: Option<usize>,
}

impl Stream {
    fn vacant() -> Stream {
        Stream {
            generation: 0,
            open: false,
            arrival: 0,
            options: StreamOptions::default(),
            segments: 0,
            decoding: false,
            ahead: false,
            in_flight: false,
            input_ended: false,
            blocked: false,
            produced_ms: 0,
            playback_start_ms: None,
            stopped: None,
            lane: None,
            ahead_lane: None,
        }
    }

    /// What it would run next at `now_ms`, encoding ahead once it is `ahead_ms` ahead of its
    /// listener.
    fn next_kind(&self, now_ms: u64, ahead_ms: u64) -> Option<StepKind> {
        if !self.open || self.in_flight || self.blocked || self.stopped.is_some() {
            None
        } else if self.decoding {
            let early = self.playback_start_ms.is_some_and(|start| start + self.produced_ms >= now_ms.saturating_add(ahead_ms));
            Some(if early && !self.ahead && self.segments > 0 { StepKind::Encode } else { StepKind::Decode })
        } else if self.segments > 0 {
            Some(StepKind::Encode)
        } else {
            None
        }
    }

    /// When its listener runs out of audio, once it plays.
    fn dry_at(&self) -> Option<u64> {
        self.playback_start_ms.map(|start| start + self.produced_ms)
    }

    /// Whether it plays and its listener runs out of audio before `now_ms + urgent_ms`.
    fn urgent(&self, now_ms: u64, urgent_ms: u64) -> bool {
        self.dry_at().is_some_and(|dry| dry < now_ms.saturating_add(urgent_ms))
    }

    /// Smaller runs first: (0 urgent, 1 not started, 2 playing; deadline; arrival).
    fn priority(&self, now_ms: u64, urgent_ms: u64) -> (u8, u64, u64) {
        match self.dry_at() {
            None => (1, 0, self.arrival),
            Some(dry) => (if self.urgent(now_ms, urgent_ms) { 0 } else { 2 }, dry, self.arrival),
        }
    }

    fn stop(&mut self, why: Stop) {
        if self.stopped.is_none() {
            self.stopped = Some(why);
        }
        self.segments = 0;
        self.decoding = false;
        self.ahead = false;
        self.lane = None;
        self.ahead_lane = None;
    }
}

/// Decides which stream's step runs next. See the module docs.
#[derive(Debug, Clone)]
pub struct Scheduler {
    config: Config,
    streams: Vec<Stream>,
    running: usize,
    arrivals: u64,
    /// Whether each lane has a step running.
    busy: Vec<bool>,
}

impl Scheduler {
    /// A scheduler with no streams.
    pub fn new(config: Config) -> Scheduler {
        let config = Config { workers: config.workers.max(1), max_streams: config.max_streams.max(1), ..config };
        Scheduler { config, streams: Vec::new(), running: 0, arrivals: 0, busy: alloc::vec![false; config.lanes] }
    }

    /// Its limits.
    pub fn config(&self) -> Config {
        self.config
    }

    /// Opens a stream (slots of closed streams are reused).
    pub fn open(&mut self, options: StreamOptions) -> Result<StreamId, SchedError> {
        let slot = match self.streams.iter().position(|s| !s.open) {
            Some(slot) => slot,
            None if self.streams.len() < self.config.max_streams => {
                self.streams.push(Stream::vacant());
                self.streams.len() - 1
            }
            None => return Err(SchedError::Full { max_streams: self.config.max_streams }),
        };
        self.arrivals += 1;
        let s = &mut self.streams[slot];
        let generation = s.generation.wrapping_add(1);
        *s = Stream { generation, open: true, arrival: self.arrivals, options, ..Stream::vacant() };
        Ok(StreamId { slot: slot as u32, generation })
    }

    fn get(&mut self, id: StreamId) -> Result<&mut Stream, SchedError> {
        match self.streams.get_mut(id.slot as usize) {
            Some(s) if s.open && s.generation == id.generation => Ok(s),
            _ => Err(SchedError::UnknownStream),
        }
    }

    fn live(&mut self, id: StreamId) -> Result<&mut Stream, SchedError> {
        let s = self.get(id)?;
        match s.stopped {
            Some(why) => Err(SchedError::Stopped(why)),
            None => Ok(s),
        }
    }

    /// A text segment of `id` is ready for the encoder.
    pub fn push_segment(&mut self, id: StreamId) -> Result<(), SchedError> {
        let s = self.live(id)?;
        if s.input_ended {
            return Err(SchedError::InputEnded);
        }
        s.segments += 1;
        Ok(())
    }

    /// No more text will come for `id`: it is done once its queued work is.
    pub fn end_input(&mut self, id: StreamId) -> Result<(), SchedError> {
        self.live(id)?.input_ended = true;
        Ok(())
    }

    /// Backpressure: a blocked stream gets no steps until unblocked (its output ring is full).
    pub fn set_blocked(&mut self, id: StreamId, blocked: bool) -> Result<(), SchedError> {
        self.get(id)?.blocked = blocked;
        Ok(())
    }

    /// The listener started hearing `id` at `now_ms` (by default, when its first chunk was
    /// delivered); deadlines count from here.
    pub fn playback_started(&mut self, id: StreamId, now_ms: u64) -> Result<(), SchedError> {
        self.get(id)?.playback_start_ms = Some(now_ms);
        Ok(())
    }

    /// Stops `id`: queued work is dropped now; a running step's output will be discarded.
    /// Returns whether a step is still running (the stream can be closed once it finishes).
    pub fn cancel(&mut self, id: StreamId) -> Result<bool, SchedError> {
        let s = self.get(id)?;
        s.stop(Stop::Cancelled);
        Ok(s.in_flight)
    }

    /// Frees `id`'s slot. A step still running for it will be discarded when it finishes.
    pub fn close(&mut self, id: StreamId) -> Result<(), SchedError> {
        let s = self.get(id)?;
        s.stop(Stop::Cancelled);
        s.open = false;
        Ok(())
    }

    /// The next step to run at `now_ms`, if a worker is free and some stream has work.
    /// Streams past their hard deadline are expired first (see [`Scheduler::state`]).
    pub fn next_step(&mut self, now_ms: u64) -> Option<Step> {
        for s in self.streams.iter_mut().filter(|s| s.open && s.stopped.is_none()) {
            if s.options.deadline_ms.is_some_and(|d| now_ms > d) {
                s.stop(Stop::Expired);
            }
        }
        if self.running >= self.config.workers {
            return None;
        }
        let free = self.free_lane();
        let (ahead_ms, urgent_ms) = (self.config.encode_ahead_ms, self.config.urgent_ms);
        let (slot, kind, lane) = self
            .streams
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let kind = s.next_kind(now_ms, ahead_ms)?;
                let lane = match s.lane {
                    _ if self.config.lanes == 0 => None,
                    // Its decoder state lives on its lane: it runs there or waits.
                    Some(l) if kind == StepKind::Decode => Some((!self.busy[l]).then_some(l)?),
                    _ => Some(free?),
                };
                Some((i, kind, lane, s.priority(now_ms, urgent_ms)))
            })
            .min_by_key(|&(.., p)| p)
            .map(|(i, k, l, _)| (i, k, l))?;
        let s = &mut self.streams[slot];
        s.in_flight = true;
        if kind == StepKind::Encode {
            s.segments -= 1;
        }
        self.running += 1;
        if let Some(l) = lane {
            self.busy[l] = true;
        }
        Some(Step { stream: StreamId { slot: slot as u32, generation: s.generation }, kind, lane })
    }

    /// The idle lane with the fewest streams on it.
    fn free_lane(&self) -> Option<usize> {
        let on = |l: usize| self.streams.iter().filter(|s| s.open && (s.lane == Some(l) || s.ahead_lane == Some(l))).count();
        (0..self.config.lanes).filter(|&l| !self.busy[l]).min_by_key(|&l| on(l))
    }

    /// Reports a step handed out by [`Scheduler::next_step`] as finished at `now_ms`.
    pub fn finish(&mut self, step: Step, outcome: Outcome, now_ms: u64) -> Verdict {
        if let Some(busy) = step.lane.and_then(|l| self.busy.get_mut(l)) {
            *busy = false;
        }
        let Some(s) = self.streams.get_mut(step.stream.slot as usize) else { return Verdict::Discard };
        if s.generation != step.stream.generation {
            // The slot was closed and reused while the step ran; its running count was ours.
            self.running = self.running.saturating_sub(1);
            return Verdict::Discard;
        }
        if s.in_flight {
            s.in_flight = false;
            self.running = self.running.saturating_sub(1);
        }
        if !s.open || s.stopped.is_some() {
            return Verdict::Discard;
        }
        match outcome {
            // Encoded ahead: it waits for the current utterance's end.
            Outcome::Encoded { has_audio } if s.decoding => {
                s.ahead = has_audio;
                s.ahead_lane = step.lane.filter(|_| has_audio);
            }
            Outcome::Encoded { has_audio } => {
                s.decoding = has_audio;
                s.lane = step.lane.filter(|_| has_audio);
            }
            Outcome::Decoded { audio_ms, more } => {
                s.playback_start_ms.get_or_insert(now_ms);
                s.produced_ms += audio_ms;
                if !more {
                    // The next utterance, if it was encoded ahead, takes over.
                    s.decoding = core::mem::take(&mut s.ahead);
                    s.lane = s.ahead_lane.take();
                }
            }
            Outcome::Failed => {
                s.stop(Stop::Failed);
                return Verdict::Discard;
            }
        }
        Verdict::Deliver
    }

    /// Where `id` stands.
    pub fn state(&self, id: StreamId) -> Option<StreamState> {
        let s = self.streams.get(id.slot as usize).filter(|s| s.open && s.generation == id.generation)?;
        let idle = !s.in_flight && s.segments == 0 && !s.decoding;
        Some(StreamState {
            segments_waiting: s.segments,
            decoding: s.decoding,
            ahead: s.ahead,
            in_flight: s.in_flight,
            produced_ms: s.produced_ms,
            stopped: s.stopped,
            done: idle && (s.input_ended || s.stopped.is_some()),
        })
    }

    /// Steps running now.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Open streams.
    pub fn open_streams(&self) -> usize {
        self.streams.iter().filter(|s| s.open).count()
    }

    /// Streams with work waiting for a worker (the queue depth).
    pub fn waiting(&self) -> usize {
        self.streams.iter().filter(|s| s.next_kind(0, 0).is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sched(workers: usize) -> Scheduler {
        Scheduler::new(Config { workers, max_streams: 8, lanes: 0, ..Config::default() })
    }

    fn chunk(ms: u64, more: bool) -> Outcome {
        Outcome::Decoded { audio_ms: ms, more }
    }

    #[test]
    fn a_stream_runs_encode_then_its_chunks_in_order() {
        let mut s = sched(1);
        let a = s.open(StreamOptions::default()).unwrap();
        assert_eq!(s.next_step(0), None, "no text yet");
        s.push_segment(a).unwrap();
        s.end_input(a).unwrap();
        let mut kinds = vec![];
        for i in 0..3 {
            let step = s.next_step(i).unwrap();
            kinds.push(step.kind);
            let outcome = if step.kind == StepKind::Encode { Outcome::Encoded { has_audio: true } } else { chunk(100, i < 2) };
            assert_eq!(s.finish(step, outcome, i), Verdict::Deliver);
        }
        assert_eq!(kinds, [StepKind::Encode, StepKind::Decode, StepKind::Decode]);
        assert_eq!(s.next_step(9), None);
        assert!(s.state(a).unwrap().done);
    }

    #[test]
    fn never_more_steps_than_workers_nor_two_per_stream() {
        let mut s = sched(2);
        let ids: Vec<_> = (0..4).map(|_| s.open(StreamOptions::default()).unwrap()).collect();
        for &id in &ids {
            s.push_segment(id).unwrap();
            s.push_segment(id).unwrap();
        }
        let a = s.next_step(0).unwrap();
        let b = s.next_step(0).unwrap();
        assert_ne!(a.stream, b.stream);
        assert_eq!(s.next_step(0), None, "both workers busy");
        assert_eq!(s.running(), 2);
        s.finish(a, Outcome::Encoded { has_audio: true }, 1);
        let c = s.next_step(1).unwrap();
        assert_ne!(c.stream, b.stream, "b's step is still running");
    }

    /// Opens a stream, encodes one segment and decodes a first chunk of `ms` of audio, both
    /// finished at `at`: the stream plays from `at` and runs dry at `at + ms`.
    fn started(s: &mut Scheduler, at: u64, ms: u64) -> StreamId {
        let id = s.open(StreamOptions::default()).unwrap();
        s.push_segment(id).unwrap();
        let e = s.next_step(at).unwrap();
        s.finish(e, Outcome::Encoded { has_audio: true }, at);
        let d = s.next_step(at).unwrap();
        s.finish(d, chunk(ms, true), at);
        id
    }

    #[test]
    fn first_chunks_go_before_streams_already_playing() {
        let mut s = sched(1);
        started(&mut s, 10, 500); // dry at 510
        let new = s.open(StreamOptions::default()).unwrap();
        s.push_segment(new).unwrap();
        assert_eq!(s.next_step(20).unwrap().stream, new, "a silent listener beats one with audio buffered");
    }

    #[test]
    fn a_stream_about_to_run_dry_goes_before_a_new_one() {
        let mut s = sched(1);
        let old = started(&mut s, 10, 100); // a short first chunk: dry at 110
        let new = s.open(StreamOptions::default()).unwrap();
        s.push_segment(new).unwrap();
        let step = s.next_step(20).unwrap();
        assert_eq!(step.stream, old, "a gap would be heard: it beats a listener still waiting for its start");
        s.finish(step, chunk(500, true), 60); // dry at 610: no longer urgent
        assert_eq!(s.next_step(70).unwrap().stream, new);
    }

    #[test]
    fn playing_streams_run_earliest_deadline_first() {
        let mut s = sched(1);
        let rich = started(&mut s, 0, 900); // runs dry at 900
        let poor = started(&mut s, 100, 200); // runs dry at 300
        let step = s.next_step(150).unwrap();
        assert_eq!(step.stream, poor);
        s.finish(step, chunk(800, true), 160); // now dry at 1100
        assert_eq!(s.next_step(170).unwrap().stream, rich);
    }

    #[test]
    fn blocked_streams_wait_and_resume() {
        let mut s = sched(1);
        let a = s.open(StreamOptions::default()).unwrap();
        s.push_segment(a).unwrap();
        s.set_blocked(a, true).unwrap();
        assert_eq!(s.next_step(0), None);
        assert_eq!(s.waiting(), 0);
        s.set_blocked(a, false).unwrap();
        assert_eq!(s.next_step(0).unwrap().kind, StepKind::Encode);
    }

    #[test]
    fn cancel_drops_queued_work_and_discards_the_running_step() {
        let mut s = sched(1);
        let a = s.open(StreamOptions::default()).unwrap();
        for _ in 0..5 {
            s.push_segment(a).unwrap();
        }
        let e = s.next_step(0).unwrap();
        s.finish(e, Outcome::Encoded { has_audio: true }, 0);
        let running = s.next_step(0).unwrap();
        assert!(s.cancel(a).unwrap(), "a step is still running");
        assert!(!s.state(a).unwrap().done);
        assert_eq!(s.finish(running, chunk(100, true), 5), Verdict::Discard);
        assert_eq!(s.next_step(5), None, "nothing more is computed");
        let st = s.state(a).unwrap();
        assert!(st.done);
        assert_eq!(st.stopped, Some(Stop::Cancelled));
        assert_eq!(s.push_segment(a), Err(SchedError::Stopped(Stop::Cancelled)));
        s.close(a).unwrap();
        assert_eq!((s.open_streams(), s.running()), (0, 0), "resources are back");
    }

    #[test]
    fn closed_slots_are_reused_and_stale_handles_rejected() {
        let mut s = Scheduler::new(Config { workers: 1, max_streams: 1, lanes: 0, ..Config::default() });
        let a = s.open(StreamOptions::default()).unwrap();
        assert_eq!(s.open(StreamOptions::default()), Err(SchedError::Full { max_streams: 1 }));
        s.push_segment(a).unwrap();
        let step = s.next_step(0).unwrap();
        s.close(a).unwrap();
        let b = s.open(StreamOptions::default()).unwrap();
        assert_ne!(a, b);
        assert_eq!(s.push_segment(a), Err(SchedError::UnknownStream));
        assert_eq!(s.finish(step, Outcome::Encoded { has_audio: true }, 1), Verdict::Discard);
        assert_eq!(s.running(), 0, "the late report still frees its worker");
        s.push_segment(b).unwrap();
        assert_eq!(s.next_step(1).unwrap().stream, b);
    }

    #[test]
    fn streams_past_their_deadline_expire() {
        let mut s = sched(1);
        let a = s.open(StreamOptions { deadline_ms: Some(100) }).unwrap();
        s.push_segment(a).unwrap();
        assert!(s.next_step(50).is_some());
        let b = s.open(StreamOptions { deadline_ms: Some(100) }).unwrap();
        s.push_segment(b).unwrap();
        assert_eq!(s.next_step(101), None, "a worker is busy");
        assert_eq!(s.state(b).unwrap().stopped, Some(Stop::Expired));
        assert!(s.state(b).unwrap().done);
        assert_eq!(s.state(a).unwrap().stopped, Some(Stop::Expired));
        assert!(!s.state(a).unwrap().done, "its step is still running");
    }

    /// The kinds of the steps a lone stream of two segments runs (encoding ahead at 150 ms),
    /// finishing each `at` ms after the last; every chunk is 100 ms of audio and an utterance
    /// has `chunks` of them.
    fn course(chunks: usize, at: u64) -> Vec<StepKind> {
        let mut s = Scheduler::new(Config { encode_ahead_ms: 150, ..Config::default() });
        let id = s.open(StreamOptions::default()).unwrap();
        for _ in 0..2 {
            s.push_segment(id).unwrap();
        }
        s.end_input(id).unwrap();
        let (mut kinds, mut now, mut left) = (vec![], 0, [0usize; 2]);
        while let Some(step) = s.next_step(now) {
            now += at;
            kinds.push(step.kind);
            let outcome = match step.kind {
                StepKind::Encode => {
                    // The current utterance keeps its chunks; an ahead one starts with all of them.
                    left[usize::from(s.state(id).unwrap().decoding)] = chunks;
                    Outcome::Encoded { has_audio: true }
                }
                StepKind::Decode => {
                    left[0] -= 1;
                    let more = left[0] > 0;
                    if !more {
                        left = [left[1], 0];
                    }
                    chunk(100, more)
                }
            };
            s.finish(step, outcome, now);
        }
        assert!(s.state(id).unwrap().done);
        kinds
    }

    #[test]
    fn the_next_segment_is_encoded_once_the_stream_is_far_enough_ahead() {
        use StepKind::{Decode as D, Encode as E};
        // Steps of 10 ms, chunks of 100 ms: playing from 20 ms, the stream is 150 ms ahead
        // after its second chunk (at 30 ms, 200 ms of audio).
        assert_eq!(course(4, 10), [E, D, D, E, D, D, D, D, D, D]);
    }

    #[test]
    fn a_stream_without_room_to_spare_encodes_at_the_boundary() {
        use StepKind::{Decode as D, Encode as E};
        // Steps of 90 ms for 100 ms of audio: never 150 ms ahead.
        assert_eq!(course(3, 90), [E, D, D, D, E, D, D, D]);
    }

    #[test]
    fn an_utterance_encoded_ahead_decodes_on_its_own_lane_and_goes_on_cancel() {
        let mut s = Scheduler::new(Config { workers: 1, max_streams: 8, lanes: 2, encode_ahead_ms: 100, ..Config::default() });
        let (a, lane) = playing(&mut s, 0, 500);
        let (b, _) = playing(&mut s, 0, 900);
        s.cancel(b).unwrap();
        s.push_segment(a).unwrap();
        let enc = s.next_step(10).unwrap();
        assert_eq!((enc.stream, enc.kind), (a, StepKind::Encode), "490 ms ahead, past the 100 asked");
        let other = enc.lane.unwrap();
        assert_ne!(other, lane, "the encoder takes the emptier lane");
        s.finish(enc, Outcome::Encoded { has_audio: true }, 20);
        assert!(s.state(a).unwrap().ahead && s.state(a).unwrap().decoding);
        let last = s.next_step(20).unwrap();
        assert_eq!((last.kind, last.lane), (StepKind::Decode, Some(lane)));
        s.finish(last, chunk(100, false), 30);
        let state = s.state(a).unwrap();
        assert!(state.decoding && !state.ahead, "the utterance encoded ahead takes over");
        let step = s.next_step(30).unwrap();
        assert_eq!((step.kind, step.lane), (StepKind::Decode, Some(other)), "where its encoder left it");
        s.push_segment(a).unwrap();
        s.finish(step, chunk(100, true), 40);
        let enc = s.next_step(40).unwrap();
        s.finish(enc, Outcome::Encoded { has_audio: true }, 50);
        assert!(s.state(a).unwrap().ahead);
        s.cancel(a).unwrap();
        let state = s.state(a).unwrap();
        assert!(!state.ahead && !state.decoding && state.done);
        assert_eq!(s.next_step(60), None);
    }

    #[test]
    fn failed_steps_stop_the_stream() {
        let mut s = sched(1);
        let a = s.open(StreamOptions::default()).unwrap();
        s.push_segment(a).unwrap();
        s.push_segment(a).unwrap();
        let step = s.next_step(0).unwrap();
        assert_eq!(s.finish(step, Outcome::Failed, 1), Verdict::Discard);
        assert_eq!(s.state(a).unwrap().stopped, Some(Stop::Failed));
        assert_eq!(s.next_step(1), None);
    }

    fn laned(lanes: usize) -> Scheduler {
        Scheduler::new(Config { workers: lanes, max_streams: 8, lanes, ..Config::default() })
    }

    /// Opens a stream, encodes one segment and decodes a first chunk of `ms` at `at`.
    fn playing(s: &mut Scheduler, at: u64, ms: u64) -> (StreamId, usize) {
        let id = s.open(StreamOptions::default()).unwrap();
        s.push_segment(id).unwrap();
        let e = s.next_step(at).unwrap();
        s.finish(e, Outcome::Encoded { has_audio: true }, at);
        let d = s.next_step(at).unwrap();
        assert_eq!(d.lane, e.lane, "the decoder runs where the encoder left its state");
        s.finish(d, chunk(ms, true), at);
        (id, e.lane.unwrap())
    }

    #[test]
    fn encodes_go_to_the_idle_lane_with_fewest_streams() {
        let mut s = laned(2);
        let (_, a) = playing(&mut s, 0, 500);
        let (_, b) = playing(&mut s, 0, 500);
        assert_ne!(a, b, "the second stream goes to the empty lane");
    }

    #[test]
    fn a_stream_whose_lane_is_busy_gives_way_to_one_that_can_run() {
        let mut s = laned(2);
        let (urgent, lane) = playing(&mut s, 0, 300); // runs dry at 300
        let (relaxed, other_lane) = playing(&mut s, 0, 900); // runs dry at 900
        let newcomer = s.open(StreamOptions::default()).unwrap();
        s.push_segment(newcomer).unwrap();
        let enc = s.next_step(10).unwrap();
        assert_eq!(enc.stream, newcomer, "a silent listener goes first");
        assert_eq!(enc.lane, Some(lane), "lanes with equal streams: the first");
        let next = s.next_step(10).unwrap();
        assert_eq!((next.stream, next.lane), (relaxed, Some(other_lane)), "no worker waits on the busy lane");
        assert_eq!(s.next_step(10), None, "both workers busy");
        s.finish(next, chunk(100, true), 20);
        let again = s.next_step(20).unwrap();
        assert_eq!(again.stream, relaxed, "the urgent stream's lane is still busy");
        s.finish(again, chunk(100, true), 25);
        s.finish(enc, Outcome::Encoded { has_audio: true }, 30);
        let step = s.next_step(30).unwrap();
        assert_eq!((step.stream, step.lane), (newcomer, Some(lane)), "its first chunk, where its encoder ran");
        let step = s.next_step(30).unwrap();
        assert_eq!((step.stream, step.lane), (relaxed, Some(other_lane)), "the urgent stream waits for its lane");
        assert!(s.state(urgent).unwrap().decoding);
    }

    #[test]
    fn a_stream_leaves_its_lane_when_its_utterance_ends_or_it_stops() {
        // No stream is urgent here, so the one that has not started goes first.
        let mut s = Scheduler::new(Config { workers: 1, max_streams: 8, lanes: 1, urgent_ms: 0, ..Config::default() });
        let (a, _) = playing(&mut s, 0, 100);
        s.push_segment(a).unwrap();
        let last = s.next_step(1).unwrap();
        s.finish(last, chunk(100, false), 1);
        let b = s.open(StreamOptions::default()).unwrap();
        s.push_segment(b).unwrap();
        let enc = s.next_step(2).unwrap();
        assert_eq!((enc.stream, enc.lane), (b, Some(0)));
        s.cancel(b).unwrap();
        assert_eq!(s.finish(enc, Outcome::Encoded { has_audio: true }, 3), Verdict::Discard);
        let next = s.next_step(3).unwrap();
        assert_eq!((next.stream, next.kind, next.lane), (a, StepKind::Encode, Some(0)), "the lane is free again");
    }
}
