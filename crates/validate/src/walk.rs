//! Turning the paths given to `agentlog validate` into the inputs to read.
//!
//! Rules (Unix):
//!
//! - `-` is standard input (the caller decides whether it may be given more than once).
//! - A path given explicitly that is not a directory is an input whatever it is: a regular
//!   file, a FIFO (so process substitution, `<(zcat log.gz)`, works), a device. It must exist.
//! - A directory is searched recursively for entries whose name ends in `.jsonl` or
//!   `.jsonl.gz`, compared as bytes, so names that are not UTF-8 are found too (they are
//!   labelled with a lossy rendering, [`label`]). Entries are visited sorted by name, so the
//!   order is stable.
//! - Symbolic links, to files or to directories, are followed. A directory is entered at most
//!   once per expansion (identified by device and inode), so a link to a parent or mutual links
//!   end the search instead of looping; re-meeting a directory is not reported.
//! - Every file (device and inode) is an input at most once per expansion, however many links,
//!   hard links or explicit paths lead to it; the first path in walk order labels it.
//! - In a directory walk, a matching entry that is a FIFO, socket or device is never opened (a
//!   FIFO would block forever) and becomes [`Input::Skipped`]. So does a subdirectory that
//!   cannot be listed, and a matching entry that cannot be examined (a broken link). Entries
//!   whose name does not match are ignored whatever they are.
//! - A directory that holds no matching file at all becomes [`Input::EmptyDir`].
//! - Errors about explicit paths (missing, top-level directory unreadable) are
//!   [`WalkError`]s.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use agentlog_validate::walk::{Input, expand};
//! for input in expand(&[PathBuf::from("logs")]).unwrap() {
//!     match input {
//!         Input::Stdin => println!("-"),
//!         Input::File(path) => println!("{}", path.display()),
//!         Input::EmptyDir(path) => println!("{} holds no log", path.display()),
//!         Input::Skipped { path, reason } => println!("{}: {reason}", path.display()),
//!     }
//! }
//! ```

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{Finding, Rule};

/// One input of a run, in the order the inputs are to be read.
#[derive(Debug)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file to read (regular, or a FIFO or device given explicitly).
    File(PathBuf),
    /// A directory that holds no `*.jsonl` or `*.jsonl.gz` file.
    EmptyDir(PathBuf),
    /// Something met in a directory walk that is not read (a warning, [`SkipReason::finding`]).
    Skipped {
        /// Its path.
        path: PathBuf,
        /// Why it is not read.
        reason: SkipReason,
    },
}

impl Input {
    /// The label shown in reports: `-` for stdin, else [`label`] of the path.
    pub fn label(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(path) | Input::EmptyDir(path) | Input::Skipped { path, .. } => label(path),
        }
    }
}

/// Why an entry met in a directory walk is not read.
#[derive(Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// A FIFO (named pipe): opening it would block until a writer comes.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A block or character device.
    Device,
    /// A subdirectory that could not be listed.
    UnreadableDir(io::Error),
    /// An entry that could not be examined (a broken or looping link, a permission error).
    Unexaminable(io::Error),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Fifo => f.write_str(
                "a FIFO (named pipe) met in a directory walk is not read (it could block forever); name it on the command line to read it",
            ),
            SkipReason::Socket => f.write_str("a socket met in a directory walk is not read"),
            SkipReason::Device => {
                f.write_str("a device file met in a directory walk is not read")
            }
            SkipReason::UnreadableDir(e) => write!(
                f,
                "this directory could not be listed ({e}); logs in it, if any, were not checked"
            ),
            SkipReason::Unexaminable(e) => write!(
                f,
                "this entry could not be examined ({e}; a broken link?) and was not checked"
            ),
        }
    }
}

impl SkipReason {
    /// The `input.skipped` warning for this reason (line 0, no pointer); report it under the
    /// skipped path's label.
    pub fn finding(&self) -> Finding {
        Finding {
            line: 0,
            rule: Rule::InputSkipped,
            severity: Rule::InputSkipped.info().severity,
            pointer: None,
            message: self.to_string(),
        }
    }
}

/// An explicitly given path that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{label}: {source}")]
pub struct WalkError {
    /// The path's label ([`label`]).
    pub label: String,
    /// What went wrong.
    pub source: io::Error,
}

/// A path as shown in reports: its bytes, with any that are not UTF-8 replaced by U+FFFD.
pub fn label(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Whether a file name is that of a log: ends in `.jsonl` or `.jsonl.gz` (bytes compared).
pub fn is_log_name(name: &OsStr) -> bool {
    let name = name.as_bytes();
    name.ends_with(b".jsonl") || name.ends_with(b".jsonl.gz")
}

/// Expands the given paths into inputs (see the [module documentation](self) for the rules).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, WalkError> {
    expand_gated(paths, &|_| false)
}

/// [`expand`] for output that withholds some labels: `withheld` says which. In each
/// directory the entries whose labels are shown are visited first (in name order), those
/// withheld after them, so a file or directory reached by two names is listed under a shown
/// one whenever it has one: which name it is listed under never depends on where a withheld
/// name sorts. Then [`withheld_last`] orders the result.
pub fn expand_gated(
    paths: &[PathBuf],
    withheld: &dyn Fn(&str) -> bool,
) -> Result<Vec<Input>, WalkError> {
    let mut walker = Walker {
        withheld,
        out: Vec::new(),
        dirs: HashSet::new(),
        files: HashSet::new(),
    };
    for path in paths {
        if path.as_os_str() == "-" {
            walker.out.push(Input::Stdin);
            continue;
        }
        let meta = fs::metadata(path).map_err(|source| WalkError {
            label: label(path),
            source,
        })?;
        if meta.is_dir() {
            walker.top_dir(path, &meta)?;
        } else if walker.files.insert(id(&meta)) {
            walker.out.push(Input::File(path.clone()));
        }
    }
    Ok(withheld_last(walker.out, withheld))
}

fn id(meta: &Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

struct Walker<'w> {
    /// Which labels are withheld (visited after the shown ones).
    withheld: &'w dyn Fn(&str) -> bool,
    out: Vec<Input>,
    /// Directories entered.
    dirs: HashSet<(u64, u64)>,
    /// Files listed.
    files: HashSet<(u64, u64)>,
}

impl Walker<'_> {
    /// The entries of `dir` in visiting order: shown labels first, by name, then withheld
    /// ones.
    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut entries = list(dir)?;
        entries.sort_by_cached_key(|path| (self.withheld)(&label(path)));
        Ok(entries)
    }

    fn top_dir(&mut self, root: &Path, meta: &Metadata) -> Result<(), WalkError> {
        if !self.dirs.insert(id(meta)) {
            return Ok(()); // searched already; its files are listed
        }
        let entries = self.list(root).map_err(|source| WalkError {
            label: label(root),
            source,
        })?;
        let mut matched = 0usize;
        // Depth first, in name order, without recursion: the stack holds what is still to be
        // looked at, the next entry on top.
        let mut stack: Vec<PathBuf> = entries.into_iter().rev().collect();
        while let Some(path) = stack.pop() {
            let name_matches = path.file_name().is_some_and(is_log_name);
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    if name_matches {
                        self.skip(path, SkipReason::Unexaminable(e));
                    }
                    continue;
                }
            };
            let kind = meta.file_type();
            if kind.is_dir() {
                if !self.dirs.insert(id(&meta)) {
                    continue;
                }
                match self.list(&path) {
                    Ok(entries) => stack.extend(entries.into_iter().rev()),
                    Err(e) => self.skip(path, SkipReason::UnreadableDir(e)),
                }
                continue;
            }
            if !name_matches {
                continue;
            }
            matched += 1;
            let reason = if kind.is_fifo() {
                SkipReason::Fifo
            } else if kind.is_socket() {
                SkipReason::Socket
            } else if kind.is_block_device() || kind.is_char_device() {
                SkipReason::Device
            } else {
                if self.files.insert(id(&meta)) {
                    self.out.push(Input::File(path));
                }
                continue;
            };
            self.skip(path, reason);
        }
        if matched == 0 {
            self.out.push(Input::EmptyDir(root.to_path_buf()));
        }
        Ok(())
    }

    fn skip(&mut self, path: PathBuf, reason: SkipReason) {
        self.out.push(Input::Skipped { path, reason });
    }
}

/// `inputs` with those whose label `withheld` says is not shown moved last, in an order that
/// does not depend on their names (by size, then inode, then the order given).
///
/// A walk visits entries sorted by name, so a file whose name carries a secret would sit, as
/// `(file name withheld: ...)`, where its name sorts among names an attacker chose: its place
/// would tell the value one character per report. Its place would also decide which names an
/// analysis sees first. Moved last, and ordered by what its name is not, it tells nothing.
pub fn withheld_last(inputs: Vec<Input>, withheld: &dyn Fn(&str) -> bool) -> Vec<Input> {
    use std::os::unix::fs::MetadataExt as _;
    let (hidden, mut shown): (Vec<Input>, Vec<Input>) = inputs
        .into_iter()
        .partition(|input| withheld(&input.label()));
    let mut hidden: Vec<((u64, u64), Input)> = hidden
        .into_iter()
        .map(|input| {
            let path = match &input {
                Input::Stdin => None,
                Input::File(p) | Input::EmptyDir(p) | Input::Skipped { path: p, .. } => Some(p),
            };
            let key = (path.and_then(|p| std::fs::metadata(p).ok()))
                .map_or((0, 0), |m| (m.len(), m.ino()));
            (key, input)
        })
        .collect();
    hidden.sort_by_key(|(key, _)| *key);
    shown.extend(hidden.into_iter().map(|(_, input)| input));
    shown
}

/// The entries of a directory, sorted by name (bytes). An error while listing, after the
/// listing started, is an error too: a partial listing would pass silently.
fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut entries = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use std::os::unix::fs::symlink;
    use std::process::Command;

    fn labels(inputs: &[Input], root: &Path) -> Vec<String> {
        inputs
            .iter()
            .map(|i| {
                let kind = match i {
                    Input::Stdin => "stdin",
                    Input::File(_) => "file",
                    Input::EmptyDir(_) => "empty",
                    Input::Skipped { .. } => "skipped",
                };
                let path = i.label();
                let rel = path
                    .strip_prefix(&label(root))
                    .unwrap_or(&path)
                    .trim_start_matches('/');
                format!("{kind} {rel}")
            })
            .collect()
    }

    fn mkfifo(path: &Path) {
        let status = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success());
    }

    #[test]
    fn sorted_recursive_and_matched_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).unwrap();
        for f in [
            "z.jsonl",
            "a.jsonl.gz",
            "b/c/x.jsonl",
            "b/y.jsonl",
            "n.json",
            "n.gz",
        ] {
            fs::write(root.join(f), "").unwrap();
        }
        let inputs = expand(&[root.to_path_buf(), "-".into()]).unwrap();
        assert_eq!(
            labels(&inputs, root),
            [
                "file a.jsonl.gz",
                "file b/c/x.jsonl",
                "file b/y.jsonl",
                "file z.jsonl",
                "stdin -"
            ]
        );
    }

    #[test]
    fn symlink_loops_end_and_list_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // A directory linking to its parent, and to the root.
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/one.jsonl"), "").unwrap();
        symlink("..", root.join("a/up")).unwrap();
        symlink(root, root.join("a/root")).unwrap();
        // Three directories linking to each other, each link pair forming a loop.
        for d in ["p", "q", "r"] {
            fs::create_dir(root.join(d)).unwrap();
            fs::write(root.join(d).join(format!("{d}.jsonl")), "").unwrap();
        }
        for (from, to) in [("p", "q"), ("q", "r"), ("r", "p"), ("p", "r"), ("q", "p")] {
            symlink(format!("../{to}"), root.join(from).join(format!("to_{to}"))).unwrap();
        }
        // A file reached through a link and a hard link is listed once.
        symlink("a/one.jsonl", root.join("link.jsonl")).unwrap();
        fs::hard_link(root.join("p/p.jsonl"), root.join("hard.jsonl")).unwrap();
        // A link to itself is a loop too.
        symlink("self.jsonl", root.join("self.jsonl")).unwrap();
        let inputs = expand(&[root.to_path_buf(), root.join("a"), root.join("a/up")]).unwrap();
        let got = labels(&inputs, root);
        assert_eq!(
            got,
            [
                "file a/one.jsonl",
                "file hard.jsonl",
                "file p/to_q/q.jsonl",
                "file p/to_q/to_r/r.jsonl",
                "skipped self.jsonl",
            ],
            "{got:#?}"
        );
    }

    #[test]
    fn fifos_in_a_walk_are_skipped_but_read_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.jsonl"), "").unwrap();
        mkfifo(&root.join("pipe.jsonl"));
        mkfifo(&root.join("other-pipe"));
        let inputs = expand(&[root.to_path_buf()]).unwrap();
        assert_eq!(
            labels(&inputs, root),
            ["file a.jsonl", "skipped pipe.jsonl"]
        );
        let Input::Skipped { reason, .. } = &inputs[1] else {
            unreachable!()
        };
        let finding = reason.finding();
        assert_eq!(
            (
                finding.rule,
                finding.severity,
                finding.line,
                &finding.pointer
            ),
            (Rule::InputSkipped, Severity::Warning, 0, &None)
        );
        assert!(finding.message.contains("FIFO"), "{}", finding.message);
        // Named explicitly, a FIFO is an input (process substitution).
        let inputs = expand(&[root.join("pipe.jsonl")]).unwrap();
        assert!(matches!(&inputs[..], [Input::File(_)]), "{inputs:?}");
    }

    #[test]
    fn non_utf8_names_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let name = OsStr::from_bytes(b"bad\xff.jsonl");
        fs::write(root.join(name), "").unwrap();
        fs::write(root.join(OsStr::from_bytes(b"bad\xff.txt")), "").unwrap();
        let inputs = expand(&[root.to_path_buf()]).unwrap();
        assert!(
            matches!(&inputs[..], [Input::File(p)] if p.file_name() == Some(name)),
            "{inputs:?}"
        );
        assert_eq!(labels(&inputs, root), ["file bad\u{fffd}.jsonl"]);
    }

    #[test]
    fn unreadable_subdirectory_is_a_warning_missing_path_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("locked")).unwrap();
        fs::write(root.join("locked/x.jsonl"), "").unwrap();
        fs::write(root.join("ok.jsonl"), "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        let listable = fs::read_dir(root.join("locked")).is_ok(); // root can list anything
        let inputs = expand(&[root.to_path_buf()]).unwrap();
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
        if !listable {
            assert_eq!(labels(&inputs, root), ["skipped locked", "file ok.jsonl"]);
        }
        let err = expand(&[root.join("missing.jsonl")]).unwrap_err();
        assert!(err.to_string().contains("missing.jsonl"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let inputs = expand(&[empty.path().to_path_buf()]).unwrap();
        assert!(matches!(&inputs[..], [Input::EmptyDir(_)]), "{inputs:?}");
    }
}
