//! `grader cohort`: one step (by default `cleanup`) or every step across a class of AWS
//! accounts, reached by AssumeRole, with bounded concurrency. One broken account never stops
//! or slows the others beyond its own retries.

mod output;
mod roster;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use output::{CohortFormat, render};
pub use roster::{RosterEntry, parse_roster};

use crate::aws::{Aws, AwsError, AwsErrorKind};
use crate::checks::{Leftover, Status};
use crate::lab::Lab;
use crate::report::Report;
use crate::runner::{self, PlannedCheck, RunOptions};

pub const COHORT_SCHEMA: &str = "grader.cohort/v1";

/// The audit of one account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountResult {
    pub label: String,
    pub account_id: String,
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
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CohortSummary {
    pub accounts: usize,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub leftovers: usize,
    pub usd_per_hour: f64,
}

/// The rates leftover costs are computed with, stated in every report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rates {
    pub source: String,
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
    pub public_ipv4_hour: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CohortReport {
    pub schema: String,
    pub lab: String,
    /// The step audited, or `all`.
    pub step: String,
    pub duration_ms: u64,
    pub accounts: Vec<AccountResult>,
    pub summary: CohortSummary,
    pub rates: Rates,
}

/// What the cohort run needs besides the roster.
pub struct CohortRun<'a> {
    pub lab: &'a Lab,
    pub step_ids: Vec<String>,
    pub checks: Vec<PlannedCheck>,
    /// Base configuration: the instructor's credentials, endpoint, default region.
    pub base: SdkConfig,
    pub concurrency: usize,
    pub scan_regions: Option<Vec<String>>,
    pub verbose: bool,
}

/// Audits every account of the roster, at most `concurrency` at a time, with a progress bar
/// on a terminal. Results come back in roster order.
pub async fn audit(run: &CohortRun<'_>, roster: Vec<RosterEntry>) -> CohortReport {
    let started = Instant::now();
    let total = roster.len();
    let done = Arc::new(AtomicUsize::new(0));
    let show_progress = std::io::stderr().is_terminal();
    let mut results: Vec<(usize, AccountResult)> = futures::stream::iter(roster.into_iter().enumerate())
        .map(|(i, entry)| {
            let done = done.clone();
            async move {
                let result = audit_account(run, &entry).await;
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                if show_progress {
                    progress_bar(n, total);
                }
                (i, result)
            }
        })
        .buffer_unordered(run.concurrency.max(1))
        .collect()
        .await;
    if show_progress {
        eprintln!();
    }
    results.sort_by_key(|(i, _)| *i);
    let accounts: Vec<AccountResult> = results.into_iter().map(|(_, r)| r).collect();
    let mut summary = CohortSummary { accounts: accounts.len(), ..CohortSummary::default() };
    for a in &accounts {
        match a.status {
            Status::Pass => summary.pass += 1,
            Status::Error => summary.error += 1,
            _ => summary.fail += 1,
        }
        summary.leftovers += a.leftovers.len();
        summary.usd_per_hour += a.usd_per_hour;
    }
    CohortReport {
        schema: COHORT_SCHEMA.into(),
        lab: run.lab.id.clone(),
        step: if run.step_ids.len() == 1 { run.step_ids[0].clone() } else { "all".into() },
        duration_ms: started.elapsed().as_millis() as u64,
        accounts,
        summary,
        rates: Rates {
            source: crate::pricing::RATES_AS_OF.into(),
            fargate_vcpu_hour: crate::pricing::FARGATE_VCPU_HOUR,
            fargate_gb_hour: crate::pricing::FARGATE_GB_HOUR,
            public_ipv4_hour: crate::pricing::PUBLIC_IPV4_HOUR,
        },
    }
}

fn progress_bar(done: usize, total: usize) {
    let width = 30;
    let filled = if total == 0 { width } else { done * width / total };
    eprint!("\r\x1b[2K[{}{}] {done}/{total} accounts", "#".repeat(filled), ".".repeat(width - filled));
}

async fn audit_account(run: &CohortRun<'_>, entry: &RosterEntry) -> AccountResult {
    let failed = |message: String| AccountResult {
        label: entry.label.clone(),
        account_id: entry.account_id.clone(),
        status: Status::Error,
        error: Some(message),
        report: None,
        leftovers: Vec::new(),
        usd_per_hour: 0.0,
    };
    let config = match credentials_for(&run.base, entry).await {
        Ok(c) => c,
        Err(message) => return failed(message),
    };
    let aws = Aws::new(config, run.verbose).with_scan_regions(run.scan_regions.clone());
    let account = match aws.caller_identity().await {
        Ok(identity) => identity.0.clone(),
        Err(e) => return failed(format!("failed to sign in to the account: {e}")),
    };
    if account != entry.account_id {
        return failed(format!("the role belongs to account {account}, but the roster says {}", entry.account_id));
    }
    let started = Instant::now();
    let (tx, _rx) = mpsc::unbounded_channel();
    // An audit decides on what it sees now; nobody is there to wait for.
    let outcomes = runner::run(&aws, &run.checks, RunOptions { no_wait: true, max_wait: None }, tx).await;
    let step_ids: Vec<&str> = run.step_ids.iter().map(String::as_str).collect();
    let report = Report::build(run.lab, &step_ids, &account, &aws.region, started.elapsed().as_millis() as u64, &outcomes);
    let leftovers: Vec<Leftover> = outcomes.iter().flat_map(|o| o.leftovers.clone()).collect();
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
    AccountResult {
        label: entry.label.clone(),
        account_id: entry.account_id.clone(),
        status,
        error,
        usd_per_hour: leftovers.iter().filter_map(|l| l.usd_per_hour).sum(),
        leftovers,
        report: Some(report),
    }
}

/// Credentials for one learner account: its profile, or the base credentials, then
/// AssumeRole into the roster's role (with the external id when given).
async fn credentials_for(base: &SdkConfig, entry: &RosterEntry) -> Result<SdkConfig, String> {
    let region = entry.region.clone().or_else(|| base.region().map(|r| r.to_string())).unwrap_or_else(|| "us-east-1".into());
    let mut source = match &entry.profile {
        Some(profile) => {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).profile_name(profile).region(Region::new(region.clone()));
            if let Some(url) = base.endpoint_url() {
                loader = loader.endpoint_url(url);
            }
            loader.load().await
        }
        None => base.clone(),
    };
    // Instructors audit many accounts at once: adaptive retry slows down on throttling
    // instead of spending every retry at once.
    source = source.to_builder().retry_config(RetryConfig::adaptive().with_max_attempts(6).with_initial_backoff(Duration::from_millis(200))).region(Region::new(region.clone())).build();
    let Some(role_arn) = &entry.role_arn else { return Ok(source) };
    let sts = aws_sdk_sts::Client::new(&source);
    let assumed = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("fargate-course-audit")
        .set_external_id(entry.external_id.clone())
        .duration_seconds(900)
        .send()
        .await
        .map_err(|e| {
            let e = AwsError::from_sdk("sts:AssumeRole", e);
            match e.kind {
                AwsErrorKind::AccessDenied => format!("role `{role_arn}` cannot be assumed (does it exist, and does its trust policy allow you and this external id?): {}", e.message),
                _ => format!("failed to assume `{role_arn}`: {e}"),
            }
        })?;
    let c = assumed.credentials().ok_or_else(|| format!("AssumeRole into `{role_arn}` returned no credentials"))?;
    let credentials = aws_credential_types::Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), None, "cohort-assume-role");
    Ok(source.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build())
}

/// Accounts in the order an instructor should look at them: undecided first, then by what
/// their leftovers cost, then failures.
pub fn needing_attention(report: &CohortReport) -> Vec<&AccountResult> {
    let mut list: Vec<&AccountResult> = report.accounts.iter().filter(|a| a.status != Status::Pass).collect();
    list.sort_by(|a, b| {
        let rank = |r: &AccountResult| if r.status == Status::Error { 0 } else { 1 };
        rank(a).cmp(&rank(b)).then(b.usd_per_hour.partial_cmp(&a.usd_per_hour).unwrap_or(std::cmp::Ordering::Equal)).then(a.label.cmp(&b.label))
    });
    list
}
