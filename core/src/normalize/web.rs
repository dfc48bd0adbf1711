//! URLs and e-mail addresses, read out character class by class: "`https://example.com/a`" →
//! H T T P S colon slash slash example dot com slash a; "john.doe@mail.org" → john dot doe at
//! mail dot org. Words are said or spelled like any word; numbers up to four digits are
//! cardinals, longer ones digit by digit.

use super::acronyms;
use super::numbers::{cardinal, digits, value};
use super::out::Out;

/// Top-level domains that make "name.tld" an address without a scheme.
const TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "io", "ai", "dev", "co", "uk", "de", "fr", "app", "info",
    "me", "us", "ca", "au", "eu", "ly", "gg", "tv", "xyz", "biz", "jp", "cn", "ru", "nl", "es",
    "it", "ch", "se", "no", "in", "br",
];

/// A character's name inside an address.
fn name(c: char) -> Option<&'static str> {
    Some(match c {
        '.' => "dot",
        '/' => "slash",
        ':' => "colon",
        '-' => "dash",
        '_' => "underscore",
        '@' => "at",
        '?' => "question mark",
        '=' => "equals",
        '&' => "and",
        '#' => "hash",
        '%' => "percent",
        '~' => "tilde",
        '+' => "plus",
        _ => return None,
    })
}

fn host_like(host: &str) -> bool {
    let mut labels = host.split('.');
    let ok = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let first = labels.next().unwrap_or("");
    let mut n = 1;
    let mut last = first;
    for l in labels {
        if !ok(l) {
            return false;
        }
        last = l;
        n += 1;
    }
    n >= 2
        && ok(first)
        && first.bytes().any(|b| b.is_ascii_alphabetic())
        && TLDS.iter().any(|t| t.eq_ignore_ascii_case(last))
}

/// Whether `s` is a URL or an e-mail address.
pub(crate) fn is_address(s: &str) -> bool {
    let lower_starts = |p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if s.contains("://") || lower_starts("www.") {
        return s.len() > 6;
    }
    if let Some((local, domain)) = s.split_once('@') {
        let local_ok = !local.is_empty()
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b));
        return local_ok && host_like(domain);
    }
    host_like(s.split('/').next().unwrap_or(""))
}

/// Reads an address.
pub(crate) fn read(s: &str, out: &mut Out) {
    let s = s.strip_suffix('/').unwrap_or(s);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let run = |f: fn(char) -> bool| rest.find(|x: char| !f(x)).unwrap_or(rest.len());
        if c.is_alphabetic() {
            let n = run(char::is_alphabetic);
            acronyms::word(&rest[..n], false, out);
            rest = &rest[n..];
        } else if c.is_ascii_digit() {
            let n = run(|x| x.is_ascii_digit());
            match value(&rest[..n]).filter(|_| n <= 4 && !rest.starts_with('0')) {
                Some(v) => cardinal(v, out),
                None => digits(&rest[..n], out),
            }
            rest = &rest[n..];
        } else {
            if let Some(w) = name(c) {
                out.words(w);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::out::render;
    use alloc::string::String;

    fn say(s: &str) -> String {
        render(|o| read(s, o))
    }

    #[test]
    fn addresses_are_recognised() {
        for s in [
            "https://example.com/a",
            "www.bbc.co.uk",
            "example.com",
            "john.doe@mail.org",
            "x.io/path",
        ] {
            assert!(is_address(s), "{s}");
        }
        for s in ["e.g", "Node.js", "3.14", "a@b", "file.txt", "U.S"] {
            assert!(!is_address(s), "{s}");
        }
    }

    #[test]
    fn addresses_are_read_out() {
        assert_eq!(
            say("https://example.com/a"),
            "H T T P S colon slash slash example dot com slash a"
        );
        assert_eq!(say("john.doe@mail.org"), "john dot doe at mail dot org");
        assert_eq!(
            say("www.site.com/2024/"),
            "W W W dot site dot com slash two thousand twenty four"
        );
    }
}
