//! L3: audio leaves in fixed 10 ms frames through a preallocated single-producer,
//! single-consumer ring, with the seed design's flush rule (flush at ≥ 3 frames ready, or after
//! 20 ms with nothing new) and backpressure: a full ring takes no more samples, so the producer
//! pauses that stream's inference instead of growing memory. Nothing allocates per frame.

use alloc::vec::Vec;
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

/// Samples in a 10 ms frame at `sample_rate` (rounded up: 221 at 22 050 Hz).
pub fn frame_len(sample_rate: u32) -> usize {
    (sample_rate as usize).div_ceil(100).max(1)
}

/// Level at or below which a sample is quiet: −60 dBFS, far under what a listener hears at any
/// usual volume (the voice's own leading silence sits below it).
pub const QUIET: f32 = 1e-3;

/// How many samples at the start of `samples` are quiet (all of them when none is louder).
///
/// A player that starts a speech at its first audible sample lets the listener hear it that much
/// sooner: "Hello there," begins with about 30 ms under this level (the silent start symbols and
/// the quiet onset of its "h").
pub fn quiet_lead(samples: &[f32]) -> usize {
    samples.iter().position(|s| s.abs() > QUIET).unwrap_or(samples.len())
}

/// A ring holding `capacity_frames` frames of `frame_len(sample_rate)` samples, split into its
/// two ends.
pub fn ring(sample_rate: u32, capacity_frames: usize) -> (FrameWriter, FrameReader) {
    let frame = frame_len(sample_rate);
    let (prod, cons) = HeapRb::<f32>::new(frame * capacity_frames.max(1)).split();
    let mut partial = Vec::new();
    partial.reserve_exact(frame);
    (FrameWriter { prod, frame, partial }, FrameReader { cons, frame })
}

/// The producing end: takes decoded chunks of any length, stores whole frames.
pub struct FrameWriter {
    prod: HeapProd<f32>,
    frame: usize,
    /// Samples of a frame not yet complete (capacity: one frame, allocated once).
    partial: Vec<f32>,
}

impl FrameWriter {
    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame
    }

    /// Whole frames the ring can still take.
    pub fn free_frames(&self) -> usize {
        self.prod.vacant_len() / self.frame
    }

    /// Takes as many of `samples` as fit and returns how many it took. Whole frames go into the
    /// ring; a last incomplete frame is held until more samples (or [`FrameWriter::finish`])
    /// complete it. Taking fewer than offered is backpressure: offer the rest later.
    pub fn write(&mut self, samples: &[f32]) -> usize {
        let mut taken = 0;
        while taken < samples.len() {
            let need = self.frame - self.partial.len();
            let avail = samples.len() - taken;
            if self.partial.is_empty() && avail >= self.frame {
                if self.prod.vacant_len() < self.frame {
                    break;
                }
                let n = self.prod.push_slice(&samples[taken..taken + self.frame]);
                debug_assert_eq!(n, self.frame);
                taken += self.frame;
            } else if avail >= need || self.partial.len() + avail < self.frame {
                // Complete the partial frame, or park a tail shorter than a frame.
                if avail >= need && self.prod.vacant_len() < self.frame {
                    break;
                }
                let n = need.min(avail);
                self.partial.extend_from_slice(&samples[taken..taken + n]);
                taken += n;
                if self.partial.len() == self.frame {
                    self.prod.push_slice(&self.partial);
                    self.partial.clear();
                }
            } else {
                break;
            }
        }
        taken
    }

    /// Ends the stream: pads the held partial frame with silence and stores it. Returns false
    /// (and keeps it) when the ring is full; call again once frames were read.
    pub fn finish(&mut self) -> bool {
        if self.partial.is_empty() {
            return true;
        }
        if self.prod.vacant_len() < self.frame {
            return false;
        }
        self.partial.resize(self.frame, 0.0);
        self.prod.push_slice(&self.partial);
        self.partial.clear();
        true
    }
}

/// The consuming end: reads whole frames.
pub struct FrameReader {
    cons: HeapCons<f32>,
    frame: usize,
}

impl FrameReader {
    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame
    }

    /// Whole frames ready to read.
    pub fn ready_frames(&self) -> usize {
        self.cons.occupied_len() / self.frame
    }

    /// Copies the next frame into `out` (at least a frame long); false when none is ready.
    pub fn read_frame(&mut self, out: &mut [f32]) -> bool {
        if self.ready_frames() == 0 || out.len() < self.frame {
            return false;
        }
        self.cons.pop_slice(&mut out[..self.frame]) == self.frame
    }

    /// Drops every frame (after a cancel): the ring is empty afterwards.
    pub fn clear(&mut self) -> usize {
        let n = self.ready_frames();
        self.cons.clear();
        n
    }
}

/// When to send what is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    /// Send once this many frames are ready.
    pub min_frames: usize,
    /// Or once nothing new has arrived for this long (ms), if anything is ready.
    pub idle_ms: u64,
}

impl Default for FlushPolicy {
    fn default() -> Self {
        FlushPolicy { min_frames: 3, idle_ms: 20 }
    }
}

/// Applies a [`FlushPolicy`]; the caller passes the time in (no clock inside).
#[derive(Debug, Clone, Default)]
pub struct Flusher {
    policy: FlushPolicy,
    last_new_ms: Option<u64>,
}

impl Flusher {
    /// A flusher with this policy.
    pub fn new(policy: FlushPolicy) -> Flusher {
        Flusher { policy, last_new_ms: None }
    }

    /// Notes that new frames arrived at `now_ms`.
    pub fn frames_arrived(&mut self, now_ms: u64) {
        self.last_new_ms = Some(now_ms);
    }

    /// Whether to send the `ready` frames now. At the end of the stream everything goes.
    pub fn should_flush(&self, ready: usize, now_ms: u64, ended: bool) -> bool {
        if ready == 0 {
            return false;
        }
        ended
            || ready >= self.policy.min_frames
            || self.last_new_ms.is_some_and(|t| now_ms.saturating_sub(t) >= self.policy.idle_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn the_quiet_lead_ends_at_the_first_audible_sample() {
        assert_eq!(quiet_lead(&[0.0, 5e-4, -1e-3, -2e-3, 0.0, 0.5]), 3);
        assert_eq!(quiet_lead(&[0.3]), 0);
        assert_eq!(quiet_lead(&[1e-4; 7]), 7, "all quiet");
        assert_eq!(quiet_lead(&[]), 0);
    }

    #[test]
    fn ten_millisecond_frames() {
        assert_eq!(frame_len(16_000), 160);
        assert_eq!(frame_len(22_050), 221);
        assert_eq!(frame_len(48_000), 480);
    }

    #[test]
    fn chunks_of_any_length_come_out_as_whole_frames_in_order() {
        let (mut w, mut r) = ring(16_000, 10);
        let samples: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let mut taken = 0;
        for piece in [7, 300, 1, 160, 159, 373] {
            taken += w.write(&samples[taken..taken + piece]);
        }
        assert_eq!(taken, 1000);
        assert_eq!(r.ready_frames(), 6, "1000 samples = 6 frames + 40 held");
        assert!(w.finish());
        assert_eq!(r.ready_frames(), 7);
        let mut out = vec![0.0; 160];
        let mut all = Vec::new();
        while r.read_frame(&mut out) {
            all.extend_from_slice(&out);
        }
        assert_eq!(&all[..1000], &samples[..]);
        assert!(all[1000..].iter().all(|&s| s == 0.0), "the last frame is padded with silence");
    }

    #[test]
    fn a_full_ring_pushes_back_and_loses_nothing() {
        let (mut w, mut r) = ring(16_000, 3);
        let samples: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let first = w.write(&samples);
        assert_eq!(first, 480, "three frames fit");
        assert_eq!(w.free_frames(), 0);
        assert_eq!(w.write(&samples[first..]), 0);
        let mut out = vec![0.0; 160];
        assert!(r.read_frame(&mut out));
        assert_eq!(out[0], 0.0);
        assert_eq!(w.write(&samples[first..]), 160);
        assert_eq!(r.clear(), 3);
        assert_eq!(r.ready_frames(), 0);
    }

    #[test]
    fn finish_waits_for_room() {
        let (mut w, mut r) = ring(16_000, 1);
        assert_eq!(w.write(&[1.0; 200]), 200);
        assert!(!w.finish(), "the ring holds one frame and it is full");
        let mut out = vec![0.0; 160];
        assert!(r.read_frame(&mut out));
        assert!(w.finish());
        assert!(r.read_frame(&mut out));
        assert_eq!(out[..40], [1.0; 40]);
        assert_eq!(out[40..], [0.0; 120]);
    }

    #[test]
    fn flush_at_three_frames_or_after_twenty_idle_ms() {
        let mut f = Flusher::new(FlushPolicy::default());
        assert!(!f.should_flush(0, 0, true));
        f.frames_arrived(100);
        assert!(!f.should_flush(2, 110, false));
        assert!(f.should_flush(3, 110, false));
        assert!(f.should_flush(1, 120, false));
        assert!(f.should_flush(1, 105, true));
    }
}
