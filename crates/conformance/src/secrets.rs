//! The secret values of a run, as both harnesses show and look for them: through the
//! validator's [`Redactor`], so a harness searches for a value exactly as the validator does
//! (one search, in every encoding its scanner knows), with no redactor of its own.
//!
//! The harnesses hand a port real secret values (`--secret NAME=VALUE@HOSTS`, a case's
//! `secrets`) and then show command lines, events, stderr tails and differences. Every such
//! text goes through [`redact`], which writes each value (or a fixed form of it: its hex, its
//! base64, ...) as `<secret NAME>`; [`leaked`] names the secrets a text carries, which is how
//! the judge finds a value in a port's log or output without ever printing it.

use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::{ScanError, SecretScanner};
use agentlog_validate::secrets::{Secret, SecretValue};

/// The validator's redactor for `secrets`, each `(name, value)`: the scanner of those
/// values, without the detector of well-known credential formats (a harness names the
/// secrets it was given). Refuses a value shorter than the scanner accepts.
pub(crate) fn redactor<'a>(
    secrets: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Redactor, ScanError> {
    let secrets: Vec<Secret> = secrets
        .into_iter()
        .map(|(name, value)| Secret::new(name, SecretValue::new(value), vec![]))
        .collect();
    Ok(Redactor::new(SecretScanner::new(&secrets)?, None))
}

/// What a harness shows instead of a text that still carries a secret value once the values
/// written in it are replaced: one the replacement cannot cut out (split by a control
/// character, escaped, quoted by a debug format).
pub(crate) const WITHHELD: &str = "(withheld: it carries the value of a secret)";

/// The one way a harness shows a text that came from a port or a scenario: every secret
/// value written in it as `<secret NAME>`, and the whole text [`WITHHELD`] when the
/// validator's [`Redactor::leaks`] still finds a value in what is left. A caller judges the
/// whole text as the port wrote it, and only then cuts it, takes a line of it or escapes it:
/// a cut or an escaping of a value no longer recognisable as one would show it to a reader.
pub(crate) fn redact(redactor: &Redactor, text: &str) -> String {
    let replaced = redactor.replace_secrets(text, |name| format!("<secret {name}>"));
    if redactor.leaks(&replaced) {
        WITHHELD.to_owned()
    } else {
        replaced.into_owned()
    }
}

/// The names of the secrets whose value `text` carries, in any encoding the validator's
/// scanner finds, sorted. Bytes as a port wrote them are searched undecoded: a lossy decoding
/// would break up an encoding that is not UTF-8 (UTF-16 with a character beyond ASCII).
pub(crate) fn leaked(redactor: &Redactor, text: impl AsRef<[u8]>) -> Vec<&str> {
    let scanner = redactor.scanner();
    let mut hits = Vec::new();
    scanner.find(text.as_ref(), &mut hits);
    let mut names: Vec<&str> = hits.iter().map(|hit| scanner.name(hit.secret)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_values_by_names() {
        let r = redactor([("A", "sk-aaa-0123456789")]).unwrap();
        assert_eq!(redact(&r, "x sk-aaa-0123456789 y"), "x <secret A> y");
        assert_eq!(leaked(&r, "..sk-aaa-0123456789.."), ["A"]);
        assert!(leaked(&r, "nothing").is_empty());
        assert!(!format!("{r:?}").contains("sk-aaa"));
        // What the validator finds, the harness finds: the value percent-encoded.
        assert_eq!(leaked(&r, "sk%2Daaa%2D0123456789"), ["A"]);
        assert!(redactor([("B", "short")]).is_err());
    }

    #[test]
    fn a_value_no_replacement_can_cut_out_withholds_the_whole_text() {
        let r = redactor([("K", "sk-conf-openai-111111")]).unwrap();
        // Split by one control character: raw, as Rust's `{:?}` and JSON quote it, by a
        // newline, and at every character.
        for text in [
            "body sk-conf-\u{1b}openai-111111 end",
            "body \"sk-conf-\\u{1b}openai-111111\" end",
            "summary: \"sk-conf-\\u0001openai-111111\"",
            "output: sk-conf-\nopenai-111111",
            "stderr: sk-conf-\ropenai-111111",
            "s\u{1}k\u{1}-\u{1}c\u{1}o\u{1}n\u{1}f\u{1}-\u{1}openai-111111",
            // Octal, `\U0000XXXX`, reversed, and a control character written as an escape.
            "err: \\163\\153\\055\\143\\157\\156\\146\\055\\157\\160\\145\\156\\141\\151\\055\\061\\061\\061\\061\\061\\061",
            "sk-conf-op\\001enai-111111",
            "\\U00000073\\U0000006b-conf-openai-111111",
            "111111-ianepo-fnoc-ks",
            "sk-conf-op%01enai-111111",
            "sk-conf-op&#1;enai-111111",
            "sk-conf-op\\\\u0001enai-111111",
            "padding \\x73\\x6b\\x2d\\x63\\x6f\\x6e\\x66\\x2d\\x6f\\x70\\x65\\x6e\\x61\\x69\\x2d\\x31\\x31\\x31\\x31\\x31\\x31",
        ] {
            assert_eq!(redact(&r, text), WITHHELD, "{text:?}");
        }
        assert_eq!(
            redact(&r, "plain sk-conf-openai-111111."),
            "plain <secret K>."
        );
        assert_eq!(redact(&r, "nothing here"), "nothing here");
    }
}
