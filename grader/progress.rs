//! The progress file: each step's last status, per lab, in the user's state directory, so
//! `grader list` and the book's sidebar can show where a learner is.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checks::Status;

pub const PROGRESS_SCHEMA: &str = "grader.progress/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepProgress {
    pub status: Status,
    /// Seconds since the Unix epoch.
    pub checked_at: u64,
    pub account: String,
    pub region: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Progress {
    pub schema: String,
    /// Lab id → step id → last result.
    pub labs: BTreeMap<String, BTreeMap<String, StepProgress>>,
}

/// `$GRADER_STATE_DIR`, else `$XDG_STATE_HOME/fargate-grader`, else
/// `~/.local/state/fargate-grader`.
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GRADER_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("fargate-grader");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".local/state/fargate-grader")
}

pub fn progress_path() -> PathBuf {
    state_dir().join("progress.json")
}

/// Reads the progress file; a missing or unreadable one is empty progress (it is a cache of
/// past results, never worth failing a check run over).
pub fn load(path: &Path) -> Progress {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_else(|| Progress { schema: PROGRESS_SCHEMA.into(), ..Progress::default() })
}

/// Records step results. The file is replaced atomically (write a temporary file in the
/// same directory, fsync, rename), so a grader killed mid-write leaves the old file intact;
/// a lock file serializes read-modify-write, so two graders at once lose nothing.
pub fn record(path: &Path, lab: &str, results: &[(String, StepProgress)]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let _lock = Lock::acquire(&path.with_extension("json.lock"))?;
    let mut progress = load(path);
    progress.schema = PROGRESS_SCHEMA.into();
    let steps = progress.labs.entry(lab.to_string()).or_default();
    for (step, result) in results {
        steps.insert(step.clone(), result.clone());
    }
    let tmp = dir.join(format!(".progress.{}.{}.tmp", std::process::id(), rand::random::<u32>()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(serde_json::to_string_pretty(&progress).expect("progress serializes").as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Saves the status of each step of a report; a progress file that cannot be written is a
/// warning, never a reason to lose the verdicts. After Ctrl-C only steps with decided checks
/// are saved.
pub fn record_report(lab: &str, report: &crate::report::Report, interrupted: bool) {
    let now = now_secs();
    let results: Vec<(String, StepProgress)> = report
        .steps
        .iter()
        .filter(|s| !interrupted || !s.checks.is_empty())
        .map(|s| (s.id.clone(), StepProgress { status: s.status, checked_at: now, account: report.account.clone(), region: report.region.clone() }))
        .collect();
    if let Err(e) = record(&progress_path(), lab, &results) {
        eprintln!("warning: failed to save progress to {}: {e}", progress_path().display());
    }
}

/// An exclusive lock held while the file exists. A lock left by a killed grader is taken
/// over after a few seconds, since no write takes that long.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path) -> std::io::Result<Lock> {
        let started = std::time::Instant::now();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(_) => return Ok(Lock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age.as_secs() >= 5);
                    if stale || started.elapsed().as_secs() >= 10 {
                        let _ = std::fs::remove_file(path);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_merges_steps() {
        let dir = std::env::temp_dir().join(format!("grader-progress-test-{}", std::process::id()));
        let path = dir.join("progress.json");
        let p = |s| StepProgress { status: s, checked_at: 1, account: "1".into(), region: "us-east-1".into() };
        record(&path, "lab", &[("step-1".into(), p(Status::Pass))]).unwrap();
        record(&path, "lab", &[("step-2".into(), p(Status::Fail))]).unwrap();
        let progress = load(&path);
        assert_eq!(progress.labs["lab"].len(), 2);
        assert_eq!(progress.labs["lab"]["step-2"].status, Status::Fail);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_writers_lose_nothing_and_never_corrupt() {
        let dir = std::env::temp_dir().join(format!("grader-progress-race-{}", std::process::id()));
        let path = dir.join("progress.json");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for round in 0..10 {
                        let p = StepProgress { status: Status::Pass, checked_at: round, account: "1".into(), region: "r".into() };
                        record(&path, "lab", &[(format!("step-{i}"), p)]).unwrap();
                        // Every reader at any moment sees a whole file.
                        let text = std::fs::read_to_string(&path).unwrap();
                        serde_json::from_str::<Progress>(&text).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(load(&path).labs["lab"].len(), 8);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
