//! Cutting an utterance's frames into decoder windows.
//!
//! Each chunk keeps `size` frames and is decoded inside a window with `context` extra frames on
//! each side, so the convolutions see the same neighbourhood as whole-utterance decoding. At the
//! utterance edges the window is shifted to stay inside `[0, frames)` instead of being padded,
//! because the whole-utterance decoder sees the true edge there too. The first window starts at
//! the true edge, so it needs context on its right only (`first + context` frames: less to decode
//! before the first audio); every later window has `size + 2·context` frames. Fixed lengths let
//! the decoder use plans optimised for them; an utterance shorter than a window is decoded whole.

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
    /// The window lengths this chunking uses for long utterances (first, then the rest).
    pub fn window_lengths(&self) -> [usize; 2] {
        [self.first.max(1) + self.context, self.size.max(1) + 2 * self.context]
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
}

impl ChunkPlan {
    /// Plans chunked decoding of `frames` frames.
    pub fn new(frames: usize, chunking: Chunking) -> ChunkPlan {
        ChunkPlan { frames, chunking, next: 0 }
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
        let [first_w, w] = self.chunking.window_lengths();
        let (size, w) = if s == 0 { (self.chunking.first.max(1), first_w) } else { (self.chunking.size.max(1), w) };
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
    use alloc::vec::Vec;

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
            assert!(c.window_lengths().contains(&w.len) || w.len == frames);
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
}
