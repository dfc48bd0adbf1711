//! 16-bit mono PCM WAV output, written as audio arrives.

use std::io::{self, Write};

/// Size field value for a stream whose length is not known up front.
const UNKNOWN: u32 = u32::MAX;

/// Writes a WAV header for `samples` mono 16-bit samples (`None` when streaming an unknown
/// length: players read to the end of the stream).
pub fn write_header(out: &mut (impl Write + ?Sized), sample_rate: u32, samples: Option<usize>) -> io::Result<()> {
    let data = samples.and_then(|n| u32::try_from(n * 2).ok().filter(|&d| d <= UNKNOWN - 36));
    let (riff, data) = match data {
        Some(d) => (36 + d, d),
        None => (UNKNOWN, UNKNOWN),
    };
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // byte rate
    h.extend_from_slice(&2u16.to_le_bytes()); // block align
    h.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    out.write_all(&h)
}

/// One float sample as a 16-bit one: clipped to [-1, 1], rounded; NaN and infinities give 0.
/// Every 16-bit output (WAV, pcm, FLAC) converts through this, so they decode alike.
pub fn to_i16(s: f32) -> i16 {
    if s.is_finite() {
        (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
    } else {
        0
    }
}

/// Converts float samples to little-endian 16-bit PCM, clipping to [-1, 1], into `buf`.
pub fn pcm16(samples: &[f32], buf: &mut Vec<u8>) {
    buf.clear();
    buf.reserve(samples.len() * 2);
    for &s in samples {
        buf.extend_from_slice(&to_i16(s).to_le_bytes());
    }
}

/// Reads a 16-bit mono WAV (as written here) back into floats: for tests and benchmarks.
pub fn read_pcm16(bytes: &[u8]) -> Option<(u32, Vec<f32>)> {
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..16] != b"WAVEfmt " {
        return None;
    }
    let rate = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
    let data = &bytes[44..];
    Some((rate, data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32767.0).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_samples_round_trip() {
        let mut out = Vec::new();
        write_header(&mut out, 22050, Some(3)).unwrap();
        let mut buf = Vec::new();
        pcm16(&[0.5, -2.0, f32::NAN], &mut buf);
        out.extend_from_slice(&buf);
        assert_eq!(out.len(), 44 + 6);
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()), 42);
        let (rate, samples) = read_pcm16(&out).unwrap();
        assert_eq!(rate, 22050);
        assert_eq!(samples.len(), 3);
        assert!((samples[0] - 0.5).abs() < 1e-4);
        assert_eq!(samples[1], -1.0);
        assert_eq!(samples[2], 0.0);
    }

    #[test]
    fn streaming_header_has_open_length() {
        let mut out = Vec::new();
        write_header(&mut out, 16000, None).unwrap();
        assert_eq!(&out[40..44], &u32::MAX.to_le_bytes());
    }
}
