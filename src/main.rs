//! `agentlog`: the command-line shell over the agentlog library.

mod cli;

// The commands allocate and free many small values across threads (an export builds a
// record of a dozen attributes per line and frees whole batches on its sending thread);
// mimalloc does that in a fraction of the time glibc's allocator takes. The library
// crates leave the choice to whoever links them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
