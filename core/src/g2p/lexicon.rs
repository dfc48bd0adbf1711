//! The embedded CMU Pronouncing Dictionary: lookup in the table core/build.rs writes (layout
//! described there): binary search over the blocks' first words, then a scan of one block.

use alloc::vec::Vec;

use super::phoneset::BLOCK;

static TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lexicon.bin"));

/// A phone: ARPAbet index (see `phoneset::ARPABET`) and stress (0, 1, 2; 0 for consonants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phone {
    /// Index in `ARPABET`.
    pub sym: u8,
    /// 0 unstressed, 1 primary, 2 secondary.
    pub stress: u8,
}

fn u32_at(i: usize) -> usize {
    let b = &TABLE[i..i + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
}

fn blocks() -> usize {
    if TABLE.len() < 4 {
        0
    } else {
        u32_at(0)
    }
}

/// Size of the embedded table in bytes.
pub fn table_bytes() -> usize {
    TABLE.len()
}

#[cfg_attr(not(test), allow(dead_code))]
/// How many blocks of words the embedded table has (0 when it was built without a dictionary).
pub fn block_count() -> usize {
    blocks()
}

/// Reads one entry at `pos`: rebuilds the word into `word` and returns the range of its phones
/// and the position of the next entry.
fn entry(data: &[u8], pos: usize, word: &mut Vec<u8>) -> (usize, usize, usize) {
    let shared = data[pos] as usize;
    word.truncate(shared);
    let mut p = pos + 1;
    loop {
        let b = data[p];
        word.push(b & 0x7f);
        p += 1;
        if b & 0x80 != 0 {
            break;
        }
    }
    let start = p;
    while data[p] & 0x80 == 0 {
        p += 1;
    }
    (start, p + 1, p + 1)
}

/// Looks a lowercase word up; appends its phones to `out` and returns true when found.
pub fn lookup(word: &str, out: &mut Vec<Phone>) -> bool {
    let n = blocks();
    if n == 0 || word.is_empty() {
        return false;
    }
    let data = &TABLE[4 + 4 * n..];
    let key = word.as_bytes();
    let mut buf = Vec::with_capacity(32);
    // The last block whose first word is <= key.
    let (mut lo, mut hi) = (0usize, n);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        entry(data, u32_at(4 + 4 * mid), &mut buf);
        if buf.as_slice() <= key {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut pos = u32_at(4 + 4 * lo);
    buf.clear();
    for _ in 0..BLOCK {
        if pos >= data.len() {
            break;
        }
        let (start, end, next) = entry(data, pos, &mut buf);
        match buf.as_slice().cmp(key) {
            core::cmp::Ordering::Equal => {
                out.extend(data[start..end].iter().map(|&b| {
                    let c = b & 0x7f;
                    Phone { sym: c % 39, stress: c / 39 }
                }));
                return true;
            }
            core::cmp::Ordering::Greater => break,
            core::cmp::Ordering::Less => pos = next,
        }
    }
    false
}
