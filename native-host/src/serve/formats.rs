//! `response_format` as OpenAI's API spells it, and its errors.

use super::api_error::ApiError;
use crate::encode::{Encoder, Format};

/// Parses a `response_format` value (OpenAI's default is mp3; Parla's is wav).
pub fn response_format(name: Option<&str>) -> Result<Format, ApiError> {
    match name {
        None => Ok(Format::Wav),
        Some(n) if n.eq_ignore_ascii_case("aac") => Err(ApiError::invalid(
            Some("response_format"),
            "unsupported_format",
            "response_format 'aac' is not supported by this server; use 'mp3', 'opus', 'flac', 'wav' or 'pcm'.",
        )),
        Some(n) => Format::from_name(n).ok_or_else(|| {
            ApiError::invalid(
                Some("response_format"),
                "invalid_value",
                format!("Invalid response_format '{n}': expected one of 'mp3', 'opus', 'flac', 'wav', 'pcm'."),
            )
        }),
    }
}

/// An encoder for a response, or the error for a format this server cannot make.
pub fn encoder(format: Format, sample_rate: u32) -> Result<Encoder, ApiError> {
    Encoder::new(format, sample_rate, None).map_err(|e| ApiError::invalid(Some("response_format"), "unsupported_format", format!("{e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        assert_eq!(response_format(None).unwrap(), Format::Wav);
        assert_eq!(response_format(Some("PCM")).unwrap(), Format::Pcm);
        assert_eq!(response_format(Some("mp3")).unwrap(), Format::Mp3);
        assert_eq!(response_format(Some("flac")).unwrap(), Format::Flac);
        assert_eq!(response_format(Some("aac")).unwrap_err().code, "unsupported_format");
        assert_eq!(response_format(Some("ogg")).unwrap_err().code, "invalid_value");
    }
}
