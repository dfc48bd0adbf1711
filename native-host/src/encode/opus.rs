//! Ogg Opus: the voice's audio resampled to 24 kHz (Opus codes
//! 8/12/16/24/48 kHz only), coded in 20 ms packets by the pure-Rust `opus-pure` encoder and
//! muxed into small Ogg pages so a player can start early.

use opus_pure::{Application, OggOpusWriter, OpusEncoder, OpusHead, MAX_PACKET_BYTES};

/// Opus' rate here: wideband speech needs no more.
const RATE: u32 = 24_000;
/// 20 ms at [`RATE`].
const FRAME: usize = RATE as usize / 50;
/// Bits per second: clear speech at a tenth of 16-bit PCM's size.
const BITRATE: i32 = 32_000;

/// Half the taps of the resampling filter, per side.
const HALF: i64 = 12;

/// A streaming windowed-sinc resampler for mono audio.
#[derive(Debug)]
pub struct Resampler {
    from: u64,
    to: u64,
    /// Input samples from absolute index `base` on.
    buf: Vec<f32>,
    base: i64,
    /// Absolute index of the next output sample.
    next: u64,
    cutoff: f64,
}

impl Resampler {
    /// From `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Resampler {
        // Below both Nyquist frequencies, with a little room for the window's transition.
        let cutoff = 0.92 * (to as f64 / from as f64).min(1.0);
        Resampler { from: from as u64, to: to as u64, buf: Vec::new(), base: 0, next: 0, cutoff }
    }

    /// Resamples what can be resampled of `input` (and earlier input) into `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.buf.extend_from_slice(input);
        let end = self.base + self.buf.len() as i64;
        loop {
            let pos = self.next * self.from;
            let i = (pos / self.to) as i64;
            let frac = (pos % self.to) as f64 / self.to as f64;
            if i + HALF >= end {
                break;
            }
            let mut acc = 0.0f64;
            for j in (i - HALF + 1)..=(i + HALF) {
                if j < self.base {
                    continue;
                }
                let d = (j - i) as f64 - frac;
                let x = d * self.cutoff;
                let sinc = if x.abs() < 1e-9 { 1.0 } else { (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x) };
                let window = 0.5 + 0.5 * (std::f64::consts::PI * d / HALF as f64).cos();
                acc += self.buf[(j - self.base) as usize] as f64 * sinc * self.cutoff * window;
            }
            out.push(acc as f32);
            self.next += 1;
        }
        // Keep only what later outputs still read.
        let keep_from = ((self.next * self.from / self.to) as i64 - HALF).max(self.base);
        self.buf.drain(..(keep_from - self.base) as usize);
        self.base = keep_from;
    }

    /// Resamples the rest, as if silence followed.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let total_in = self.base + self.buf.len() as i64;
        let total_out = (total_in as u64 * self.to).div_ceil(self.from);
        self.push(&[0.0; 2 * HALF as usize + 2], out);
        let extra = (self.next.saturating_sub(total_out)) as usize;
        out.truncate(out.len().saturating_sub(extra));
    }
}

/// An Ogg Opus stream written piece by piece.
pub struct OggOpus {
    resampler: Resampler,
    encoder: OpusEncoder,
    writer: Option<OggOpusWriter<Vec<u8>>>,
    pre_skip: u64,
    pending: Vec<f32>,
    resampled: Vec<f32>,
    packet: Vec<u8>,
    /// Samples of real audio at 24 kHz.
    total: u64,
}

impl OggOpus {
    /// A stream for audio at `sample_rate`; the headers are ready at once.
    pub fn new(sample_rate: u32) -> Result<OggOpus, String> {
        let mut encoder = OpusEncoder::new(RATE as i32, 1, Application::Voip).map_err(|e| e.to_string())?;
        encoder.bitrate_bps = BITRATE;
        let head = OpusHead::for_encoder(&encoder, sample_rate);
        let pre_skip = u64::from(head.pre_skip);
        let mut writer = OggOpusWriter::new(Vec::new(), head).map_err(|e| e.to_string())?;
        // Small pages (about 0.25 s each at this bitrate): early first audio.
        writer.set_page_target(1024);
        Ok(OggOpus {
            resampler: Resampler::new(sample_rate, RATE),
            encoder,
            writer: Some(writer),
            pre_skip,
            pending: Vec::new(),
            resampled: Vec::new(),
            packet: vec![0; MAX_PACKET_BYTES],
            total: 0,
        })
    }

    /// Codes `samples`; returns the bytes of every page completed so far.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<u8>, String> {
        self.resampled.clear();
        self.resampler.push(samples, &mut self.resampled);
        self.total += self.resampled.len() as u64;
        self.pending.extend_from_slice(&self.resampled);
        self.encode_frames(None)?;
        Ok(self.take())
    }

    /// Codes the rest and ends the stream (gapless: the last page says where the audio ends).
    pub fn finish(&mut self) -> Result<Vec<u8>, String> {
        self.resampled.clear();
        self.resampler.finish(&mut self.resampled);
        self.total += self.resampled.len() as u64;
        self.pending.extend_from_slice(&self.resampled);
        // The encoder runs pre-skip behind: flush it with silence, up to whole frames.
        let ticks = 48_000 / RATE as u64;
        let lookahead = self.pre_skip.div_ceil(ticks) as usize;
        let frames = (self.pending.len() + lookahead).div_ceil(FRAME).max(1);
        self.pending.resize(frames * FRAME, 0.0);
        let final_granule = self.pre_skip + self.total * ticks;
        self.encode_frames(Some(final_granule))?;
        let mut out = self.take();
        if let Some(w) = self.writer.take() {
            out.extend_from_slice(&w.finish().map_err(|e| e.to_string())?);
        }
        Ok(out)
    }

    fn encode_frames(&mut self, final_granule: Option<u64>) -> Result<(), String> {
        let Some(writer) = self.writer.as_mut() else { return Ok(()) };
        let frames = self.pending.len() / FRAME;
        for f in 0..frames {
            let block = &self.pending[f * FRAME..(f + 1) * FRAME];
            let n = self.encoder.encode(block, FRAME, &mut self.packet).map_err(|e| e.to_string())?;
            let last = f + 1 == frames;
            let written = match final_granule {
                Some(g) if last => {
                    let duration = g.saturating_sub(writer.granule() as u64).max(1) as u32;
                    writer.write_packet_with_duration(&self.packet[..n], duration)
                }
                _ => writer.write_packet(&self.packet[..n]),
            };
            written.map_err(|e| e.to_string())?;
        }
        self.pending.drain(..frames * FRAME);
        Ok(())
    }

    fn take(&mut self) -> Vec<u8> {
        self.writer.as_mut().and_then(|w| w.get_mut()).map(std::mem::take).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_keeps_a_tone_and_the_length() {
        let tone: Vec<f32> = (0..22050).map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 22050.0).sin() * 0.5).collect();
        let mut r = Resampler::new(22050, 24000);
        let mut out = Vec::new();
        for piece in tone.chunks(333) {
            r.push(piece, &mut out);
        }
        r.finish(&mut out);
        assert_eq!(out.len(), 24000);
        // Compare with the tone computed at 24 kHz, away from the edges.
        let err = (100..23900)
            .map(|i| (out[i] - (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 24000.0).sin() * 0.5).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn ogg_opus_stream_is_well_formed() {
        let mut o = OggOpus::new(22050).unwrap();
        let mut bytes = o.push(&[]).unwrap();
        assert!(bytes.starts_with(b"OggS"), "headers come first");
        let tone: Vec<f32> = (0..44100).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        for piece in tone.chunks(2205) {
            bytes.extend(o.push(piece).unwrap());
        }
        bytes.extend(o.finish().unwrap());
        let mut reader = opus_pure::OggOpusReader::new(std::io::Cursor::new(bytes)).unwrap();
        let head = reader.head().clone();
        let mut decoder = head.decoder(48_000).unwrap();
        let mut trim = opus_pure::Trim::new(&head, 48_000, 1).unwrap();
        let mut pcm = vec![0f32; 5760];
        let mut total = 0;
        while let Some(p) = reader.read_packet().unwrap() {
            let n = decoder.decode(&p.data, 5760, &mut pcm).unwrap();
            total += trim.keep(&p, &pcm[..n]).len();
        }
        // Two seconds at 48 kHz, give or take the resampler's rounding.
        assert!((total as i64 - 96_000).abs() <= 4, "{total}");
    }
}
