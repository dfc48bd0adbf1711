//! Length regulation: from per-phoneme statistics to per-frame latents.
//!
//! The encoder gives, for each phoneme, a mean `m_p` and log-scale `logs_p` (one value per
//! channel) and a duration in frames. Each phoneme's column is repeated for its duration, and
//! seeded Gaussian noise scaled by `exp(logs_p) · noise_scale` is added:
//! `z_p = m_p + N(0, 1) · exp(logs_p) · noise_scale`. The decoder turns `z_p` into audio.

use alloc::vec;
use alloc::vec::Vec;

use crate::rng::Rng;
use crate::Error;

/// The most frames one utterance may have (about 12 minutes at 22 050 Hz, hop 256).
pub const MAX_FRAMES: usize = 1 << 16;

/// Per-frame latents of one utterance, laid out channel-major: `data[c * frames + t]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Latent {
    /// Number of channels (192 for Piper voices).
    pub channels: usize,
    /// Number of frames.
    pub frames: usize,
    /// `channels × frames` values.
    pub data: Vec<f32>,
}

impl Latent {
    /// Copies frames `start..start + len` of every channel into `out` (channel-major), each
    /// row followed by zeros up to `width` frames.
    pub fn window_into(&self, start: usize, len: usize, width: usize, out: &mut Vec<f32>) {
        out.clear();
        for c in 0..self.channels {
            let row = &self.data[c * self.frames..(c + 1) * self.frames];
            out.extend_from_slice(&row[start..start + len]);
            out.resize(out.len() + width.saturating_sub(len), 0.0);
        }
    }
}

/// Turns the encoder's ceiled durations into whole frame counts. NaN or negative values
/// (which a healthy model never gives) count as zero.
pub fn frame_counts(w_ceil: &[f32]) -> Vec<u32> {
    w_ceil
        .iter()
        .map(|&d| if d.is_finite() && d > 0.0 { d.min(u32::MAX as f32) as u32 } else { 0 })
        .collect()
}

/// Frames the silence before an utterance's first phoneme may last (93 ms at 22 050 Hz).
///
/// The voice was trained with BOS and PAD ids before the first phoneme. Their predicted
/// durations are stochastic (`noise_w`), and now and then they reach 0.5–0.6 s: piper-tts does
/// the same (measured: 0.04, 0.06 and 0.62 s of leading silence in three runs of one sentence).
/// A listener hears that as a late start, so Parla shortens it.
pub const MAX_LEAD_FRAMES: u32 = 8;

/// Caps the total duration of the first `lead` ids (the silent BOS and PAD before the first
/// phoneme) at `max` frames, taking the excess from the longest first.
pub fn cap_lead(durations: &mut [u32], lead: usize, max: u32) {
    let n = lead.min(durations.len());
    let lead = &mut durations[..n];
    let mut excess = lead.iter().sum::<u32>().saturating_sub(max);
    while excess > 0 {
        let Some(longest) = lead.iter_mut().max_by_key(|d| **d) else { return };
        let cut = excess.min(*longest);
        *longest -= cut;
        excess -= cut;
    }
}

/// Expands per-phoneme `m_p` / `logs_p` (`channels × phonemes`, channel-major) by `durations`
/// and adds noise. Like Piper, an utterance has at least one frame.
pub fn regulate(
    m_p: &[f32],
    logs_p: &[f32],
    channels: usize,
    durations: &[u32],
    noise_scale: f32,
    rng: &mut Rng,
) -> Result<Latent, Error> {
    let phonemes = durations.len();
    if channels == 0 || m_p.len() != channels * phonemes || logs_p.len() != m_p.len() {
        return Err(Error::BadShape("m_p / logs_p do not match the durations"));
    }
    let total: usize = durations.iter().map(|&d| d as usize).sum();
    if total > MAX_FRAMES {
        return Err(Error::TooLong { what: "frames", len: total, max: MAX_FRAMES });
    }
    let frames = total.max(1);
    let mut data = vec![0f32; channels * frames];
    for c in 0..channels {
        let row = &mut data[c * frames..(c + 1) * frames];
        let (m, logs) = (&m_p[c * phonemes..][..phonemes], &logs_p[c * phonemes..][..phonemes]);
        let mut t = 0;
        for (i, &d) in durations.iter().enumerate() {
            let scale = libm::expf(logs[i]) * noise_scale;
            for v in &mut row[t..t + d as usize] {
                *v = m[i] + rng.normal() * scale;
            }
            t += d as usize;
        }
        // The padding frame of an utterance with no duration at all: mean 0, log-scale 0.
        for v in &mut row[t..] {
            *v = rng.normal() * noise_scale;
        }
    }
    Ok(Latent { channels, frames, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_repeat_by_duration() {
        // 2 channels, 3 phonemes, durations 2, 0, 3; no noise.
        let m = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0];
        let logs = [0.0; 6];
        let z = regulate(&m, &logs, 2, &[2, 0, 3], 0.0, &mut Rng::new(1)).unwrap();
        assert_eq!(z.frames, 5);
        assert_eq!(z.data, [1.0, 1.0, 3.0, 3.0, 3.0, 10.0, 10.0, 30.0, 30.0, 30.0]);
        let mut w = Vec::new();
        z.window_into(1, 3, 3, &mut w);
        assert_eq!(w, [1.0, 3.0, 3.0, 10.0, 30.0, 30.0]);
        z.window_into(3, 2, 4, &mut w);
        assert_eq!(w, [3.0, 3.0, 0.0, 0.0, 30.0, 30.0, 0.0, 0.0]);
    }

    #[test]
    fn noise_is_scaled_by_exp_logs_and_seeded() {
        let m = [0.0; 2];
        let logs = [0.0, libm::logf(4.0)];
        let a = regulate(&m, &logs, 1, &[1000, 1000], 0.5, &mut Rng::new(3)).unwrap();
        let b = regulate(&m, &logs, 1, &[1000, 1000], 0.5, &mut Rng::new(3)).unwrap();
        assert_eq!(a, b);
        let std = |s: &[f32]| libm::sqrtf(s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32);
        let (first, second) = a.data.split_at(1000);
        assert!((std(first) - 0.5).abs() < 0.05, "{}", std(first));
        assert!((std(second) - 2.0).abs() < 0.2, "{}", std(second));
    }

    #[test]
    fn zero_total_duration_gives_one_frame() {
        let z = regulate(&[5.0], &[0.0], 1, &[0], 0.0, &mut Rng::new(1)).unwrap();
        assert_eq!((z.frames, z.data.as_slice()), (1, &[0.0][..]));
    }

    #[test]
    fn bad_shapes_and_huge_durations_are_errors() {
        assert!(regulate(&[1.0], &[0.0], 1, &[1, 1], 0.0, &mut Rng::new(1)).is_err());
        let big = [MAX_FRAMES as u32, 1];
        assert!(matches!(
            regulate(&[0.0; 2], &[0.0; 2], 1, &big, 0.0, &mut Rng::new(1)),
            Err(Error::TooLong { .. })
        ));
    }

    #[test]
    fn a_long_leading_silence_is_shortened_and_nothing_else() {
        let mut d = [30, 4, 5, 7];
        cap_lead(&mut d, 2, MAX_LEAD_FRAMES);
        assert_eq!(d, [4, 4, 5, 7]);
        let mut short = [3, 2, 9];
        cap_lead(&mut short, 2, MAX_LEAD_FRAMES);
        assert_eq!(short, [3, 2, 9], "a short lead is left alone");
        let mut all = [9, 9];
        cap_lead(&mut all, 5, 4);
        assert_eq!(all.iter().sum::<u32>(), 4);
    }

    #[test]
    fn frame_counts_clamp_garbage() {
        assert_eq!(frame_counts(&[3.0, -1.0, f32::NAN, 0.0, 2.0]), [3, 0, 0, 0, 2]);
    }
}
