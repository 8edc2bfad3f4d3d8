//! The secret options `agentlog validate` and `agentlog analyze` share: the secrets whose
//! values must not appear (`--secrets-file`, `--secret-env`, `--secret`) and the built-in
//! detector of well-known credential formats (`--no-builtin-detectors`, `--allow`). Both
//! commands turn them into the validator's [`Options`], so both withhold the same values the
//! same way (the validator's scanner, detector and redactor).

use std::path::PathBuf;

use agentlog_core::secrets::file::{MIN_VALUE_LEN, SecretsFileError, read_secrets_file};
use agentlog_core::secrets::{Secret, SecretValue, is_valid_name};
use agentlog_validate::Options;
use agentlog_validate::secrets::scan::{MIN_SECRET_LEN, SecretScanner};

/// Secrets whose values must not appear, and the built-in detector.
#[derive(Debug, clap::Args)]
pub(super) struct SecretArgs {
    /// Secrets whose values must not appear: a dotenv file (`[export] NAME=VALUE` lines,
    /// quoted values, `#` comments) or a JSON object of name -> value. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub secrets_file: Vec<PathBuf>,
    /// A secret whose value is in this environment variable. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Vec<String>,
    /// A secret in the sandbox's syntax `NAME=VALUE@hosts`, or `NAME@hosts` for the value of the
    /// environment variable NAME (hosts ignored here). Repeatable.
    #[arg(long, value_name = "NAME=VALUE@hosts")]
    pub secret: Vec<String>,
    /// Turn off the built-in detector of well-known credential formats.
    #[arg(long)]
    pub no_builtin_detectors: bool,
    /// Ignore a built-in detector match that contains this literal text. Repeatable.
    #[arg(long, value_name = "TEXT")]
    pub allow: Vec<String>,
}

impl SecretArgs {
    /// The validator's default [`Options`] with these secrets and detector settings; errors
    /// name each argument by its position, never by its text.
    pub(super) fn options(&self) -> Result<Options, String> {
        Ok(Options::default()
            .with_secrets(collect_secrets(self)?)
            .with_builtin_detectors(!self.no_builtin_detectors)
            .with_allow(self.allow.clone()))
    }
}

// A secrets file refuses values the scanner would refuse, itself: it can give the line, and
// must not give the name (which may be part of a value). Both limits are agentlog-core's one.
const _: () = assert!(MIN_VALUE_LEN == MIN_SECRET_LEN);

/// The secrets of `--secrets-file`, `--secret-env` and `--secret`. Errors give each argument's
/// position (`--secret #2`), never its text, which may be a value: a spec whose `NAME=` was
/// forgotten, a value typed where a path or a name belongs. A secrets file that exists is
/// named by its path (see [`read_secrets_file`]), unless the path carries one of the other
/// secrets given: every argument is read before an error is reported, and the output gate
/// learns every secret that could be read, so the error cannot show one.
fn collect_secrets(args: &SecretArgs) -> Result<Vec<Secret>, String> {
    let mut secrets = Vec::new();
    let mut error = None;
    let mut unreadable = Vec::new();
    for (i, path) in args.secrets_file.iter().enumerate() {
        match read_secrets_file(path) {
            Ok(file) => secrets.extend(file),
            Err(SecretsFileError::Read { source }) if error.is_none() => {
                error = Some(format!(
                    "--secrets-file #{}: cannot read the secrets file: {source}",
                    i + 1
                ));
            }
            Err(e) if error.is_none() => {
                unreadable.push((i, path.display().to_string()));
                error = Some(e.to_string());
            }
            Err(_) => {}
        }
    }
    match (other_secrets(args, &mut secrets), error) {
        (Ok(()), None) => refuse_overlong(secrets).and_then(refuse_own_words),
        (result, error) => {
            crate::cli::output::install_secrets(&secrets);
            let message = error.or(result.err()).unwrap_or_default();
            Err(without_secret_paths(message, &unreadable))
        }
    }
}

/// The longest value taken as a secret: far above any credential (a PEM private key is a few
/// KiB), and bounding the memory the scanner's forms take (about 60 times the value).
const MAX_SECRET_LEN: usize = 64 << 10;

/// Refuses a secret longer than [`MAX_SECRET_LEN`], by name.
fn refuse_overlong(secrets: Vec<Secret>) -> Result<Vec<Secret>, String> {
    match secrets.iter().find(|s| s.expose().len() > MAX_SECRET_LEN) {
        None => Ok(secrets),
        Some(long) => {
            let others: Vec<Secret> = (secrets.iter())
                .filter(|s| s.expose().len() <= MAX_SECRET_LEN)
                .cloned()
                .collect();
            crate::cli::output::install_secrets(&others);
            Err(format!(
                "secret {}: the value is longer than {MAX_SECRET_LEN} bytes, which no credential is; refusing it",
                long.name()
            ))
        }
    }
}

/// Refuses a secret whose value is text agentlog writes of its own
/// ([`own_texts`](crate::cli::output::own_texts): `agentlog`, `transform`, eight spaces of a
/// document's indentation): no output could show the report and keep it out. Named by its
/// name, which may be logged. The gate learns the other secrets, for the error.
fn refuse_own_words(secrets: Vec<Secret>) -> Result<Vec<Secret>, String> {
    if secrets.is_empty() {
        return Ok(secrets);
    }
    let scanner = SecretScanner::new(&secrets).map_err(|e| e.to_string())?;
    let mut hits = Vec::new();
    scanner.find(crate::cli::output::own_texts().as_bytes(), &mut hits);
    match hits.first() {
        None => Ok(secrets),
        Some(hit) => {
            let refused: Vec<usize> = hits.iter().map(|h| h.secret).collect();
            let others: Vec<Secret> = (secrets.iter().enumerate())
                .filter(|(i, _)| !refused.contains(i))
                .map(|(_, s)| s.clone())
                .collect();
            crate::cli::output::install_secrets(&others);
            Err(format!(
                "secret {}: its value is text agentlog writes itself (a word of its reports or messages), so it could not be kept out of the output; refusing it",
                scanner.name(hit.secret)
            ))
        }
    }
}

/// `message` with the path of each secrets file in `files` that carries a secret replaced by
/// the file's position.
fn without_secret_paths(mut message: String, files: &[(usize, String)]) -> String {
    let gate = crate::cli::output::gate();
    for (i, path) in files {
        if gate.redactor().shows_value(path) {
            let label = format!("#{} {}", i + 1, agentlog_validate::WITHHELD_PATH);
            message = message.replace(path.as_str(), &label);
        }
    }
    message
}

/// Adds the secrets of `--secret-env` and `--secret` to `secrets`; the first error, once
/// every argument that could be read is.
fn other_secrets(args: &SecretArgs, secrets: &mut Vec<Secret>) -> Result<(), String> {
    let mut first = Ok(());
    let mut keep = |result: Result<Secret, String>| match result {
        Ok(secret) => secrets.push(secret),
        Err(e) if first.is_ok() => first = Err(e),
        Err(_) => {}
    };
    for (i, name) in args.secret_env.iter().enumerate() {
        keep(secret_from_env(i + 1, name));
    }
    for (i, spec) in args.secret.iter().enumerate() {
        keep(secret_from_spec(i + 1, spec));
    }
    first
}

fn secret_from_env(position: usize, name: &str) -> Result<Secret, String> {
    if !is_valid_name(name) {
        return Err(format!(
            "--secret-env #{position}: not a valid environment variable name (letters, digits and `_`, not starting with a digit)"
        ));
    }
    let value = std::env::var(name)
        .map_err(|_| format!("--secret-env #{position}: that environment variable is not set"))?;
    if value.len() < MIN_SECRET_LEN {
        return Err(too_short(format_args!("--secret-env #{position}")));
    }
    Ok(Secret::new(
        name.to_owned(),
        SecretValue::new(value),
        vec![],
    ))
}

fn secret_from_spec(position: usize, spec: &str) -> Result<Secret, String> {
    let secret = Secret::parse(spec, |n| std::env::var(n).ok())
        .map_err(|e| format!("--secret #{position}: {e}"))?;
    // Refused here by position: the scanner would name the secret, and in `abcdefgh=xy`
    // (a value whose `=` was taken for the separator) the "name" is most of the value.
    if secret.expose().len() < MIN_SECRET_LEN {
        return Err(too_short(format_args!("--secret #{position}")));
    }
    Ok(secret)
}

/// The refusal of a value shorter than [`MIN_SECRET_LEN`], in agentlog-core's words (the
/// proxy's too).
fn too_short(which: std::fmt::Arguments<'_>) -> String {
    format!("{which}: {}", agentlog_core::secrets::TooShort)
}
