//! The documents written when a run ends (JSON, JUnit, the autograders' result files), to
//! stdout or to `--output`, as a reporter of the run's events.

use std::path::{Path, PathBuf};

use super::classroom::{self, Grading};
use super::{Format, Report, junit};
use crate::events::{Reporter, RunEvent};
use crate::grading::undecided_outcomes;
use crate::lab::Lab;
use crate::runner::{CheckOutcome, PlannedCheck};

/// Writes one document of `format` when the run finishes.
pub struct DocumentReporter {
    format: Format,
    output: Option<PathBuf>,
    lab: Option<Lab>,
    planned: Vec<PlannedCheck>,
}

impl DocumentReporter {
    /// `format` must be a document format (not `human`, not `ndjson`).
    pub fn new(format: Format, output: Option<PathBuf>) -> DocumentReporter {
        DocumentReporter { format, output, lab: None, planned: Vec::new() }
    }
}

impl Reporter for DocumentReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        match event {
            RunEvent::Started { lab, checks, .. } => {
                self.lab = Some((*lab).clone());
                self.planned = checks.to_vec();
                Ok(())
            }
            RunEvent::Check(_) | RunEvent::Action(_) | RunEvent::AccountFinished(_) | RunEvent::TeardownFinished(_) | RunEvent::Selftest(_) => Ok(()),
            RunEvent::Finished(end) => {
                let text = match self.format {
                    Format::Json => format!("{}\n", end.report.to_json()),
                    Format::Junit => junit::render(&end.report),
                    format if format.is_classroom() => {
                        let lab = self.lab.as_ref().expect("a run starts before it finishes");
                        // A check Ctrl-C stopped did not decide: the platforms must not score it
                        // as failed.
                        let missing = undecided_outcomes(&self.planned, &end.outcomes, "the run was interrupted before this check decided");
                        let outcomes: Vec<CheckOutcome> = end.outcomes.iter().cloned().chain(missing).collect();
                        let step_ids: Vec<&str> = end.report.steps.iter().map(|s| s.id.as_str()).collect();
                        let graded = Report::build(lab, &step_ids, &end.account, &end.region, end.duration_ms, &outcomes);
                        classroom_document(format, &graded, &self.planned, None)
                    }
                    other => unreachable!("{other:?} is not a document format"),
                };
                write_output(&text, self.output.as_deref())
            }
        }
    }
}

/// The autograder document of a run that could not start: every planned check "could not
/// grade", with why. A platform that finds no result file records a crash, or nothing.
pub fn unreachable_document(format: Format, lab: &Lab, step_ids: &[&str], planned: &[PlannedCheck], region: &str, why: &str) -> String {
    let outcomes = undecided_outcomes(planned, &[], "AWS could not be reached, so no check ran");
    let report = Report::build(lab, step_ids, "", region, 0, &outcomes);
    classroom_document(format, &report, planned, Some(why))
}

fn classroom_document(format: Format, report: &Report, planned: &[PlannedCheck], setup_failure: Option<&str>) -> String {
    let plans = classroom::plans(planned);
    let grading = Grading { report, plans: &plans, setup_failure };
    match format {
        Format::Gradescope => classroom::gradescope(&grading),
        Format::Prairielearn => classroom::prairielearn(&grading),
        Format::GithubClassroom => classroom::github_classroom(&grading),
        other => unreachable!("{other:?} is not an autograder format"),
    }
}

/// Writes a document to `output`, or to stdout without it.
pub fn write_output(text: &str, output: Option<&Path>) -> Result<(), String> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("failed to write the report to {}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
