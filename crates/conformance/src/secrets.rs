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

/// `text` with every secret value written in it shown as `<secret NAME>`.
pub(crate) fn redact(redactor: &Redactor, text: &str) -> String {
    redactor
        .replace_secrets(text, |name| format!("<secret {name}>"))
        .into_owned()
}

/// The names of the secrets whose value `text` carries, in any encoding the validator's
/// scanner finds, sorted.
pub(crate) fn leaked<'r>(redactor: &'r Redactor, text: &str) -> Vec<&'r str> {
    let scanner = redactor.scanner();
    let mut hits = Vec::new();
    scanner.find(text.as_bytes(), &mut hits);
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
}
