//! Audio encodings for `parla say` and `parla serve`, each written piece by piece as audio
//! arrives: WAV and raw pcm (16-bit), FLAC (lossless), MP3 and Ogg Opus.

pub mod flac;
pub mod mp3;
pub mod opus;

use std::path::Path;

use crate::wav;
use flac::FlacStream;
use mp3::{Mp3Error, Mp3Stream};
use opus::OggOpus;

/// An audio encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// 16-bit mono WAV.
    Wav,
    /// Raw 16-bit little-endian mono samples at the voice's rate, no header.
    Pcm,
    /// Ogg Opus, 24 kHz mono, 32 kb/s.
    Opus,
    /// FLAC, lossless 16-bit mono at the voice's rate.
    Flac,
    /// MP3, 64 kb/s mono at the voice's rate, through the system's LAME library.
    Mp3,
}

impl Format {
    /// A format by its name (`wav`, `pcm`, `opus`, `flac`, `mp3`; any case).
    pub fn from_name(name: &str) -> Option<Format> {
        <Format as clap::ValueEnum>::from_str(name, true).ok()
    }

    /// The format a file name asks for by its extension (`.raw` and `.ogg` too).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "raw" => Some(Format::Pcm),
            "ogg" | "oga" => Some(Format::Opus),
            _ => Format::from_name(&ext),
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Wav => "wav",
            Format::Pcm => "pcm",
            Format::Opus => "opus",
            Format::Flac => "flac",
            Format::Mp3 => "mp3",
        }
    }

    /// The MIME type.
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

/// Why an encoder cannot be made, or failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The Opus encoder refused to start.
    #[error("opus at {rate} Hz: {message}")]
    Opus {
        /// The audio's rate.
        rate: u32,
        /// The encoder's reason.
        message: String,
    },
    /// The Opus encoder failed on some audio.
    #[error("opus coding failed: {0}")]
    OpusCoding(String),
    /// FLAC cannot code this rate.
    #[error("FLAC cannot code {0} Hz")]
    FlacRate(u32),
    /// No MP3 encoder here, it refused the rate, or it failed.
    #[error("{0}")]
    Mp3(#[from] Mp3Error),
}

/// The coder behind an [`Encoder`].
enum Coder {
    /// WAV (with its header first, `header` until written) or raw pcm.
    Pcm16 {
        header: bool,
        total: Option<usize>,
        buf: Vec<u8>,
    },
    /// Boxed: the Opus state is large (about 23 KB) beside the other coders.
    Opus(Box<OggOpus>),
    Flac(FlacStream),
    Mp3(Mp3Stream),
}

/// Turns float samples into the bytes of one encoded stream, piece by piece.
pub struct Encoder {
    sample_rate: u32,
    coder: Coder,
}

impl Encoder {
    /// An encoder for mono audio at `sample_rate`. `total`, the number of samples when it is
    /// known up front, goes into a WAV header; without it the header says "read to the end".
    pub fn new(format: Format, sample_rate: u32, total: Option<usize>) -> Result<Encoder, EncodeError> {
        let coder = match format {
            Format::Wav => Coder::Pcm16 { header: true, total, buf: Vec::new() },
            Format::Pcm => Coder::Pcm16 { header: false, total, buf: Vec::new() },
            Format::Opus => Coder::Opus(Box::new(OggOpus::new(sample_rate).map_err(|message| EncodeError::Opus { rate: sample_rate, message })?)),
            Format::Flac => Coder::Flac(FlacStream::new(sample_rate).ok_or(EncodeError::FlacRate(sample_rate))?),
            Format::Mp3 => Coder::Mp3(Mp3Stream::new(sample_rate)?),
        };
        Ok(Encoder { sample_rate, coder })
    }

    /// The bytes for these samples (and, first, any header). An error (only Opus and MP3
    /// can fail, inside their coder) ends the stream: the audio it was given is lost.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<u8>, EncodeError> {
        Ok(match &mut self.coder {
            Coder::Pcm16 { header, total, buf } => {
                let mut out = Vec::with_capacity(44 + samples.len() * 2);
                wav_header(header, *total, self.sample_rate, &mut out);
                wav::pcm16(samples, buf);
                out.extend_from_slice(buf);
                out
            }
            Coder::Opus(o) => o.push(samples).map_err(EncodeError::OpusCoding)?,
            Coder::Flac(f) => f.push(samples),
            Coder::Mp3(m) => m.push(samples)?,
        })
    }

    /// Whatever is left at the end of the stream.
    pub fn finish(&mut self) -> Result<Vec<u8>, EncodeError> {
        Ok(match &mut self.coder {
            Coder::Pcm16 { header, total, .. } => {
                let mut out = Vec::new();
                wav_header(header, *total, self.sample_rate, &mut out);
                out
            }
            Coder::Opus(o) => o.finish().map_err(EncodeError::OpusCoding)?,
            Coder::Flac(f) => f.finish(),
            Coder::Mp3(m) => m.finish()?,
        })
    }
}

/// Writes the WAV header if it is still owed, once.
fn wav_header(owed: &mut bool, total: Option<usize>, sample_rate: u32, out: &mut Vec<u8>) {
    if std::mem::take(owed) {
        // Writing into a Vec cannot fail.
        let _ = wav::write_header(out, sample_rate, total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_has_one_header_pcm_none() {
        let mut e = Encoder::new(Format::Wav, 22050, None).unwrap();
        let a = e.push(&[0.0, 0.5]).unwrap();
        let b = e.push(&[1.0]).unwrap();
        assert_eq!((a.len(), b.len()), (44 + 4, 2));
        assert_eq!(&a[40..44], &u32::MAX.to_le_bytes(), "streaming: length unknown");
        assert!(e.finish().unwrap().is_empty());
        let mut e = Encoder::new(Format::Wav, 22050, Some(3)).unwrap();
        assert_eq!(&e.push(&[0.0; 3]).unwrap()[40..44], &6u32.to_le_bytes(), "length known up front");
        let mut e = Encoder::new(Format::Pcm, 22050, None).unwrap();
        assert_eq!(e.push(&[0.0]).unwrap().len(), 2);
        assert_eq!(Encoder::new(Format::Wav, 8000, None).unwrap().finish().unwrap().len(), 44);
    }

    #[test]
    fn formats_by_name_and_file_name() {
        assert_eq!(Format::from_name("MP3"), Some(Format::Mp3));
        assert_eq!(Format::from_name("aac"), None);
        assert_eq!(Format::from_path(Path::new("a/b.FLAC")), Some(Format::Flac));
        assert_eq!(Format::from_path(Path::new("b.ogg")), Some(Format::Opus));
        assert_eq!(Format::from_path(Path::new("b.raw")), Some(Format::Pcm));
        assert_eq!(Format::from_path(Path::new("b.txt")), None);
        assert_eq!(Format::from_path(Path::new("-")), None);
        for f in [Format::Wav, Format::Pcm, Format::Opus, Format::Flac, Format::Mp3] {
            assert_eq!(Format::from_path(Path::new(&format!("x.{}", f.extension()))), Some(f));
        }
    }
}
