//! Whole-text tests of the English normalizer.

use super::{English, Normalizer};
use alloc::string::String;

fn n(s: &str) -> String {
    English.normalize(s)
}

#[test]
fn plain_text_passes_through() {
    assert_eq!(n("Hello, world."), "Hello, world.");
    assert_eq!(n(""), "");
    assert_eq!(n("   "), "");
}
