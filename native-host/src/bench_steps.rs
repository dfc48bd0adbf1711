//! Which numbers of concurrent streams `parla bench-serve` plays, one step at a time.
//!
//! Given a list, the steps follow it until two in a row have underruns. Given none, the steps
//! search around the capacity target of issue 6, `0.9 × cores / RTF`, with the RTF measured in
//! the same run: the first step plays one stream, whose server CPU time per second of audio is
//! the RTF; the next plays the smallest whole number of streams that meets the target, and the
//! search goes up from there while steps are clean, or down while they are not. A run bounded
//! in time then spends its steps where the answer is, not on a ramp from one.

use std::collections::BTreeMap;

/// Share of the cores the capacity target allows the streams (issue 6: 0.9 × cores / RTF).
pub const TARGET_SHARE: f64 = 0.9;

/// The steps tried so far and the next one.
#[derive(Debug, Clone)]
pub struct Steps {
    /// The numbers to play in order; `None`: search around the target.
    listed: Option<Vec<usize>>,
    /// Whether each number played so far had no underrun and no failed request.
    clean: BTreeMap<usize, bool>,
    /// Steps in a row with underruns, in a listed run.
    bad_in_a_row: usize,
    /// The RTF measured with one stream, once played.
    rtf: Option<f64>,
    cores: usize,
}

impl Steps {
    /// Plays `listed` in order, or searches around the target when it is empty.
    pub fn new(listed: &[usize], cores: usize) -> Steps {
        let listed = (!listed.is_empty()).then(|| listed.to_vec());
        Steps { listed, clean: BTreeMap::new(), bad_in_a_row: 0, rtf: None, cores: cores.max(1) }
    }

    /// The capacity target, `0.9 × cores / RTF`, once one stream has been measured.
    pub fn target(&self) -> Option<f64> {
        self.rtf.filter(|r| r.is_finite() && *r > 0.0).map(|r| TARGET_SHARE * self.cores as f64 / r)
    }

    /// The RTF the target comes from: the server's CPU seconds per second of audio, one stream.
    pub fn rtf(&self) -> Option<f64> {
        self.rtf
    }

    /// The number of streams to play next, or `None` when the answer is known.
    pub fn next(&self) -> Option<usize> {
        if let Some(listed) = &self.listed {
            if self.bad_in_a_row >= 2 {
                return None;
            }
            return listed.iter().copied().find(|n| !self.clean.contains_key(n));
        }
        let Some(&one) = self.clean.get(&1) else { return Some(1) };
        let start = (self.target()?.ceil() as usize).max(2);
        if !one {
            return None;
        }
        match self.clean.get(&start) {
            None => Some(start),
            // Up while clean: the first number above not played yet, unless one above failed.
            Some(true) => {
                let above = (start + 1..).find(|n| self.clean.get(n) != Some(&true))?;
                (!self.clean.contains_key(&above)).then_some(above)
            }
            // Down while not: the first number below not played yet, unless one below was clean.
            Some(false) => {
                let below = (2..start).rev().find(|n| self.clean.get(n) != Some(&false))?;
                (!self.clean.contains_key(&below)).then_some(below)
            }
        }
    }

    /// Records how a step went. `rtf`: the server's CPU time per second of audio delivered.
    pub fn record(&mut self, n: usize, clean: bool, rtf: f64) {
        self.clean.insert(n, clean);
        self.bad_in_a_row = if clean { 0 } else { self.bad_in_a_row + 1 };
        if n == 1 && self.rtf.is_none() {
            self.rtf = Some(rtf);
        }
    }

    /// The largest number of streams played without underrun (0 if none).
    pub fn capacity(&self) -> usize {
        self.clean.iter().filter(|(_, c)| **c).map(|(n, _)| *n).max().unwrap_or(0)
    }

    /// The largest number up to which every step played was clean (0 if the first was not).
    pub fn all_clean(&self) -> usize {
        self.clean.iter().take_while(|(_, c)| **c).map(|(n, _)| *n).last().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays the steps against a server that stays clean up to `limit` streams.
    fn search(listed: &[usize], rtf: f64, limit: usize) -> (Vec<usize>, Steps) {
        let mut steps = Steps::new(listed, 2);
        let mut played = Vec::new();
        while let Some(n) = steps.next() {
            assert!(played.len() < 40, "the search does not end: {played:?}");
            played.push(n);
            steps.record(n, n <= limit, rtf);
        }
        (played, steps)
    }

    #[test]
    fn the_search_starts_at_the_target_and_climbs_while_clean() {
        // RTF 0.19 on 2 cores: target 9.47 streams, so 10 meet it.
        let (played, steps) = search(&[], 0.19, 11);
        assert_eq!(played, [1, 10, 11, 12]);
        assert_eq!((steps.capacity(), steps.all_clean()), (11, 11));
        assert!((steps.target().unwrap() - 1.8 / 0.19).abs() < 1e-9);
    }

    #[test]
    fn the_search_comes_down_from_a_target_it_misses() {
        // Target 0.9 × 2 / 0.25 = 7.2: 8 streams would meet it.
        let (played, steps) = search(&[], 0.25, 5);
        assert_eq!(played, [1, 8, 7, 6, 5]);
        assert_eq!((steps.capacity(), steps.all_clean()), (5, 5));
    }

    #[test]
    fn a_server_that_fails_one_stream_ends_the_search() {
        let (played, steps) = search(&[], 0.2, 0);
        assert_eq!(played, [1]);
        assert_eq!((steps.capacity(), steps.all_clean()), (0, 0));
        // No audio, no RTF: nothing to aim at.
        let (played, steps) = search(&[], f64::NAN, 4);
        assert_eq!(played, [1]);
        assert_eq!(steps.target(), None);
    }

    #[test]
    fn a_listed_run_stops_after_two_bad_steps() {
        let (played, steps) = search(&[1, 2, 4, 6, 8, 12], 0.2, 4);
        assert_eq!(played, [1, 2, 4, 6, 8]);
        assert_eq!((steps.capacity(), steps.all_clean()), (4, 4));
    }

    #[test]
    fn a_noisy_step_shows_in_all_clean_but_not_in_capacity() {
        let mut steps = Steps::new(&[1, 2, 3, 4], 2);
        for (n, clean) in [(1, true), (2, false), (3, true), (4, false)] {
            steps.record(n, clean, 0.2);
        }
        assert_eq!((steps.capacity(), steps.all_clean()), (3, 1));
    }
}
