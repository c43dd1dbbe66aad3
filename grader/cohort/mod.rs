//! `grader cohort`: one step (by default `cleanup`) or every step across a class of AWS
//! accounts, reached by AssumeRole, with bounded concurrency. One broken account never stops
//! or slows the others beyond its own retries.

mod adaptive;
pub mod funnel;
pub mod merge;
mod html_progress;
mod output;
mod progress;
mod roster;
pub mod shard;
pub mod spend;
pub mod store;

use std::io::IsTerminal;
use std::time::Instant;

use aws_config::SdkConfig;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

pub use output::{CohortFormat, write};
pub use roster::{RosterEntry, parse_roster};

use crate::aws::assume::{Access, reach, with_cached_credentials};
use crate::checks::{Leftover, Status};
use crate::events::Dispatch;
use crate::grading::{self, Plan};
use crate::report::Report;
use crate::runner::RunOptions;

pub const COHORT_SCHEMA: &str = "grader.cohort/v1";

/// The audit of one account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountResult {
    pub label: String,
    pub account_id: String,
    /// The roster's `email` and `sis_id`, carried through to the gradebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sis_id: Option<String>,
    /// `pass`, `fail` or `error` (could not audit: role not assumable, throttled, …).
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    /// Everything left behind, with cost and teardown commands.
    pub leftovers: Vec<Leftover>,
    /// Sum of the leftovers' hourly cost.
    pub usd_per_hour: f64,
    /// Audited a second time at the end of the run, because AWS was too slow or busy to
    /// answer the first time; this is the second audit's result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retried: bool,
    /// What the account has been charged (`--spend`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend: Option<spend::AccountSpend>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CohortSummary {
    pub accounts: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub leftovers: usize,
    pub usd_per_hour: f64,
    /// Accounts audited again at the end because AWS was slow or busy the first time.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retried: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl CohortSummary {
    /// Counts one more account (in roster order: see [`Tally::of`]).
    pub fn add(&mut self, a: &AccountResult) {
        self.accounts += 1;
        self.usd_per_hour += a.usd_per_hour;
        match a.status {
            Status::Pass => self.pass += 1,
            Status::Error => self.error += 1,
            _ => self.fail += 1,
        }
        self.leftovers += a.leftovers.len();
        self.retried += usize::from(a.retried);
    }
}

/// The class's figures (summary, funnel, spend), added up one account at a time in roster
/// order, so that nothing needs every account's report at once.
pub struct Tally {
    summary: CohortSummary,
    funnel: funnel::Funnel,
    spend: Option<spend::ClassSpend>,
}

impl Tally {
    /// The figures of the results in `accounts`, read back one at a time in roster order: the
    /// results every output shows, so an account whose result cannot be read back is counted
    /// as the error it is shown as. Accounts finish in any order, and floating-point sums
    /// depend on their order: in roster order, two audits of one class, sharded and merged or
    /// not, add up to the same last digit.
    pub fn of(steps: &[StepColumn], spend: Option<&spend::SpendPeriod>, accounts: &store::Accounts) -> (CohortSummary, funnel::ClassProgress, Option<spend::ClassSpend>) {
        let mut tally = Tally { summary: CohortSummary::default(), funnel: funnel::Funnel::new(steps), spend: spend.map(spend::ClassSpend::new) };
        for (position, account) in accounts.iter().enumerate() {
            tally.add(position, &account);
        }
        (tally.summary, tally.funnel.finish(), tally.spend)
    }

    fn add(&mut self, position: usize, account: &AccountResult) {
        self.summary.add(account);
        self.funnel.add(position, account);
        if let Some(spend) = &mut self.spend {
            spend.add(account);
        }
    }
}

/// The rates leftover costs are computed with, stated in every report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rates {
    pub source: String,
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
    pub public_ipv4_hour: f64,
}

/// One step of the audit with the points it is worth: a gradebook column, known even for
/// accounts that could not be audited at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepColumn {
    pub id: String,
    pub title: String,
    pub possible: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CohortReport {
    pub schema: String,
    pub lab: String,
    /// The lab file's format version (labs carry no version of their own) …
    #[serde(default)]
    pub lab_format_version: u32,
    /// … and a digest of its content, so two reports can be told to come from the same lab.
    #[serde(default)]
    pub lab_digest: String,
    /// The grader's version (`CARGO_PKG_VERSION`).
    #[serde(default)]
    pub grader_version: String,
    /// When the audit started, in UTC (RFC 3339, e.g. `2025-03-01T14:05:09Z`).
    #[serde(default)]
    pub started_at: String,
    /// The step audited, or `all`.
    pub step: String,
    /// The steps audited, in lab order.
    #[serde(default)]
    pub steps: Vec<StepColumn>,
    pub duration_ms: u64,
    /// Every account's result, in roster order (read back one at a time).
    pub accounts: store::Accounts,
    pub summary: CohortSummary,
    /// Where the class is stuck: each step's funnel and the most failed checks.
    #[serde(default)]
    pub progress: funnel::ClassProgress,
    pub rates: Rates,
    /// A shard's document (`--shard K/N`) says which part of the class it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<shard::ShardInfo>,
    /// What the class has been charged, with `--spend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend: Option<spend::ClassSpend>,
}

/// What the cohort run needs besides the roster.
pub struct CohortRun<'a> {
    /// The steps to audit in every account, and their checks.
    pub plan: Plan<'a>,
    /// Base configuration: the instructor's credentials, endpoint, default region.
    pub base: SdkConfig,
    pub concurrency: usize,
    pub scan_regions: Option<Vec<String>>,
    pub verbose: bool,
    /// AssumeRole calls, paced across the class.
    pub assume_pace: std::sync::Arc<crate::aws::assume::Pace>,
    /// Read each account's spend over this period (`--spend`).
    pub spend: Option<spend::SpendPeriod>,
}

/// Audits every account of the roster, at most `concurrency` at a time (fewer while AWS is
/// slow), with a progress bar on a terminal; then once more each account that AWS was too
/// slow or busy to answer. Each result goes to the report's store as it is decided, and the
/// class figures are added up from the store at the end, one account at a time, so memory
/// does not grow with the class.
pub async fn audit(run: &CohortRun<'_>, roster: Vec<RosterEntry>) -> CohortReport {
    let started = Instant::now();
    let started_at = crate::timestamp::now();
    let base = &with_cached_credentials(&run.base);
    let limiter = adaptive::Adaptive::new(run.concurrency);
    let lab = run.plan.lab;
    let step_ids = run.plan.step_ids();
    let steps: Vec<StepColumn> =
        run.plan.steps.iter().map(|s| StepColumn { id: s.id.clone(), title: s.title.clone(), possible: s.checks.iter().map(|c| c.points).sum() }).collect();
    let mut accounts = store::Accounts::spilled(roster.len());
    // Undecided only because AWS was slow: asked again, once, when the rest is done and at the
    // concurrency AWS coped with. A spend already read is kept: Cost Explorer bills every request.
    let mut again: Vec<(usize, &RosterEntry, Option<spend::AccountSpend>)> = Vec::new();
    let entries: Vec<(usize, &RosterEntry, Option<spend::AccountSpend>)> = roster.iter().enumerate().map(|(i, e)| (i, e, None)).collect();
    audit_accounts(run, base, &limiter, &entries, &mut |i, result, undecided| {
        if undecided {
            again.push((i, &roster[i], result.spend.filter(|s| s.usd.is_some())));
        } else {
            accounts.put(i, result);
        }
    })
    .await;
    if !again.is_empty() {
        again.sort_by_key(|(i, _, _)| *i);
        eprintln!("cohort: asking {} account(s) again that AWS was too slow or busy to answer, {} at a time", again.len(), limiter.limit());
        audit_accounts(run, base, &limiter, &again, &mut |i, mut result, _| {
            result.retried = true;
            accounts.put(i, result);
        })
        .await;
    }
    let (summary, progress, class_spend) = Tally::of(&steps, run.spend.as_ref(), &accounts);
    CohortReport {
        schema: COHORT_SCHEMA.into(),
        lab: lab.id.clone(),
        lab_format_version: lab.version,
        lab_digest: lab.digest(),
        grader_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        step: audited_step(&step_ids),
        progress,
        steps,
        duration_ms: started.elapsed().as_millis() as u64,
        accounts,
        summary,
        shard: None,
        spend: class_spend,
        rates: Rates {
            source: crate::pricing::RATES_AS_OF.into(),
            fargate_vcpu_hour: crate::pricing::FARGATE_VCPU_HOUR,
            fargate_gb_hour: crate::pricing::FARGATE_GB_HOUR,
            public_ipv4_hour: crate::pricing::PUBLIC_IPV4_HOUR,
        },
    }
}

/// Audits these accounts (roster position, entry, spend already read) through the limiter,
/// with a line per account and a bar on a terminal, handing each result to `decided` as it
/// comes with whether AWS was too slow or busy to decide it.
async fn audit_accounts(
    run: &CohortRun<'_>,
    base: &SdkConfig,
    limiter: &adaptive::Adaptive,
    entries: &[(usize, &RosterEntry, Option<spend::AccountSpend>)],
    decided: &mut dyn FnMut(usize, AccountResult, bool),
) {
    // On a terminal: a line per account as it finishes, under a bar with an estimate.
    let mut progress = std::io::stderr().is_terminal().then(|| progress::Progress::new(entries.len()));
    let mut results = futures::stream::iter(entries.iter())
        .map(|(i, entry, known_spend)| async move {
            let slot = limiter.start().await;
            let (result, health) = audit_account(run, base, entry, known_spend.clone()).await;
            let slow = health.undecided || limiter.answered_slowly(health.mean_question);
            let lowered = limiter.finish(slot, slow);
            (*i, result, health.undecided, lowered)
        })
        .buffer_unordered(run.concurrency.max(1));
    while let Some((i, result, undecided, lowered)) = results.next().await {
        if let Some(limit) = lowered.filter(|limit| *limit < run.concurrency) {
            let clear = if progress.is_some() { crate::bar::CLEAR } else { "" };
            eprintln!(
                "{clear}cohort: AWS is slow to answer (timeouts, throttling or answers far slower than before); {limit} account(s) at a time now, of --concurrency {}",
                run.concurrency
            );
        }
        if let Some(p) = progress.as_mut() {
            eprint!("{}", p.account_done(&result));
        }
        decided(i, result, undecided);
    }
    if let Some(p) = progress {
        eprint!("{}", p.finish());
    }
}

/// How AWS answered one account's audit.
struct Health {
    /// AWS was too slow or busy to decide some of it (a check timed out or stayed throttled,
    /// or AssumeRole did): asked again at the end.
    undecided: bool,
    /// The mean time of its AWS questions.
    mean_question: Option<std::time::Duration>,
}

impl Health {
    fn unreached(transient: bool) -> Health {
        Health { undecided: transient, mean_question: None }
    }
}

/// One account's audit, and how AWS answered it.
/// `known_spend`: the account's spend from an earlier audit of this run, read again only if
/// it is missing.
async fn audit_account(run: &CohortRun<'_>, base: &SdkConfig, entry: &RosterEntry, known_spend: Option<spend::AccountSpend>) -> (AccountResult, Health) {
    let failed = |message: String| AccountResult {
        label: entry.label.clone(),
        account_id: entry.account_id.clone(),
        email: entry.email.clone(),
        sis_id: entry.sis_id.clone(),
        status: Status::Error,
        error: Some(message),
        report: None,
        leftovers: Vec::new(),
        usd_per_hour: 0.0,
        retried: false,
        spend: None,
    };
    let access = Access {
        pace: Some(&run.assume_pace),
        region: entry.region.as_deref(),
        profile: entry.profile.as_deref(),
        role_arn: entry.role_arn.as_deref(),
        external_id: entry.external_id.as_deref(),
        session_name: "fargate-course-audit",
    };
    let (aws, account) = match reach(base, &access, run.verbose).await {
        Ok(reached) => reached,
        Err(unreached) => return (failed(unreached.message), Health::unreached(unreached.transient)),
    };
    let aws = aws.with_scan_regions(run.scan_regions.clone());
    if account != entry.account_id {
        return (failed(format!("the role belongs to account {account}, but the roster says {}", entry.account_id)), Health::unreached(false));
    }
    // An audit decides on what it sees now; nobody is there to wait for.
    // An instructor's machine is not the learner's: HTTP checks judge AWS's evidence.
    let options = RunOptions { no_wait: true, max_wait: None, vantage: crate::checks::Vantage::Elsewhere };
    let signed_in = async { Ok(account.clone()) };
    let end = match grading::run(&aws, signed_in, &run.plan, options, &mut Dispatch::default(), std::future::pending()).await {
        Ok(end) => end,
        Err(e) => return (failed(e.0), Health::unreached(false)),
    };
    let health = Health { undecided: end.outcomes.iter().any(|o| o.transient), mean_question: aws.call_times.mean() };
    let leftovers: Vec<Leftover> = end.outcomes.iter().flat_map(|o| o.leftovers.clone()).collect();
    let spend = match (&run.spend, known_spend) {
        (Some(_), Some(known)) => Some(known),
        (Some(period), None) => Some(spend::of_account(&aws, period).await),
        (None, _) => None,
    };
    let report = end.report;
    let status = if report.summary.error > 0 {
        Status::Error
    } else if report.summary.fail > 0 || report.summary.skip > 0 {
        Status::Fail
    } else {
        Status::Pass
    };
    let error = (status == Status::Error).then(|| {
        let undecided: Vec<String> = report.steps.iter().flat_map(|s| &s.checks).filter(|c| c.status == Status::Error).map(|c| format!("{}: {}", c.id, c.message)).collect();
        undecided.join("; ")
    });
    let result = AccountResult {
        label: entry.label.clone(),
        account_id: entry.account_id.clone(),
        email: entry.email.clone(),
        sis_id: entry.sis_id.clone(),
        status,
        error,
        // Each billed thing once, however many checks (or labs) found it.
        usd_per_hour: crate::pricing::total(leftovers.iter().flat_map(|l| &l.charges)),
        leftovers,
        report: Some(report),
        retried: false,
        spend,
    };
    (result, health)
}

/// The first `n` accounts in the order an instructor should look at them (undecided first,
/// then by what their leftovers cost, then failures), and how many need a look in all. Only
/// the first `n` are kept while the store is read.
pub fn needing_attention(report: &CohortReport, n: usize) -> (Vec<AccountResult>, usize) {
    let rank = |r: &AccountResult| if r.status == Status::Error { 0 } else { 1 };
    let order = |a: &AccountResult, b: &AccountResult| {
        rank(a).cmp(&rank(b)).then(b.usd_per_hour.partial_cmp(&a.usd_per_hour).unwrap_or(std::cmp::Ordering::Equal)).then(a.label.cmp(&b.label))
    };
    let mut first: Vec<AccountResult> = Vec::new();
    let mut total = 0;
    for account in report.accounts.iter().filter(|a| a.status != Status::Pass) {
        total += 1;
        // After every account equal to it, as a stable sort would place it.
        let at = first.partition_point(|kept| order(kept, &account) != std::cmp::Ordering::Greater);
        if at < n {
            first.insert(at, account);
            first.truncate(n);
        }
    }
    (first, total)
}

/// The document's `step`: the one step audited, also when it is every lab's (`LAB:cleanup`
/// in each lab is `cleanup`), or `all` for several.
fn audited_step(step_ids: &[&str]) -> String {
    let names: Vec<&str> = step_ids.iter().map(|id| id.rsplit_once(':').map_or(*id, |(_, step)| step)).collect();
    match names.first() {
        Some(first) if names.iter().all(|n| n == first) => first.to_string(),
        _ => "all".into(),
    }
}
