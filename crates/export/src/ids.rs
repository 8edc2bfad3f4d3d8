//! Ids derived from the log itself, so exporting the same log twice sends the same ids.
//!
//! - A record's uid is a hash of its byte offset and its bytes: the same line at the same
//!   place gets the same uid after a rename (the ledger's rotation) or a gzip (its
//!   archive), and a collector that keys on `log.record.uid` drops a resent record.
//! - An exchange's trace and span ids are hashes of its run id and exchange id, so every
//!   event of one exchange shares them (the proxy writes the exchange id on each).
//! - A ledger session is one trace (a hash of its session id); each tool call is a span of
//!   it (a hash of the call's uid).
//!
//! Hashes are SHA-256, truncated; each kind of id hashes a different label first, so no two
//! kinds collide by construction.

use sha2::{Digest, Sha256};

fn digest(label: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(label.as_bytes());
    for part in parts {
        // Length-prefixed: ("ab", "c") and ("a", "bc") hash differently.
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

fn first<const N: usize>(bytes: [u8; 32]) -> [u8; N] {
    let mut id = [0u8; N];
    id.copy_from_slice(bytes.get(..N).unwrap_or(&[0u8; N][..]));
    // An all-zero id is invalid in OTLP; a hash gives one with probability 2^-64 or less.
    if id.iter().all(|b| *b == 0)
        && let Some(last) = id.last_mut()
    {
        *last = 1;
    }
    id
}

/// The uid of the line `bytes` that starts at `offset` in its file: 32 hex digits.
pub fn record_uid(offset: u64, bytes: &[u8]) -> String {
    let id: [u8; 16] = first(digest("agentlog.record", &[&offset.to_be_bytes(), bytes]));
    hex(&id)
}

/// The trace id of an exchange.
pub fn exchange_trace(run_id: &str, exchange_id: &str) -> [u8; 16] {
    first(digest(
        "agentlog.exchange.trace",
        &[run_id.as_bytes(), exchange_id.as_bytes()],
    ))
}

/// The span id of an exchange.
pub fn exchange_span(run_id: &str, exchange_id: &str) -> [u8; 8] {
    first(digest(
        "agentlog.exchange.span",
        &[run_id.as_bytes(), exchange_id.as_bytes()],
    ))
}

/// The trace id of a ledger session.
pub fn session_trace(session_id: &str) -> [u8; 16] {
    first(digest("agentlog.session.trace", &[session_id.as_bytes()]))
}

/// The span id of the record with uid `uid` (a tool call, or a response without an
/// exchange id).
pub fn record_span(uid: &str) -> [u8; 8] {
    first(digest("agentlog.record.span", &[uid.as_bytes()]))
}

/// The trace id of a record that belongs to no exchange and no session.
pub fn record_trace(uid: &str) -> [u8; 16] {
    first(digest("agentlog.record.trace", &[uid.as_bytes()]))
}

fn hex(bytes: &[u8]) -> String {
    let digit = |nibble: u8| char::from_digit(u32::from(nibble), 16).unwrap_or('0');
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(digit(b >> 4));
        text.push(digit(b & 0x0f));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_every_part_and_never_collide_across_kinds() {
        assert_eq!(record_uid(0, b"x"), record_uid(0, b"x"));
        assert_ne!(record_uid(0, b"x"), record_uid(1, b"x"));
        assert_ne!(record_uid(0, b"x"), record_uid(0, b"y"));
        assert_eq!(record_uid(7, b"line").len(), 32);
        assert_ne!(exchange_trace("ab", "c"), exchange_trace("a", "bc"));
        assert_ne!(exchange_span("r", "e"), exchange_span("r", "f"));
        assert_ne!(
            exchange_trace("r", "e").get(..8),
            Some(&exchange_span("r", "e")[..])
        );
        assert_ne!(session_trace("s"), record_trace("s"));
    }
}
