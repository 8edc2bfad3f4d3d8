//! `agentlog`: the command-line shell over the agentlog library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
