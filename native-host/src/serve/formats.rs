//! Audio encodings a response can have, each written as audio arrives.

use axum::body::Bytes;

use super::api_error::ApiError;
use super::flac::FlacStream;
use super::mp3::Mp3Stream;
use super::opus::OggOpus;
use crate::wav;

/// What `response_format` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// 16-bit mono WAV with a streaming header (length fields 0xFFFFFFFF: read to the end).
    Wav,
    /// Raw 16-bit little-endian mono samples at the voice's rate (`X-Sample-Rate`); OpenAI's pcm
    /// is 24 kHz, Parla's is the voice's own rate (22 050 Hz for most Piper voices).
    Pcm,
    /// Ogg Opus, 24 kHz mono, 32 kb/s.
    Opus,
    /// FLAC, lossless 16-bit mono at the voice's rate.
    Flac,
    /// MP3, 64 kb/s mono at the voice's rate, through the system's LAME library.
    Mp3,
}

impl Format {
    /// Parses a `response_format` value (OpenAI's default is mp3; Parla's is wav).
    pub fn parse(name: Option<&str>) -> Result<Format, ApiError> {
        match name.map(str::to_ascii_lowercase).as_deref() {
            None | Some("wav") => Ok(Format::Wav),
            Some("pcm") => Ok(Format::Pcm),
            Some("opus") => Ok(Format::Opus),
            Some("flac") => Ok(Format::Flac),
            Some("mp3") => Ok(Format::Mp3),
            Some("aac") => Err(ApiError::invalid(
                Some("response_format"),
                "unsupported_format",
                "response_format 'aac' is not supported by this server; use 'mp3', 'opus', 'flac', 'wav' or 'pcm'.",
            )),
            Some(f) => Err(ApiError::invalid(
                Some("response_format"),
                "invalid_value",
                format!("Invalid response_format '{f}': expected one of 'mp3', 'opus', 'flac', 'wav', 'pcm'."),
            )),
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Wav => "audio/wav",
            Format::Pcm => "audio/pcm",
            Format::Opus => "audio/ogg",
            Format::Flac => "audio/flac",
            Format::Mp3 => "audio/mpeg",
        }
    }
}

/// The coder behind an [`Encoder`].
enum Coder {
    /// WAV (with its header first) or raw pcm.
    Pcm16 {
        header: bool,
        buf: Vec<u8>,
    },
    Opus(OggOpus),
    Flac(FlacStream),
    Mp3(Mp3Stream),
}

/// Turns float samples into the bytes of one response, piece by piece.
pub struct Encoder {
    sample_rate: u32,
    coder: Coder,
}

impl Encoder {
    /// An encoder for a stream at `sample_rate`; an error when this format cannot code it here.
    pub fn new(format: Format, sample_rate: u32) -> Result<Encoder, ApiError> {
        let unsupported = |m: String| ApiError::invalid(Some("response_format"), "unsupported_format", m);
        let coder = match format {
            Format::Wav => Coder::Pcm16 { header: true, buf: Vec::new() },
            Format::Pcm => Coder::Pcm16 { header: false, buf: Vec::new() },
            Format::Opus => Coder::Opus(OggOpus::new(sample_rate).map_err(|e| unsupported(format!("opus at {sample_rate} Hz: {e}")))?),
            Format::Flac => {
                Coder::Flac(FlacStream::new(sample_rate).ok_or_else(|| unsupported(format!("FLAC cannot code {sample_rate} Hz.")))?)
            }
            Format::Mp3 => Coder::Mp3(Mp3Stream::new(sample_rate).map_err(|e| unsupported(format!("{e}.")))?),
        };
        Ok(Encoder { sample_rate, coder })
    }

    /// The bytes for these samples (and, first, the header).
    pub fn push(&mut self, samples: &[f32]) -> Bytes {
        match &mut self.coder {
            Coder::Pcm16 { header, buf } => {
                let mut out = Vec::with_capacity(44 + samples.len() * 2);
                wav_header(header, self.sample_rate, &mut out);
                wav::pcm16(samples, buf);
                out.extend_from_slice(buf);
                Bytes::from(out)
            }
            Coder::Opus(o) => Bytes::from(o.push(samples)),
            Coder::Flac(f) => Bytes::from(f.push(samples)),
            Coder::Mp3(m) => Bytes::from(m.push(samples)),
        }
    }

    /// Whatever is left at the end of the stream.
    pub fn finish(&mut self) -> Bytes {
        match &mut self.coder {
            Coder::Pcm16 { header, .. } => {
                let mut out = Vec::new();
                wav_header(header, self.sample_rate, &mut out);
                Bytes::from(out)
            }
            Coder::Opus(o) => Bytes::from(o.finish()),
            Coder::Flac(f) => Bytes::from(f.finish()),
            Coder::Mp3(m) => Bytes::from(m.finish()),
        }
    }
}

/// Writes the streaming WAV header if it is still owed, once.
fn wav_header(owed: &mut bool, sample_rate: u32, out: &mut Vec<u8>) {
    if std::mem::take(owed) {
        // Writing into a Vec cannot fail.
        let _ = wav::write_header(out, sample_rate, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_has_one_streaming_header_pcm_none() {
        let mut e = Encoder::new(Format::Wav, 22050).unwrap();
        let a = e.push(&[0.0, 0.5]);
        let b = e.push(&[1.0]);
        assert_eq!((a.len(), b.len()), (44 + 4, 2));
        assert_eq!(&a[40..44], &u32::MAX.to_le_bytes());
        assert!(e.finish().is_empty());
        let mut e = Encoder::new(Format::Pcm, 22050).unwrap();
        assert_eq!(e.push(&[0.0]).len(), 2);
        assert_eq!(Encoder::new(Format::Wav, 8000).unwrap().finish().len(), 44);
    }

    #[test]
    fn formats_by_name() {
        assert_eq!(Format::parse(None).unwrap(), Format::Wav);
        assert_eq!(Format::parse(Some("PCM")).unwrap(), Format::Pcm);
        assert_eq!(Format::parse(Some("opus")).unwrap(), Format::Opus);
        assert_eq!(Format::parse(Some("MP3")).unwrap(), Format::Mp3);
        assert_eq!(Format::parse(Some("flac")).unwrap(), Format::Flac);
        assert_eq!(Format::parse(Some("aac")).unwrap_err().code, "unsupported_format");
        assert_eq!(Format::parse(Some("ogg")).unwrap_err().code, "invalid_value");
    }
}
