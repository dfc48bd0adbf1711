//! A voice split across two places: its encoder loaded in one, its decoder in another.
//!
//! Preparing a voice is mostly tract optimising its two halves, which take about as long as each
//! other (natively, for the default voice, ~130 ms the encoder and ~150 ms the decoder, after
//! ~25 ms of decoding and splitting the file that each side does). Where one thread prepares
//! everything (a browser worker), loading the halves in two places at once makes a voice ready in
//! less time: in a browser, 0.44 s instead of 0.6 s for the default voice (each side still
//! decodes the file). [`Part`] says which half [`super::Voice::load`] prepares:
//!
//! - [`Part::Encoder`]: the voice encodes ([`super::Voice::run_encoder`]) and nothing else;
//! - [`Part::Decoder`]: the voice synthesizes as a whole one does, asking an [`EncoderLink`] for
//!   what its encoder would compute. The noise is drawn on the decoder's side, so a seed gives the
//!   same audio as from a whole voice.

use std::sync::Arc;
use std::vec::Vec;

use super::VoiceError;

/// Which halves of a voice to prepare ([`super::LoadOptions::part`]).
#[derive(Clone, Default)]
pub enum Part {
    /// Both: the voice synthesizes on its own.
    #[default]
    Whole,
    /// The encoder only, to serve a voice loaded elsewhere with [`Part::Decoder`]. It cannot
    /// synthesize, and its [`super::Voice::hop`] is 0.
    Encoder,
    /// The decoder only: encoding is asked of the link.
    Decoder(Arc<dyn EncoderLink>),
}

impl core::fmt::Debug for Part {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Part::Whole => "Whole",
            Part::Encoder => "Encoder",
            Part::Decoder(_) => "Decoder(link)",
        })
    }
}

/// One run of the encoder: what a [`Part::Decoder`] voice sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderInput<'a> {
    /// Phoneme ids.
    pub ids: &'a [i64],
    /// Noise scale, length scale, noise width.
    pub scales: [f32; 3],
    /// Speaker id, for multi-speaker voices.
    pub speaker: Option<i64>,
    /// The duration predictor's noise, `2 × ids`, row-major.
    pub noise: &'a [f32],
}

/// What the encoder computes for one [`EncoderInput`]: what a [`Part::Decoder`] voice receives.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderOutput {
    /// Prior means, `channels × ids`, channel-major.
    pub m_p: Vec<f32>,
    /// Prior log-scales, same layout.
    pub logs_p: Vec<f32>,
    /// Frames per id, before rounding.
    pub w_ceil: Vec<f32>,
}

impl EncoderOutput {
    /// The three outputs end to end (`m_p`, `logs_p`, `w_ceil`): one buffer to send.
    pub fn to_flat(&self) -> Vec<f32> {
        [&self.m_p[..], &self.logs_p[..], &self.w_ceil[..]].concat()
    }

    /// Cuts a buffer of [`EncoderOutput::to_flat`] for `ids` phoneme ids back into the outputs;
    /// `None` if its length is not that of any channel count.
    pub fn from_flat(flat: &[f32], ids: usize) -> Option<EncoderOutput> {
        let per_output = flat.len().checked_sub(ids)? / 2;
        if ids == 0 || per_output == 0 || per_output % ids != 0 || 2 * per_output + ids != flat.len() {
            return None;
        }
        let (m_p, rest) = flat.split_at(per_output);
        let (logs_p, w_ceil) = rest.split_at(per_output);
        Some(EncoderOutput { m_p: m_p.to_vec(), logs_p: logs_p.to_vec(), w_ceil: w_ceil.to_vec() })
    }
}

/// Runs a voice's encoder where it was loaded ([`Part::Encoder`]), for a voice loaded with
/// [`Part::Decoder`]: another worker, another thread, another process.
pub trait EncoderLink: Send + Sync {
    /// What the encoder computes for `input`. The voice checks the outputs' lengths.
    fn encode(&self, input: &EncoderInput<'_>) -> Result<EncoderOutput, VoiceError>;
}

#[cfg(test)]
mod tests {
    use super::EncoderOutput;
    use std::vec;

    #[test]
    fn outputs_cut_back_as_they_were_joined() {
        let out = EncoderOutput { m_p: (0..6).map(|v| v as f32).collect(), logs_p: vec![7.0; 6], w_ceil: vec![1.0, 2.0] };
        let flat = out.to_flat();
        assert_eq!(flat.len(), 14);
        assert_eq!(EncoderOutput::from_flat(&flat, 2), Some(out));
    }

    #[test]
    fn a_buffer_of_no_channel_count_is_refused() {
        for (len, ids) in [(13, 2), (2, 2), (0, 0), (1, 2), (16, 3)] {
            assert_eq!(EncoderOutput::from_flat(&vec![0.0; len], ids), None, "{len} values for {ids} ids");
        }
    }
}
