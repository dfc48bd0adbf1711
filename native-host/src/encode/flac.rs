//! FLAC: lossless 16-bit mono at the voice's own rate, written a frame (1152 samples, 52 ms at
//! 22 050 Hz) at a time as audio arrives, so a player can start before the speech ends. It
//! decodes to exactly the samples of the `pcm` and `wav` outputs.
//!
//! Each frame has one subframe: CONSTANT when the block is one value (silence costs a few bytes),
//! else FIXED with the best polynomial predictor of order 0 to 4 and its residual Rice-coded in
//! up to 2^6 partitions, or VERBATIM when that is no smaller. STREAMINFO leaves the length and
//! the MD5 unknown (zero), as the format allows for a stream whose end is not known up front.

use crate::wav;

/// Samples per frame (the last frame of a stream may be shorter).
const BLOCK: usize = 1152;
/// The frame header's 4-bit code for [`BLOCK`].
const BLOCK_CODE: u64 = 0b0011;
/// Bits per sample.
const BITS: u32 = 16;
/// Highest order of FLAC's fixed predictors.
const MAX_ORDER: usize = 4;
/// At most 2^6 Rice partitions per subframe.
const MAX_PARTITION_ORDER: u32 = 6;
/// Highest Rice parameter of the 4-bit coding method (15 is its escape code).
const MAX_RICE: u32 = 14;
/// Highest sample rate STREAMINFO's 20-bit field holds.
const MAX_RATE: u32 = (1 << 20) - 1;

/// A FLAC stream being written.
#[derive(Debug)]
pub struct FlacStream {
    sample_rate: u32,
    /// Samples not yet in a frame (fewer than [`BLOCK`] between calls).
    pending: Vec<i32>,
    /// Number of the next frame.
    frame: u64,
    header_done: bool,
}

impl FlacStream {
    /// A stream at `sample_rate` Hz; `None` when FLAC cannot code that rate (0, or above
    /// 1 048 575 Hz).
    pub fn new(sample_rate: u32) -> Option<FlacStream> {
        (1..=MAX_RATE).contains(&sample_rate).then(|| FlacStream { sample_rate, pending: Vec::new(), frame: 0, header_done: false })
    }

    /// The bytes for these samples: the stream header first, then every whole frame they complete.
    pub fn push(&mut self, samples: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        self.header(&mut out);
        self.pending.extend(samples.iter().map(|&s| i32::from(wav::to_i16(s))));
        let whole = self.pending.len() / BLOCK * BLOCK;
        for block in self.pending[..whole].chunks_exact(BLOCK) {
            write_frame(block, self.frame, &mut out);
            self.frame += 1;
        }
        self.pending.drain(..whole);
        out
    }

    /// The last, shorter frame (and the header, for a stream with no audio).
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.header(&mut out);
        if !self.pending.is_empty() {
            write_frame(&self.pending, self.frame, &mut out);
            self.frame += 1;
            self.pending.clear();
        }
        out
    }

    /// `fLaC` and the STREAMINFO block, once.
    fn header(&mut self, out: &mut Vec<u8>) {
        if self.header_done {
            return;
        }
        self.header_done = true;
        out.extend_from_slice(b"fLaC");
        // The last metadata block (bit 7), of type STREAMINFO (0), 34 bytes long.
        out.extend_from_slice(&[0x80, 0, 0, 34]);
        let mut w = BitWriter::default();
        w.bits(BLOCK as u64, 16); // smallest block, the last one aside
        w.bits(BLOCK as u64, 16); // largest block
        w.bits(0, 24); // smallest frame: unknown
        w.bits(0, 24); // largest frame: unknown
        w.bits(u64::from(self.sample_rate), 20);
        w.bits(0, 3); // channels − 1
        w.bits(u64::from(BITS - 1), 5);
        w.bits(0, 4); // total samples (36 bits): unknown
        w.bits(0, 32);
        out.extend_from_slice(&w.buf);
        out.extend_from_slice(&[0; 16]); // MD5 of the audio: unknown
    }
}

/// Writes one frame: header, one subframe, padding to a byte, CRC-16.
#[allow(clippy::unusual_byte_groupings)] // grouped as the frame header's fields
fn write_frame(x: &[i32], number: u64, out: &mut Vec<u8>) {
    let mut w = BitWriter::default();
    w.bits(0xFFF8, 16); // sync code, fixed block size
    let n = x.len() as u64;
    let (code, size) = match x.len() {
        BLOCK => (BLOCK_CODE, None),
        1..=256 => (0b0110, Some((n - 1, 8))),
        _ => (0b0111, Some((n - 1, 16))),
    };
    w.bits(code << 4, 8); // block size code; sample rate 0b0000: as in STREAMINFO
    w.bits(0b0000_100_0, 8); // one channel; 16 bits per sample; reserved bit
    utf8(number, &mut w);
    if let Some((v, len)) = size {
        w.bits(v, len);
    }
    let crc = crc8(&w.buf);
    w.bits(u64::from(crc), 8);
    subframe(x, &mut w);
    w.align();
    let crc = crc16(&w.buf);
    out.extend_from_slice(&w.buf);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Writes the cheapest of CONSTANT, FIXED (orders 0 to 4) and VERBATIM for `x`.
#[allow(clippy::unusual_byte_groupings)] // grouped as the subframe header's fields
fn subframe(x: &[i32], w: &mut BitWriter) {
    if x.iter().all(|&v| v == x[0]) {
        w.bits(0b0_000000_0, 8);
        w.bits(u64::from(x[0] as u16), BITS);
        return;
    }
    // The residual of each order is the difference of the one below, from sample `order` on.
    let mut residuals: Vec<Vec<i32>> = vec![x.to_vec()];
    for order in 1..=MAX_ORDER.min(x.len() - 1) {
        let prev = &residuals[order - 1];
        let next = prev.windows(2).map(|p| p[1] - p[0]).collect();
        residuals.push(next);
    }
    let order = (0..residuals.len()).min_by_key(|&o| residuals[o].iter().map(|r| u64::from(r.unsigned_abs())).sum::<u64>()).unwrap_or(0);
    let plan = RicePlan::best(&residuals[order], x.len(), order);
    let fixed_bits = (order as u64) * u64::from(BITS) + 6 + plan.bits;
    if fixed_bits >= x.len() as u64 * u64::from(BITS) {
        w.bits(0b0_000001_0, 8);
        for &v in x {
            w.bits(u64::from(v as u16), BITS);
        }
        return;
    }
    w.bits((0b001000 | order as u64) << 1, 8);
    for &v in &x[..order] {
        w.bits(u64::from(v as u16), BITS);
    }
    w.bits(0b00, 2); // Rice coding with 4-bit parameters
    w.bits(u64::from(plan.order), 4);
    let mut rest = &residuals[order][..];
    for (i, &k) in plan.params.iter().enumerate() {
        let len = partition_len(x.len(), plan.order, order, i);
        let (part, tail) = rest.split_at(len);
        rest = tail;
        w.bits(u64::from(k), 4);
        for &r in part {
            w.rice(zigzag(r), k);
        }
    }
}

/// How a residual is cut into partitions, and each partition's Rice parameter.
struct RicePlan {
    order: u32,
    params: Vec<u32>,
    /// Bits of the partitions, parameters included.
    bits: u64,
}

impl RicePlan {
    /// The smallest plan for the residual of a block of `n` samples after a predictor of `order`.
    fn best(residual: &[i32], n: usize, order: usize) -> RicePlan {
        let mut best = RicePlan { order: 0, params: Vec::new(), bits: u64::MAX };
        for p in 0..=MAX_PARTITION_ORDER {
            if !n.is_multiple_of(1 << p) || n >> p <= order {
                break;
            }
            let (mut params, mut bits, mut start) = (Vec::with_capacity(1 << p), 0, 0);
            for i in 0..1 << p {
                let len = partition_len(n, p, order, i);
                let (k, b) = best_param(&residual[start..start + len]);
                start += len;
                params.push(k);
                bits += 4 + b;
            }
            if bits < best.bits {
                best = RicePlan { order: p, params, bits };
            }
        }
        best
    }
}

/// Residuals in partition `i` of `2^p`: the first partition starts after the warm-up samples.
fn partition_len(n: usize, p: u32, order: usize, i: usize) -> usize {
    (n >> p) - if i == 0 { order } else { 0 }
}

/// The Rice parameter that codes `part` in the fewest bits, and those bits.
fn best_param(part: &[i32]) -> (u32, u64) {
    let mut best = (0, u64::MAX);
    for k in 0..=MAX_RICE {
        let bits = part.len() as u64 * u64::from(k + 1) + part.iter().map(|&r| u64::from(zigzag(r) >> k)).sum::<u64>();
        if bits < best.1 {
            best = (k, bits);
        }
    }
    best
}

/// Signed to unsigned, small magnitudes first: 0, −1, 1, −2, … → 0, 1, 2, 3, …
fn zigzag(r: i32) -> u32 {
    ((r << 1) ^ (r >> 31)) as u32
}

/// The frame number in FLAC's UTF-8-like code (up to 36 bits, 7 bytes).
fn utf8(v: u64, w: &mut BitWriter) {
    let v = v & ((1 << 36) - 1);
    if v < 0x80 {
        w.bits(v, 8);
        return;
    }
    // A code of `len` bytes holds 7 − len bits in its first byte and 6 in each other one:
    // 11, 16, 21, 26, 31 or 36 bits.
    let payload = |len: u32| (7 - len) + 6 * (len - 1);
    let len = (2..=7).find(|&len| v < 1 << payload(len)).unwrap_or(7);
    let lead = (0xFF00u64 >> len) & 0xFF;
    w.bits(lead | (v >> (6 * (len - 1))), 8);
    for i in (0..len - 1).rev() {
        w.bits(0x80 | ((v >> (6 * i)) & 0x3F), 8);
    }
}

/// CRC-8 of a frame header (polynomial x^8 + x^2 + x + 1, initial 0).
fn crc8(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 };
        }
    }
    c
}

/// CRC-16 of a whole frame (polynomial x^16 + x^15 + x^2 + 1, initial 0).
fn crc16(bytes: &[u8]) -> u16 {
    let mut c = 0u16;
    for &b in bytes {
        c ^= u16::from(b) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 { (c << 1) ^ 0x8005 } else { c << 1 };
        }
    }
    c
}

/// Bits written most significant first.
#[derive(Default)]
struct BitWriter {
    buf: Vec<u8>,
    acc: u64,
    /// Bits in `acc` not yet in `buf` (fewer than 8 between calls).
    n: u32,
}

impl BitWriter {
    /// Writes the low `count` (≤ 32) bits of `v`.
    fn bits(&mut self, v: u64, count: u32) {
        debug_assert!(count <= 32);
        self.acc = (self.acc << count) | (v & ((1u64 << count) - 1));
        self.n += count;
        while self.n >= 8 {
            self.n -= 8;
            self.buf.push((self.acc >> self.n) as u8);
        }
        self.acc &= (1u64 << self.n) - 1;
    }

    /// `u` Rice-coded with parameter `k`: `u >> k` zeros, a one, then the low `k` bits.
    fn rice(&mut self, u: u32, k: u32) {
        let mut q = u >> k;
        while q >= 32 {
            self.bits(0, 32);
            q -= 32;
        }
        self.bits(1, q + 1);
        self.bits(u64::from(u), k);
    }

    /// Pads with zeros to a whole byte.
    fn align(&mut self) {
        if self.n > 0 {
            self.bits(0, 8 - self.n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `x` in pieces of `piece` samples, then decodes it with an independent decoder
    /// (claxon checks every header and frame CRC).
    fn round_trip(x: &[f32], piece: usize, rate: u32) -> (Vec<u8>, Vec<i32>) {
        let mut f = FlacStream::new(rate).unwrap();
        let mut bytes = Vec::new();
        for p in x.chunks(piece.max(1)) {
            bytes.extend(f.push(p));
        }
        bytes.extend(f.finish());
        let mut r = claxon::FlacReader::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let info = r.streaminfo();
        assert_eq!((info.sample_rate, info.channels, info.bits_per_sample), (rate, 1, 16));
        let decoded = r.samples().map(|s| s.unwrap()).collect();
        (bytes, decoded)
    }

    fn as_i16(x: &[f32]) -> Vec<i32> {
        x.iter().map(|&s| i32::from(wav::to_i16(s))).collect()
    }

    /// A reproducible mix: a falling tone, a little noise, and now and then a click to full scale.
    fn signal(n: usize) -> Vec<f32> {
        let mut seed = 7u32;
        (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1 << 24) as f32 - 0.5;
                let t = i as f32 / 22_050.0;
                let click = if i % 997 == 0 { 3.0 } else { 0.0 };
                0.4 * (2.0 * std::f32::consts::PI * (300.0 - 100.0 * t) * t).sin() + 0.05 * noise + click
            })
            .collect()
    }

    #[test]
    fn decodes_to_exactly_the_16_bit_samples_whatever_the_pieces() {
        let x = signal(5000);
        for piece in [1, 7, 700, 1152, 5000] {
            let (_, decoded) = round_trip(&x, piece, 22_050);
            assert_eq!(decoded, as_i16(&x), "pieces of {piece}");
        }
    }

    #[test]
    fn every_length_and_edge_value_survives() {
        for n in [0, 1, 2, 3, 4, 5, 255, 256, 257, 1151, 1152, 1153, 2304] {
            let x = signal(n);
            assert_eq!(round_trip(&x, 333, 24_000).1, as_i16(&x), "{n} samples");
        }
        let extremes = [1.0, -1.0, 1.0, -1.0, f32::NAN, f32::INFINITY, -2.0, 0.0, 1.0, 1.0];
        assert_eq!(round_trip(&extremes.repeat(300), 64, 16_000).1, as_i16(&extremes.repeat(300)));
    }

    #[test]
    fn silence_and_speechlike_audio_take_less_room_than_pcm() {
        let (bytes, _) = round_trip(&vec![0.0; 22_050], 512, 22_050);
        assert!(bytes.len() < 600, "a second of silence in {} bytes", bytes.len());
        // A voiced sound: harmonics of 120 Hz, with a little noise.
        let x: Vec<f32> = (0..22_050)
            .map(|i| {
                let t = i as f32 / 22_050.0;
                (1..6).map(|h| 0.1 / h as f32 * (2.0 * std::f32::consts::PI * 120.0 * h as f32 * t).sin()).sum::<f32>()
                    + 0.002 * ((i * 7919 % 101) as f32 / 50.0 - 1.0)
            })
            .collect();
        let (bytes, _) = round_trip(&x, 512, 22_050);
        // 59% of pcm when written (real speech: 50%, where libFLAC's default level gives 47%).
        assert!(bytes.len() < x.len() * 2 * 2 / 3, "{} bytes for {} of pcm", bytes.len(), x.len() * 2);
    }

    #[test]
    fn frames_come_out_as_soon_as_they_are_whole() {
        let mut f = FlacStream::new(22_050).unwrap();
        let head = f.push(&[0.1; 100]);
        assert_eq!(head.len(), 42, "fLaC and STREAMINFO only");
        assert!(f.push(&[0.1; BLOCK - 101]).is_empty());
        assert!(!f.push(&[0.1]).is_empty(), "the first frame is complete");
        assert!(f.finish().is_empty());
    }

    #[test]
    fn frame_numbers_are_coded_like_utf8() {
        for (v, want) in [(0u64, vec![0x00]), (0x7F, vec![0x7F]), (0x80, vec![0xC2, 0x80]), (0x800, vec![0xE0, 0xA0, 0x80])] {
            let mut w = BitWriter::default();
            utf8(v, &mut w);
            assert_eq!(w.buf, want, "{v:#x}");
        }
        let mut w = BitWriter::default();
        utf8((1 << 36) - 1, &mut w);
        assert_eq!(w.buf, [0xFE, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF]);
    }

    #[test]
    fn rates_flac_cannot_hold_are_refused() {
        assert!(FlacStream::new(0).is_none());
        assert!(FlacStream::new(MAX_RATE + 1).is_none());
        assert!(FlacStream::new(MAX_RATE).is_some());
    }
}
