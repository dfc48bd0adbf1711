//! Phone numbers, read digit by digit in their groups with a pause between groups:
//! "555-123-4567", "(555) 123-4567", "+1 (555) 123-4567", "1-800-555-1234", "555-1234",
//! "+44 20 7946 0958".

use super::ctx::{Ctx, Took};
use super::numbers::digits;
use super::out::Out;
use alloc::vec::Vec;

/// Groups of digits in a chunk of digits and `+-.()` only; `None` for anything else.
fn groups<'a>(core: &'a str, into: &mut Vec<&'a str>) -> Option<()> {
    if !core.bytes().any(|b| b.is_ascii_digit())
        || !core
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.()".contains(&b))
    {
        return None;
    }
    into.extend(
        core.split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty()),
    );
    Some(())
}

/// Whether these groups, in this many chunks, look like a phone number.
fn phone_like(g: &[&str], plus: bool, separated: bool, chunks: usize) -> bool {
    let lens: Vec<usize> = g.iter().map(|x| x.len()).collect();
    let total: usize = lens.iter().sum();
    if plus {
        return g.len() >= 3 && (8..=15).contains(&total) && lens.iter().all(|&l| l <= 4);
    }
    if !separated {
        return false;
    }
    match lens.as_slice() {
        // A local number, in one chunk, not like a range "100-2000".
        [3, 4] => chunks == 1 && !g[0].starts_with(['0', '1']),
        [3, 3, 4] => true,
        [1, 3, 3, 4] => g[0] == "1",
        _ => false,
    }
}

/// Reads a phone number starting at the current chunk.
pub(crate) fn read(cx: &Ctx, out: &mut Out) -> Option<Took> {
    let first = cx.cur();
    let plus = first.core.starts_with('+');
    let mut g = Vec::new();
    let mut separated = false;
    let mut best = None;
    for k in 0..4 {
        let Some(ch) = cx.ahead(k) else { break };
        if k > 0 && !matches!(cx.ahead(k - 1).map(|p| p.trail), Some("" | ")")) {
            break;
        }
        if k > 0 && !matches!(ch.lead, "" | "(") {
            break;
        }
        // Only ASCII from here on; a '+' only opens the number.
        if groups(ch.core, &mut g).is_none()
            || ch.core[1..].contains('+')
            || (k > 0 && ch.core.starts_with('+'))
        {
            break;
        }
        separated |= ch.core.contains(['-', '.']) || ch.lead == "(" || ch.trail.starts_with(')');
        if phone_like(&g, plus, separated, k + 1) {
            best = Some((k + 1, g.len()));
        }
    }
    let (chunks, n) = best?;
    if plus {
        out.word("plus");
    }
    for (i, grp) in g[..n].iter().enumerate() {
        if i > 0 {
            out.pause();
        }
        digits(grp, out);
    }
    Some(Took::chunks(chunks))
}
