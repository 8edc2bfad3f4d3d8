//! The no-secret-values rule and the built-in credential detector, for one line.
//!
//! The search is [`Redactor::sweep`](crate::secrets::redact::Redactor::sweep), the same
//! question the output gate asks of every value it shows: the scanner decodes what it must
//! (JSON escapes, percent-encoding, ...), the detector also reads the decoded views. Only a
//! line with a hit pays more: its JSON is
//! walked once, every key and string scanned once, and each secret or credential kind gets the
//! pointer of the first string that holds it (a key that holds it points at its object, never
//! at the key). The cost is one walk per line whatever the number of hits.

use serde_json::Value;

use super::{Checker, ChunkResult, escape_pointer_token};
use crate::Rule;
use crate::secrets::decode::Coverage;
use crate::secrets::detect::{Detector, Kind};
use crate::secrets::scan::{SecretHit, SecretScanner};

/// What was found in one line, and where.
struct Located {
    secrets: Vec<(SecretHit, Option<String>)>,
    kinds: Vec<(Kind, Option<String>)>,
}

impl Located {
    fn complete(&self) -> bool {
        self.secrets.iter().all(|(_, p)| p.is_some()) && self.kinds.iter().all(|(_, p)| p.is_some())
    }

    /// Gives `pointer` to every secret and kind found in `text` that has none yet.
    fn visit(
        &mut self,
        text: &str,
        pointer: &str,
        scanner: &SecretScanner,
        detector: Option<&Detector>,
    ) {
        let mut hits = Vec::new();
        scanner.find(text.as_bytes(), &mut hits);
        for (hit, at) in &mut self.secrets {
            if at.is_none() && hits.iter().any(|h| h.secret == hit.secret) {
                *at = Some(pointer.to_owned());
            }
        }
        if let Some(d) = detector {
            let mut kinds = Vec::new();
            d.find(text.as_bytes(), &mut kinds);
            for (kind, at) in &mut self.kinds {
                if at.is_none() && kinds.contains(kind) {
                    *at = Some(pointer.to_owned());
                }
            }
        }
    }
}

impl Checker {
    /// Appends `secret.value` and `secret.pattern` findings for `body`.
    pub(crate) fn scan_secrets(
        &self,
        line: u64,
        body: &[u8],
        value: Option<Value>,
        out: &mut ChunkResult,
    ) {
        let scanner = self.redactor.scanner();
        let detector = self.redactor.detector();
        if scanner.is_empty() && detector.is_none() {
            return;
        }
        let mut hits: Vec<SecretHit> = Vec::new();
        let mut kinds = Vec::new();
        let coverage = self.redactor.sweep(body, &mut hits, &mut kinds);
        // A cap that stopped decoding is a finding, never a silent skip.
        if let Coverage::Cut { cap, layer } = coverage {
            let msg = format!("secret scan incomplete: {} at {layer}", cap.reached());
            out.push(self.finding(line, Rule::SecretScanIncomplete, None, msg));
        }
        if hits.is_empty() && kinds.is_empty() {
            return;
        }
        let mut located = Located {
            secrets: hits.into_iter().map(|h| (h, None)).collect(),
            kinds: kinds.into_iter().map(|k| (k, None)).collect(),
        };
        if let Some(value) = value.or_else(|| serde_json::from_slice(body).ok()) {
            walk(&value, &mut String::new(), &mut located, scanner, detector);
        }
        for (hit, pointer) in located.secrets {
            let msg = format!(
                "value of secret {} found ({}); value redacted",
                scanner.name(hit.secret),
                hit.encoding.as_str()
            );
            out.push(self.finding(line, Rule::SecretValue, pointer, msg));
        }
        for (kind, pointer) in located.kinds {
            let msg = format!("{} found; value redacted", kind.label());
            out.push(self.finding(line, Rule::SecretPattern, pointer, msg));
        }
    }
}

/// Visits every key and string of `value` once, in document order, until all are located.
fn walk(
    value: &Value,
    path: &mut String,
    located: &mut Located,
    scanner: &SecretScanner,
    detector: Option<&Detector>,
) {
    match value {
        Value::String(s) => located.visit(s, path, scanner, detector),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if located.complete() {
                    return;
                }
                let len = path.len();
                path.push('/');
                path.push_str(itoa::Buffer::new().format(i));
                walk(item, path, located, scanner, detector);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if located.complete() {
                    return;
                }
                // A key holding a secret: point at its object, never at the key.
                located.visit(key, path, scanner, detector);
                let len = path.len();
                path.push('/');
                path.push_str(&escape_pointer_token(key));
                walk(item, path, located, scanner, detector);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
