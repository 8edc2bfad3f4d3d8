//! `agentlog conformance export DIR` and `agentlog conformance list`.

use std::path::PathBuf;

use agentlog_conformance::cases;

use crate::cli::{fail, print_stdout, print_stdout_as, printed};
use agentlog_validate::gate::Style;

/// Write every embedded case, the READMEs and `manifest.json` under DIR (created when
/// missing; existing files of the same name are replaced).
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Directory to write the cases to.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

pub(super) fn run(args: Args) -> u8 {
    match cases::export(&args.dir) {
        Ok(written) => printed(print_stdout(&format!(
            "{written} file(s) written to {}\n",
            crate::cli::output::path(&args.dir)
        ))),
        Err(e) => fail(e),
    }
}

/// Print the manifest: one case per line (`id  profile  description`), or as JSON.
#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    /// Print `manifest.json` as a port vendors it.
    #[arg(long)]
    json: bool,
}

pub(super) fn list(args: ListArgs) -> u8 {
    if args.json {
        return match cases::manifest_json() {
            Ok(text) => printed(print_stdout_as(&text, Style::Json)),
            Err(e) => fail(e),
        };
    }
    let entries = match cases::manifest() {
        Ok(entries) => entries,
        Err(e) => return fail(e),
    };
    let width = entries.iter().map(|e| e.id.len()).max().unwrap_or(0);
    let mut text = String::new();
    for entry in &entries {
        text.push_str(&format!(
            "{:width$}  {:6}  {}\n",
            entry.id, entry.profile, entry.description
        ));
    }
    text.push_str(&format!("{} case(s)\n", entries.len()));
    printed(print_stdout(&text))
}
