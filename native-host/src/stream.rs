//! The streaming path, driven synchronously: text pieces → L1 segmenter → G2P → encoder →
//! decoder chunks → L3 frames → sink, with per-stage timing. Each segment starts speaking as
//! soon as its end is certain; the first decoder chunk of each segment is small.

use std::time::{Duration, Instant};

use parla_core::frames::{self, FlushPolicy, Flusher};
use parla_core::segment::{Policy, Segment, Segmenter};

use crate::engine::{Engine, Request, Started};
use crate::error::HostError;

/// Where time went, summed over a stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes {
    /// Segmenting text.
    pub segment: Duration,
    /// Normalisation and grapheme-to-phoneme.
    pub g2p: Duration,
    /// Encoder and length regulation.
    pub encoder: Duration,
    /// Decoder chunks.
    pub decoder: Duration,
    /// Framing and handing audio to the sink.
    pub buffering: Duration,
    /// From the first text to the first frame handed to the sink.
    pub first_audio: Option<Duration>,
    /// Samples handed to the sink.
    pub samples: usize,
    /// Text segments spoken.
    pub segments: usize,
}

impl StageTimes {
    /// One line of JSON, in milliseconds.
    pub fn to_json(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{{\"segment_ms\":{:.2},\"g2p_ms\":{:.2},\"encoder_ms\":{:.2},\"decoder_ms\":{:.2},\"buffering_ms\":{:.2},\"first_audio_ms\":{},\"samples\":{},\"segments\":{}}}",
            ms(self.segment),
            ms(self.g2p),
            ms(self.encoder),
            ms(self.decoder),
            ms(self.buffering),
            self.first_audio.map_or("null".into(), |d| format!("{:.2}", ms(d))),
            self.samples,
            self.segments
        )
    }
}

/// What a caller of [`speak_observed`] learns while a stream is spoken, and how it stops it.
pub trait Observer {
    /// Asked before each segment and each decoder chunk: `true` ends the stream with
    /// [`HostError::Cancelled`], so a stop takes effect within one chunk.
    fn cancelled(&self) -> bool {
        false
    }
    /// Segment number `index` (text `text`, phonemes `ipa`) has been encoded; its audio starts at
    /// `sample`, counted from the start of the stream.
    fn segment(&mut self, index: usize, text: &str, ipa: &str, started: &Started, sample: usize) {
        let _ = (index, text, ipa, started, sample);
    }
}

/// Observes nothing and never cancels.
impl Observer for () {}

/// Speaks text that arrives in pieces. `sink` receives 10 ms frames (flushed by the seed
/// design's rule); it may fail (a closed pipe), which ends the stream with that error.
pub fn speak<I, S>(
    engine: &mut dyn Engine,
    pieces: I,
    request: &Request,
    to_ipa: impl Fn(&str) -> String,
    sink: impl FnMut(&[f32]) -> Result<(), HostError>,
) -> Result<StageTimes, HostError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    speak_observed(engine, pieces, request, to_ipa, sink, &mut ())
}

/// [`speak`], telling `observer` where each segment starts and asking it whether to go on.
pub fn speak_observed<I, S>(
    engine: &mut dyn Engine,
    pieces: I,
    request: &Request,
    to_ipa: impl Fn(&str) -> String,
    mut sink: impl FnMut(&[f32]) -> Result<(), HostError>,
    observer: &mut dyn Observer,
) -> Result<StageTimes, HostError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let started = Instant::now();
    let mut times = StageTimes::default();
    let mut segmenter = Segmenter::new(Policy::default());
    let (mut writer, mut reader) = frames::ring(engine.sample_rate(), 64);
    let mut flusher = Flusher::new(FlushPolicy::default());
    let frame_len = writer.frame_len();
    let mut frame = vec![0f32; frame_len];
    let mut out = Vec::with_capacity(frame_len * 64);
    let mut chunk = Vec::new();
    let mut segments = Vec::new();

    // Moves every flushable frame from the ring to the sink.
    let mut drain = |reader: &mut frames::FrameReader,
                     flusher: &Flusher,
                     ended: bool,
                     times: &mut StageTimes|
     -> Result<(), HostError> {
        let now = started.elapsed().as_millis() as u64;
        if !flusher.should_flush(reader.ready_frames(), now, ended) {
            return Ok(());
        }
        out.clear();
        while reader.read_frame(&mut frame) {
            out.extend_from_slice(&frame);
        }
        if !out.is_empty() {
            times.first_audio.get_or_insert_with(|| started.elapsed());
            times.samples += out.len();
            sink(&out)?;
        }
        Ok(())
    };

    let mut pieces = pieces.into_iter();
    let mut ended = false;
    // Samples handed to the ring so far: where the next segment's audio starts.
    let mut fed = 0usize;
    while !ended {
        let t = Instant::now();
        match pieces.next() {
            Some(p) => segmenter.push(p.as_ref(), &mut segments),
            None => {
                segmenter.flush(&mut segments);
                ended = true;
            }
        }
        times.segment += t.elapsed();
        for segment in segments.drain(..) {
            match segment {
                Segment::Break { millis } => {
                    let silence = vec![0f32; engine.sample_rate() as usize * millis as usize / 1000];
                    fed += silence.len();
                    feed(&mut writer, &mut reader, &silence, &mut flusher, &started, &mut times, &mut drain)?;
                }
                Segment::Text { text, rate, .. } => {
                    let t = Instant::now();
                    let ipa = to_ipa(&text);
                    times.g2p += t.elapsed();
                    let mut req = *request;
                    req.scales.length_scale = (req.scales.length_scale / rate).clamp(0.05, 20.0);
                    if observer.cancelled() {
                        return Err(HostError::Cancelled);
                    }
                    let t = Instant::now();
                    let encoded = match engine.start(&ipa, &req) {
                        Ok(s) => s,
                        // A segment with nothing speakable (symbols only) is skipped, not fatal.
                        Err(HostError::Core(parla_core::Error::Empty)) => continue,
                        Err(e) => return Err(e),
                    };
                    times.encoder += t.elapsed();
                    observer.segment(times.segments, &text, &ipa, &encoded, fed);
                    times.segments += 1;
                    loop {
                        if observer.cancelled() {
                            return Err(HostError::Cancelled);
                        }
                        let t = Instant::now();
                        let more = engine.next_chunk(&mut chunk)?;
                        times.decoder += t.elapsed();
                        if !more {
                            break;
                        }
                        fed += chunk.len();
                        feed(&mut writer, &mut reader, &chunk, &mut flusher, &started, &mut times, &mut drain)?;
                    }
                }
            }
        }
    }
    let t = Instant::now();
    while !writer.finish() {
        drain(&mut reader, &flusher, true, &mut times)?;
    }
    drain(&mut reader, &flusher, true, &mut times)?;
    times.buffering += t.elapsed();
    Ok(times)
}

/// Pushes samples into the ring, handing frames to the sink whenever the ring fills up or the
/// flush rule says so.
fn feed(
    writer: &mut frames::FrameWriter,
    reader: &mut frames::FrameReader,
    samples: &[f32],
    flusher: &mut Flusher,
    started: &Instant,
    times: &mut StageTimes,
    drain: &mut impl FnMut(&mut frames::FrameReader, &Flusher, bool, &mut StageTimes) -> Result<(), HostError>,
) -> Result<(), HostError> {
    let t = Instant::now();
    let mut taken = 0;
    while taken < samples.len() {
        let n = writer.write(&samples[taken..]);
        taken += n;
        flusher.frames_arrived(started.elapsed().as_millis() as u64);
        // A full ring: hand everything over (the sink is the consumer here).
        drain(reader, flusher, n == 0, times)?;
    }
    times.buffering += t.elapsed();
    Ok(())
}

/// Reads a byte stream (stdin) as UTF-8 text pieces as they arrive, never splitting a character.
pub struct Utf8Pieces<R> {
    reader: R,
    carry: Vec<u8>,
}

impl<R: std::io::Read> Utf8Pieces<R> {
    /// Pieces of `reader`'s text.
    pub fn new(reader: R) -> Self {
        Utf8Pieces { reader, carry: Vec::new() }
    }
}

impl<R: std::io::Read> Iterator for Utf8Pieces<R> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let mut buf = [0u8; 512];
        loop {
            let n = match self.reader.read(&mut buf) {
                Ok(0) | Err(_) => {
                    // End: whatever is left, invalid bytes replaced.
                    return (!self.carry.is_empty()).then(|| String::from_utf8_lossy(&std::mem::take(&mut self.carry)).into_owned());
                }
                Ok(n) => n,
            };
            self.carry.extend_from_slice(&buf[..n]);
            let valid = match std::str::from_utf8(&self.carry) {
                Ok(s) => s.len(),
                // An incomplete character at the end waits; invalid bytes elsewhere are replaced.
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => self.carry.len(),
            };
            if valid > 0 {
                let rest = self.carry.split_off(valid);
                let piece = String::from_utf8_lossy(&std::mem::replace(&mut self.carry, rest)).into_owned();
                return Some(piece);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes a few at a time.
    struct Trickle(Vec<u8>, usize);
    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn pieces_never_split_a_character() {
        let text = "héllo 你好 wörld ✓";
        for step in 1..5 {
            let pieces: Vec<String> = Utf8Pieces::new(Trickle(text.as_bytes().to_vec(), step)).collect();
            assert_eq!(pieces.concat(), text, "step {step}");
        }
        let broken = Utf8Pieces::new(Trickle(vec![b'a', 0xff, b'b'], 1)).collect::<Vec<_>>().concat();
        assert_eq!(broken, "a\u{fffd}b");
    }
}
