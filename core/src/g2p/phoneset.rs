// The ARPAbet phoneme set of the CMU Pronouncing Dictionary, in the order the embedded lexicon
// codes them. Shared by core/build.rs (through `include!`) and the G2P, so keep it a bare list.
// Vowels come first: a phone is coded as its index, plus 39 × stress (0, 1, 2) for vowels.

#[allow(dead_code)] // read by build.rs
/// ARPAbet symbols: 15 vowels, then 24 consonants.
pub const ARPABET: [&str; 39] = [
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW", //
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
    "T", "TH", "V", "W", "Y", "Z", "ZH",
];

#[allow(dead_code)] // read by build.rs
/// How many of [`ARPABET`]'s symbols are vowels (they come first).
pub const VOWELS: usize = 15;

/// Entries per block of the embedded table: the first is stored whole, the rest front-coded.
pub const BLOCK: usize = 16;
