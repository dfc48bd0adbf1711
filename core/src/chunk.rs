//! Cutting an utterance's frames into decoder windows.
//!
//! Each chunk keeps `size` frames and is decoded inside a window with `context` extra frames on
//! each side, so the convolutions see the same neighbourhood as whole-utterance decoding. At the
//! utterance edges the window is shifted to stay inside `[0, frames)` instead of being padded,
//! because the whole-utterance decoder sees the true edge there too. The first window starts at
//! the true edge, so it needs context on its right only (`first + context` frames: less to decode
//! before the first audio); later chunks double in size up to `size` (so no chunk takes longer to
//! decode than the audio before it lasts) and have `keep + 2·context` frames. Fixed lengths let
//! the decoder use plans optimised for them; an utterance shorter than a window is decoded whole.

use alloc::vec::Vec;

/// Frames in the first chunk of a segment when audio should start early (`parla serve`, the
/// browser package, `parla bench`'s time to first audio). With a decoder that streams, 8 frames
/// make the first frame of a short clause ready about 10 ms earlier natively than 16 did (one
/// vocoder pulse of 19 frames instead of 27; the cost per frame hardly changes), and the 93 ms
/// they play for cover the next pulse: 26 ms natively, 60 ms in wasmtime. Speech usually starts
/// inside those 8 frames, after the leading silence (at most [`crate::regulate::MAX_LEAD_FRAMES`]):
/// in the bench's clause "Sure," within 20 ms; over 60 held-out sentences the first sample above
/// 2% of the peak comes at a median 49 ms (p90 63 ms, the latest 105 ms).
pub const FIRST_CHUNK: usize = 8;

/// How to chunk: the first chunk may be smaller, for fast first audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Frames kept from the first chunk.
    pub first: usize,
    /// Frames kept from every later chunk.
    pub size: usize,
    /// Frames of context decoded on each side of a chunk and thrown away.
    pub context: usize,
}

impl Default for Chunking {
    fn default() -> Self {
        Chunking { first: 64, size: 64, context: 24 }
    }
}

impl Chunking {
    /// Frames kept from chunk `index`: `first` three times, then doubling up to `size`, so no
    /// chunk takes longer to decode than the audio already delivered lasts, with room to spare
    /// (a small first chunk followed at once by a large one would leave the listener in silence).
    pub fn keep(&self, index: usize) -> usize {
        let (first, size) = (self.first.max(1), self.size.max(1));
        match index {
            0..=2 => first,
            _ => first.checked_shl(index.min(32) as u32 - 2).unwrap_or(usize::MAX).min(size).max(first.min(size)),
        }
    }

    /// The same chunking without the small start: for an utterance that begins while the
    /// listener still has plenty of audio buffered.
    pub fn steady(&self) -> Chunking {
        Chunking { first: self.size, ..*self }
    }

    /// Decoder window length of chunk `index` of a long utterance (the first has context on its
    /// right only).
    pub fn window(&self, index: usize) -> usize {
        self.keep(index) + if index == 0 { self.context } else { 2 * self.context }
    }

    /// Every window length this chunking (and its [`Chunking::steady`] form) uses for long
    /// utterances, in order of first use.
    pub fn window_lengths(&self) -> Vec<usize> {
        let mut lengths = Vec::new();
        for index in 0.. {
            let w = self.window(index);
            if !lengths.contains(&w) {
                lengths.push(w);
            }
            if index > 0 && self.keep(index) == self.size.max(1) {
                break;
            }
        }
        let steady_first = self.steady().window(0);
        if !lengths.contains(&steady_first) {
            lengths.push(steady_first);
        }
        lengths
    }
}

/// One decoder call: decode frames `start..start + len`, keep `keep_start..keep_start + keep_len`
/// (absolute frame indices, inside the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First frame decoded.
    pub start: usize,
    /// Frames decoded.
    pub len: usize,
    /// First frame kept.
    pub keep_start: usize,
    /// Frames kept.
    pub keep_len: usize,
}

impl Window {
    /// Where the kept frames start inside the decoded window.
    pub fn keep_offset(&self) -> usize {
        self.keep_start - self.start
    }
}

/// The windows of one utterance, in order.
#[derive(Debug, Clone)]
pub struct ChunkPlan {
    frames: usize,
    chunking: Chunking,
    next: usize,
    index: usize,
}

impl ChunkPlan {
    /// Plans chunked decoding of `frames` frames.
    pub fn new(frames: usize, chunking: Chunking) -> ChunkPlan {
        ChunkPlan { frames, chunking, next: 0, index: 0 }
    }

    /// Plans the rest of an utterance whose first `done` frames were decoded elsewhere: its
    /// windows have context on both sides from the start.
    pub fn resume(frames: usize, chunking: Chunking, done: usize) -> ChunkPlan {
        let next = done.min(frames);
        ChunkPlan { frames, chunking, next, index: usize::from(next > 0) }
    }

    /// Frames not yet handed out.
    pub fn remaining(&self) -> usize {
        self.frames - self.next
    }
}

impl Iterator for ChunkPlan {
    type Item = Window;

    fn next(&mut self) -> Option<Window> {
        let (s, total, k) = (self.next, self.frames, self.chunking.context);
        if s >= total {
            return None;
        }
        let (size, w) = (self.chunking.keep(self.index), self.chunking.window(self.index));
        self.index += 1;
        let keep_len = size.min(total - s);
        let window = if total <= w {
            Window { start: 0, len: total, keep_start: s, keep_len }
        } else {
            let start = s.saturating_sub(k).min(total - w);
            Window { start, len: w, keep_start: s, keep_len }
        };
        self.next = s + keep_len;
        Some(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_cover(frames: usize, c: Chunking) -> Vec<Window> {
        let ws: Vec<Window> = ChunkPlan::new(frames, c).collect();
        let mut next = 0;
        for w in &ws {
            assert_eq!(w.keep_start, next, "chunks are contiguous");
            assert!(w.start <= w.keep_start && w.keep_start + w.keep_len <= w.start + w.len);
            assert!(w.start + w.len <= frames);
            // Enough context on each side, unless the window touches the true edge.
            assert!(w.keep_offset() >= c.context || w.start == 0);
            let right = w.start + w.len - (w.keep_start + w.keep_len);
            assert!(right >= c.context || w.start + w.len == frames);
            // Windows are of a planned length, or the whole utterance.
            assert!(c.window_lengths().contains(&w.len) || w.len == frames, "{w:?}");
            next += w.keep_len;
        }
        assert_eq!(next, frames);
        ws
    }

    #[test]
    fn windows_cover_every_frame_once_with_context() {
        for frames in [1, 5, 63, 64, 111, 112, 113, 200, 1000, 2583] {
            for c in [Chunking::default(), Chunking { first: 16, size: 64, context: 24 }] {
                check_cover(frames, c);
            }
        }
    }

    #[test]
    fn a_resumed_plan_covers_the_rest_with_context_on_both_sides() {
        let c = Chunking { first: 16, size: 64, context: 24 };
        let ws: Vec<Window> = ChunkPlan::resume(300, c, 100).collect();
        assert_eq!(ws[0].keep_start, 100);
        assert!(ws[0].keep_offset() >= c.context && ws[0].start + ws[0].len >= 100 + ws[0].keep_len + c.context);
        assert_eq!(ws.iter().map(|w| w.keep_len).sum::<usize>(), 200);
        assert_eq!(ChunkPlan::resume(300, c, 0).next(), ChunkPlan::new(300, c).next());
        assert_eq!(ChunkPlan::resume(300, c, 400).remaining(), 0);
    }

    #[test]
    fn short_utterance_is_one_whole_window() {
        let ws = check_cover(50, Chunking::default());
        assert_eq!(ws, [Window { start: 0, len: 50, keep_start: 0, keep_len: 50 }]);
    }

    #[test]
    fn edges_shift_the_window_inside() {
        let ws = check_cover(300, Chunking::default());
        assert_eq!(ws[0], Window { start: 0, len: 88, keep_start: 0, keep_len: 64 });
        assert_eq!(ws[1], Window { start: 40, len: 112, keep_start: 64, keep_len: 64 });
        let last = ws.last().unwrap();
        assert_eq!(*last, Window { start: 188, len: 112, keep_start: 256, keep_len: 44 });
    }

    #[test]
    fn a_small_first_chunk_repeats_then_doubles() {
        let c = Chunking { first: 16, size: 64, context: 24 };
        let keeps: Vec<usize> = check_cover(1000, c).iter().take(6).map(|w| w.keep_len).collect();
        assert_eq!(keeps, [16, 16, 16, 32, 64, 64]);
        assert_eq!(c.window_lengths(), [40, 64, 80, 112, 88]);
        assert_eq!(Chunking::default().window_lengths(), [88, 112]);
        let odd = Chunking { first: 24, size: 64, context: 8 };
        assert_eq!((0..5).map(|i| odd.keep(i)).collect::<Vec<_>>(), [24, 24, 24, 48, 64]);
        let big_first = Chunking { first: 100, size: 64, context: 8 };
        assert_eq!((0..4).map(|i| big_first.keep(i)).collect::<Vec<_>>(), [100, 100, 100, 64]);
        for frames in [30, 100, 500] {
            check_cover(frames, c.steady());
        }
    }
}
