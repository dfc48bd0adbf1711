//! Audio encodings a response can have, each written as audio arrives.

use axum::body::Bytes;

use super::api_error::ApiError;
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
}

impl Format {
    /// Parses a `response_format` value (OpenAI's default is mp3; Parla's is wav).
    pub fn parse(name: Option<&str>) -> Result<Format, ApiError> {
        match name.map(str::to_ascii_lowercase).as_deref() {
            None | Some("wav") => Ok(Format::Wav),
            Some("pcm") => Ok(Format::Pcm),
            Some("opus") => Ok(Format::Opus),
            Some(f @ ("mp3" | "flac" | "aac")) => Err(ApiError::invalid(
                Some("response_format"),
                "unsupported_format",
                format!("response_format '{f}' is not supported by this server; use 'wav', 'pcm' or 'opus'."),
            )),
            Some(f) => Err(ApiError::invalid(
                Some("response_format"),
                "invalid_value",
                format!("Invalid response_format '{f}': expected one of 'wav', 'pcm', 'opus' (OpenAI's 'mp3', 'aac', 'flac' are not encoded here)."),
            )),
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Wav => "audio/wav",
            Format::Pcm => "audio/pcm",
            Format::Opus => "audio/ogg",
        }
    }
}

/// Turns float samples into the bytes of one response, piece by piece.
pub struct Encoder {
    format: Format,
    sample_rate: u32,
    header_done: bool,
    pcm: Vec<u8>,
    opus: Option<OggOpus>,
}

impl Encoder {
    /// An encoder for a stream at `sample_rate`.
    pub fn new(format: Format, sample_rate: u32) -> Result<Encoder, ApiError> {
        let opus = match format {
            Format::Opus => Some(OggOpus::new(sample_rate).map_err(|e| {
                ApiError::invalid(Some("response_format"), "unsupported_format", format!("opus at {sample_rate} Hz: {e}"))
            })?),
            _ => None,
        };
        Ok(Encoder { format, sample_rate, header_done: false, pcm: Vec::new(), opus })
    }

    /// The bytes for these samples (and, first, the header).
    pub fn push(&mut self, samples: &[f32]) -> Bytes {
        if let Some(o) = self.opus.as_mut() {
            return Bytes::from(o.push(samples));
        }
        let mut out = Vec::with_capacity(44 + samples.len() * 2);
        self.header(&mut out);
        wav::pcm16(samples, &mut self.pcm);
        out.extend_from_slice(&self.pcm);
        Bytes::from(out)
    }

    /// Whatever is left at the end of the stream.
    pub fn finish(&mut self) -> Bytes {
        if let Some(o) = self.opus.as_mut() {
            return Bytes::from(o.finish());
        }
        let mut out = Vec::new();
        self.header(&mut out);
        Bytes::from(out)
    }

    fn header(&mut self, out: &mut Vec<u8>) {
        if !self.header_done && self.format == Format::Wav {
            // Writing into a Vec cannot fail.
            let _ = wav::write_header(out, self.sample_rate, None);
        }
        self.header_done = true;
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
        assert_eq!(Format::parse(Some("mp3")).unwrap_err().code, "unsupported_format");
        assert_eq!(Format::parse(Some("ogg")).unwrap_err().code, "invalid_value");
    }
}
