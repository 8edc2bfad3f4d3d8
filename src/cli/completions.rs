//! `agentlog completions`: the shell completion script, on stdout.

use clap::CommandFactory as _;

use super::{Cli, fail, print_stdout, printed};

/// Print the completion script of a shell.
///
/// bash: `agentlog completions bash > ~/.local/share/bash-completion/completions/agentlog`;
/// zsh: `agentlog completions zsh > "${fpath[1]}/_agentlog"`; fish:
/// `agentlog completions fish > ~/.config/fish/completions/agentlog.fish`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The shell the script is for.
    #[arg(value_name = "SHELL")]
    shell: clap_complete::Shell,
}

pub(super) fn run(args: Args) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "agentlog", &mut script);
    match String::from_utf8(script) {
        Ok(text) => printed(print_stdout(&text)),
        Err(e) => fail(format_args!("completion script: {e}")),
    }
}
