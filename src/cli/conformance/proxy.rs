//! `agentlog conformance proxy`: the interceptor harness (being built, issue 13).

use crate::cli::fail;

/// Run the interceptor scenarios against our proxy (--self) or a port (--cmd).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> u8 {
    fail("the interceptor harness is not built yet")
}
