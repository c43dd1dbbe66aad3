//! Reports: the JSON document of DESIGN.md's contract, built from the runner's outcomes,
//! and the reporters that print it (human, JSON, JUnit, and the autograders' result files).

pub mod classroom;
pub mod document;
pub mod human;
pub mod junit;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::checks::{Leftover, Status};
use crate::lab::Lab;
use crate::runner::CheckOutcome;

/// The schema name of the JSON report (contract).
pub const REPORT_SCHEMA: &str = "grader.report/v1";

/// Output formats of `grader check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable lines with marks, colour on a terminal.
    Human,
    /// One `grader.report/v1` document on stdout.
    Json,
    /// JUnit XML for CI dashboards.
    Junit,
    /// The run's events as they happen, one JSON object per line (the last one carries the
    /// `json` report), for tools that show live progress.
    Ndjson,
    /// Gradescope autograder `results.json`.
    Gradescope,
    /// PrairieLearn external grader `results.json`.
    Prairielearn,
    /// The result JSON GitHub Classroom's autograding reporter reads.
    GithubClassroom,
}

impl Format {
    /// The autograder formats: they are written even when AWS cannot be reached, so the
    /// platform records "could not grade" instead of a missing or empty result.
    pub fn is_classroom(self) -> bool {
        matches!(self, Format::Gradescope | Format::Prairielearn | Format::GithubClassroom)
    }

    /// The formats written as one document when the run ends.
    pub fn is_document(self) -> bool {
        matches!(self, Format::Json | Format::Junit) || self.is_classroom()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub lab: String,
    pub account: String,
    pub region: String,
    pub duration_ms: u64,
    pub steps: Vec<StepReport>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepReport {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub points: Points,
    pub checks: Vec<CheckReport>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Points {
    pub earned: u32,
    pub possible: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub status: Status,
    pub message: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub hint: Option<String>,
    pub duration_ms: u64,
    /// Resources left behind (cleanup checks only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<Leftover>,
}

impl From<&CheckOutcome> for CheckReport {
    fn from(o: &CheckOutcome) -> CheckReport {
        CheckReport {
            id: o.id.clone(),
            kind: o.kind.to_string(),
            title: o.title.clone(),
            status: o.status,
            message: o.message.clone(),
            expected: o.expected.clone(),
            found: o.found.clone(),
            hint: o.hint.clone(),
            duration_ms: o.duration.as_millis() as u64,
            leftovers: o.leftovers.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub skip: usize,
}

impl Summary {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::Skip => self.skip += 1,
        }
    }
    pub fn all_passed(&self) -> bool {
        self.fail == 0 && self.error == 0 && self.skip == 0
    }
}

/// A step's status from its checks': any fail, else any error, else any skip, else pass.
pub fn step_status(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut worst = Status::Pass;
    for s in statuses {
        worst = match (worst, s) {
            (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
            (Status::Error, _) | (_, Status::Error) => Status::Error,
            (Status::Skip, _) | (_, Status::Skip) => Status::Skip,
            _ => Status::Pass,
        };
    }
    worst
}

impl Report {
    /// Builds the report of a run over `step_ids` (in lab order) from its outcomes.
    pub fn build(lab: &Lab, step_ids: &[&str], account: &str, region: &str, duration_ms: u64, outcomes: &[CheckOutcome]) -> Report {
        let mut summary = Summary::default();
        let steps = lab
            .steps
            .iter()
            .filter(|s| step_ids.contains(&s.id.as_str()))
            .map(|step| {
                let checks: Vec<CheckReport> = outcomes
                    .iter()
                    .filter(|o| o.step_id == step.id)
                    .map(|o| {
                        summary.add(o.status);
                        CheckReport::from(o)
                    })
                    .collect();
                let points = Points {
                    earned: outcomes.iter().filter(|o| o.step_id == step.id && o.status == Status::Pass).map(|o| o.points).sum(),
                    possible: outcomes.iter().filter(|o| o.step_id == step.id).map(|o| o.points).sum(),
                };
                StepReport { id: step.id.clone(), title: step.title.clone(), status: step_status(checks.iter().map(|c| c.status)), points, checks }
            })
            .collect();
        Report { schema: REPORT_SCHEMA.into(), lab: lab.id.clone(), account: account.into(), region: region.into(), duration_ms, steps, summary }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports always serialize")
    }
}

/// The ids of the checks whose verdict is unknown: those that errored, and those skipped
/// because the check they depend on is itself unknown (the runner names it in the skip
/// message); a skip behind a failed check is a decided zero. Autograder files and the cohort
/// gradebook both score by this.
pub fn undecided_checks(steps: &[StepReport]) -> BTreeSet<&str> {
    let checks: Vec<_> = steps.iter().flat_map(|s| &s.checks).collect();
    let mut undecided: BTreeSet<&str> = checks.iter().filter(|c| c.status == Status::Error).map(|c| c.id.as_str()).collect();
    // A chain of skips resolves one link per pass.
    loop {
        let before = undecided.len();
        for c in checks.iter().filter(|c| c.status == Status::Skip) {
            let blocker = crate::runner::skipped_behind(&c.message);
            if blocker.is_some_and(|id| undecided.contains(id)) {
                undecided.insert(c.id.as_str());
            }
        }
        if undecided.len() == before {
            return undecided;
        }
    }
}

