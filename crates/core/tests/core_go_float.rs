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
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)] // a test, benchmark or example prints for its runner, not through the CLI's output gate.
//! Go's float64 text (`go_json::write_float`), checked two ways:
//! - by property test against the rule Go documents and implements (`encoding/json`'s
//!   `floatEncoder`: `strconv` `'f'` or `'e'` format, precision -1, `e-07` cleaned to `e-7`),
//!   everywhere;
//! - against Go itself, where `go` is on `PATH`: `tests/go/floats.go` (standard library only,
//!   `encoding/json` for the encoding) prints Go's text for ~10,000 values, which must equal
//!   ours byte for byte. Without Go, that test says so on stderr and checks nothing, unless
//!   `CI` or `AGENTLOG_REQUIRE_GO` is set: then it fails (`.ci/run` installs Go).

use std::io::Write as _;
use std::process::{Command, Stdio};

use agentlog_core::event::go_json::{NonFiniteFloat, write_float};
use proptest::prelude::*;

fn go_text(x: f64) -> String {
    let mut out = Vec::new();
    write_float(x, &mut out).expect("finite");
    String::from_utf8(out).expect("ASCII")
}

/// Whether Go writes `x` in plain decimal: zero, or `1e-6 <= |x| < 1e21`.
fn plain_range(x: f64) -> bool {
    x == 0.0 || (1e-6..1e21).contains(&x.abs())
}

/// Plain decimal as Go writes it: optional `-`, no leading zeros, a fraction only when it is
/// not zero and then without trailing zeros (so never `2.0`).
fn is_plain(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let int_ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'));
    let frac_ok = frac.is_none_or(|f| {
        !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) && !f.ends_with('0')
    });
    int_ok && frac_ok
}

/// Exponent form as Go writes it: `-?d(.ddd)?e(+|-)n`, one non-zero leading digit, no
/// trailing zeros in the fraction, the exponent always signed and without leading zeros.
fn is_exponent(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.split_once('e') else {
        return false;
    };
    let mantissa = mantissa.strip_prefix('-').unwrap_or(mantissa);
    let (lead, frac) = match mantissa.split_once('.') {
        Some((lead, frac)) => (lead, Some(frac)),
        None => (mantissa, None),
    };
    let lead_ok = lead.len() == 1 && lead != "0" && lead.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| {
        !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) && !f.ends_with('0')
    });
    let exp_digits = exponent
        .strip_prefix('+')
        .or_else(|| exponent.strip_prefix('-'));
    let exp_ok = exp_digits.is_some_and(|d| {
        !d.is_empty() && !d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit())
    });
    lead_ok && frac_ok && exp_ok
}

/// How many significant digits a formatted number has.
fn significant_digits(text: &str) -> usize {
    digits_of(text).len().max(1)
}

/// Significant digits of a formatted number, as a string without leading or trailing zeros.
fn digits_of(text: &str) -> String {
    let mantissa = text.split('e').next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits
        .trim_start_matches('0')
        .trim_end_matches('0')
        .to_owned()
}

/// Checks `text` against the rule for `x`; `Err` says what is wrong.
fn check_rule(x: f64, text: &str) -> Result<(), String> {
    let back: f64 = text
        .parse()
        .map_err(|e| format!("{text:?} does not parse: {e}"))?;
    if back.to_bits() != x.to_bits() {
        return Err(format!("{text:?} reads back as {back:e}, not {x:e}"));
    }
    if plain_range(x) {
        if !is_plain(text) {
            return Err(format!("{x:e}: expected plain decimal, got {text:?}"));
        }
    } else {
        if !is_exponent(text) {
            return Err(format!("{x:e}: expected Go's exponent form, got {text:?}"));
        }
        let positive_exponent = text.contains("e+");
        if positive_exponent != (x.abs() >= 1e21) {
            return Err(format!("{x:e}: wrong exponent sign in {text:?}"));
        }
    }
    // Shortest: the closest number with one significant digit fewer does not read back as x.
    let n = significant_digits(text);
    if n > 1 {
        let shorter = format!("{:.*e}", n - 2, x);
        if shorter.parse::<f64>().map(f64::to_bits) == Ok(x.to_bits()) {
            return Err(format!(
                "{text:?} is not the shortest: {shorter} reads back too"
            ));
        }
    }
    // Of the shortest, the closest to x, a tie going to the even digit (Go's Ryū rounds the
    // exact value half to even; Rust's `{:.N$e}` does too): when that one reads back as x,
    // it is the one written.
    let closest = format!("{:.*e}", n - 1, x);
    if closest.parse::<f64>().map(f64::to_bits) == Ok(x.to_bits())
        && digits_of(&closest) != digits_of(text)
    {
        return Err(format!("{text:?} is not the closest: {closest} is"));
    }
    Ok(())
}

/// Go's outputs, as `json.Marshal(float64)` writes them (from Go's tests and the issue).
#[test]
fn known_go_outputs() {
    for (x, go) in [
        (2.0, "2"),
        (10.0, "10"),
        (1e16, "10000000000000000"),
        (1e21, "1e+21"),
        (-1e21, "-1e+21"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456789.5, "123456789.5"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (-0.0, "-0"),
        (0.0, "0"),
        (0.42, "0.42"),
        (9.58, "9.58"),
        // Ties of the shortest digits go to the even one, as Go's Ryū rounds (the sums are
        // exact: the spacing of floats there is 0.25).
        (2207100000000000.0 + 0.25, "2207100000000000.2"),
        (1125899906842624.0 + 0.25, "1125899906842624.2"),
        (1125899906842624.0 + 0.75, "1125899906842624.8"),
    ] {
        assert_eq!(go_text(x), go, "{x:e}");
        check_rule(x, go).unwrap();
    }
    let mut out = Vec::new();
    assert_eq!(write_float(f64::NAN, &mut out), Err(NonFiniteFloat));
    assert_eq!(write_float(f64::INFINITY, &mut out), Err(NonFiniteFloat));
    assert!(out.is_empty());
}

/// The rule checker itself refuses what Go never writes.
#[test]
fn rule_checker_refuses_non_go_forms() {
    for (x, wrong) in [
        (2.0, "2.0"),
        (1e16, "1e16"),
        (1e-6, "1e-6"),
        (1e21, "1e21"),
        (1e21, "1000000000000000000000"),
        (1e-7, "1e-07"),
        (1e-7, "1.0e-7"),
        (0.5, "0.50"),
        (0.5, "00.5"),
        (0.3, "0.29999999999999998"),
        // A tie: …0.25 is as close to …0.2 as to …0.3; Go takes the even digit.
        (2207100000000000.0 + 0.25, "2207100000000000.3"),
    ] {
        assert!(check_rule(x, wrong).is_err(), "{wrong} accepted for {x:e}");
    }
}

/// Short binary fractions and large integers, whose exact decimal value can lie halfway
/// between the two closest shortest digit strings (`2207100000000000.25`).
fn tie_prone() -> impl Strategy<Value = f64> {
    (1u64 << 52..1u64 << 53, -8i32..=32).prop_map(|(m, e)| m as f64 * 2f64.powi(e))
}

/// Finite values from everywhere in the f64 range, with extra weight on the two boundaries
/// of the plain range, integers and short decimals.
fn finite() -> impl Strategy<Value = f64> {
    let near = |edge: f64| {
        (-64i64..=64).prop_map(move |d| f64::from_bits(edge.to_bits().wrapping_add_signed(d)))
    };
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |x| x.is_finite()),
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        near(1e-6),
        near(1e21),
        near(1e16),
        any::<i64>().prop_map(|i| i as f64),
        (any::<i32>(), 0u32..12).prop_map(|(m, k)| f64::from(m) / 10f64.powi(k as i32)),
        (-330i32..=308).prop_map(|e| 10f64.powi(e)),
        tie_prone(),
    ]
    .prop_filter("finite", |x| x.is_finite())
    .prop_flat_map(|x| prop_oneof![Just(x), Just(-x)])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn write_float_follows_gos_rule(x in finite()) {
        let text = go_text(x);
        if let Err(why) = check_rule(x, &text) {
            prop_assert!(false, "{}", why);
        }
    }
}

/// Values for the Go cross-check: deterministic, so a difference is reproducible.
fn cross_check_values() -> Vec<f64> {
    let mut values = vec![
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        5e-324,
        1e-6,
        1e21,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    // Powers of ten across the whole range and their neighbours.
    for e in -324..=308 {
        let p: f64 = format!("1e{e}").parse().unwrap_or(0.0);
        for d in [-1i64, 0, 1] {
            values.push(f64::from_bits(p.to_bits().wrapping_add_signed(d)));
        }
    }
    // Around the boundaries of the plain range.
    for edge in [1e-6f64, 1e21, -1e-6, -1e21] {
        for d in -200i64..=200 {
            values.push(f64::from_bits(edge.to_bits().wrapping_add_signed(d)));
        }
    }
    // Random bit patterns, tie-prone values (see `tie_prone`) and short decimals
    // (xorshift64*, fixed seed).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    while values.len() < 10_000 {
        let r = next();
        values.push(match r % 5 {
            0 | 1 => f64::from_bits(next()),
            2 => (next() as i64 >> ((r >> 2) % 60)) as f64,
            3 => ((next() >> 11) | 1 << 52) as f64 * 2f64.powi((r >> 3) as i32 % 41 - 8),
            _ => ((next() % 2_000_000) as f64 - 1_000_000.0) / 10f64.powi((r >> 2) as i32 % 15),
        });
    }
    values
}

/// Our text equals Go's own for ~10,000 values, NaN and infinities (both refuse) included.
#[test]
fn cross_check_against_go() {
    let available = Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        // On CI (or when asked) a missing Go is a failure, never a silent skip.
        let required = ["CI", "AGENTLOG_REQUIRE_GO"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        assert!(
            !required,
            "go is required (CI or AGENTLOG_REQUIRE_GO is set) but not on PATH: install golang-go"
        );
        eprintln!("go not installed: cross-check skipped");
        return;
    }
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/go/floats.go");
    let cache = std::env::var_os("GOCACHE")
        .unwrap_or_else(|| std::env::temp_dir().join("agentlog-core-gocache").into());
    let values = cross_check_values();
    let mut child = Command::new("go")
        .args(["run", program])
        .env("GOCACHE", cache)
        // Offline: no module or toolchain download.
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("go run starts");
    let input: String = values
        .iter()
        .map(|x| format!("{:016x}\n", x.to_bits()))
        .collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("go run finishes");
    writer.join().expect("writer").expect("stdin written");
    assert!(
        output.status.success(),
        "go run {program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), values.len(), "one line per value");
    let mut differences = Vec::new();
    for (x, go) in values.iter().zip(&lines) {
        let mut ours = Vec::new();
        let ours = match write_float(*x, &mut ours) {
            Ok(()) => String::from_utf8(ours).expect("ASCII"),
            Err(NonFiniteFloat) => "error".to_owned(),
        };
        let go = if go.starts_with("error: ") {
            "error"
        } else {
            go
        };
        if ours != go {
            differences.push(format!(
                "{:016x} ({x:e}): ours {ours}, Go {go}",
                x.to_bits()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} differ from Go:\n{}",
        differences.len(),
        values.len(),
        differences[..differences.len().min(20)].join("\n")
    );
    eprintln!("go cross-check: {} values identical to Go's", values.len());
}
