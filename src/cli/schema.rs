//! `agentlog schema`: print the embedded schemas.

use agentlog_core::schema;

use super::{EXIT_OK, fail};

/// Print the published JSON Schemas (draft 2020-12).
///
/// Without arguments prints the envelope schema. NAME is `envelope` or an event type
/// (`llm_request`, `llm_response`, `budget_action`, `key_injection`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema to print.
    #[arg(value_name = "NAME", conflicts_with_all = ["bundle", "list"])]
    name: Option<String>,
    /// Print one self-contained schema with every `$ref` inlined under `$defs`.
    #[arg(long)]
    bundle: bool,
    /// List the schema names and their `$id`s.
    #[arg(long, conflicts_with = "bundle")]
    list: bool,
}

pub fn run(args: Args) -> u8 {
    if args.list {
        for file in &schema::V0 {
            println!("{}\t{}", file.name, file.id());
        }
        return EXIT_OK;
    }
    if args.bundle {
        return match serde_json::to_string_pretty(&schema::bundle()) {
            Ok(text) => {
                println!("{text}");
                EXIT_OK
            }
            Err(e) => fail(e),
        };
    }
    let name = args.name.as_deref().unwrap_or("envelope");
    match schema::find(name) {
        Some(file) => {
            print!("{}", file.text);
            EXIT_OK
        }
        None => {
            let known: Vec<_> = schema::V0.iter().map(|f| f.name).collect();
            fail(format_args!(
                "unknown schema `{name}`; known: {}",
                known.join(", ")
            ))
        }
    }
}
