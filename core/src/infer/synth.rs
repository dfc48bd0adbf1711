//! One utterance being synthesized, chunk by chunk.

use std::sync::Arc;
use std::vec::Vec;

use super::pulse::DecoderStream;
use super::voice::{Request, Voice};
use super::VoiceError;
use crate::chunk::{ChunkPlan, Window};
use crate::regulate::Latent;

/// A piece of audio from a [`Synthesis`].
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Index of the first frame in this chunk; `frame × hop` is its first sample.
    pub first_frame: usize,
    /// Mono samples at the voice's sample rate, nominally in [-1, 1].
    pub samples: Vec<f32>,
}

/// An utterance whose encoder has run: decodes one chunk per [`Synthesis::next_chunk`].
///
/// A voice that streams ([`Voice::streams`]) decodes each frame once, exactly, and chunk `i`
/// holds at least `request.chunking.keep(i)` frames (all that the pulses decoded gave: audio is
/// never held back). Otherwise chunk `i` is a window of `request.chunking.keep(i)` frames
/// decoded with context on both sides ([`crate::chunk`]). An utterance that fits in the first
/// chunk is decoded whole.
pub struct Synthesis {
    voice: Arc<Voice>,
    request: Request,
    durations: Vec<u32>,
    latent: Latent,
    plan: ChunkPlan,
    scratch: Vec<f32>,
    stream: Option<Streaming>,
}

/// Where a streamed utterance is.
struct Streaming {
    decoder: DecoderStream,
    index: usize,
    next_frame: usize,
}

impl Synthesis {
    pub(crate) fn new(voice: Arc<Voice>, request: Request, durations: Vec<u32>, latent: Latent) -> Result<Synthesis, super::VoiceError> {
        let plan = ChunkPlan::new(latent.frames, request.chunking);
        // An utterance asked for in one chunk is decoded whole: nothing to stream.
        let one_chunk = request.chunking.keep(0) >= latent.frames;
        let stream = match (!one_chunk).then(|| voice.stream_decoder(&latent, &request)).flatten() {
            Some(decoder) => Some(Streaming { decoder: decoder?, index: 0, next_frame: 0 }),
            None => None,
        };
        Ok(Synthesis { voice, request, durations, latent, plan, scratch: Vec::new(), stream })
    }

    /// Frames per phoneme id, as the encoder predicted.
    pub fn durations(&self) -> &[u32] {
        &self.durations
    }

    /// Total frames of the utterance.
    pub fn frames(&self) -> usize {
        self.latent.frames
    }

    /// Total samples the utterance will have.
    pub fn total_samples(&self) -> usize {
        self.latent.frames * self.voice.hop()
    }

    /// The regulated latents (`z_p`) being decoded.
    pub fn latent(&self) -> &Latent {
        &self.latent
    }

    /// Decodes the next chunk; `None` once the utterance is complete.
    pub fn next_chunk(&mut self) -> Option<Result<Chunk, VoiceError>> {
        if let Some(s) = self.stream.as_mut() {
            if s.decoder.remaining_frames() == 0 {
                return None;
            }
            let keep = self.request.chunking.keep(s.index);
            s.index += 1;
            let first_frame = s.next_frame;
            return Some(s.decoder.next(keep).map(|samples| {
                s.next_frame += samples.len().div_ceil(self.voice.hop());
                Chunk { first_frame, samples }
            }));
        }
        let w = self.plan.next()?;
        Some(self.decode_window(w, false))
    }

    fn decode_window(&mut self, w: Window, exact: bool) -> Result<Chunk, VoiceError> {
        let samples = self.voice.decode_chunk(&self.latent, w, exact, &self.request, &mut self.scratch)?;
        Ok(Chunk { first_frame: w.keep_start, samples })
    }

    /// The chunk plan and the latents, for a caller that schedules the windows itself (each
    /// window decodes independently of the others with [`Voice::decode_chunk`]).
    pub fn into_parts(self) -> (Vec<u32>, Latent, ChunkPlan) {
        (self.durations, self.latent, self.plan)
    }

    /// Whether chunks come from the exact streaming decoder (else from windows).
    pub fn is_streamed(&self) -> bool {
        self.stream.is_some()
    }

    /// Frames not yet handed out by [`Synthesis::next_chunk`].
    pub fn remaining_frames(&self) -> usize {
        match &self.stream {
            Some(s) => s.decoder.remaining_frames(),
            None => self.plan.remaining(),
        }
    }

    /// Decodes the whole utterance in one exact decoder call (the reference chunking must match).
    pub fn decode_whole(&mut self) -> Result<Vec<f32>, VoiceError> {
        let frames = self.latent.frames;
        let w = Window { start: 0, len: frames, keep_start: 0, keep_len: frames };
        Ok(self.decode_window(w, true)?.samples)
    }

    /// Decodes every remaining chunk and concatenates them.
    pub fn collect_all(&mut self) -> Result<Vec<f32>, VoiceError> {
        let mut out = Vec::with_capacity(self.total_samples());
        while let Some(chunk) = self.next_chunk() {
            out.extend_from_slice(&chunk?.samples);
        }
        Ok(out)
    }
}

impl Iterator for Synthesis {
    type Item = Result<Chunk, VoiceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk()
    }
}
