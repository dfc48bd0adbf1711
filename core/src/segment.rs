//! L1: cutting text into segments as it arrives.
//!
//! Text can be pushed whole or in pieces (an LLM emitting tokens). A segment is emitted as soon
//! as its end is certain: sentence and clause punctuation (`. ! ? ; : ,` and CJK `。！？；，、：`),
//! newlines, and `<break>` tags. Abbreviations (`Dr. Smith`), initials (`J. Smith`), decimals
//! (`3.14`), thousands (`1,000`) and times (`10:30`) are not taken for ends. The first segment is
//! kept short so the first audio comes early; a run-on segment is split at the best word
//! boundary. A small SSML subset is understood: `<speak>`, `<break time="250ms"/>` (or
//! `strength="strong"`), and `<prosody rate="slow">…</prosody>`; other tags are dropped.
//! [`Segmenter::flush`] ends the stream.
//!
//! Text that stops coming in the middle of a clause (an LLM that pauses to call a tool after
//! "Let me look that up") would otherwise wait, unspoken, for its punctuation. A caller that
//! passes the time with [`Segmenter::push_at`] can ask [`Segmenter::idle_deadline`] when such
//! text has waited [`Policy::idle_ms`] and the listener's audio is about to run out, and
//! [`Segmenter::cut_idle`] then speaks it. Text that keeps flowing is never cut this way, so its
//! clauses keep their prosody.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

/// Why a text segment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `.`, `!`, `?` or their CJK forms.
    Sentence,
    /// `,`, `;`, `:` or their CJK forms.
    Clause,
    /// A line break.
    Newline,
    /// A tag (`<break>`, a rate change) cut the text.
    Tag,
    /// The segment reached its length limit and was split at a word boundary.
    Length,
    /// No text came for [`Policy::idle_ms`] and what was held was spoken.
    Idle,
    /// The stream was flushed.
    Flush,
}

/// One unit of work for synthesis.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Text to speak.
    Text {
        /// Cleaned text (tags and entities resolved, white space collapsed), with its final
        /// punctuation: Piper voices use it for prosody.
        text: String,
        /// Speaking-rate multiplier from `<prosody rate>` (1.0 when none).
        rate: f32,
        /// Why the segment ended.
        end: End,
        /// Byte range of the segment in the stream as pushed (tags included).
        source: Range<usize>,
    },
    /// Silence, from `<break>`.
    Break {
        /// Its length in milliseconds.
        millis: u32,
    },
}

/// Where to cut, and length limits in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The first segment is split at a word boundary once it is this long.
    pub first_max_chars: usize,
    /// Every later segment is split once it is this long.
    pub max_chars: usize,
    /// Whether clause punctuation (`,` `;` `:` and CJK forms) ends a segment. Cutting there
    /// gives earlier audio; keeping whole sentences gives the voice the prosody it was trained on.
    pub clauses: bool,
    /// How long held text may wait for more before [`Segmenter::cut_idle`] speaks it (only for
    /// text pushed with [`Segmenter::push_at`]), at least: a slow source is waited for
    /// [`GAP_FACTOR`] times its usual gap, and fewer than [`MIN_WORDS`] words longer still.
    /// `None`: text waits for its end however long.
    pub idle_ms: Option<u32>,
}

/// How long streamed text may stall before it is spoken anyway. LLM tokens come every 10–60 ms
/// and a network adds jitter of a few tens: a gap this long is a pause in the text (a tool
/// call), not the next token on its way.
pub const IDLE_MS: u32 = 300;

/// Held text is spoken for want of more only once the listener has less audio than this left
/// to hear: about what a clause's encoder and first chunk take under load. With more left, the
/// text may yet go on and keep its clause whole.
pub const IDLE_AUDIO_LEFT_MS: u32 = 300;

/// A source slower than that (a model on a small CPU, a few tokens a second) is waited for this
/// many times its usual gap between pieces, so that its clauses are not spoken word by word.
const GAP_FACTOR: u32 = 3;
/// Longest gap between pieces counted in the usual gap (a pause that was not cut, because audio
/// was still playing, must not make every later wait long).
const MAX_GAP_MS: u32 = 2 * IDLE_MS;
/// Fewer words than this are waited for [`FEW_WORDS_FACTOR`] times as long: a lone "The" is more
/// likely the start of a clause than all it will say.
const MIN_WORDS: usize = 3;
/// See [`MIN_WORDS`].
const FEW_WORDS_FACTOR: u32 = 3;

impl Default for Policy {
    /// For streaming: clauses, and a short first segment for fast first audio.
    fn default() -> Self {
        Policy { first_max_chars: 60, max_chars: 240, clauses: true, idle_ms: Some(IDLE_MS) }
    }
}

impl Policy {
    /// For text known in full (files, batch): whole sentences, split only when very long.
    pub fn whole_text() -> Policy {
        Policy { first_max_chars: 300, max_chars: 300, clauses: false, idle_ms: None }
    }
}

/// Longest tag or entity waited for; a longer `<…` is taken as text.
const MAX_TAG: usize = 256;
/// Longest break honoured, in milliseconds.
const MAX_BREAK_MS: u32 = 10_000;
/// Deepest `<prosody>` nesting remembered.
const MAX_RATE_DEPTH: usize = 32;

/// Words after which a full stop does not end a sentence (lower case, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "etc", "e.g", "i.e", "inc", "ltd",
    "co", "mt", "fig", "approx", "dept", "gen", "gov", "capt", "sgt", "lt", "col", "rev", "hon",
    "a.m", "p.m", "u.s", "no", "vol", "ave", "blvd", "corp", "est",
];

/// Words before which a run-on segment is best split.
const CONJUNCTIONS: &[&str] = &[
    "and", "but", "or", "so", "because", "which", "that", "while", "when", "where", "who",
    "then", "although", "though", "if", "unless",
];

/// The incremental segmenter.
#[derive(Debug, Clone)]
pub struct Segmenter {
    policy: Policy,
    /// Pushed text not consumed yet.
    pending: String,
    /// Stream offset of `pending[0]`.
    pending_at: usize,
    /// Cleaned text of the segment being built.
    cur: String,
    /// Characters in `cur`.
    cur_chars: usize,
    /// Stream offset where the current segment started.
    cur_from: usize,
    rates: Vec<f32>,
    emitted_text: bool,
    /// When text was last pushed with [`Segmenter::push_at`].
    pushed_ms: Option<u64>,
    /// The usual gap between timed pushes (a moving average), in ms.
    gap_ms: Option<u32>,
}

impl Default for Segmenter {
    fn default() -> Self {
        Segmenter::new(Policy::default())
    }
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»' | '」' | '』' | '）')
}

fn cjk_end(c: char) -> Option<End> {
    match c {
        '。' | '！' | '？' => Some(End::Sentence),
        '，' | '；' | '、' | '：' => Some(End::Clause),
        _ => None,
    }
}

impl Segmenter {
    /// A segmenter with these length limits.
    pub fn new(policy: Policy) -> Segmenter {
        Segmenter {
            policy,
            pending: String::new(),
            pending_at: 0,
            cur: String::new(),
            cur_chars: 0,
            cur_from: 0,
            rates: Vec::new(),
            emitted_text: false,
            pushed_ms: None,
            gap_ms: None,
        }
    }

    /// Adds text; appends every segment whose end is now certain to `out`.
    pub fn push(&mut self, text: &str, out: &mut Vec<Segment>) {
        self.pending.push_str(text);
        self.scan(Until::More, out);
    }

    /// [`Segmenter::push`] at `now_ms` (any clock in milliseconds): text it holds back can then
    /// be spoken by [`Segmenter::cut_idle`] if no more comes.
    pub fn push_at(&mut self, text: &str, now_ms: u64, out: &mut Vec<Segment>) {
        if let Some(last) = self.pushed_ms {
            let gap = now_ms.saturating_sub(last).min(MAX_GAP_MS.into()) as u32;
            self.gap_ms = Some(self.gap_ms.map_or(gap, |g| (3 * g + gap) / 4));
        }
        self.pushed_ms = Some(now_ms);
        self.push(text, out);
    }

    /// When [`Segmenter::cut_idle`] will speak the text held now if nothing more is pushed and
    /// the listener's audio runs out at `audio_ends_ms` (a time on the same clock; a time already
    /// past when it hears nothing): once the text has waited its idle time and less than
    /// [`IDLE_AUDIO_LEFT_MS`] of audio is left. `None` when nothing speakable is held, or the
    /// policy or the caller keeps no time.
    pub fn idle_deadline(&self, audio_ends_ms: u64) -> Option<u64> {
        let text = self.text_deadline()?;
        Some(text.max(audio_ends_ms.saturating_sub(IDLE_AUDIO_LEFT_MS.into())))
    }

    /// When the text held has waited its idle time, whatever the listener still hears.
    fn text_deadline(&self) -> Option<u64> {
        let (pushed, idle) = (self.pushed_ms?, self.policy.idle_ms?);
        let words =
            self.cur.split_whitespace().chain(self.pending.split_whitespace()).filter(|w| w.chars().any(char::is_alphanumeric)).count();
        if words == 0 {
            return None;
        }
        let few = if words < MIN_WORDS { FEW_WORDS_FACTOR } else { 1 };
        let wait = idle.max(GAP_FACTOR * self.gap_ms.unwrap_or(0)).saturating_mul(few);
        Some(pushed.saturating_add(u64::from(wait)))
    }

    /// Once the [idle deadline](Segmenter::idle_deadline) for a listener whose audio runs out at
    /// `audio_ends_ms` has passed (at `now_ms`), speaks the text held as if it ended there: words,
    /// a final full stop or comma and all. A tag or entity not yet complete keeps waiting. The
    /// next deadline comes with the next push. Returns whether it cut.
    pub fn cut_idle(&mut self, now_ms: u64, audio_ends_ms: u64, out: &mut Vec<Segment>) -> bool {
        if self.idle_deadline(audio_ends_ms).is_none_or(|d| now_ms < d) {
            return false;
        }
        let before = out.len();
        self.scan(Until::Idle, out);
        self.end_segment(End::Idle, out);
        self.pushed_ms = None;
        out.len() > before
    }

    /// Ends the stream: everything pending becomes segments. The segmenter can be reused.
    pub fn flush(&mut self, out: &mut Vec<Segment>) {
        self.scan(Until::End, out);
        self.end_segment(End::Flush, out);
        self.rates.clear();
        self.emitted_text = false;
        self.pushed_ms = None;
        self.gap_ms = None;
    }

    fn rate(&self) -> f32 {
        self.rates.last().copied().unwrap_or(1.0)
    }

    fn limit(&self) -> usize {
        if self.emitted_text { self.policy.max_chars } else { self.policy.first_max_chars }.max(8)
    }

    fn append(&mut self, c: char, at: usize, out: &mut Vec<Segment>) {
        if self.cur.is_empty() {
            if c.is_whitespace() {
                return;
            }
            self.cur_from = at;
        }
        if c.is_whitespace() {
            if self.cur.ends_with(' ') {
                return;
            }
            self.cur.push(' ');
        } else {
            self.cur.push(c);
        }
        self.cur_chars += 1;
        if self.cur_chars > self.limit() {
            self.split_long(at, out);
        }
    }

    /// Splits an over-long segment at the best word boundary, keeping the rest.
    fn split_long(&mut self, at: usize, out: &mut Vec<Segment>) {
        let half = self.cur.len() / 2;
        let spaces: Vec<usize> = self.cur.match_indices(' ').map(|(i, _)| i).filter(|&i| i > 0).collect();
        let before_conjunction = spaces.iter().rev().copied().find(|&i| {
            i >= half && {
                let next = self.cur[i + 1..].split(' ').next().unwrap_or("");
                CONJUNCTIONS.iter().any(|w| next.eq_ignore_ascii_case(w))
            }
        });
        let cut = match before_conjunction.or_else(|| spaces.last().copied().filter(|&i| i >= half / 2)) {
            Some(i) => i,
            // No usable space (CJK, a very long token): cut at the last character.
            None => self.cur.char_indices().last().map_or(0, |(i, _)| i),
        };
        if cut == 0 {
            return;
        }
        let rest: String = self.cur[cut..].trim_start().into();
        self.cur.truncate(cut);
        self.end_segment(End::Length, out);
        self.cur_chars = rest.chars().count();
        self.cur = rest;
        self.cur_from = at;
    }

    fn end_segment(&mut self, end: End, out: &mut Vec<Segment>) {
        let text = self.cur.trim();
        if text.chars().any(char::is_alphanumeric) {
            out.push(Segment::Text {
                text: text.into(),
                rate: self.rate(),
                end,
                source: self.cur_from..self.pending_at,
            });
            self.emitted_text = true;
        }
        self.cur.clear();
        self.cur_chars = 0;
    }

    /// Whether the word just before a full stop at the end of `cur` is an abbreviation or an
    /// initial.
    fn ends_with_abbreviation(&self) -> bool {
        let body = self.cur.strip_suffix('.').unwrap_or(&self.cur);
        let word = body.rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"').next().unwrap_or("");
        let mut chars = word.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return c.is_uppercase();
        }
        ABBREVIATIONS.iter().any(|a| word.eq_ignore_ascii_case(a))
    }

    fn scan(&mut self, until: Until, out: &mut Vec<Segment>) {
        let eof = until == Until::End;
        let buf = core::mem::take(&mut self.pending);
        let base = self.pending_at;
        let mut i = 0;
        while i < buf.len() {
            let rest = &buf[i..];
            let c = rest.chars().next().expect("non-empty");
            let at = base + i;
            // Marks everything before `to` as consumed, for the source range of a segment end.
            let consume = |s: &mut Segmenter, to: usize| s.pending_at = base + to;
            let step = match c {
                '<' if looks_like_tag(rest) => match rest.find('>') {
                    Some(end) if end <= MAX_TAG => {
                        consume(self, i);
                        self.tag(&rest[1..end], out);
                        end + 1
                    }
                    None if !eof && rest.len() <= MAX_TAG => break,
                    _ => {
                        self.append(c, at, out);
                        1
                    }
                },
                '&' => {
                    const ENTITIES: &[(&str, char)] =
                        &[("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&apos;", '\'')];
                    if let Some((e, ch)) = ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
                        self.append(*ch, at, out);
                        e.len()
                    } else if !eof && rest.len() < 6 && ENTITIES.iter().any(|(e, _)| e.starts_with(rest)) {
                        break;
                    } else {
                        self.append('&', at, out);
                        1
                    }
                }
                '\n' | '\r' => {
                    consume(self, i);
                    self.end_segment(End::Newline, out);
                    1
                }
                '.' | '!' | '?' | ',' | ';' | ':' => {
                    // The run of punctuation and closing quotes that ends here.
                    let run = rest
                        .find(|ch: char| !(matches!(ch, '.' | '!' | '?') || is_closer(ch)))
                        .unwrap_or(rest.len())
                        .max(c.len_utf8());
                    let next = rest[run..].chars().next();
                    if next.is_none() && until == Until::More {
                        break; // the next character decides
                    }
                    for (k, ch) in rest[..run].char_indices() {
                        self.append(ch, at + k, out);
                    }
                    if next.is_none_or(|ch| ch.is_whitespace() || ch == '<') {
                        let end = if matches!(c, ',' | ';' | ':') { End::Clause } else { End::Sentence };
                        let kept_whole = end == End::Clause && !self.policy.clauses;
                        let abbreviation = c == '.' && run == 1 && self.ends_with_abbreviation();
                        if !(kept_whole || abbreviation) {
                            consume(self, i + run);
                            self.end_segment(end, out);
                        }
                    }
                    run
                }
                _ => match cjk_end(c).filter(|&end| end != End::Clause || self.policy.clauses) {
                    Some(end) => {
                        let len = c.len_utf8();
                        let run = len + rest[len..].find(|ch: char| !is_closer(ch)).unwrap_or(rest.len() - len);
                        for (k, ch) in rest[..run].char_indices() {
                            self.append(ch, at + k, out);
                        }
                        consume(self, i + run);
                        self.end_segment(end, out);
                        run
                    }
                    None => {
                        self.append(c, at, out);
                        c.len_utf8()
                    }
                },
            };
            i += step;
        }
        self.pending_at = base + i;
        self.pending = String::from(&buf[i..]);
    }

    fn tag(&mut self, tag: &str, out: &mut Vec<Segment>) {
        let tag = tag.trim().trim_end_matches('/').trim();
        let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        match name.to_ascii_lowercase().as_str() {
            "break" => {
                self.end_segment(End::Tag, out);
                let millis = attr(attrs, "time")
                    .and_then(parse_duration)
                    .or_else(|| {
                        attr(attrs, "strength").map(|s| match s {
                            "none" => 0,
                            "x-weak" => 100,
                            "weak" => 200,
                            "strong" => 700,
                            "x-strong" => 1000,
                            _ => 400,
                        })
                    })
                    .unwrap_or(400)
                    .min(MAX_BREAK_MS);
                if millis > 0 {
                    out.push(Segment::Break { millis });
                }
            }
            "prosody" => {
                self.end_segment(End::Tag, out);
                let rate = attr(attrs, "rate").and_then(parse_rate).unwrap_or(1.0);
                if self.rates.len() < MAX_RATE_DEPTH {
                    self.rates.push(rate);
                }
            }
            "/prosody" => {
                self.end_segment(End::Tag, out);
                self.rates.pop();
            }
            // <speak>, </speak> and anything else: dropped, the text flows on.
            _ => {}
        }
    }
}

/// How far [`Segmenter::scan`] may decide what the text pushed so far means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// More text comes: whatever the next character decides waits for it.
    More,
    /// The text has stalled: punctuation at its end ends a segment; an unfinished tag or entity
    /// still waits.
    Idle,
    /// The text is over.
    End,
}

/// `<` starts a tag only when a letter or `/` follows: `a < b` is text.
fn looks_like_tag(rest: &str) -> bool {
    let mut chars = rest.chars().skip(1);
    match chars.next() {
        Some('/') => chars.next().is_none_or(|c| c.is_ascii_alphabetic()),
        Some(c) => c.is_ascii_alphabetic(),
        None => true, // wait for the next character
    }
}

/// The value of `name="…"` (or `'…'`) among a tag's attributes.
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(at) = rest.find(name) {
        let after = rest[at + name.len()..].trim_start();
        let before_ok = at == 0 || rest[..at].ends_with(char::is_whitespace);
        if let (true, Some(v)) = (before_ok, after.strip_prefix('=')) {
            let v = v.trim_start();
            let q = v.chars().next()?;
            if q == '"' || q == '\'' {
                return v[1..].split(q).next();
            }
            return v.split(char::is_whitespace).next();
        }
        rest = &rest[at + name.len()..];
    }
    None
}

/// `250ms`, `1.5s`, `2s` → milliseconds.
fn parse_duration(v: &str) -> Option<u32> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    let x: f32 = num.trim().parse().ok()?;
    (x.is_finite() && x >= 0.0).then(|| (x * scale).min(MAX_BREAK_MS as f32) as u32)
}

/// `x-slow` … `x-fast`, `120%`, or a plain multiplier → a rate in [0.25, 4].
fn parse_rate(v: &str) -> Option<f32> {
    let r = match v.trim() {
        "x-slow" => 0.5,
        "slow" => 0.75,
        "medium" | "default" => 1.0,
        "fast" => 1.25,
        "x-fast" => 1.5,
        p if p.ends_with('%') => p[..p.len() - 1].trim().parse::<f32>().ok()? / 100.0,
        n => n.parse().ok()?,
    };
    r.is_finite().then(|| r.clamp(0.25, 4.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn texts(out: &[Segment]) -> Vec<&str> {
        out.iter()
            .filter_map(|s| match s {
                Segment::Text { text, .. } => Some(text.as_str()),
                Segment::Break { .. } => None,
            })
            .collect()
    }

    fn whole(text: &str) -> Vec<Segment> {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push(text, &mut out);
        s.flush(&mut out);
        out
    }

    fn by_pieces(text: &str, piece: usize) -> Vec<Segment> {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        for p in chars.chunks(piece) {
            let p: String = p.iter().collect();
            s.push(&p, &mut out);
        }
        s.flush(&mut out);
        out
    }

    #[test]
    fn whole_text_keeps_sentences_whole() {
        let text = "The national team qualified, at last, for the world cup for the first time in its history. 好，我们走吧。Next.";
        let mut s = Segmenter::new(Policy::whole_text());
        let mut out = Vec::new();
        s.push(text, &mut out);
        s.flush(&mut out);
        assert_eq!(
            texts(&out),
            ["The national team qualified, at last, for the world cup for the first time in its history.", "好，我们走吧。", "Next."]
        );
        // The streaming policy cuts at clauses instead.
        assert_eq!(texts(&whole(text))[0], "The national team qualified,");
    }

    #[test]
    fn sentences_and_clauses() {
        let out = whole("Hello, world! How are you? Fine; thanks: really.");
        assert_eq!(texts(&out), ["Hello,", "world!", "How are you?", "Fine;", "thanks:", "really."]);
        assert!(matches!(out[0], Segment::Text { end: End::Clause, .. }));
        assert!(matches!(out[1], Segment::Text { end: End::Sentence, .. }));
    }

    #[test]
    fn abbreviations_initials_decimals_thousands_times() {
        let out = whole("Dr. Smith met J. R. Tolkien at 10:30, paid $3.14 for 1,000 pens, e.g. blue ones. Done.");
        assert_eq!(
            texts(&out),
            ["Dr. Smith met J. R. Tolkien at 10:30,", "paid $3.14 for 1,000 pens,", "e.g. blue ones.", "Done."]
        );
    }

    #[test]
    fn quotes_and_ellipses_stay_with_their_sentence() {
        let out = whole("He said \"stop.\" Then... nothing?! (Really.) End");
        assert_eq!(texts(&out), ["He said \"stop.\"", "Then...", "nothing?!", "(Really.)", "End"]);
    }

    #[test]
    fn cjk_punctuation_needs_no_space() {
        let out = whole("你好，世界。今天天气很好！你呢？好的；再见、谢谢");
        assert_eq!(texts(&out), ["你好，", "世界。", "今天天气很好！", "你呢？", "好的；", "再见、", "谢谢"]);
    }

    #[test]
    fn newlines_end_segments() {
        assert_eq!(texts(&whole("A title\nFirst line\r\n\nSecond")), ["A title", "First line", "Second"]);
    }

    #[test]
    fn ssml_breaks_and_rates() {
        let input = "<speak>Hi <break time=\"250ms\"/> there. <prosody rate=\"slow\">Slowly &amp; surely.</prosody> \
                     Back<break strength='strong'/><break time=\"1.5s\"/>!</speak>";
        let out = whole(input);
        let mut got = Vec::new();
        for s in &out {
            match s {
                Segment::Text { text, rate, end, source } => {
                    got.push(format!("{text}|{rate}|{end:?}|{}", input[source.clone()].trim()))
                }
                Segment::Break { millis } => got.push(format!("break {millis}")),
            }
        }
        assert_eq!(
            got,
            [
                "Hi|1|Tag|Hi",
                "break 250",
                "there.|1|Sentence|there.",
                "Slowly & surely.|0.75|Sentence|Slowly &amp; surely.",
                "Back|1|Tag|Back",
                "break 700",
                "break 1500",
            ]
        );
    }

    #[test]
    fn rates_parse_and_clamp() {
        assert_eq!(parse_rate("120%"), Some(1.2));
        assert_eq!(parse_rate("x-fast"), Some(1.5));
        assert_eq!(parse_rate("100"), Some(4.0));
        assert_eq!(parse_rate("nan"), None);
        assert_eq!(parse_duration("2s"), Some(2000));
        assert_eq!(parse_duration("99999s"), Some(MAX_BREAK_MS));
        assert_eq!(parse_duration("-1ms"), None);
    }

    #[test]
    fn pieces_give_the_same_segments_as_whole_text() {
        let text = "<speak>Dr. Smith paid $3.14, then left.<break time=\"300ms\"/> Next: \
                    1,000 items &amp; more!\nNew line? 你好。Yes.</speak>";
        let reference = whole(text);
        assert!(texts(&reference).len() >= 6);
        for piece in [1, 2, 3, 5, 7, 64] {
            assert_eq!(by_pieces(text, piece), reference, "pushed in pieces of {piece}");
        }
    }

    #[test]
    fn segments_are_emitted_as_soon_as_certain() {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push("Hello,", &mut out);
        assert!(out.is_empty(), "the comma might be a thousands separator");
        s.push(" wor", &mut out);
        assert_eq!(texts(&out), ["Hello,"]);
        s.push("ld. Dr.", &mut out);
        assert_eq!(texts(&out), ["Hello,", "world."]);
        s.push(" Who", &mut out);
        assert_eq!(texts(&out).len(), 2, "Dr. is not an end");
        s.flush(&mut out);
        assert_eq!(texts(&out), ["Hello,", "world.", "Dr. Who"]);
    }

    #[test]
    fn break_tag_split_across_pushes() {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        for p in ["One <bre", "ak ti", "me=\"2", "50ms\"", "/> two"] {
            s.push(p, &mut out);
        }
        s.flush(&mut out);
        assert_eq!(out[1], Segment::Break { millis: 250 });
        assert_eq!(texts(&out), ["One", "two"]);
    }

    #[test]
    fn first_segment_is_short_and_run_on_text_is_split() {
        let words: Vec<String> = (0..2000).map(|i| format!("word{i}")).collect();
        let text = words.join(" ");
        let out = whole(&text);
        let t = texts(&out);
        assert!(t[0].chars().count() <= 60, "first: {}", t[0]);
        assert!(t.iter().all(|s| s.chars().count() <= 240));
        assert_eq!(t.join(" "), text, "nothing lost, nothing repeated");
        // Split before a conjunction when there is one in the second half.
        let out = whole(&format!("{} and then more words here", "blah ".repeat(11)));
        assert!(texts(&out)[0].ends_with("blah"), "{:?}", texts(&out));
    }

    /// Pushes `pieces` `gap_ms` apart, asking for idle cuts at every millisecond in between.
    fn timed(pieces: &[&str], gap_ms: u64) -> Vec<Segment> {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        for (k, p) in pieces.iter().enumerate() {
            let at = k as u64 * gap_ms;
            s.push_at(p, at, &mut out);
            for t in at..at + gap_ms {
                s.cut_idle(t, 0, &mut out);
            }
        }
        s.flush(&mut out);
        out
    }

    #[test]
    fn flowing_tokens_are_never_cut_for_idleness() {
        let text = "The quick brown fox jumps over the lazy dog, and then it runs far away. Dr. Smith paid 1,000 dollars at 10:30.";
        let tokens: Vec<&str> = text.split_inclusive(' ').collect();
        assert_eq!(timed(&tokens, IDLE_MS as u64 - 1), whole(text));
    }

    #[test]
    fn text_that_stalls_mid_clause_is_spoken_after_the_idle_time() {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push_at("Let me look ", 1_000, &mut out);
        s.push_at("that up", 1_040, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.idle_deadline(0), Some(1_040 + IDLE_MS as u64));
        assert!(!s.cut_idle(1_039 + IDLE_MS as u64, 0, &mut out), "one millisecond early");
        assert!(s.cut_idle(1_040 + IDLE_MS as u64, 0, &mut out));
        assert!(matches!(&out[..], [Segment::Text { text, end: End::Idle, .. }] if text == "Let me look that up"));
        assert_eq!(s.idle_deadline(0), None, "nothing held");
        // The text goes on as a later segment would.
        s.push_at(" for you, and tell you what I find.", 5_000, &mut out);
        s.flush(&mut out);
        assert_eq!(texts(&out), ["Let me look that up", "for you,", "and tell you what I find."]);
        // A full stop waiting for the next character to decide is a sentence end when the text stalls.
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push_at("Please hold on a moment.", 0, &mut out);
        assert!(out.is_empty());
        assert!(s.cut_idle(IDLE_MS as u64, 0, &mut out));
        assert!(matches!(&out[..], [Segment::Text { text, end: End::Sentence, .. }] if text == "Please hold on a moment."));
    }

    #[test]
    fn a_stall_is_spoken_only_as_the_listeners_audio_runs_out() {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push_at("Let me look that up", 1_000, &mut out);
        let left = u64::from(IDLE_AUDIO_LEFT_MS);
        // Audio to hear until 2 000: the text waits until only IDLE_AUDIO_LEFT_MS of it is left.
        assert_eq!(s.idle_deadline(2_000), Some(2_000 - left));
        assert!(!s.cut_idle(2_000 - left - 1, 2_000, &mut out), "still more than enough audio");
        // Audio that ends before the text has waited its idle time changes nothing.
        assert_eq!(s.idle_deadline(1_100), Some(1_000 + u64::from(IDLE_MS)));
        assert!(s.cut_idle(2_000 - left, 2_000, &mut out));
        assert_eq!(texts(&out), ["Let me look that up"]);
    }

    #[test]
    fn a_slow_source_is_waited_for_and_a_lone_word_longer() {
        // A model on a small CPU: a token every 400 ms, more than IDLE_MS, is not cut word by word.
        let text = "The quick brown fox jumps over the lazy dog, and then it runs far away.";
        let tokens: Vec<&str> = text.split_inclusive(' ').collect();
        assert_eq!(timed(&tokens, 400), whole(text));
        let idle = u64::from(IDLE_MS);
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push_at("Okay", 0, &mut out);
        assert_eq!(s.idle_deadline(0), Some(3 * idle), "one word waits three times as long");
        s.push_at(" then", 100, &mut out);
        s.push_at(" hold", 200, &mut out);
        assert_eq!(s.idle_deadline(0), Some(200 + idle), "three words, pieces 100 ms apart");
        // Gaps of 250 ms: the usual gap rises towards it, and the wait with it.
        for k in 1..=8 {
            s.push_at(" on", 200 + 250 * k, &mut out);
        }
        let wait = s.idle_deadline(0).unwrap() - 2200;
        assert!(wait > idle && wait <= 3 * 250, "{wait} ms");
    }

    #[test]
    fn a_long_idle_time_saturates_instead_of_wrapping() {
        // Three times this is 2 past u32::MAX: wrapped, a lone word would be cut after 2 ms.
        let idle = u32::MAX / 3 + 1;
        let mut s = Segmenter::new(Policy { idle_ms: Some(idle), ..Policy::default() });
        let mut out = Vec::new();
        s.push_at("Okay", 1_000, &mut out);
        assert_eq!(s.idle_deadline(0), Some(1_000 + u64::from(u32::MAX)));
        assert!(!s.cut_idle(1_000_000, 0, &mut out) && out.is_empty());
    }

    #[test]
    fn an_unfinished_tag_waits_through_an_idle_cut() {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push_at("Hello <break ti", 0, &mut out);
        assert!(s.cut_idle(10_000, 0, &mut out));
        assert_eq!(texts(&out), ["Hello"]);
        assert_eq!(s.idle_deadline(0), None, "no deadline until more text comes");
        assert!(!s.cut_idle(20_000, 0, &mut out));
        s.push_at("me=\"100ms\"/> there.", 30_000, &mut out);
        s.flush(&mut out);
        assert_eq!(out[1], Segment::Break { millis: 100 });
        assert_eq!(texts(&out), ["Hello", "there."]);
    }

    #[test]
    fn no_idle_cuts_without_a_clock_or_for_whole_text() {
        let mut s = Segmenter::default();
        let mut out = Vec::new();
        s.push("Let me look that up", &mut out);
        assert_eq!((s.idle_deadline(0), s.cut_idle(u64::MAX, 0, &mut out)), (None, false));
        let mut s = Segmenter::new(Policy::whole_text());
        s.push_at("Let me look that up", 0, &mut out);
        assert_eq!((s.idle_deadline(0), s.cut_idle(u64::MAX, 0, &mut out)), (None, false));
        assert!(out.is_empty());
    }

    #[test]
    fn ten_thousand_chars_without_spaces_or_punctuation() {
        let text: String = core::iter::repeat_n('x', 10_000).collect();
        let out = by_pieces(&text, 997);
        let t = texts(&out);
        assert_eq!(t.concat(), text);
        assert!(t.iter().all(|s| s.len() <= 241));
        let cjk: String = core::iter::repeat_n('字', 3000).collect();
        assert_eq!(texts(&whole(&cjk)).concat(), cjk);
    }

    #[test]
    fn only_punctuation_and_broken_markup_speak_nothing_and_do_not_hang() {
        assert!(texts(&whole("... !!! ??? ,,, ;;; :::")).is_empty());
        assert_eq!(texts(&whole("a < b and c > d")), ["a < b and c > d"]);
        let unclosed = format!("x <{}", "y".repeat(300));
        let spoken = texts(&whole(&unclosed)).concat();
        assert_eq!(spoken.matches('y').count(), 300);
        assert!(spoken.contains("x<y") || spoken.contains("x <y"), "{spoken}");
        assert_eq!(texts(&whole("AT&T &amp")), ["AT&T &amp"]);
    }
}
