//! The built-in detector of well-known credential formats.
//!
//! One Aho-Corasick pass (overlapping, so no prefix can hide another) finds every occurrence of
//! the fixed prefixes below; a hand-written check of the bytes around each occurrence decides.
//! No regex engine.
//!
//! # Formats
//!
//! | Kind | Prefix | Body after the prefix | Extra checks |
//! |---|---|---|---|
//! | OpenAI | `sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-` | ≥ 20 of `[A-Za-z0-9_-]` | looks random |
//! | Anthropic | `sk-ant-` (optionally `apiNN-` / `adminNN-`) | ≥ 20 of `[A-Za-z0-9_-]` after the version | looks random |
//! | AWS | `AKIA`, `ASIA` | exactly 16 of `[A-Z0-9]`, then no letter or digit | entropy ≥ 2.5 |
//! | GitHub | `ghp_`, `gho_`, `ghu_`, `ghr_` | 36..=255 of `[A-Za-z0-9_]` | looks random |
//! | GitHub | `ghs_` | 36..=255 of `[A-Za-z0-9_]`, or ≥ 36 of `[A-Za-z0-9_.-]` (stateless form) | looks random |
//! | GitHub | `github_pat_` | 36..=255 of `[A-Za-z0-9_]` (documented: 22 + `_` + 59) | looks random |
//! | Slack | `xoxa-` `xoxb-` `xoxe-` `xoxo-` `xoxp-` `xoxr-` `xoxs-` `xapp-` | ≥ 10 of `[A-Za-z0-9-]` | ≥ 8 digits then `-` and ≥ 20 in all, or looks random |
//! | Google | `AIza` | exactly 35 of `[A-Za-z0-9_-]` | looks random |
//! | Stripe | `sk_live_`, `rk_live_` | ≥ 16 of `[A-Za-z0-9]` | looks random |
//! | PEM private key | `-----BEGIN ` | label of `[A-Z0-9 ]` ending in `PRIVATE KEY`, then `-----` | no boundary needed |
//! | PGP private key | `-----BEGIN ` | label ending in `PRIVATE KEY BLOCK`, then `-----` | no boundary needed |
//! | JWT | `eyJ` | `eyJ…` (≥ 10) `.` `eyJ…` (≥ 10) `.` signature (≥ 16), base64url | |
//!
//! GitHub: classic tokens are 36 base62 characters after the prefix (30 random + a 6-character
//! checksum); GitHub's 2021 format notice asks integrators to allow up to 255, hence 36..=255.
//! The stateless installation tokens (`ghs_<app id>_<JWT>`, around 520 characters) also carry `.`
//! and `-`, so `ghs_` bodies with those characters have no upper bound. Fine-grained tokens are
//! documented as `github_pat_` + 22 + `_` + 59 alphanumerics; any 36..=255 of `[A-Za-z0-9_]`
//! is accepted so that a shortened or reshaped token is still caught. The checksum is not
//! verified (fake tokens in tests, and a leak is a leak whatever its checksum).
//!
//! PGP: `-----BEGIN PGP PRIVATE KEY BLOCK-----` is its own [`Kind::PgpPrivateKey`], so messages
//! say which kind of key block leaked.
//!
//! # Boundaries
//!
//! Every prefix but `-----BEGIN ` must start a word: it is at the start of the text, or after a
//! byte outside `[A-Za-z0-9_-]`, or after a percent-escape (`%XX` or double-encoded `%25XX`)
//! whose decoded byte is outside that set (`Bearer%20sk-…`, `token%3Dghp_…`, `%22AKIA…`), or
//! right after a placeholder.
//!
//! # Placeholders
//!
//! A placeholder is exactly [`PLACEHOLDER_PREFIX`] + 32 lowercase hex digits; it is never a
//! finding. Its end is a word boundary (`<placeholder>sk-proj-…` is a key), its start ends the
//! body of a token (`sk-proj-<key><placeholder>` is judged on `<key>`), and a prefix glued to a
//! placeholder is judged on what follows the placeholder (`sk-<placeholder>` alone is silent:
//! that is what a client prepending `sk-` to the sandbox's placeholder produces).
//!
//! # "Looks random"
//!
//! The body is split into segments at `-`, `_` and `.`. A segment is *word-like* when it has at
//! most 3 characters, or is letters then digits (`learn`, `v2`, `api03`, `sha256`, `2024`)
//! whose letters are all lowercase, all uppercase or capitalized. A body whose segments are all
//! word-like (hyphenated words, kebab-case class names, `XXXX…1234` masks, English runs) needs a
//! Shannon entropy of at least [`WORDY_MIN_ENTROPY`] = 4.5 bits per character, computed with
//! letters folded to lowercase; English, even pangrams and long kebab-case phrases, stays
//! below about 4.25 (`sk-learn-compatible-estimator-wrapper` is 3.7), while the sequential
//! alphabet runs used as fake keys in this crate's fixtures are 4.7 and more. Any other body needs
//! [`MIN_ENTROPY`] = 3.0 bits per character, which only rejects masks and repetitions: random
//! bodies of every real shape score far higher (base62 × 20 ≈ 4.0, × 48 ≈ 4.9), except 32 hex
//! digits (≈ 3.6), which gitleaks' usual 3.5 would drop about one time in five and 3.0 drops
//! about once in 10,000. AWS bodies are never word-like-checked (about 4% of real key ids are
//! letters then digits); they only need [`AWS_MIN_ENTROPY`] = 2.5, which stops masks such as
//! `AKIAXXXXXXXXXXXXXXXX` (random ids: ≈ 3.6).
//!
//! # Cost
//!
//! One automaton pass, then per candidate a look at most a few bytes back (boundary) and a scan
//! of its body capped at [`MAX_SCAN`] bytes. Bodies of candidates that pass the boundary check
//! cannot overlap (a boundary inside a body would end it), except for the two forms with `.` in
//! them: JWT segments (each read by at most three candidates) and stateless `ghs_` tokens
//! (a `ghs_` inside an already scanned `ghs_` body is skipped). So the total work is linear in
//! the text, and `find_is_linear_on_hostile_input` counts it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, packed};

/// A well-known credential format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// OpenAI API key, `sk-...`, `sk-proj-...`, `sk-svcacct-...`, `sk-admin-...`.
    OpenAi,
    /// Anthropic API key, `sk-ant-...`.
    Anthropic,
    /// AWS access key id, `AKIA`/`ASIA` + 16.
    Aws,
    /// GitHub token, `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 or more, or `github_pat_...`.
    GitHub,
    /// Slack token, `xoxb-`, `xoxp-`, ..., `xapp-`.
    Slack,
    /// Google API key, `AIza` + 35.
    Google,
    /// Stripe live secret or restricted key, `sk_live_...`, `rk_live_...`.
    Stripe,
    /// PEM private key header.
    PemPrivateKey,
    /// PGP private key block header.
    PgpPrivateKey,
    /// JSON Web Token (three base64url segments, header and payload `eyJ...`).
    Jwt,
}

impl Kind {
    /// A human label for messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::OpenAi => "OpenAI API key (sk-/sk-proj-/sk-svcacct-/sk-admin-...)",
            Kind::Anthropic => "Anthropic API key (sk-ant-...)",
            Kind::Aws => "AWS access key id (AKIA/ASIA...)",
            Kind::GitHub => "GitHub token (ghp_/gho_/ghu_/ghs_/ghr_/github_pat_...)",
            Kind::Slack => "Slack token (xox?-/xapp-...)",
            Kind::Google => "Google API key (AIza...)",
            Kind::Stripe => "Stripe live key (sk_live_/rk_live_...)",
            Kind::PemPrivateKey => "PEM private key",
            Kind::PgpPrivateKey => "PGP private key block",
            Kind::Jwt => "JSON Web Token",
        }
    }
}

/// What the bytes after a prefix are checked as.
#[derive(Clone, Copy, Debug)]
enum Prefix {
    Sk,
    Stripe,
    Aws,
    GitHub,
    GitHubServer,
    GitHubPat,
    Slack,
    SlackApp,
    Google,
    Begin,
    Jwt,
}

const PREFIXES: &[(&str, Prefix)] = &[
    ("sk-", Prefix::Sk),
    ("sk_live_", Prefix::Stripe),
    ("rk_live_", Prefix::Stripe),
    ("AKIA", Prefix::Aws),
    ("ASIA", Prefix::Aws),
    ("ghp_", Prefix::GitHub),
    ("gho_", Prefix::GitHub),
    ("ghu_", Prefix::GitHub),
    ("ghr_", Prefix::GitHub),
    ("ghs_", Prefix::GitHubServer),
    ("github_pat_", Prefix::GitHubPat),
    ("xox", Prefix::Slack),
    ("xapp-", Prefix::SlackApp),
    ("AIza", Prefix::Google),
    ("-----BEGIN ", Prefix::Begin),
    ("eyJ", Prefix::Jwt),
];

// The placeholder the sandbox gives agents instead of a value (never a finding), and its
// whole length: the prefix and 32 lowercase hex digits. Defined once, in agentlog-core.
use agentlog_core::secrets::{PLACEHOLDER_LEN, PLACEHOLDER_PREFIX};

/// Minimum entropy (bits per character) of a body that is not word-like.
pub const MIN_ENTROPY: f64 = 3.0;
/// Minimum entropy (bits per character, letters folded to lowercase) of a word-like body.
pub const WORDY_MIN_ENTROPY: f64 = 4.5;
/// Minimum entropy of the 16 characters of an AWS access key id.
pub const AWS_MIN_ENTROPY: f64 = 2.5;
/// Most bytes of one body (or JWT segment) read for one candidate.
pub const MAX_SCAN: usize = 4096;

const MIN_SK_BODY: usize = 20;
const MIN_STRIPE_BODY: usize = 16;
const MIN_SLACK_BODY: usize = 10;
const GITHUB_MIN: usize = 36;
const GITHUB_MAX: usize = 255;
const AWS_BODY: usize = 16;
const GOOGLE_BODY: usize = 35;
const PEM_MAX_LABEL: usize = 64;

/// The shortest text any format matches: a Slack token, `xoxb-` and 10 characters (every
/// other format needs more; see the table above). A judge of output uses it to clear shorter
/// texts without a search.
pub(crate) const SHORTEST_MATCH: usize = 15;

/// The built-in detector.
#[derive(Clone, Debug)]
pub struct Detector {
    automaton: Option<AhoCorasick>,
    /// A vectorised test for any prefix (Teddy, where the CPU has it): most texts hold none,
    /// and the overlapping automaton reads every byte.
    any_prefix: Option<packed::Searcher>,
    allow: Vec<String>,
    /// Whether a prefix must start a word (see "Boundaries"); off for the output gate.
    boundaries: bool,
}

/// Work done by one [`Detector::find`] call, for the linear-time test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Work {
    /// Prefix occurrences looked at.
    candidates: usize,
    /// Bytes stepped over after a prefix, plus placeholder checks.
    scanned: usize,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_alnum_us(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_alnum_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn is_upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn is_stateless(b: u8) -> bool {
    is_word(b) || b == b'.'
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The text being searched, with a count of the work done on it.
struct Scan<'t> {
    text: &'t [u8],
    work: Work,
}

impl Scan<'_> {
    fn byte(&self, i: usize) -> Option<u8> {
        self.text.get(i).copied()
    }

    fn starts_with(&self, i: usize, s: &[u8]) -> bool {
        self.text.get(i..).is_some_and(|rest| rest.starts_with(s))
    }

    /// Whether a whole placeholder starts at `i`.
    fn placeholder_at(&mut self, i: usize) -> bool {
        self.work.scanned += 1;
        self.starts_with(i, PLACEHOLDER_PREFIX.as_bytes())
            && self
                .text
                .get(i + PLACEHOLDER_PREFIX.len()..i + PLACEHOLDER_LEN)
                .is_some_and(|hex| hex.iter().all(|&b| is_lower_hex(b)))
    }

    /// The byte a percent-escape ending at `i` stands for: `%XX`, or `%25XX` (a double-encoded
    /// `%XX`).
    fn escape_ending_at(&self, i: usize) -> Option<u8> {
        let hex2 =
            |at: usize| Some(hex_value(self.byte(at)?)? * 16 + hex_value(self.byte(at + 1)?)?);
        let decode = |at: usize| (self.byte(at)? == b'%').then(|| hex2(at + 1)).flatten();
        let double = i
            .checked_sub(5)
            .filter(|&at| decode(at) == Some(b'%'))
            .and_then(|at| hex2(at + 3));
        double.or_else(|| decode(i.checked_sub(3)?))
    }

    /// Whether a token may start at `start`.
    fn boundary_before(&mut self, start: usize) -> bool {
        let Some(prev) = start.checked_sub(1).and_then(|p| self.byte(p)) else {
            return true;
        };
        !is_word(prev)
            || self.escape_ending_at(start).is_some_and(|b| !is_word(b))
            || (start >= PLACEHOLDER_LEN && self.placeholder_at(start - PLACEHOLDER_LEN))
    }

    /// End of the run of `class` bytes from `from`, at most `cap` long.
    fn run(&mut self, from: usize, class: fn(u8) -> bool, cap: usize) -> usize {
        let rest = self.text.get(from..).unwrap_or_default();
        let n = rest.iter().take(cap).take_while(|&&b| class(b)).count();
        self.work.scanned += n;
        from + n
    }

    /// The body of a token starting at `from`: placeholders right at its start are skipped,
    /// and it ends before the first byte outside `class`, before a placeholder, or after `cap`
    /// bytes. Returns `(start, end)`.
    fn body(&mut self, from: usize, class: fn(u8) -> bool, cap: usize) -> (usize, usize) {
        let mut start = from;
        while start - from < MAX_SCAN && self.placeholder_at(start) {
            start += PLACEHOLDER_LEN;
            self.work.scanned += PLACEHOLDER_LEN;
        }
        let mut end = start;
        while end - start < cap {
            match self.byte(end) {
                Some(b) if class(b) && !(b == b'S' && self.placeholder_at(end)) => end += 1,
                _ => break,
            }
        }
        self.work.scanned += end - start;
        (start, end)
    }

    /// Whether `end` closes a token whose bytes are `class`: no such byte follows, or a
    /// placeholder does.
    fn boundary_after(&mut self, end: usize, class: fn(u8) -> bool) -> bool {
        self.byte(end).is_none_or(|b| !class(b)) || self.placeholder_at(end)
    }

    fn slice(&self, start: usize, end: usize) -> &[u8] {
        self.text.get(start..end).unwrap_or_default()
    }
}

/// Shannon entropy of `bytes` in bits per byte; with `fold`, ASCII letters count as lowercase.
fn entropy(bytes: &[u8], fold: bool) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        let b = if fold { b.to_ascii_lowercase() } else { b };
        if let Some(count) = counts.get_mut(usize::from(b)) {
            *count += 1;
        }
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A segment of at most 3 bytes, or letters then digits whose letters are all lowercase, all
/// uppercase or capitalized.
fn word_like_segment(seg: &[u8]) -> bool {
    if seg.len() <= 3 {
        return true;
    }
    let letters = seg.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (head, digits) = seg.split_at(letters);
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let upper = head.iter().filter(|b| b.is_ascii_uppercase()).count();
    let capitalized = upper == 1 && head.first().is_some_and(u8::is_ascii_uppercase);
    upper == 0 || upper == head.len() || capitalized
}

/// Whether every `-`/`_`/`.`-separated segment of `body` is word-like.
fn word_like(body: &[u8]) -> bool {
    body.split(|&b| matches!(b, b'-' | b'_' | b'.'))
        .all(word_like_segment)
}

/// The character-mix and entropy check shared by most formats (see the module doc), of the
/// whole body or of its first [`RANDOM_HEAD`] bytes: a key does not stop looking like one
/// when a run of one letter is glued after it.
fn looks_random(body: &[u8]) -> bool {
    mixed_enough(body)
        || (body.len() > RANDOM_HEAD && body.get(..RANDOM_HEAD).is_some_and(mixed_enough))
}

/// Bytes at the start of a body judged on their own by [`looks_random`]: the shortest body
/// of the formats that need the check (`sk-`).
const RANDOM_HEAD: usize = MIN_SK_BODY;

fn mixed_enough(body: &[u8]) -> bool {
    if word_like(body) {
        entropy(body, true) >= WORDY_MIN_ENTROPY
    } else {
        entropy(body, false) >= MIN_ENTROPY
    }
}

impl Detector {
    /// A detector that ignores any match containing one of the `allow` substrings.
    pub fn new(allow: Vec<String>) -> Self {
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .build(PREFIXES.iter().map(|(p, _)| p))
            .ok();
        let any_prefix = packed::Searcher::new(PREFIXES.iter().map(|(p, _)| p));
        Detector {
            automaton,
            any_prefix,
            allow,
            boundaries: true,
        }
    }

    /// This detector without the word-boundary rule: a prefix counts wherever it stands
    /// (`rghp_…`, `x-sk-proj-…`). Too eager for reading logs, right for judging output:
    /// what a reader could copy out of a line as a key is withheld.
    pub fn anywhere(mut self) -> Self {
        self.boundaries = false;
        self
    }

    /// Appends the kinds found in `text` to `out` (deduplicated).
    pub fn find(&self, text: &[u8], out: &mut Vec<Kind>) {
        self.find_counted(text, out);
    }

    fn find_counted(&self, text: &[u8], out: &mut Vec<Kind>) -> Work {
        let mut scan = Scan {
            text,
            work: Work::default(),
        };
        let Some(ac) = &self.automaton else {
            return scan.work;
        };
        // Most texts hold no prefix at all: a vectorised search says so before the overlapping
        // one (which reads every byte) runs.
        let any = match &self.any_prefix {
            Some(searcher) => searcher.find(text).is_some(),
            None => ac.is_match(text),
        };
        if !any {
            return scan.work;
        }
        // End of the last `ghs_` body scanned: a `ghs_` inside it is part of that token.
        let mut ghs_until = 0;
        for m in ac.find_overlapping_iter(text) {
            scan.work.candidates += 1;
            let (start, end) = (m.start(), m.end());
            let Some(&(_, prefix)) = PREFIXES.get(m.pattern().as_usize()) else {
                continue;
            };
            let found = match prefix {
                Prefix::GitHubServer if start < ghs_until => None,
                _ => self.token(prefix, &mut scan, (start, end), &mut ghs_until),
            };
            let Some((kind, token_end)) = found else {
                continue;
            };
            if out.contains(&kind) || self.allowed(scan.slice(start, token_end)) {
                continue;
            }
            out.push(kind);
        }
        scan.work
    }

    /// The token a prefix found at `start..end` begins, and where it ends. A `ghs_` body
    /// scanned moves `ghs_until` to its end.
    fn token(
        &self,
        prefix: Prefix,
        scan: &mut Scan<'_>,
        (start, end): (usize, usize),
        ghs_until: &mut usize,
    ) -> Option<(Kind, usize)> {
        match prefix {
            Prefix::Begin => pem(scan, end),
            _ if self.boundaries && !scan.boundary_before(start) => None,
            Prefix::Sk => sk(scan, end),
            Prefix::Stripe => stripe(scan, end),
            Prefix::Aws => aws(scan, end, self.boundaries),
            Prefix::GitHub | Prefix::GitHubPat => github(scan, end, self.boundaries),
            Prefix::GitHubServer => github_server(scan, end, ghs_until),
            Prefix::Slack => {
                let typed = matches!(
                    scan.byte(end),
                    Some(b'a' | b'b' | b'e' | b'o' | b'p' | b'r' | b's')
                ) && scan.byte(end + 1) == Some(b'-');
                if typed { slack(scan, end + 2) } else { None }
            }
            Prefix::SlackApp => slack(scan, end),
            Prefix::Google => google(scan, end, self.boundaries),
            Prefix::Jwt => jwt(scan, start).map(|e| (Kind::Jwt, e)),
        }
    }

    fn allowed(&self, token: &[u8]) -> bool {
        self.allow.iter().any(|a| {
            let needle = a.as_bytes();
            !needle.is_empty() && token.windows(needle.len()).any(|w| w == needle)
        })
    }
}

/// `sk-` keys: Anthropic (`ant-`, with an optional `apiNN-`/`adminNN-`), else OpenAI (with an
/// optional `proj-`/`svcacct-`/`admin-`). `from` is just after `sk-`.
fn stripe(scan: &mut Scan<'_>, end: usize) -> Option<(Kind, usize)> {
    let (s, e) = scan.body(end, is_alnum, MAX_SCAN);
    let body = scan.slice(s, e);
    (body.len() >= MIN_STRIPE_BODY && looks_random(body)).then_some((Kind::Stripe, e))
}

/// Without the boundary rule (judging output), a fixed-length key with more word characters
/// glued after it is still its first N characters.
fn aws(scan: &mut Scan<'_>, end: usize, boundaries: bool) -> Option<(Kind, usize)> {
    let (s, e) = scan.body(end, is_upper_digit, AWS_BODY + 1);
    let key = scan.slice(s, e).get(..AWS_BODY);
    let ok = key.is_some_and(|k| entropy(k, false) >= AWS_MIN_ENTROPY);
    let closed = e - s == AWS_BODY && scan.boundary_after(e, is_alnum);
    (ok && (closed || !boundaries)).then_some((Kind::Aws, s + AWS_BODY))
}

fn github(scan: &mut Scan<'_>, end: usize, boundaries: bool) -> Option<(Kind, usize)> {
    let (s, e) = scan.body(end, is_alnum_us, GITHUB_MAX + 1);
    let body = scan.slice(s, e);
    let len_ok =
        (GITHUB_MIN..=GITHUB_MAX).contains(&body.len()) || (!boundaries && body.len() > GITHUB_MAX);
    (len_ok && looks_random(body)).then_some((Kind::GitHub, e))
}

/// A `ghs_` token: the classic form, or the longer stateless form. `until` becomes the end
/// of the body scanned: a `ghs_` inside it is part of this token.
fn github_server(scan: &mut Scan<'_>, end: usize, until: &mut usize) -> Option<(Kind, usize)> {
    let (s, e) = scan.body(end, is_stateless, MAX_SCAN);
    *until = e;
    let body = scan.slice(s, e);
    let classic = body.iter().all(|&b| is_alnum_us(b));
    let len_ok = if classic {
        (GITHUB_MIN..=GITHUB_MAX).contains(&body.len())
    } else {
        body.len() >= GITHUB_MIN
    };
    (len_ok && looks_random(body)).then_some((Kind::GitHub, e))
}

fn google(scan: &mut Scan<'_>, end: usize, boundaries: bool) -> Option<(Kind, usize)> {
    let (s, e) = scan.body(end, is_word, GOOGLE_BODY + 1);
    let body = scan.slice(s, e);
    let len_ok = body.len() == GOOGLE_BODY || !boundaries;
    let key = body.get(..GOOGLE_BODY).filter(|_| len_ok);
    key.is_some_and(looks_random)
        .then_some((Kind::Google, s + GOOGLE_BODY))
}

fn sk(scan: &mut Scan<'_>, from: usize) -> Option<(Kind, usize)> {
    let (kind, from) = if scan.starts_with(from, b"ant-") {
        let at = from + 4;
        let version = [b"api".as_slice(), b"admin"].iter().find_map(|word| {
            let digits = at + word.len();
            let ok = scan.starts_with(at, word)
                && scan.byte(digits).is_some_and(|b| b.is_ascii_digit())
                && scan.byte(digits + 1).is_some_and(|b| b.is_ascii_digit())
                && scan.byte(digits + 2) == Some(b'-');
            ok.then_some(digits + 3)
        });
        (Kind::Anthropic, version.unwrap_or(at))
    } else {
        let sub = [b"proj-".as_slice(), b"svcacct-", b"admin-"]
            .iter()
            .find(|sub| scan.starts_with(from, sub))
            .map_or(0, |sub| sub.len());
        (Kind::OpenAi, from + sub)
    };
    let (s, e) = scan.body(from, is_word, MAX_SCAN);
    let body = scan.slice(s, e);
    (body.len() >= MIN_SK_BODY && looks_random(body)).then_some((kind, e))
}

/// Slack bodies: Slack's numeric ids first (`xoxb-123456789012-…`), or random-looking.
fn slack(scan: &mut Scan<'_>, from: usize) -> Option<(Kind, usize)> {
    let (s, e) = scan.body(from, is_alnum_dash, MAX_SCAN);
    let body = scan.slice(s, e);
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    let numeric_id = digits >= 8 && body.get(digits) == Some(&b'-') && body.len() >= 20;
    (body.len() >= MIN_SLACK_BODY && (numeric_id || looks_random(body))).then_some((Kind::Slack, e))
}

/// `-----BEGIN <label>-----` with a label ending in `PRIVATE KEY` (PEM) or
/// `PRIVATE KEY BLOCK` (PGP). `from` is just after `-----BEGIN `.
fn pem(scan: &mut Scan<'_>, from: usize) -> Option<(Kind, usize)> {
    let end = scan.run(
        from,
        |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ',
        PEM_MAX_LABEL,
    );
    if !scan.starts_with(end, b"-----") {
        return None;
    }
    let label = scan.slice(from, end);
    let kind = if label.ends_with(b"PRIVATE KEY BLOCK") {
        Kind::PgpPrivateKey
    } else if label.ends_with(b"PRIVATE KEY") {
        Kind::PemPrivateKey
    } else {
        return None;
    };
    Some((kind, end + 5))
}

/// `eyJ...` `.` `eyJ...` `.` signature, each segment base64url of a plausible length. A
/// payload or signature longer than [`MAX_SCAN`] counts as long enough.
fn jwt(scan: &mut Scan<'_>, start: usize) -> Option<usize> {
    let b64url = is_word;
    let (_, a) = scan.body(start, b64url, MAX_SCAN);
    if a - start < 10 || a - start == MAX_SCAN || scan.byte(a) != Some(b'.') {
        return None;
    }
    let p = a + 1;
    if !scan.starts_with(p, b"eyJ") {
        return None;
    }
    let (_, b) = scan.body(p, b64url, MAX_SCAN);
    if b - p == MAX_SCAN {
        return Some(b);
    }
    if b - p < 10 || scan.byte(b) != Some(b'.') {
        return None;
    }
    let (s, c) = scan.body(b + 1, b64url, MAX_SCAN);
    (c - s >= 16).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PH: &str = "SANDBOX_SECRET_0123456789abcdef0123456789abcdef";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const UPPER_DIGIT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const DIGITS: &[u8] = b"0123456789";
    const HEX: &[u8] = b"0123456789abcdef";

    /// A fake token body: `len` bytes of `alphabet` from a fixed xorshift stream (no literal
    /// high-entropy strings in the source for secret scanners to trip on).
    fn fake(seed: u64, len: usize, alphabet: &[u8]) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = usize::try_from(x % alphabet.len() as u64).unwrap_or(0);
                char::from(alphabet[i])
            })
            .collect()
    }

    fn kinds_with(allow: &[&str], text: &str) -> Vec<Kind> {
        let mut out = vec![];
        Detector::new(allow.iter().map(|a| a.to_string()).collect())
            .find(text.as_bytes(), &mut out);
        out
    }

    fn kinds(text: &str) -> Vec<Kind> {
        kinds_with(&["sk-allowed"], text)
    }

    fn legacy() -> String {
        format!("sk-{}", fake(1, 48, ALNUM))
    }
    fn proj() -> String {
        format!("sk-proj-{}", fake(2, 156, B64URL))
    }
    fn ant() -> String {
        format!("sk-ant-api03-{}AA", fake(3, 93, B64URL))
    }
    fn gh(prefix: &str, seed: u64) -> String {
        format!("{prefix}{}", fake(seed, 36, ALNUM))
    }
    fn aws() -> String {
        format!("AKIA{}", fake(5, 16, BASE32))
    }
    fn google() -> String {
        format!("AIza{}", fake(6, 35, B64URL))
    }
    fn slack_bot() -> String {
        format!(
            "xoxb-{}-{}-{}",
            fake(7, 13, DIGITS),
            fake(8, 13, DIGITS),
            fake(9, 24, ALNUM)
        )
    }

    /// Every kind, by an exhaustive match: a new kind fails to compile here until it is listed
    /// (and `detects_each_format` then asks for a row).
    fn all_kinds() -> Vec<Kind> {
        let all = [
            Kind::OpenAi,
            Kind::Anthropic,
            Kind::Aws,
            Kind::GitHub,
            Kind::Slack,
            Kind::Google,
            Kind::Stripe,
            Kind::PemPrivateKey,
            Kind::PgpPrivateKey,
            Kind::Jwt,
        ];
        for k in all {
            match k {
                Kind::OpenAi
                | Kind::Anthropic
                | Kind::Aws
                | Kind::GitHub
                | Kind::Slack
                | Kind::Google
                | Kind::Stripe
                | Kind::PemPrivateKey
                | Kind::PgpPrivateKey
                | Kind::Jwt => {}
            }
        }
        all.to_vec()
    }

    fn check_found(rows: &[(&str, String, Kind)]) {
        for (name, text, kind) in rows {
            let found = kinds(text);
            assert_eq!(
                &found,
                &vec![*kind],
                "{name}: expected {kind:?}, found {found:?}"
            );
        }
    }

    #[allow(clippy::too_many_lines)] // one table of cases, read row by row
    #[test]
    fn detects_each_format() {
        let rows = [
            ("openai legacy sk- + 48", format!("key {}", legacy()), Kind::OpenAi),
            ("openai project", format!("\"{}\"", proj()), Kind::OpenAi),
            (
                "openai service account",
                format!("sk-svcacct-{}", fake(10, 156, B64URL)),
                Kind::OpenAi,
            ),
            ("openai admin", format!("sk-admin-{}", fake(11, 156, B64URL)), Kind::OpenAi),
            (
                "openai fixture of the conformance suite",
                "key sk-proj-abcdefghijklmnopqrstuvwxyz012345".into(),
                Kind::OpenAi,
            ),
            ("anthropic api03", format!("x-api-key: {}", ant()), Kind::Anthropic),
            (
                "anthropic admin01",
                format!("sk-ant-admin01-{}AA", fake(12, 93, B64URL)),
                Kind::Anthropic,
            ),
            (
                "anthropic fixture of the crafted-bad snapshot",
                "sk-ant-api03-abcdefghijklmnopqrstuvwxyz".into(),
                Kind::Anthropic,
            ),
            ("aws AKIA (AWS's documented example)", "AKIAIOSFODNN7EXAMPLE".into(), Kind::Aws),
            ("aws ASIA", format!("id=ASIA{}&x", fake(13, 16, BASE32)), Kind::Aws),
            ("github ghp_", format!("token {}", gh("ghp_", 14)), Kind::GitHub),
            ("github gho_", gh("gho_", 15), Kind::GitHub),
            ("github ghu_", gh("ghu_", 16), Kind::GitHub),
            ("github ghs_", gh("ghs_", 17), Kind::GitHub),
            ("github ghr_", gh("ghr_", 18), Kind::GitHub),
            ("github ghp_ longer than 36", format!("ghp_{}", fake(19, 60, ALNUM)), Kind::GitHub),
            (
                "github ghs_ stateless (app id + JWT)",
                format!(
                    "ghs_123456_eyJhbGciOiJSUzI1NiJ9.{}.{}",
                    fake(20, 300, B64URL),
                    fake(21, 200, B64URL)
                ),
                Kind::GitHub,
            ),
            (
                "github_pat_ documented 22_59",
                format!("github_pat_{}_{}", fake(22, 22, ALNUM), fake(23, 59, ALNUM)),
                Kind::GitHub,
            ),
            (
                "github_pat_ looser shape",
                format!("github_pat_{}", fake(24, 40, ALNUM)),
                Kind::GitHub,
            ),
            ("slack xoxb-", slack_bot(), Kind::Slack),
            (
                "slack xoxp-",
                format!(
                    "xoxp-{}-{}-{}-{}",
                    fake(25, 12, DIGITS),
                    fake(26, 12, DIGITS),
                    fake(27, 13, DIGITS),
                    fake(28, 32, HEX)
                ),
                Kind::Slack,
            ),
            ("slack xoxe-", format!("xoxe-1-{}", fake(29, 146, UPPER_DIGIT)), Kind::Slack),
            (
                "slack numeric team id (fixture shape)",
                "xoxb-123456789012-abcdefghijkl".into(),
                Kind::Slack,
            ),
            ("slack xoxa-", format!("xoxa-2-{}", fake(35, 40, ALNUM)), Kind::Slack),
            ("slack xoxr-", format!("xoxr-{}", fake(36, 40, ALNUM)), Kind::Slack),
            (
                "slack xoxo- (legacy)",
                format!("xoxo-{}-{}", fake(37, 10, DIGITS), fake(38, 32, HEX)),
                Kind::Slack,
            ),
            (
                "slack xoxs- (legacy)",
                format!(
                    "xoxs-{}-{}-{}",
                    fake(39, 10, DIGITS),
                    fake(44, 12, DIGITS),
                    fake(45, 64, HEX)
                ),
                Kind::Slack,
            ),
            (
                "slack xapp-",
                format!(
                    "xapp-1-A{}-{}-{}",
                    fake(30, 10, UPPER_DIGIT),
                    fake(31, 13, DIGITS),
                    fake(32, 64, HEX)
                ),
                Kind::Slack,
            ),
            ("google AIza", google(), Kind::Google),
            ("stripe sk_live_", format!("sk_live_{}", fake(33, 24, ALNUM)), Kind::Stripe),
            ("stripe rk_live_", format!("rk_live_{}", fake(34, 24, ALNUM)), Kind::Stripe),
            (
                "pem rsa",
                "-----BEGIN RSA PRIVATE KEY-----\\nMIIE".into(),
                Kind::PemPrivateKey,
            ),
            ("pem pkcs8", "-----BEGIN PRIVATE KEY-----".into(), Kind::PemPrivateKey),
            (
                "pem openssh",
                "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
                Kind::PemPrivateKey,
            ),
            ("pem ec", "x-----BEGIN EC PRIVATE KEY-----".into(), Kind::PemPrivateKey),
            (
                "pem encrypted",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----".into(),
                Kind::PemPrivateKey,
            ),
            (
                "pgp private key block",
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\\n\\nlQdGBF".into(),
                Kind::PgpPrivateKey,
            ),
            (
                "jwt",
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U".into(),
                Kind::Jwt,
            ),
        ];
        check_found(&rows);
        for kind in all_kinds() {
            assert!(rows.iter().any(|r| r.2 == kind), "no row for {kind:?}");
        }
    }

    #[test]
    fn detects_keys_after_percent_escapes() {
        check_found(&[
            (
                "Bearer%20sk-proj-",
                format!("Authorization: Bearer%20{}", proj()),
                Kind::OpenAi,
            ),
            (
                "Bearer%20sk-",
                format!("Bearer%20{}", legacy()),
                Kind::OpenAi,
            ),
            (
                "token%3Dghp_",
                format!("/cb?token%3D{}", gh("ghp_", 40)),
                Kind::GitHub,
            ),
            ("%22AKIA", format!("%22{}%22", aws()), Kind::Aws),
            (
                "%3d lowercase hex",
                format!("key%3d{}", google()),
                Kind::Google,
            ),
            (
                "%0A newline",
                format!("line%0A{}", slack_bot()),
                Kind::Slack,
            ),
            (
                "%2520 double-encoded",
                format!("Bearer%2520{}", ant()),
                Kind::Anthropic,
            ),
        ]);
    }

    #[test]
    fn detects_keys_glued_to_placeholders() {
        check_found(&[
            (
                "placeholder, sk-proj-",
                format!("{PH}{}", proj()),
                Kind::OpenAi,
            ),
            (
                "placeholder, ghp_",
                format!("{PH}{}", gh("ghp_", 41)),
                Kind::GitHub,
            ),
            ("placeholder, AKIA", format!("{PH}{}", aws()), Kind::Aws),
            (
                "sk-proj-, placeholder",
                format!("{}{PH}", proj()),
                Kind::OpenAi,
            ),
            (
                "sk-, placeholder",
                format!("{}{PH}", legacy()),
                Kind::OpenAi,
            ),
            (
                "ghp_, placeholder",
                format!("{}{PH}", gh("ghp_", 42)),
                Kind::GitHub,
            ),
            ("AKIA, placeholder", format!("{}{PH}", aws()), Kind::Aws),
            (
                "between placeholders",
                format!("{PH}{}{PH}", ant()),
                Kind::Anthropic,
            ),
            (
                "prefix, placeholder, body",
                format!("sk-{PH}{}", fake(43, 48, ALNUM)),
                Kind::OpenAi,
            ),
        ]);
    }

    #[test]
    fn ignores_ordinary_words() {
        let rows = [
            "sk-learn-compatible-estimator-wrapper",
            "sk-learn-pipeline-transformer-step",
            "pip install sk-learn",
            "sk-Learn-Compatible-Estimator-Wrapper",
            "use sk-learn-v2-compatible-estimator-api",
            "sk-learn-3d-point-cloud-estimator",
            "task-abcdefghijklmnopqrstuvwxyz",
            "task-scheduler-retry-with-backoff-policy",
            "ask-for-permission-before-running",
            "<div class=\"sk-admin-panel-settings-page-header\">",
            ".sk-proj-management-dashboard-widget { display: none }",
            "<label class=\"sk-toggleable__label sk-toggleable__label-arrow-fitted\">",
            "sk-ant-colony-optimization-simulation-notes",
            "xoxo-hugs-and-kisses",
            "xoxo-hugs-and-kisses-forever-and-ever",
            "the AKIA prefix marks long-term AWS access keys",
            "AKIA-prefixed ids are access keys",
            // A 36-character English run after ghp_: word-like, entropy 3.8 < 4.5.
            "ghp_thisisnotatokenjustalongenglishwords",
            "github_pat_token_expired_message_handler_for_cli",
            "sk_live_mode_is_disabled_for_this_account",
            // Masks and too-short or too-long shapes.
            "AKIAXXXXXXXXXXXXXXXX",
            "sk-proj-XXXXXXXXXXXXXXXXXXXXXXXX1234",
            "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "sk-short",
            "AKIA123",
            "AKIAIOSFODNN7EXAMPLEX",
            "AKIAIOSFODNN7EXAMPLExyz",
            "xoxz-123456789012",
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----",
            "-----BEGIN PGP SIGNATURE-----",
            "eyJhbGciOiJIUzI1NiJ9 only a header",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.short",
        ];
        for text in rows {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
        // Length limits, on otherwise real-looking bodies.
        let too_long = format!("ghp_{}", fake(50, 256, ALNUM));
        let google_36 = format!("AIza{}", fake(51, 36, B64URL));
        // An escaped word byte (`%41` is `A`) is no boundary: `Ask-…` is not `sk-…`.
        let escaped_word = format!("%41{}", legacy());
        // Sub-prefixes and Anthropic's version do not count toward the 20-byte minimum.
        let short = fake(54, 15, ALNUM);
        let short_bodies = [
            "sk-svcacct-",
            "sk-admin-",
            "sk-ant-api03-",
            "sk-ant-admin01-",
        ]
        .map(|p| format!("{p}{short}"));
        let texts = [too_long, google_36, escaped_word]
            .into_iter()
            .chain(short_bodies);
        for text in texts {
            assert!(kinds(&text).is_empty(), "{:?}", kinds(&text));
        }
    }

    #[test]
    fn ignores_placeholders_and_allowlisted_tokens() {
        for text in [
            PH.to_string(),
            format!("Bearer {PH}"),
            format!("{PH}{PH}"),
            format!("sk-{PH}"),
            format!("sk-proj-{PH}"),
            format!("sk-ant-api03-{PH}"),
            format!("ghp_{PH}"),
            format!("github_pat_{PH}"),
            format!("AKIA{PH}"),
            format!("sk-{PH}_backup"),
            format!("%20sk-{PH}%22"),
        ] {
            assert!(kinds(&text).is_empty(), "{text}: {:?}", kinds(&text));
        }
        let allowed = format!("sk-allowed-{}", fake(52, 40, ALNUM));
        assert_eq!(kinds_with(&[], &allowed), vec![Kind::OpenAi]);
        assert!(kinds(&allowed).is_empty());
        // The allowlist silences only the token it matches.
        assert_eq!(
            kinds(&format!("{allowed} {}", legacy())),
            vec![Kind::OpenAi]
        );
    }

    #[test]
    fn deduplicates_kinds() {
        let text = format!("{} {} {}", legacy(), proj(), gh("ghp_", 53));
        assert_eq!(kinds(&text), vec![Kind::OpenAi, Kind::GitHub]);
    }

    #[test]
    fn find_is_linear_on_hostile_input() {
        const SIZE: usize = 1 << 20;
        let units = [
            "sk-".to_string(),
            "sk-proj-".into(),
            "ghp_".into(),
            "ghs_a.".into(),
            "github_pat_".into(),
            "%20sk-".into(),
            "%2520AKIA".into(),
            format!("{PH}sk-"),
            format!("sk-{PH}"),
            format!("{PH}ghp_"),
            "SANDBOX_SECRET_".into(),
            "eyJhbGciOiJIUzI1NiJ9.".into(),
            "eyJ.".into(),
            "-----BEGIN ".into(),
            "-----BEGIN PRIVATE KEY".into(),
            "AKIA".into(),
            "xoxb-".into(),
            "xapp-1".into(),
            "AIza".into(),
            "sk-ghp_AKIAxoxb-eyJ.".into(),
        ];
        let long_bodies = [
            format!("sk-{}", "a".repeat(SIZE)),
            format!("sk-{}", PH.repeat(SIZE / PH.len())),
            format!("ghs_{}", "a.".repeat(SIZE / 2)),
            format!("eyJ{}", "S".repeat(SIZE)),
            format!("xoxb-{}", "1".repeat(SIZE)),
        ];
        let detector = Detector::new(vec![]);
        let texts = units
            .iter()
            .map(|unit| (unit.as_str(), unit.repeat(SIZE / unit.len())));
        let texts = texts.chain(long_bodies.iter().map(|t| (&t[..12], t.clone())));
        for (unit, mut text) in texts {
            text.push(' ');
            text.push_str(&legacy());
            let mut out = vec![];
            let work = detector.find_counted(text.as_bytes(), &mut out);
            let n = text.len();
            assert!(
                work.candidates <= n / 3 + 1,
                "{unit}: {work:?} for {n} bytes"
            );
            assert!(work.scanned <= 4 * n, "{unit}: {work:?} for {n} bytes");
            // Constant work per candidate: at most three capped runs (a JWT), each byte of
            // which may also cost one placeholder check.
            assert!(
                work.scanned <= work.candidates * 6 * (MAX_SCAN + PLACEHOLDER_LEN),
                "{unit}: {work:?}"
            );
            assert!(
                out.contains(&Kind::OpenAi),
                "{unit}: key after the junk missed"
            );
        }
    }

    #[test]
    fn thresholds_match_the_module_doc() {
        assert_eq!(entropy(b"abcd", false), 2.0);
        assert_eq!(entropy(b"aaaa", false), 0.0);
        assert_eq!(entropy(b"aAaA", true), 0.0);
        for words in [
            "learn-compatible-estimator-wrapper",
            "thisisnotatokenjustalongenglishwords",
            "the-quick-brown-fox-jumps-over-the-lazy-dog",
        ] {
            assert!(word_like(words.as_bytes()), "{words}");
            assert!(
                entropy(words.as_bytes(), true) < WORDY_MIN_ENTROPY,
                "{words}"
            );
        }
        let fixture = b"abcdefghijklmnopqrstuvwxyz0123";
        assert!(word_like(fixture) && entropy(fixture, true) >= WORDY_MIN_ENTROPY);
        assert!(!word_like(fake(60, 48, ALNUM).as_bytes()));
        assert!(!looks_random(b"XXXXXXXXXXXXXXXXXXXX1234"));
        assert!(looks_random(fake(61, 32, HEX).as_bytes()));
    }

    #[test]
    fn labels_name_every_prefix() {
        let github = Kind::GitHub.label();
        for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"] {
            assert!(github.contains(p), "{p}");
        }
        // Quoted by a snapshot of the validator's report.
        assert_eq!(Kind::Anthropic.label(), "Anthropic API key (sk-ant-...)");
        let mut labels: Vec<_> = all_kinds().into_iter().map(Kind::label).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), all_kinds().len());
    }
}
