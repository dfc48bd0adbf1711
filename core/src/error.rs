//! The one error type of the `no_std` core.

use core::fmt;

/// What went wrong in the `no_std` part of the engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The voice config is not valid JSON, or a field has the wrong type.
    ConfigJson(serde_json::Error),
    /// The voice config parsed, but something a Piper voice needs is missing or wrong.
    ConfigInvalid(&'static str),
    /// A synthesis parameter is out of its range.
    Param {
        /// The parameter's name, as on the command line.
        name: &'static str,
        /// The value that was given.
        value: f32,
        /// Inclusive lower bound.
        min: f32,
        /// Inclusive upper bound.
        max: f32,
    },
    /// The voice has no speaker with this id.
    UnknownSpeaker {
        /// The requested speaker id.
        speaker: u32,
        /// How many speakers the voice has.
        speakers: u32,
    },
    /// The input is longer than one utterance may be.
    TooLong {
        /// What was too long (phoneme ids, frames, …).
        what: &'static str,
        /// Its length.
        len: usize,
        /// The largest length accepted.
        max: usize,
    },
    /// Nothing to speak: the input maps to no phonemes.
    Empty,
    /// A model output has a shape the engine cannot use.
    BadShape(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ConfigJson(e) => write!(f, "voice config is not valid JSON: {e}"),
            Error::ConfigInvalid(why) => write!(f, "voice config is invalid: {why}"),
            Error::Param { name, value, min, max } => {
                write!(f, "{name} = {value} is out of range [{min}, {max}]")
            }
            Error::UnknownSpeaker { speaker, speakers } => {
                write!(f, "speaker {speaker} does not exist (the voice has {speakers})")
            }
            Error::TooLong { what, len, max } => {
                write!(f, "input too long: {len} {what} (at most {max})")
            }
            Error::Empty => write!(f, "nothing to speak: the input has no known phonemes"),
            Error::BadShape(what) => write!(f, "unexpected model output shape: {what}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::ConfigJson(e) => Some(e),
            _ => None,
        }
    }
}
