//! One event stream for every output of a check run. The orchestrator (`grading`) turns the
//! runner's check events into a run's events and hands each to every [`Reporter`]: the human
//! lines, the JSON/JUnit/autograder documents, NDJSON, the progress file, a receipt, the
//! browser's stream. A reporter sees the run as it happens and writes what it needs, when it
//! needs to; none is built from another's output.

use serde::Serialize;
use serde_json::{Value, json};

use crate::lab::Lab;
use crate::report::{CheckReport, Report};
use crate::runner::{CheckOutcome, Event, PlannedCheck};

/// A check run, from sign-in to the last verdict.
pub enum RunEvent<'a> {
    /// Signed in; the checks are about to run (some may have started while signing in).
    Started { lab: &'a Lab, account: &'a str, region: &'a str, checks: &'a [PlannedCheck] },
    /// A check started, is waiting, or decided.
    Check(&'a Event),
    /// Every check decided, or the run was stopped.
    Finished(&'a RunEnd),
    /// The teardown (`grader cleanup --apply`, the one write path) reports through the same
    /// stream: one planned resource decided (deleted, already gone, skipped, failed, …).
    Action(&'a ActionEvent),
    /// One account's teardown is over (a class teardown has one per account).
    AccountFinished(&'a AccountTally),
    /// The whole teardown is over: its result document (`grader.teardown-result/v1`, or the
    /// class's `grader.teardown-class-result/v1`).
    TeardownFinished(&'a Value),
    /// `grader selftest` reports through the same stream too: besides the check runs before
    /// and after each step, a command block ran, a page was judged, the selftest ended.
    Selftest(&'a SelftestEvent),
}

/// What `grader selftest` adds to a run's events (its check runs are ordinary runs).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SelftestEvent {
    /// Signed in; the pages are about to run, in this order.
    SelftestStarted { labs: Vec<String>, shell: &'static str, account: String, region: String, pages: Vec<String> },
    /// One ```bash block of a page starts in the selftest's shell.
    BlockStarted { page: String, line: usize },
    /// One ```bash block of a page ran in the selftest's shell.
    BlockFinished {
        /// The page, relative to the book's source (`lab/step-4-cluster.md`).
        page: String,
        /// The line of the block's opening fence.
        line: usize,
        /// The shell's status for the block: `0`, another code, or why there was none.
        status: String,
        duration_ms: u64,
    },
    /// One page is done: its checks before, its commands, its checks after.
    PageFinished(PageVerdict),
    /// Every page is done, or the selftest stopped at the first one that went wrong.
    SelftestFinished { passed: bool, pages: usize, duration_ms: u64 },
}

/// How one page of a selftest went.
#[derive(Debug, Clone, Serialize)]
pub struct PageVerdict {
    pub lab: String,
    pub page: String,
    /// The step its widget checks; `None` for a page with commands but no widget (a lab's
    /// overview that prepares the terminal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The step's checks before the commands ran: how many passed of how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Tally>,
    /// Whether the step's checks may pass before its commands (the step creates nothing).
    pub before_may_pass: bool,
    pub blocks: usize,
    /// The first block that failed: `page:line` and the shell's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Tally>,
    pub duration_ms: u64,
    pub passed: bool,
    /// Why it did not pass, in a sentence that names the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Checks of one run: how many passed of how many, and the ids of the others.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub total: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_passed: Vec<String>,
}

/// One planned resource of a teardown, decided.
#[derive(Debug, Clone, Serialize)]
pub struct ActionEvent {
    pub account: String,
    /// `ecs_service`, `load_balancer`, … as the plan names it.
    pub kind: String,
    pub name: String,
    pub region: String,
    /// `deleted`, `already_gone`, `skipped`, `failed` or `not_attempted`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// What one account's teardown came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountTally {
    pub account: String,
    /// The roster's label, in a class teardown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub deleted: usize,
    pub already_gone: usize,
    pub skipped: usize,
    pub failed: usize,
    pub not_attempted: usize,
    pub usd_per_hour_stopped: f64,
    /// Why nothing could be done in the account (its role could not be assumed, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a run ended: the outcomes in plan order and the report they make.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub account: String,
    pub region: String,
    pub duration_ms: u64,
    pub outcomes: Vec<CheckOutcome>,
    /// Stopped (Ctrl-C, a closed browser tab) before every check decided.
    pub interrupted: bool,
    /// The `grader.report/v1` document of the decided checks.
    pub report: Report,
    /// When the run ended by AWS's clock (RFC 3339), when an answer said.
    pub aws_time: Option<String>,
}

/// An output of check runs. Errors (a file that cannot be written) end the command after
/// the run, with the message; the other reporters still get every event.
pub trait Reporter: Send {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String>;
}

/// Hands each event to every reporter, keeping the first error.
#[derive(Default)]
pub struct Dispatch<'r> {
    reporters: Vec<&'r mut dyn Reporter>,
    first_error: Option<String>,
}

impl<'r> Dispatch<'r> {
    pub fn new(reporters: Vec<&'r mut dyn Reporter>) -> Dispatch<'r> {
        Dispatch { reporters, first_error: None }
    }

    pub fn emit(&mut self, event: &RunEvent<'_>) {
        for reporter in &mut self.reporters {
            if let Err(e) = reporter.on_event(event) {
                self.first_error.get_or_insert(e);
            }
        }
    }

    /// The first error any reporter met, once the run is over.
    pub fn into_error(self) -> Option<String> {
        self.first_error
    }
}

/// An event as one JSON object: the `--format ndjson` lines and the serve stream. The last
/// one, `run_finished`, carries the whole `grader.report/v1` document.
pub fn to_json(event: &RunEvent<'_>) -> Value {
    match event {
        RunEvent::Started { lab, account, region, checks } => json!({
            "event": "run_started",
            "lab": lab.id,
            "account": account,
            "region": region,
            "checks": checks.iter().map(|c| json!({ "step": c.step_id, "id": c.id, "title": c.title })).collect::<Vec<_>>(),
        }),
        RunEvent::Check(Event::Started { step_id, check_id }) => json!({ "event": "check_started", "step": step_id, "check": check_id }),
        RunEvent::Check(Event::Waiting { step_id, check_id, message, elapsed, limit, retry_in }) => json!({
            "event": "check_waiting",
            "step": step_id,
            "check": check_id,
            "message": message,
            "elapsed_ms": elapsed.as_millis() as u64,
            "limit_ms": limit.as_millis() as u64,
            "retry_in_ms": retry_in.as_millis() as u64,
        }),
        RunEvent::Check(Event::Finished(outcome)) => json!({
            "event": "check_finished",
            "step": outcome.step_id,
            "check": CheckReport::from(outcome.as_ref()),
            "points": outcome.points,
        }),
        RunEvent::Finished(end) => json!({
            "event": "run_finished",
            "duration_ms": end.duration_ms,
            "interrupted": end.interrupted,
            "report": end.report,
        }),
        RunEvent::Action(action) => with_event("action_finished", action),
        RunEvent::AccountFinished(tally) => with_event("account_finished", tally),
        RunEvent::TeardownFinished(result) => json!({ "event": "teardown_finished", "result": result }),
        RunEvent::Selftest(event) => serde_json::to_value(event).unwrap_or(Value::Null),
    }
}

/// `value`'s fields after an `event` field.
fn with_event(event: &str, value: &impl Serialize) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("event".into(), event.into());
    if let Ok(Value::Object(fields)) = serde_json::to_value(value) {
        object.extend(fields);
    }
    Value::Object(object)
}

/// `--format ndjson`: every event as one JSON line, written as it happens.
pub struct NdjsonReporter<W: std::io::Write + Send> {
    out: W,
}

impl<W: std::io::Write + Send> NdjsonReporter<W> {
    pub fn new(out: W) -> Self {
        NdjsonReporter { out }
    }
}

impl<W: std::io::Write + Send> Reporter for NdjsonReporter<W> {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        let line = to_json(event).to_string();
        writeln!(self.out, "{line}").and_then(|_| self.out.flush()).map_err(|e| format!("failed to write an event: {e}"))
    }
}
