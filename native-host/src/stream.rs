//! One stream through the multiplexer, driven from the calling thread: text pieces go in as
//! they arrive (from a second thread, so a slow source never stalls the audio), 10 ms frames
//! come out to a sink under the seed design's flush rule (≥ 3 frames ready, or 20 ms with
//! nothing new). `parla say`, `parla bench` and the server all synthesize through [`Mux`], so
//! there is one pipeline: segment → front end → encoder → decoder chunks → frames.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parla_core::frames::{FlushPolicy, Flusher};
use parla_core::sched::Stop;

use crate::error::HostError;
use crate::mux::{Event, Mux, Read, StreamSettings, StreamTimes};

/// What a stream produced, and where its time went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spoken {
    /// Per-stage times, and when the first audio was ready.
    pub times: StreamTimes,
    /// Samples handed to the sink.
    pub samples: usize,
    /// Text segments spoken.
    pub segments: usize,
}

impl Spoken {
    /// One line of JSON, in milliseconds.
    pub fn to_json(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let t = &self.times;
        format!(
            "{{\"normalize_ms\":{:.2},\"g2p_ms\":{:.2},\"encoder_ms\":{:.2},\"decoder_ms\":{:.2},\"first_audio_ms\":{},\"samples\":{},\"segments\":{}}}",
            ms(t.normalize),
            ms(t.g2p),
            ms(t.encoder),
            ms(t.decoder),
            t.first_audio.map_or("null".into(), |d| format!("{:.2}", ms(d))),
            self.samples,
            self.segments
        )
    }
}

/// Speaks text that arrives in `pieces` as one stream of `mux`. `sink` receives the audio in
/// batches of whole 10 ms frames; if it fails (a closed pipe, say), the stream is cancelled and
/// that error returned.
pub fn speak<I, S>(
    mux: &Mux,
    pieces: I,
    settings: StreamSettings,
    mut sink: impl FnMut(&[f32]) -> Result<(), HostError>,
) -> Result<Spoken, HostError>
where
    I: IntoIterator<Item = S> + Send,
    S: AsRef<str>,
{
    let mut listener = mux.open(settings)?;
    let handle = listener.handle();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let feeder = scope.spawn(|| {
            let fed = (|| {
                for piece in pieces {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    mux.push(handle, piece.as_ref(), false)?;
                }
                mux.push(handle, "", true)
            })();
            if fed.is_err() {
                // The listener would otherwise wait for text that never comes.
                let _ = mux.cancel(handle);
            }
            fed
        });
        let played = play(&mut listener, &mut sink);
        if played.is_err() {
            stop.store(true, Ordering::Relaxed);
            let _ = mux.cancel(handle);
        }
        let fed = feeder.join().unwrap_or(Err(HostError::Stopped("the text reader panicked".into())));
        let spoken = played?;
        fed?;
        Ok(spoken)
    })
}

/// Reads the listener to its end, handing frames to `sink` by the flush rule.
fn play(listener: &mut crate::mux::Listener, sink: &mut impl FnMut(&[f32]) -> Result<(), HostError>) -> Result<Spoken, HostError> {
    let started = Instant::now();
    let now = || started.elapsed().as_millis() as u64;
    let frame_len = listener.frame_len();
    let mut flusher = Flusher::new(FlushPolicy::default());
    let mut batch = Vec::new();
    let mut spoken = Spoken::default();
    let mut stopped = None;
    loop {
        let read = listener.read(&mut batch, Duration::from_millis(5));
        if let Read::Frames(_) = read {
            flusher.frames_arrived(now());
        }
        for event in listener.events() {
            match event {
                Event::Segment { .. } => spoken.segments += 1,
                Event::Stopped { reason: Stop::Cancelled, .. } => stopped = Some(HostError::Cancelled),
                Event::Stopped { reason: Stop::Expired, .. } => stopped = Some(HostError::Stopped("its deadline passed".into())),
                Event::Stopped { reason: Stop::Failed, message } => {
                    stopped = Some(HostError::Stopped(message.unwrap_or_else(|| "a step failed".into())))
                }
                _ => {}
            }
        }
        let ended = read == Read::End;
        if !batch.is_empty() && flusher.should_flush(batch.len() / frame_len, now(), ended) {
            spoken.samples += batch.len();
            sink(&batch)?;
            batch.clear();
        }
        if ended {
            spoken.times = listener.times();
            return match stopped {
                Some(e) => Err(e),
                None => Ok(spoken),
            };
        }
    }
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
