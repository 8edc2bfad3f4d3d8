//! `agentlog man`: the manual pages (roff), on stdout.
//!
//! One page per command, named as clap_mangen names them in a page's SUBCOMMANDS section:
//! `agentlog`, `agentlog-ledger`, `agentlog-ledger-log`. A command is asked for by its words
//! (`ledger log`), its page's name less `agentlog-` (`ledger-log`) or its page's whole name.

use clap::CommandFactory as _;

use super::{Cli, EXIT_ERROR, fail, output, print_stdout, printed};

/// Print a manual page (roff): agentlog's, or with COMMAND that command's.
///
/// `agentlog man > ~/.local/share/man/man1/agentlog.1`, then `man agentlog`; or read it at
/// once with `agentlog man | man -l -`. A command's page: `agentlog man ledger log` (or
/// `ledger-log`, the name its parent's page gives it: agentlog-ledger-log(1)). Every page:
/// `agentlog man --list` names them, one a line.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The command whose page to print: its words (`ledger log`) or its page's name
    /// (`ledger-log`, `agentlog-ledger-log`). None: the page of agentlog itself.
    #[arg(value_name = "COMMAND", num_args = 0.., conflicts_with = "list")]
    command: Vec<String>,
    /// Print the name of every page, one a line, and nothing else.
    #[arg(long)]
    list: bool,
}

pub(super) fn run(args: Args) -> u8 {
    let pages = pages();
    if args.list {
        let names: String = pages.iter().map(|page| page_name(page) + "\n").collect();
        return printed(print_stdout(&names));
    }
    let wanted = wanted_page(&args.command);
    let Some(page) = pages.into_iter().find(|page| page_name(page) == wanted) else {
        return unknown(&pages_of_commands());
    };
    let mut roff = Vec::new();
    if let Err(e) = clap_mangen::Man::new(page).render(&mut roff) {
        return fail(format_args!("manual page: {e}"));
    }
    match String::from_utf8(roff) {
        Ok(text) => printed(print_stdout(&text)),
        Err(e) => fail(format_args!("manual page: {e}")),
    }
}

/// The page's name the words of COMMAND stand for (`agentlog` for none).
fn wanted_page(words: &[String]) -> String {
    let joined = words.join("-");
    if joined.is_empty() || joined == "agentlog" {
        "agentlog".to_owned()
    } else if joined.starts_with("agentlog-") {
        joined
    } else {
        format!("agentlog-{joined}")
    }
}

/// Every page: agentlog's, then each command's (depth first), as clap_mangen renders them.
fn pages() -> Vec<clap::Command> {
    // As `clap_mangen::generate_to` does: built (so each command knows its page's name), and
    // without the `help` command, which has no page.
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut pages = Vec::new();
    collect(top, &mut pages);
    pages
}

fn collect(command: clap::Command, pages: &mut Vec<clap::Command>) {
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .cloned()
        .collect();
    pages.push(command);
    for sub in subcommands {
        collect(sub, pages);
    }
}

/// The name of a page (its file is NAME.1).
fn page_name(page: &clap::Command) -> String {
    page.get_display_name()
        .unwrap_or_else(|| page.get_name())
        .to_owned()
}

/// The commands that have a page, as `agentlog man` takes them (`ledger-log`).
fn pages_of_commands() -> Vec<String> {
    pages()
        .iter()
        .filter_map(|page| page_name(page).strip_prefix("agentlog-").map(str::to_owned))
        .collect()
}

/// The error for a COMMAND with no page: usage (exit 2), naming the commands that have one.
/// The words typed are not repeated: any argument may be a secret typed in the wrong place.
fn unknown(commands: &[String]) -> u8 {
    output::errln!(
        "agentlog: error: no such command; the commands with a page: {}",
        commands.join(", ")
    );
    EXIT_ERROR
}
