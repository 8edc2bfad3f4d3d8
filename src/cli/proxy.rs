//! `agentlog proxy` (being built; see the open issue).

use super::fail;

/// Not built yet.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> u8 {
    fail("`proxy` is not built yet")
}
