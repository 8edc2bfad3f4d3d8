//! `agentlog man`: the manual page (roff), on stdout.

use clap::CommandFactory as _;

use super::{Cli, fail, print_stdout, printed};

/// Print the manual page (roff): synopsis, options and every subcommand.
///
/// `agentlog man > ~/.local/share/man/man1/agentlog.1`, then `man agentlog`; or read it at
/// once with `agentlog man | man -l -`. Each subcommand's own options: `agentlog help
/// <COMMAND>`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {}

pub(super) fn run(_args: Args) -> u8 {
    let mut page = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
        return fail(format_args!("manual page: {e}"));
    }
    match String::from_utf8(page) {
        Ok(text) => printed(print_stdout(&text)),
        Err(e) => fail(format_args!("manual page: {e}")),
    }
}
