//! One learner's terminal for `grader selftest` (and the tutorial tests): a bash or zsh
//! process that keeps its variables from block to block, as a terminal does between pastes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// The shells the course's prerequisites promise (Git Bash is bash).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    #[default]
    Bash,
    /// macOS's default: no word splitting of unquoted variables, and a glob that matches
    /// nothing is an error.
    Zsh,
}

impl Shell {
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
        }
    }
}

/// Why a block did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockError {
    /// It ended with a non-zero status (or `set -e` ended the shell): the status and what it
    /// wrote to stderr.
    Failed { status: String, stderr: String },
    /// It was still running after the time allowed; the session cannot be trusted after it.
    TimedOut(Duration),
}

impl BlockError {
    /// The status for reports: the exit status, or `timed out after …`.
    pub fn status(&self) -> String {
        match self {
            BlockError::Failed { status, .. } => status.clone(),
            BlockError::TimedOut(limit) => format!("timed out after {} s", limit.as_secs()),
        }
    }

    /// What the block wrote to stderr (nothing is kept of one that timed out).
    pub fn stderr(&self) -> &str {
        match self {
            BlockError::Failed { stderr, .. } => stderr,
            BlockError::TimedOut(_) => "",
        }
    }
}

/// A running shell. Dropping it kills the shell.
pub struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    dir: PathBuf,
    count: usize,
}

impl Session {
    /// Starts `shell` in `dir` with no start-up files (the shell's own defaults, as on a fresh
    /// machine), the environment of this process plus `env`, and, when `strict`, `set -e -o
    /// pipefail` as the book asks learners to: the first failing command ends the session.
    pub fn start(shell: Shell, dir: &Path, env: &[(String, String)], strict: bool) -> std::io::Result<Session> {
        let mut command = Command::new(shell.name());
        match shell {
            Shell::Bash => command.args(["--noprofile", "--norc"]),
            Shell::Zsh => command.arg("-f"),
        };
        let mut child = command
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| std::io::Error::new(e.kind(), format!("failed to start {}: {e}", shell.name())))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut session = Session { child, stdin, lines, dir: dir.to_path_buf(), count: 0 };
        if strict {
            writeln!(session.stdin, "set -e -o pipefail")?;
        }
        Ok(session)
    }

    /// Runs one block as if pasted into the terminal; returns what it wrote to stdout. The
    /// block is sourced from a file, so its lines run in this shell (its `export`s and `cd`s
    /// stay) and a multi-line command is read whole.
    pub fn run(&mut self, code: &str, limit: Duration) -> Result<String, BlockError> {
        self.count += 1;
        let script = self.dir.join(format!(".block-{}.sh", self.count));
        let errors = self.dir.join(format!(".block-{}.err", self.count));
        if let Err(e) = std::fs::write(&script, code) {
            return Err(BlockError::Failed { status: format!("could not write {}: {e}", script.display()), stderr: String::new() });
        }
        let marker = format!("__selftest_block_{}_done__", self.count);
        let line = format!("{{ . '{}'; }} 2> '{}'; echo \"{marker} $?\"\n", script.display(), errors.display());
        if self.stdin.write_all(line.as_bytes()).and_then(|_| self.stdin.flush()).is_err() {
            return Err(BlockError::Failed { status: "the shell had exited".into(), stderr: String::new() });
        }
        let mut output = String::new();
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(&marker) => {
                    let status = line[marker.len()..].trim().to_string();
                    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
                    return if status == "0" { Ok(output) } else { Err(BlockError::Failed { status, stderr }) };
                }
                Ok(line) => {
                    output.push_str(&line);
                    output.push('\n');
                }
                Err(RecvTimeoutError::Timeout) => return Err(BlockError::TimedOut(limit)),
                // `set -e` ended the shell: the block failed.
                Err(RecvTimeoutError::Disconnected) => {
                    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(BlockError::Failed { status, stderr });
                }
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(20);

    #[test]
    fn variables_stay_between_blocks_and_a_failure_ends_a_strict_session() {
        let dir = tempfile::tempdir().unwrap();
        let mut session = Session::start(Shell::Bash, dir.path(), &[("GREETING".into(), "hello".into())], true).unwrap();
        assert_eq!(session.run("export NAME=\"$GREETING world\"\n", SECOND), Ok(String::new()));
        assert_eq!(session.run("echo \"$NAME\"\n", SECOND), Ok("hello world\n".into()));
        match session.run("echo oops >&2\nfalse\necho never\n", SECOND) {
            Err(BlockError::Failed { stderr, .. }) => assert_eq!(stderr, "oops\n"),
            other => panic!("a failing block must fail: {other:?}"),
        }
        assert!(session.run("true\n", SECOND).is_err(), "set -e ended the shell");
    }

    #[test]
    fn a_block_that_hangs_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut session = Session::start(Shell::Bash, dir.path(), &[], true).unwrap();
        assert_eq!(session.run("sleep 5\n", Duration::from_millis(200)), Err(BlockError::TimedOut(Duration::from_millis(200))));
    }
}
