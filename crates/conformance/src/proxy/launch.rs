//! Launching a port, waiting until it listens, stopping it.
//!
//! The model: the expanded command line runs as `sh -c 'trap : TERM; COMMAND'` in a new
//! process group (the shell is the group leader), with stdin from `/dev/null` and stdout and
//! stderr written to files in the scratch directory. The harness never needs the port's own
//! process id:
//!
//! - **readiness** is the event "a TCP connect to `{listen}` succeeds", polled every 20 ms
//!   until a deadline; the child exiting first ends the wait at once with its status;
//! - **stop** is `SIGTERM` to the whole process group. The shell's `trap : TERM` makes the
//!   shell itself survive the signal until its foreground command has exited (POSIX runs a
//!   trap only after the foreground command completes; the command gets `SIGTERM` with its
//!   default action, since traps are reset for commands), so when the shell exits, the port
//!   has exited: the harness waits on the shell with a deadline, then `SIGKILL`s the group;
//! - a [`Port`] dropped without [`Port::stop`] (the harness failed half way) kills its group.
//!
//! Signals go through `rustix` (safe wrappers of `kill(2)` on a process group); the crate
//! forbids `unsafe`. Waiting on the shell is a thread blocked in `wait(2)` that reports on a
//! channel, so the deadline is a timeout on that report rather than a polling loop.

use std::fs::File;
use std::net::SocketAddr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::sync::oneshot;

/// How often readiness is tried.
const CONNECT_INTERVAL: Duration = Duration::from_millis(20);
/// Bytes of stderr shown when a port fails to start.
const TAIL_BYTES: usize = 1500;

/// Why a port did not start listening, or had to be killed: a difference of its scenario,
/// shown after `startup: the port ` or `stop: the port `.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LaunchError {
    /// The port exited before it listened.
    #[error("exited ({status}) before listening on {addr}")]
    Exited {
        /// How it exited: `exit status 3`, `signal 9`.
        status: String,
        /// Its exit code, when it exited rather than being killed by a signal.
        code: Option<i32>,
        /// Where it should have listened.
        addr: SocketAddr,
    },
    /// The port did not listen before its deadline.
    #[error("did not listen on {addr} within {}s", .timeout.as_secs_f64())]
    NotListening {
        /// Where it should have listened.
        addr: SocketAddr,
        /// How long it had.
        timeout: Duration,
    },
    /// The port did not exit after `SIGTERM`; its process group was killed.
    #[error("did not exit within {}s of SIGTERM (killed)", .grace.as_secs_f64())]
    Killed {
        /// How long it had.
        grace: Duration,
    },
}

/// A launched port.
#[derive(Debug)]
pub(crate) struct Port {
    group: Option<Pid>,
    exit: oneshot::Receiver<std::io::Result<ExitStatus>>,
    exited: Option<String>,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// What a port printed, read after it stopped.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Its stdout, as written.
    pub(crate) stdout: Vec<u8>,
    /// Its stderr, as written.
    pub(crate) stderr: Vec<u8>,
}

impl Output {
    /// The last 1500 bytes of stderr (or stdout when stderr is empty), for messages, after
    /// `redact` has seen the whole text (a cut through a secret would leave a part of it
    /// that redaction no longer recognises).
    pub(crate) fn tail(&self, redact: impl Fn(&str) -> String) -> String {
        let text = if self.stderr.trim_ascii().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let text = redact(&String::from_utf8_lossy(text));
        let text = text.trim_end();
        let mut start = text.len().saturating_sub(TAIL_BYTES);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }
}

/// Runs `command_line` under `sh` in its own process group, in the harness's current directory
/// (so a template can name the port by a relative path, as the validator harness allows);
/// its output goes to files in `dir`.
pub(crate) fn spawn(command_line: &str, dir: &Path) -> std::io::Result<Port> {
    let stdout = dir.join("port.stdout");
    let stderr = dir.join("port.stderr");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("trap : TERM; {command_line}"))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout)?)
        .stderr(File::create(&stderr)?)
        .process_group(0)
        .spawn()?;
    let group = Pid::from_child(&child);
    let (tx, exit) = oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    Ok(Port {
        group: Some(group),
        exit,
        exited: None,
        stdout,
        stderr,
    })
}

fn describe(status: &std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(sig)) => format!("signal {sig}"),
            _ => s.to_string(),
        },
        Err(e) => format!("wait failed: {e}"),
    }
}

impl Port {
    /// Waits until a TCP connect to `addr` succeeds. `Err`: the port exited first (with its
    /// status), or `timeout` passed.
    pub(crate) async fn wait_ready(
        &mut self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<(), LaunchError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(exit) = self.exit.try_recv() {
                let code = exit.as_ref().ok().and_then(ExitStatus::code);
                let status = describe(&exit);
                self.exited = Some(status.clone());
                return Err(LaunchError::Exited { status, code, addr });
            }
            let attempt =
                tokio::time::timeout(CONNECT_INTERVAL * 10, tokio::net::TcpStream::connect(addr));
            if let Ok(Ok(_)) = attempt.await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(LaunchError::NotListening { addr, timeout });
            }
            tokio::time::sleep(CONNECT_INTERVAL).await;
        }
    }

    /// Sends `SIGTERM` to the group and waits up to `grace` for the port to exit (then
    /// `SIGKILL`). Returns its output, and `Err` with the reason when it had to be killed.
    pub(crate) async fn stop(mut self, grace: Duration) -> (Output, Result<(), LaunchError>) {
        let verdict = match self.exited.take() {
            Some(_) => Ok(()),
            None => self.terminate(grace).await,
        };
        self.group = None;
        (self.output(), verdict)
    }

    async fn terminate(&mut self, grace: Duration) -> Result<(), LaunchError> {
        if let Some(group) = self.group {
            let _ = kill_process_group(group, Signal::TERM);
        }
        match tokio::time::timeout(grace, &mut self.exit).await {
            Ok(_) => Ok(()),
            Err(_) => {
                self.kill();
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.exit).await;
                Err(LaunchError::Killed { grace })
            }
        }
    }

    fn kill(&self) {
        if let Some(group) = self.group {
            let _ = kill_process_group(group, Signal::KILL);
        }
    }

    fn output(&self) -> Output {
        let read = |p: &Path| {
            crate::capped::read(p, MAX_READ)
                .map(|(bytes, _)| bytes)
                .unwrap_or_default()
        };
        Output {
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
        }
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Most bytes read of a port's log or output: a runaway port fails its scenario, it does not
/// exhaust the harness's memory.
pub(crate) const MAX_READ: u64 = 64 << 20;

/// A free loopback port: bound and released (a port must bind it soon after).
pub(crate) fn free_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_that_exits_is_reported_with_its_status_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let mut port = spawn("echo boom >&2; exit 3", dir.path()).unwrap();
        // Port 1: nothing listens there. A port picked free and released may be taken by a
        // test running beside this one, and would look ready.
        let addr = SocketAddr::from(([127, 0, 0, 1], 1));
        let err = port
            .wait_ready(addr, Duration::from_secs(5))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("exit status 3"), "{err}");
        let (output, stopped) = port.stop(Duration::from_secs(1)).await;
        assert!(stopped.is_ok());
        assert_eq!(output.tail(str::to_owned), "boom");
        assert_eq!(output.tail(|t| t.replace("boom", "<secret>")), "<secret>");
    }

    /// `command` run in `dir` (a port runs in the harness's own directory).
    fn in_dir(dir: &Path, command: &str) -> String {
        format!(
            "cd {} && {command}",
            super::super::template::quote(&dir.to_string_lossy())
        )
    }

    /// Waits until the command under test wrote `ready` (its trap is installed).
    async fn until_ready(dir: &Path) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dir.join("ready").exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn sigterm_waits_for_the_command_to_finish() {
        let dir = tempfile::tempdir().unwrap();
        // The command traps TERM, writes a file after the signal, then exits: the shell
        // must not return before.
        let cmd = "sh -c 'trap \"sleep 0.2; echo done > flushed; exit 0\" TERM; touch ready; while :; do sleep 0.05; done'";
        let port = spawn(&in_dir(dir.path(), cmd), dir.path()).unwrap();
        until_ready(dir.path()).await;
        let (_, stopped) = port.stop(Duration::from_secs(5)).await;
        assert!(stopped.is_ok(), "{stopped:?}");
        assert!(dir.path().join("flushed").exists());
    }

    #[tokio::test]
    async fn a_port_ignoring_sigterm_is_killed_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = "sh -c 'trap \"\" TERM; touch ready; while :; do sleep 0.05; done'";
        let port = spawn(&in_dir(dir.path(), cmd), dir.path()).unwrap();
        until_ready(dir.path()).await;
        let (_, stopped) = port.stop(Duration::from_millis(300)).await;
        assert!(stopped.unwrap_err().to_string().contains("did not exit"));
    }
}
