//! MP3 (OpenAI's default `response_format`, which many clients ask for by name):
//! constant 64 kb/s mono at the voice's rate, through the system's LAME library (libmp3lame,
//! LGPL), loaded when the first mp3 is asked for (`PARLA_LAME` may name the file). Parla neither
//! links nor ships LAME: without it an mp3 request gets a clear error and every other format
//! still works.

use std::ffi::{c_int, c_void};
use std::ptr::NonNull;
use std::sync::OnceLock;

/// Bits per second: clear speech, a quarter of 16-bit PCM's size at 22 050 Hz.
const KBPS: c_int = 64;
/// LAME's `MPEG_mode` value for one channel.
const MONO: c_int = 3;
/// LAME's quality scale runs from 0 (best, slowest) to 9; 5 is its recommended default.
const QUALITY: c_int = 5;
/// Rates MPEG audio codes directly; others LAME resamples to one of these.
const MPEG_RATES: [u32; 9] = [8000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000];
/// Where the library is looked for.
const LIBRARY_NAMES: [&str; 4] = ["libmp3lame.so.0", "libmp3lame.so", "libmp3lame.0.dylib", "libmp3lame.dylib"];
/// An environment variable that names the library file to use instead.
pub const LIBRARY_ENV: &str = "PARLA_LAME";

/// Why an mp3 stream cannot be made.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Mp3Error {
    /// The LAME library is not installed, or lacks a function.
    #[error("mp3 needs the LAME library (libmp3lame; Debian: apt install libmp3lame0), which could not be loaded: {0}")]
    Missing(String),
    /// LAME refused the settings.
    #[error("the LAME library cannot code mono audio at {0} Hz")]
    Rate(u32),
    /// LAME failed while coding (its negative return code).
    #[error("the LAME library failed while coding (error {0})")]
    Coding(i32),
}

type Gfp = *mut c_void;

/// The LAME functions Parla calls, from a library that stays loaded.
struct Lame {
    init: unsafe extern "C" fn() -> Gfp,
    set_in_samplerate: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    set_out_samplerate: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    set_num_channels: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    set_mode: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    set_brate: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    set_quality: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    set_write_vbr_tag: unsafe extern "C" fn(Gfp, c_int) -> c_int,
    init_params: unsafe extern "C" fn(Gfp) -> c_int,
    encode_float: unsafe extern "C" fn(Gfp, *const f32, *const f32, c_int, *mut u8, c_int) -> c_int,
    flush: unsafe extern "C" fn(Gfp, *mut u8, c_int) -> c_int,
    close: unsafe extern "C" fn(Gfp) -> c_int,
    _library: libloading::Library,
}

impl Lame {
    /// Loads the library once per process.
    fn get() -> Result<&'static Lame, Mp3Error> {
        static LAME: OnceLock<Result<Lame, Mp3Error>> = OnceLock::new();
        LAME.get_or_init(Lame::load).as_ref().map_err(Clone::clone)
    }

    fn load() -> Result<Lame, Mp3Error> {
        let mut tried = Vec::new();
        let chosen = std::env::var_os(LIBRARY_ENV);
        let names: Vec<std::ffi::OsString> = match chosen {
            Some(path) => vec![path],
            None => LIBRARY_NAMES.iter().map(Into::into).collect(),
        };
        for name in names {
            // SAFETY: loading LAME runs no initialisation code with requirements on the caller.
            match unsafe { libloading::Library::new(name) } {
                Ok(library) => return Lame::bind(library),
                Err(e) => tried.push(e.to_string()),
            }
        }
        Err(Mp3Error::Missing(tried.join("; ")))
    }

    fn bind(library: libloading::Library) -> Result<Lame, Mp3Error> {
        macro_rules! f {
            ($name:literal) => {
                // SAFETY: the types match lame.h (3.99 and later) for this symbol, and the
                // pointer stays valid because the library is kept in the same struct.
                *unsafe { library.get($name) }.map_err(|e| Mp3Error::Missing(e.to_string()))?
            };
        }
        Ok(Lame {
            init: f!(b"lame_init"),
            set_in_samplerate: f!(b"lame_set_in_samplerate"),
            set_out_samplerate: f!(b"lame_set_out_samplerate"),
            set_num_channels: f!(b"lame_set_num_channels"),
            set_mode: f!(b"lame_set_mode"),
            set_brate: f!(b"lame_set_brate"),
            set_quality: f!(b"lame_set_quality"),
            set_write_vbr_tag: f!(b"lame_set_bWriteVbrTag"),
            init_params: f!(b"lame_init_params"),
            encode_float: f!(b"lame_encode_buffer_ieee_float"),
            flush: f!(b"lame_encode_flush"),
            close: f!(b"lame_close"),
            _library: library,
        })
    }
}

/// An MP3 stream being written.
pub struct Mp3Stream {
    lame: &'static Lame,
    gfp: NonNull<c_void>,
    /// Samples made safe for LAME (finite, within [-1, 1]).
    input: Vec<f32>,
    out: Vec<u8>,
}

// SAFETY: a LAME encoder is a self-contained object; `&mut self` methods use it from one thread
// at a time, and LAME keeps no thread-local state.
unsafe impl Send for Mp3Stream {}

impl Mp3Stream {
    /// A stream of mono audio at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Result<Mp3Stream, Mp3Error> {
        let lame = Lame::get()?;
        let rate = c_int::try_from(sample_rate).map_err(|_| Mp3Error::Rate(sample_rate))?;
        // SAFETY: each call gets the encoder `lame_init` made, before `lame_close`.
        unsafe {
            let gfp = NonNull::new((lame.init)()).ok_or(Mp3Error::Rate(sample_rate))?;
            let stream = Mp3Stream { lame, gfp, input: Vec::new(), out: Vec::new() };
            let g = gfp.as_ptr();
            (lame.set_in_samplerate)(g, rate);
            if MPEG_RATES.contains(&sample_rate) {
                (lame.set_out_samplerate)(g, rate);
            }
            (lame.set_num_channels)(g, 1);
            (lame.set_mode)(g, MONO);
            (lame.set_brate)(g, KBPS);
            (lame.set_quality)(g, QUALITY);
            // No Xing/LAME header frame: it would have to be rewritten at the end of the stream.
            (lame.set_write_vbr_tag)(g, 0);
            if (lame.init_params)(g) < 0 {
                return Err(Mp3Error::Rate(sample_rate));
            }
            Ok(stream)
        }
    }

    /// The MP3 frames these samples complete (LAME holds back up to about two frames).
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<u8>, Mp3Error> {
        self.input.clear();
        self.input.extend(samples.iter().map(|&s| if s.is_finite() { s.clamp(-1.0, 1.0) } else { 0.0 }));
        let mut done = Vec::new();
        // LAME's documented worst case for one call: 1.25 × samples + 7200 bytes.
        for part in self.input.chunks(1 << 16) {
            self.out.resize(part.len() * 5 / 4 + 7200, 0);
            let (ptr, len) = (part.as_ptr(), part.len() as c_int);
            // SAFETY: `part` holds `len` samples (the right channel is not read for mono) and
            // `out` has room for LAME's worst case.
            let n = unsafe { (self.lame.encode_float)(self.gfp.as_ptr(), ptr, ptr, len, self.out.as_mut_ptr(), self.out.len() as c_int) };
            done.extend_from_slice(&self.out[..coded(n)?]);
        }
        Ok(done)
    }

    /// The frames LAME still holds, padded to a whole frame.
    pub fn finish(&mut self) -> Result<Vec<u8>, Mp3Error> {
        self.out.resize(7200, 0);
        // SAFETY: `out` has the room LAME documents for a flush.
        let n = unsafe { (self.lame.flush)(self.gfp.as_ptr(), self.out.as_mut_ptr(), self.out.len() as c_int) };
        Ok(self.out[..coded(n)?].to_vec())
    }
}

/// Bytes LAME wrote, from its return value (negative: an error code).
fn coded(n: c_int) -> Result<usize, Mp3Error> {
    usize::try_from(n).map_err(|_| Mp3Error::Coding(n))
}

impl Drop for Mp3Stream {
    fn drop(&mut self) {
        // SAFETY: the encoder is closed once, here.
        unsafe { (self.lame.close)(self.gfp.as_ptr()) };
    }
}

impl std::fmt::Debug for Mp3Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mp3Stream").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    /// Decodes MP3 bytes with an independent decoder: (rate, samples).
    pub(crate) fn decode(bytes: Vec<u8>) -> (u32, Vec<f32>) {
        let src = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
        let mut hint = Hint::new();
        hint.with_extension("mp3");
        let probed = symphonia::default::get_probe().format(&hint, src, &FormatOptions::default(), &MetadataOptions::default()).unwrap();
        let mut format = probed.format;
        let track = format.default_track().unwrap();
        let rate = track.codec_params.sample_rate.unwrap();
        let mut decoder = symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()).unwrap();
        let mut out = Vec::new();
        while let Ok(packet) = format.next_packet() {
            let audio = decoder.decode(&packet).unwrap();
            let mut buf = SampleBuffer::<f32>::new(audio.capacity() as u64, *audio.spec());
            buf.copy_interleaved_ref(audio);
            out.extend_from_slice(buf.samples());
        }
        (rate, out)
    }

    /// The signal-to-noise ratio of `got` against `want`, at the delay that suits it best.
    fn best_snr_db(want: &[f32], got: &[f32], max_delay: usize) -> (usize, f64) {
        (0..max_delay)
            .map(|d| {
                let (mut s, mut e) = (0.0f64, 0.0f64);
                for (i, &w) in want.iter().enumerate() {
                    let g = got.get(i + d).copied().unwrap_or(0.0);
                    s += f64::from(w) * f64::from(w);
                    e += f64::from(w - g) * f64::from(w - g);
                }
                (d, 10.0 * (s / e.max(1e-12)).log10())
            })
            .fold((0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a })
    }

    #[test]
    fn streams_mp3_that_decodes_to_the_input() {
        // Half a second of a voiced sound, pushed in pieces as a stream would be.
        let x: Vec<f32> = (0..11_025)
            .map(|i| {
                let t = i as f32 / 22_050.0;
                (1..6).map(|h| 0.15 / h as f32 * (2.0 * std::f32::consts::PI * 150.0 * h as f32 * t).sin()).sum()
            })
            .collect();
        let mut m = Mp3Stream::new(22_050).unwrap();
        let mut bytes = Vec::new();
        for p in x.chunks(441) {
            bytes.extend(m.push(p).unwrap());
        }
        assert!(!bytes.is_empty(), "frames come out before the end");
        bytes.extend(m.finish().unwrap());
        assert_eq!(&bytes[..2], [0xFF, 0xF3], "MPEG-2 layer III frames, with no tag frame first");
        let (rate, y) = decode(bytes);
        assert_eq!(rate, 22_050);
        assert!(y.len() >= x.len() && y.len() < x.len() + 3 * 576 * 2, "{} samples for {}", y.len(), x.len());
        // LAME delays the audio by 1105 samples (576 + 529).
        let (delay, snr) = best_snr_db(&x[2000..9000], &y[2000..], 1600);
        assert!(snr > 15.0, "{snr:.1} dB at a delay of {delay}");
    }

    #[test]
    fn odd_rates_are_resampled_and_bad_samples_are_silenced() {
        let mut m = Mp3Stream::new(20_000).unwrap();
        let mut bytes = m.push(&[f32::NAN, f32::INFINITY, 4.0, -4.0].repeat(5000)).unwrap();
        bytes.extend(m.finish().unwrap());
        let (rate, y) = decode(bytes);
        assert!(MPEG_RATES.contains(&rate) && !y.is_empty());
        assert!(Mp3Stream::new(u32::MAX).is_err());
    }

    #[test]
    fn lame_errors_are_errors() {
        assert_eq!(coded(417).unwrap(), 417);
        assert!(matches!(coded(-1), Err(Mp3Error::Coding(-1))));
    }
}
