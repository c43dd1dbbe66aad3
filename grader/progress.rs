//! The progress file: each step's last status, per lab, in the user's state directory, so
//! `grader list` and the book's sidebar can show where a learner is.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::checks::Status;
use crate::report::Report;
use crate::events::{Reporter, RunEvent};
use crate::runner::PlannedCheck;

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
/// an OS lock on `progress.json.lock` serializes read-modify-write, so two graders at once
/// lose nothing. The OS drops the lock of a killed grader, so there is no stale lock to
/// steal, and the lock file itself is never deleted (deleting it would let two writers hold
/// locks on two different files).
pub fn record(path: &Path, lab: &str, results: &[(String, StepProgress)]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let _lock = lock(&path.with_extension("json.lock"))?;
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

/// How long a writer waits for another live grader's lock. A write takes milliseconds, so
/// only a grader suspended mid-write (Ctrl-Z) holds it this long; progress is a cache, and
/// giving up with a warning beats hanging.
const LOCK_PATIENCE: Duration = Duration::from_secs(10);

/// Takes the exclusive lock on `path`, held until the returned file is dropped.
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_PATIENCE => std::thread::sleep(Duration::from_millis(5)),
            Err(std::fs::TryLockError::WouldBlock) => {
                let message = format!("another grader has held {} for {}s", path.display(), LOCK_PATIENCE.as_secs());
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, message));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// The progress file as a reporter: when a run ends, the status of each step it decided.
/// A progress file that cannot be written is a warning, never a reason to lose the verdicts.
#[derive(Default)]
pub struct ProgressReporter {
    /// Every check the run set out to decide, from the run's start.
    planned: Vec<PlannedCheck>,
    lab: String,
}

impl Reporter for ProgressReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        match event {
            RunEvent::Started { lab, checks, .. } => {
                self.lab = lab.id.clone();
                self.planned = checks.to_vec();
            }
            RunEvent::Finished(end) => {
                let results = steps_to_record(&end.report, &self.planned, end.interrupted, now_secs());
                let path = progress_path();
                // The lock waits at most LOCK_PATIENCE: short enough to do in place.
                for (lab, results) in by_lab(&self.lab, results) {
                    if let Err(e) = record(&path, &lab, &results) {
                        eprintln!("warning: failed to save progress to {}: {e}", path.display());
                    }
                }
            }
            RunEvent::Check(_) | RunEvent::Action(_) | RunEvent::AccountFinished(_) | RunEvent::TeardownFinished(_) | RunEvent::Selftest(_) => {}
        }
        Ok(())
    }
}

/// The results under the lab each belongs to: a run of every lab at once (`LAB:STEP` steps
/// of the combined lab) is remembered under each lab's own step, where `grader list` and the
/// book look.
fn by_lab(lab: &str, results: Vec<(String, StepProgress)>) -> Vec<(String, Vec<(String, StepProgress)>)> {
    if lab != crate::lab::combined::ALL {
        return vec![(lab.to_string(), results)];
    }
    let mut labs: Vec<(String, Vec<(String, StepProgress)>)> = Vec::new();
    for (step, progress) in results {
        let Some((lab, step)) = step.split_once(':') else { continue };
        match labs.iter_mut().find(|(l, _)| l == lab) {
            Some((_, steps)) => steps.push((step.to_string(), progress)),
            None => labs.push((lab.to_string(), vec![(step.to_string(), progress)])),
        }
    }
    labs
}

/// The steps of a report worth remembering. After Ctrl-C a step counts only when every one
/// of its planned checks was decided: a step whose one decided check passed while the others
/// were cut off has not passed.
fn steps_to_record(report: &Report, planned: &[PlannedCheck], interrupted: bool, now: u64) -> Vec<(String, StepProgress)> {
    let planned_in = |step: &str| planned.iter().filter(|p| p.step_id == step).count();
    report
        .steps
        .iter()
        .filter(|s| !interrupted || s.checks.len() == planned_in(&s.id))
        .map(|s| (s.id.clone(), StepProgress { status: s.status, checked_at: now, account: report.account.clone(), region: report.region.clone() }))
        .collect()
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

    #[test]
    fn a_lock_file_left_behind_neither_delays_writers_nor_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.json");
        // What a grader killed mid-write leaves: the lock file, but no lock.
        let lock_file = dir.path().join("progress.json.lock");
        std::fs::write(&lock_file, "").unwrap();
        let started = Instant::now();
        record(&path, "lab", &[("step-1".into(), StepProgress { status: Status::Pass, checked_at: 1, account: "1".into(), region: "r".into() })]).unwrap();
        assert!(started.elapsed() < Duration::from_secs(1), "waited {:?} on a lock nobody holds", started.elapsed());
        assert!(lock_file.exists(), "the lock file is never deleted");
    }

    #[test]
    fn a_writer_waits_while_another_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.json");
        let held = lock(&path.with_extension("json.lock")).unwrap();
        let writer = {
            let path = path.clone();
            let p = StepProgress { status: Status::Pass, checked_at: 1, account: "1".into(), region: "r".into() };
            std::thread::spawn(move || record(&path, "lab", &[("step-1".into(), p)]))
        };
        std::thread::sleep(Duration::from_millis(300));
        assert!(!path.exists(), "the writer went ahead while another held the lock");
        drop(held);
        writer.join().unwrap().unwrap();
        assert_eq!(load(&path).labs["lab"]["step-1"].status, Status::Pass);
    }

    #[test]
    fn after_ctrl_c_only_steps_with_every_check_decided_are_saved() {
        use crate::report::{CheckReport, Points, StepReport, Summary};
        let planned = |step: &str, id: &str| PlannedCheck {
            step_id: step.into(),
            id: id.into(),
            title: id.into(),
            hint: None,
            points: 1,
            wait: None,
            depends_on: Vec::new(),
            kind: serde_json::from_value(serde_json::json!({ "kind": "caller_identity" })).unwrap(),
        };
        let decided = |id: &str| CheckReport {
            id: id.into(),
            kind: "caller_identity".into(),
            title: id.into(),
            status: Status::Pass,
            message: String::new(),
            expected: None,
            found: None,
            hint: None,
            duration_ms: 1,
            leftovers: Vec::new(),
        };
        let step = |id: &str, checks: Vec<CheckReport>| StepReport { id: id.into(), title: id.into(), status: Status::Pass, points: Points::default(), checks };
        let plan = [planned("whole", "a"), planned("whole", "b"), planned("partial", "c"), planned("partial", "d"), planned("untouched", "e")];
        let report = Report {
            schema: crate::report::REPORT_SCHEMA.into(),
            lab: "lab".into(),
            account: "1".into(),
            region: "r".into(),
            duration_ms: 1,
            // `partial` passed its one decided check, but `d` was cut off.
            steps: vec![step("whole", vec![decided("a"), decided("b")]), step("partial", vec![decided("c")]), step("untouched", Vec::new())],
            summary: Summary::default(),
        };
        let saved = |interrupted| steps_to_record(&report, &plan, interrupted, 1).into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(saved(true), ["whole"]);
        assert_eq!(saved(false), ["whole", "partial", "untouched"]);
    }
}
