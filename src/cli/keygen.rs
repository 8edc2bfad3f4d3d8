//! `agentlog keygen`: a key pair for signed seals ([`agentlog_seal::generate_key_pair`]).

use std::path::PathBuf;

use super::{EXIT_OK, fail, output};

/// Write an Ed25519 key pair for `agentlog seal --key` and `agentlog verify --pubkey`.
///
/// Writes DIR/seal.key (the secret key, created with mode 0600: keep it where the log's
/// writer runs) and DIR/seal.pub (the public key: give it to whoever verifies). Never
/// replaces a key file. Exit codes: 0 written, 2 usage or I/O error (or a key file already
/// there).
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The directory to write the two key files into (created, mode 0700, when missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Runs the subcommand.
pub(super) fn run(args: Args) -> u8 {
    match agentlog_seal::generate_key_pair(&args.dir) {
        Ok(paths) => {
            output::errln!(
                "wrote {} (the secret key, mode 0600) and {} (the public key)",
                output::path(&paths.secret),
                output::path(&paths.public)
            );
            EXIT_OK
        }
        Err(e) => {
            let (secret, public) = (args.dir.join("seal.key"), args.dir.join("seal.pub"));
            fail(output::paths_shown(
                &e.to_string(),
                &[args.dir.as_path(), &secret, &public],
            ))
        }
    }
}
