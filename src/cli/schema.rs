//! `agentlog schema`: print the embedded schemas.

use agentlog_core::schema::Profile;

use super::{fail, print_stdout, print_stdout_as, printed};
use agentlog_validate::gate::Style;

/// Print the published JSON Schemas (draft 2020-12).
///
/// Without arguments prints the envelope schema of the profile. NAME is `envelope` or an
/// event type of the profile: v0 has `llm_request`, `llm_response`, `budget_action`,
/// `key_injection`; v1 has `http_request`, `http_response`, `gate_decision`, `route_decision`,
/// `request_transform`, `response_transform`, `budget_action`, `key_injection` (deprecated).
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Which schema to print: `envelope` or an event type of the profile (see --list).
    #[arg(value_name = "NAME", conflicts_with_all = ["bundle", "list"])]
    name: Option<String>,
    /// Print one self-contained schema with every `$ref` inlined under `$defs`.
    #[arg(long)]
    bundle: bool,
    /// List the schema names and their `$id`s.
    #[arg(long, conflicts_with = "bundle")]
    list: bool,
    /// Which published profile's schemas.
    #[arg(long, value_name = "PROFILE", default_value_t = Profile::V0, value_parser = profile_parser())]
    profile: Profile,
}

/// `--profile`: the names [`Profile`] parses, listed with a description in `--help`.
fn profile_parser() -> impl clap::builder::TypedValueParser<Value = Profile> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(
        Profile::ALL.map(|profile| PossibleValue::new(profile.name()).help(profile.description())),
    )
    .try_map(|name| name.parse::<Profile>())
}

pub(super) fn run(args: Args) -> u8 {
    let profile = args.profile;
    if args.list {
        let list: String = profile
            .files()
            .iter()
            .map(|file| format!("{}\t{}\n", file.name, file.id()))
            .collect();
        return printed(print_stdout(&list));
    }
    if args.bundle {
        return match serde_json::to_string_pretty(&profile.bundle()) {
            Ok(text) => printed(print_stdout_as(&(text + "\n"), Style::Json)),
            Err(e) => fail(e),
        };
    }
    let name = args.name.as_deref().unwrap_or(profile.envelope_file().name);
    match profile.find(name) {
        Some(file) => printed(print_stdout_as(file.text, Style::Json)),
        None => {
            let known: Vec<_> = profile.files().iter().map(|f| f.name).collect();
            fail(format_args!(
                "unknown schema `{}` in profile {profile}; known: {}",
                crate::cli::output::shown(name),
                known.join(", ")
            ))
        }
    }
}
