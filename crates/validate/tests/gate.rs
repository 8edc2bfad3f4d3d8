// A test crate: a failed unwrap or index fails the test, cases are long tables, and helpers
// are `pub` for the test files that share them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
//! The output gate's promise as a property: whatever text carries a supplied secret, in
//! whatever encoding the scanner documents, with whatever neighbours and control characters,
//! what the gate lets through shows neither the value nor that encoding of it, holds no raw
//! control character but line breaks and tabs, and a JSON document stays valid JSON.
//!
//! The encoders here are the test's own, written from the scanner's documented table, not
//! taken from the scanner.

use std::io::Write as _;

use agentlog_validate::gate::{Gate, OutputWithheld, Style};
use agentlog_validate::secrets::detect::Detector;
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::SecretScanner;
use agentlog_validate::secrets::{Secret, SecretValue};
use base64::Engine as _;
use proptest::prelude::*;

/// The encodings of `value` the scanner's documentation names, computed independently.
fn encodings(value: &str) -> Vec<String> {
    let bytes = value.as_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        value.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        b64.encode(bytes),
        b64url.encode(bytes),
        bytes.iter().map(|b| format!("%{b:02X}")).collect(),
        bytes.iter().map(|b| format!("\\u{:04x}", b)).collect(),
        bytes.iter().map(|b| format!("&#{b};")).collect(),
        bytes.iter().map(|b| format!("\\x{b:02x}")).collect(),
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        value.chars().flat_map(|c| [c, '\0']).collect(),
    ]
}

fn gate(value: &str) -> Gate {
    let secret = Secret::new("TOKEN", SecretValue::new(value.to_owned()), vec![]);
    let scanner = SecretScanner::new(&[secret]).expect("a scanner for one secret");
    Gate::new(Redactor::new(scanner, Some(Detector::new(Vec::new()))))
}

fn through(gate: &Gate, style: Style, text: &str) -> Result<String, std::io::Error> {
    let mut out = Vec::new();
    let mut writer = gate.writer(&mut out, style);
    writer.write_all(text.as_bytes())?;
    writer.flush()?;
    drop(writer);
    Ok(String::from_utf8(out).expect("the gate writes UTF-8"))
}

/// Text around a value: ordinary neighbours a log line carries (URLs with escapes, entities,
/// a MAC address, a base64 blob) and characters that would move a terminal's cursor.
fn neighbour() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://x.test/a%2Fb?c=d&amp;e=f".to_owned()),
        Just("aa:bb:cc:dd:ee:ff:00:11".to_owned()),
        Just("dGhpcyBpcyBub3QgYSBzZWNyZXQ=".to_owned()),
        Just("\u{8}\u{8}\r\u{1b}[2K".to_owned()),
        Just("\u{202E}\u{2066}".to_owned()),
        "[a-z ]{0,12}",
    ]
}

fn assert_clean(shown: &str, value: &str) -> Result<(), TestCaseError> {
    for form in encodings(value) {
        prop_assert!(
            !shown.contains(&form),
            "an encoding of the value got through"
        );
    }
    for c in shown.chars() {
        prop_assert!(
            !agentlog_validate::gate::unsafe_char(c) || c == '\n' || c == '\t',
            "a raw {c:?} got through"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_encoding_of_a_value_gets_through_text(
        value in "[A-Za-z0-9+/_.-]{8,40}",
        which in 0usize..11,
        before in neighbour(),
        after in neighbour(),
    ) {
        let gate = gate(&value);
        let encoded = encodings(&value).swap_remove(which);
        let text = format!("head\n{before} {encoded} {after}\ntail\n");
        let shown = through(&gate, Style::Text, &text).expect("text never fails");
        assert_clean(&shown, &value)?;
        prop_assert!(shown.starts_with("head\n") && shown.ends_with("tail\n"));
    }

    #[test]
    fn a_document_stays_valid_or_fails_closed(
        value in "[0-9]{8,19}",
        label in "[a-z\u{202E}\u{7}]{0,8}",
    ) {
        // A numeric secret in a number and in a string of a JSON document.
        let gate = gate(&value);
        let doc = serde_json::json!({ "label": label, "n": 1, "text": "ok" });
        let clean = serde_json::to_string_pretty(&doc).expect("json") + "\n";
        let shown = through(&gate, Style::Json, &clean).expect("nothing to withhold");
        let parsed: serde_json::Value = serde_json::from_str(&shown).expect("valid JSON");
        prop_assert_eq!(parsed, doc);
        let leaky = clean.replace("\"n\": 1", &format!("\"n\": {value}"));
        let err = through(&gate, Style::Json, &leaky).expect_err("the number is withheld");
        prop_assert!(err.get_ref().is_some_and(|e| e.is::<OutputWithheld>()));
    }
}

/// Found by the third attack on the landed build (issue 19), one case each.
#[test]
fn forms_the_third_attack_found_are_withheld() {
    let key = "sk-proj-Q8xZ2mWk7Lp4Rv9Tn3Bc6Yh1Jd5Fg0Ks";
    let plain = gate("x-unrelated-value");
    // Hex with one stray leading digit: a reader drops it and decodes the rest.
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    let shown = through(&plain, Style::Text, &format!("tool 0{hex}\n")).unwrap();
    assert!(!shown.contains(&hex), "{shown}");
    // Fixed-length keys with a word character glued after them.
    for glued in [
        "AKIAIOSFODNN7EXAMPLEZ",
        "AIzaSyD4x9Vq2LmN8pRt5Wz1Kc7Hj3Bf6Gs0Ye2Q",
    ] {
        let shown = through(&plain, Style::Text, &format!("tool {glued}\n")).unwrap();
        assert!(!shown.contains(&glued[..20]), "{glued}: {shown}");
    }
    // Invisible format characters (Egyptian hieroglyph and shorthand format controls)
    // splitting a value are escaped, so the value does not read whole.
    let value = "Zq7vPw3nLk9xTb2m";
    let split = "Zq7v\u{1BCA0}Pw3n\u{13430}Lk9xTb2m";
    let shown = through(&gate(value), Style::Text, &format!("tool {split}\n")).unwrap();
    assert!(
        !shown.contains('\u{1BCA0}') && !shown.contains('\u{13430}'),
        "{shown}"
    );
    // A whole number written as a float in exponent form is the number it stands for.
    let number = serde_json::Number::from_f64(9.876_543_210_987_654e16).unwrap();
    let secret = gate("98765432109876540");
    assert!(secret.redactor().leaks_number(&number));
    assert!(!plain.redactor().leaks_number(&number));
}

/// A value encoded deeper than the scanner decodes is not ruled out, so it is not shown
/// (the line check reports such a line as `secret.scan_incomplete`).
#[test]
fn what_the_scan_cannot_rule_out_is_withheld() {
    let percent = |s: &str| -> String { s.bytes().map(|b| format!("%{b:02X}")).collect() };
    let deep = |s: &str, layers: usize| (0..layers).fold(s.to_owned(), |t, _| percent(&t));
    let value = "Zq7vPw3nLk9xTb2m";
    let key = "sk-proj-Q8xZ2mWk7Lp4Rv9Tn3Bc6Yh1Jd5Fg0Ks";
    for layers in [4, 5, 7] {
        let supplied = gate(value);
        let text = format!("tool {}\n", deep(value, layers));
        let shown = through(&supplied, Style::Text, &text).unwrap();
        assert_eq!(
            shown.trim_end(),
            agentlog_validate::gate::WITHHELD_LINE,
            "{layers}"
        );
        let detector = gate("x-unrelated-value");
        let text = format!("tool {}\n", deep(key, layers));
        let shown = through(&detector, Style::Text, &text).unwrap();
        assert_eq!(
            shown.trim_end(),
            agentlog_validate::gate::WITHHELD_LINE,
            "{layers}"
        );
    }
    // One layer of ordinary escaping is decoded, judged, and shown when clean.
    let clean = gate(value);
    let text = format!("tool {}\n", deep("plain-tool-name", 2));
    assert_eq!(through(&clean, Style::Text, &text).unwrap(), text);
}
