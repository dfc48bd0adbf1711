//! Events on the audio clock: where each word starts and ends, in samples from the start of the
//! utterance, computed from the encoder's durations (so a UI can highlight words in sync with
//! what is heard).

use alloc::vec::Vec;
use core::ops::Range;

/// One word's place in the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordTiming {
    /// Index of the word in [`crate::phonemes::PhonemeIds::words`].
    pub word: usize,
    /// First sample of the word.
    pub start_sample: usize,
    /// One past its last sample.
    pub end_sample: usize,
}

/// Sample ranges of `words` (ranges of phoneme-id indices) given frames per id and the hop.
pub fn word_timings(durations: &[u32], words: &[Range<usize>], hop: usize) -> Vec<WordTiming> {
    // starts[i] = first frame of id i.
    let mut starts = Vec::with_capacity(durations.len() + 1);
    let mut t = 0usize;
    starts.push(0);
    for &d in durations {
        t += d as usize;
        starts.push(t);
    }
    let frame_of = |id: usize| starts[id.min(durations.len())];
    words
        .iter()
        .enumerate()
        .map(|(word, r)| WordTiming { word, start_sample: frame_of(r.start) * hop, end_sample: frame_of(r.end) * hop })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn words_start_where_their_first_phoneme_starts() {
        // ids:        ^  h  _  ə  _  ␠  _  l  _  o  _  $
        let durations = [2, 3, 1, 4, 0, 5, 1, 2, 1, 3, 1, 6];
        let t = word_timings(&durations, &[1..5, 7..11], 256);
        assert_eq!(
            t,
            vec![
                WordTiming { word: 0, start_sample: 2 * 256, end_sample: 10 * 256 },
                WordTiming { word: 1, start_sample: 16 * 256, end_sample: 23 * 256 },
            ]
        );
    }

    #[test]
    fn out_of_range_words_are_clamped_not_a_panic() {
        let one_word = [core::ops::Range { start: 0, end: 9 }];
        let t = word_timings(&[1, 1], &one_word, 10);
        assert_eq!(t[0].end_sample, 20);
    }
}
