//! Applying a teardown plan: each planned resource is looked up again and deleted only if it is
//! still the creation the plan recorded; one created since under the same name is left alone
//! and named, one already gone is fine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::actions;
use super::plan::{Planned, TeardownPlan};
use crate::aws::{Aws, AwsErrorKind};
use crate::checks::identity::{Finding, judge, look_again};
use crate::events::{AccountTally, ActionEvent};

/// The schema name of `--apply --format json`.
pub const RESULT_SCHEMA: &str = "grader.teardown-result/v1";

/// What became of one planned resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Deleted,
    /// Gone before the teardown reached it (deleted by hand, or with what used it).
    AlreadyGone,
    /// Something else holds its name now, or AWS cannot say: left alone.
    Skipped { why: String },
    /// The deletion failed (a missing permission is named).
    Failed { why: String },
    /// Not reached: the teardown was interrupted first.
    NotAttempted,
}

impl Outcome {
    pub fn done(&self) -> bool {
        matches!(self, Outcome::Deleted | Outcome::AlreadyGone)
    }

    /// The outcome's name in the event stream and the result document.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::AlreadyGone => "already_gone",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Failed { .. } => "failed",
            Outcome::NotAttempted => "not_attempted",
        }
    }

    fn why(&self) -> Option<String> {
        match self {
            Outcome::Skipped { why } | Outcome::Failed { why } => Some(why.clone()),
            _ => None,
        }
    }
}

impl Applied {
    /// The resource's line in the run's event stream.
    pub fn event(&self, account: &str) -> ActionEvent {
        ActionEvent {
            account: account.into(),
            kind: self.resource.kind.clone(),
            name: self.resource.shown(),
            region: self.resource.region.clone(),
            outcome: self.outcome.name(),
            why: self.outcome.why(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    #[serde(flatten)]
    pub resource: Planned,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The whole teardown, for `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct TeardownResult {
    pub schema: &'static str,
    pub account: String,
    pub resources: Vec<Applied>,
    /// What the deleted resources cost per hour, each billed thing once.
    pub usd_per_hour_stopped: f64,
    pub interrupted: bool,
}

impl TeardownResult {
    /// A teardown that never started (interrupted before the account's turn): every
    /// resource not attempted, nothing asked of AWS.
    pub fn not_attempted(plan: &TeardownPlan) -> TeardownResult {
        let resources = plan.resources.iter().map(|p| Applied { resource: p.clone(), outcome: Outcome::NotAttempted }).collect();
        TeardownResult { schema: RESULT_SCHEMA, account: plan.account.clone(), resources, usd_per_hour_stopped: 0.0, interrupted: true }
    }

    /// How many resources came to each outcome.
    pub fn tally(&self, label: Option<&str>) -> AccountTally {
        let count = |name: &str| self.resources.iter().filter(|a| a.outcome.name() == name).count();
        AccountTally {
            account: self.account.clone(),
            label: label.map(str::to_string),
            deleted: count("deleted"),
            already_gone: count("already_gone"),
            skipped: count("skipped"),
            failed: count("failed"),
            not_attempted: count("not_attempted"),
            usd_per_hour_stopped: self.usd_per_hour_stopped,
            error: None,
        }
    }

    /// Everything planned is gone.
    pub fn complete(&self) -> bool {
        self.resources.iter().all(|a| a.outcome.done())
    }
}

/// Deletes the plan's resources in order, telling `progress` of each as it is decided.
/// `stop` (Ctrl-C) ends the teardown after the current resource; applying again continues,
/// as what is gone is then "already gone".
pub async fn apply(aws: &Aws, plan: &TeardownPlan, stop: &AtomicBool, mut progress: impl FnMut(&Applied)) -> TeardownResult {
    let mut resources: Vec<Applied> = Vec::new();
    for planned in &plan.resources {
        // Once something could not be deleted, what it uses will not be released: no waiting.
        let patience = if resources.iter().any(|a| matches!(a.outcome, Outcome::Failed { .. })) { Duration::ZERO } else { actions::DEPENDENCY_PATIENCE };
        let outcome = if stop.load(Ordering::SeqCst) { Outcome::NotAttempted } else { one(aws, plan, planned, patience).await };
        let applied = Applied { resource: planned.clone(), outcome };
        progress(&applied);
        resources.push(applied);
    }
    let stopped = crate::pricing::total(resources.iter().filter(|a| a.outcome == Outcome::Deleted).flat_map(|a| &a.resource.charges));
    TeardownResult { schema: RESULT_SCHEMA, account: plan.account.clone(), resources, usd_per_hour_stopped: stopped, interrupted: stop.load(Ordering::SeqCst) }
}

async fn one(aws: &Aws, plan: &TeardownPlan, planned: &Planned, patience: Duration) -> Outcome {
    let claimed = planned.identity();
    // Asked anew: the account may have changed since the plan, or since the last resource.
    let seen = match look_again(&aws.lookup_since(Instant::now()), &claimed).await {
        Ok(seen) => seen,
        Err(e) => return Outcome::Skipped { why: format!("could not look it up again: {e}") },
    };
    match judge(&claimed, &plan.created_at, seen) {
        Finding::Deleted => Outcome::AlreadyGone,
        Finding::Replaced { why } => Outcome::Skipped { why: format!("not the planned resource any more: {why}") },
        Finding::Unknown { why } => Outcome::Skipped { why },
        Finding::Unchanged => match actions::delete(aws, planned, patience).await {
            Ok(()) => Outcome::Deleted,
            Err(e) if e.kind == AwsErrorKind::AccessDenied => Outcome::Failed { why: format!("{e}; nothing of it was deleted") },
            Err(e) => Outcome::Failed { why: e.to_string() },
        },
    }
}

/// An account's tally in one line: `3 deleted, 1 already gone, 0 skipped, … · stopped about $0.0173/hour`.
pub fn render_tally(t: &AccountTally) -> String {
    let mut out = format!("{} deleted, {} already gone, {} skipped, {} failed, {} not attempted", t.deleted, t.already_gone, t.skipped, t.failed, t.not_attempted);
    if t.usd_per_hour_stopped > 0.0 {
        out.push_str(&format!(" · stopped about ${:.4}/hour", t.usd_per_hour_stopped));
    }
    out
}
