//! `grader cohort`: one step (by default `cleanup`) or every step across a class of AWS
//! accounts, reached by AssumeRole, with bounded concurrency. One broken account never stops
//! or slows the others beyond its own retries.

mod output;
mod progress;
mod roster;

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

pub use output::{CohortFormat, render};
pub use roster::{RosterEntry, parse_roster};

use crate::aws::Aws;
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
    pub accounts: Vec<AccountResult>,
    pub summary: CohortSummary,
    pub rates: Rates,
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
}

/// Audits every account of the roster, at most `concurrency` at a time, with a progress bar
/// on a terminal. Results come back in roster order.
pub async fn audit(run: &CohortRun<'_>, roster: Vec<RosterEntry>) -> CohortReport {
    let started = Instant::now();
    let started_at = crate::timestamp::now();
    // On a terminal: a line per account as it finishes, under a bar with an estimate.
    let progress = std::sync::Mutex::new(std::io::stderr().is_terminal().then(|| progress::Progress::new(roster.len())));
    let base = &with_cached_credentials(&run.base);
    let mut results: Vec<(usize, AccountResult)> = futures::stream::iter(roster.into_iter().enumerate())
        .map(|(i, entry)| {
            let progress = &progress;
            async move {
                let result = audit_account(run, base, &entry).await;
                if let Some(p) = progress.lock().expect("progress lock").as_mut() {
                    eprint!("{}", p.account_done(&result));
                }
                (i, result)
            }
        })
        .buffer_unordered(run.concurrency.max(1))
        .collect()
        .await;
    if let Some(p) = progress.into_inner().expect("progress lock") {
        eprint!("{}", p.finish());
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
    let lab = run.plan.lab;
    let step_ids = run.plan.step_ids();
    CohortReport {
        schema: COHORT_SCHEMA.into(),
        lab: lab.id.clone(),
        lab_format_version: lab.version,
        lab_digest: lab.digest(),
        grader_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        step: audited_step(&step_ids),
        steps: run
            .plan
            .steps
            .iter()
            .map(|s| StepColumn { id: s.id.clone(), title: s.title.clone(), possible: s.checks.iter().map(|c| c.points).sum() })
            .collect(),
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

async fn audit_account(run: &CohortRun<'_>, base: &SdkConfig, entry: &RosterEntry) -> AccountResult {
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
    };
    let (config, assumed_account) = match credentials_for(base, entry).await {
        Ok(c) => c,
        Err(message) => return failed(message),
    };
    let aws = Aws::new(config, run.verbose).with_scan_regions(run.scan_regions.clone());
    // Only credentials that did not come from AssumeRole need a call to name their account.
    let account = match assumed_account {
        Some(account) => account,
        None => match aws.caller_identity().await {
            Ok(identity) => identity.0.clone(),
            Err(e) => return failed(format!("failed to sign in to the account: {e}")),
        },
    };
    if account != entry.account_id {
        return failed(format!("the role belongs to account {account}, but the roster says {}", entry.account_id));
    }
    // An audit decides on what it sees now; nobody is there to wait for.
    // An instructor's machine is not the learner's: HTTP checks judge AWS's evidence.
    let options = RunOptions { no_wait: true, max_wait: None, vantage: crate::checks::Vantage::Elsewhere };
    let signed_in = async { Ok(account.clone()) };
    let end = match grading::run(&aws, signed_in, &run.plan, options, &mut Dispatch::default(), std::future::pending()).await {
        Ok(end) => end,
        Err(e) => return failed(e.0),
    };
    let leftovers: Vec<Leftover> = end.outcomes.iter().flat_map(|o| o.leftovers.clone()).collect();
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
    AccountResult {
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
    }
}

/// Credentials for one learner account: its profile, or the base credentials, then
/// AssumeRole into the roster's role (with the external id when given). Returns the
/// configuration and, after AssumeRole, the account the role is in.
async fn credentials_for(base: &SdkConfig, entry: &RosterEntry) -> Result<(SdkConfig, Option<String>), String> {
    let region = entry.region.clone().or_else(|| base.region().map(|r| r.to_string())).unwrap_or_else(|| "us-east-1".into());
    let mut source = match &entry.profile {
        Some(profile) => {
            // One HTTPS client for the whole class: building one reads the system's root
            // certificates, and its pool keeps connections for the next account.
            let http = base.http_client().unwrap_or_else(crate::aws::http_client);
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).profile_name(profile).region(Region::new(region.clone()));
            // A profile's own endpoint wins over the run's: a class spread over several
            // endpoints (or emulators) names each in its profile.
            let own_endpoint = crate::aws::profile::setting(profile, "endpoint_url").await.is_some();
            if let Some(url) = base.endpoint_url().filter(|_| !own_endpoint) {
                loader = loader.endpoint_url(url);
            }
            loader.load().await
        }
        None => base.clone(),
    };
    // Instructors audit many accounts at once: adaptive retry slows down on throttling
    // instead of spending every retry at once. AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, when set,
    // are the user's to decide, and the configuration loaded them already.
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() && std::env::var_os("AWS_RETRY_MODE").is_none() {
        source = source.to_builder().retry_config(RetryConfig::adaptive().with_max_attempts(6).with_initial_backoff(Duration::from_millis(200))).build();
    }
    source = source.to_builder().region(Region::new(region.clone())).build();
    let Some(role_arn) = &entry.role_arn else { return Ok((source, None)) };
    let mut role = AssumeRoleProvider::builder(role_arn).configure(&source).session_name("fargate-course-audit").session_length(Duration::from_secs(900));
    if let Some(external_id) = &entry.external_id {
        role = role.external_id(external_id);
    }
    let role = role.build().await;
    // One fetch now, so an account whose role refuses us is reported as such before any
    // check runs; the provider renews the 15-minute session whenever an audit outlasts it.
    let first = role.provide_credentials().await.map_err(|e| assume_role_failure(role_arn, &e))?;
    let account = first.account_id().map(|a| a.as_str().to_string());
    let credentials = FirstThenRenewed { first: Mutex::new(Some(first)), renew: role };
    Ok((source.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build(), account))
}

/// `base` with its credentials fetched once for the whole audit. AssumeRoleProvider asks its
/// source afresh for every AssumeRole (it turns the SDK's cache off), and for an SSO or
/// `credential_process` profile every ask is a call or a process: once per account, and again
/// for each renewal, without this.
fn with_cached_credentials(base: &SdkConfig) -> SdkConfig {
    match base.credentials_provider() {
        Some(source) => {
            let cached = CachedSource { source, cached: tokio::sync::Mutex::new(None) };
            base.to_builder().credentials_provider(SharedCredentialsProvider::new(cached)).build()
        }
        None => base.clone(),
    }
}

/// Credentials from `source`, kept until five minutes before they expire.
#[derive(Debug)]
struct CachedSource {
    source: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl ProvideCredentials for CachedSource {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            // Held while fetching, so accounts starting together share one fetch.
            let mut cached = self.cached.lock().await;
            let fresh_until = SystemTime::now() + Duration::from_secs(300);
            if let Some(credentials) = cached.as_ref().filter(|c| c.expiry().is_none_or(|expiry| expiry > fresh_until)) {
                return Ok(credentials.clone());
            }
            let credentials = self.source.provide_credentials().await?;
            *cached = Some(credentials.clone());
            Ok(credentials)
        })
    }
}

/// Hands out the credentials fetched up front once, then asks `renew` for fresh ones. The
/// SDK's identity cache asks again only when the credentials it holds near expiry, so the
/// audit makes one AssumeRole call per account and per session, not two.
#[derive(Debug)]
struct FirstThenRenewed<P> {
    first: Mutex<Option<Credentials>>,
    renew: P,
}

impl<P: ProvideCredentials> ProvideCredentials for FirstThenRenewed<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().expect("credentials lock").take();
        match first {
            Some(credentials) => future::ProvideCredentials::ready(Ok(credentials)),
            None => self.renew.provide_credentials(),
        }
    }
}

/// Why AssumeRole failed, in the words an instructor can act on. The provider wraps STS's
/// answer in a credentials error; its code tells a refusing role from everything else.
fn assume_role_failure(role_arn: &str, e: &CredentialsError) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(sts) = c.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            let message = sts.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(sts).to_string());
            return match sts.code() {
                Some("AccessDenied") => {
                    format!("role `{role_arn}` cannot be assumed (does it exist, and does its trust policy allow you and this external id?): {message}")
                }
                Some(code) => format!("failed to assume `{role_arn}`: {code}: {message}"),
                None => format!("failed to assume `{role_arn}`: {message}"),
            };
        }
        cause = c.source();
    }
    format!("failed to assume `{role_arn}`: {}", DisplayErrorContext(e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn the_first_credentials_serve_once_then_the_role_renews_them() {
        let asked = Arc::new(AtomicUsize::new(0));
        let renew = {
            let asked = asked.clone();
            aws_credential_types::credential_fn::provide_credentials_fn(move || {
                asked.fetch_add(1, Ordering::SeqCst);
                async { Ok(Credentials::new("renewed", "secret", None, None, "test")) }
            })
        };
        let provider = FirstThenRenewed { first: Mutex::new(Some(Credentials::new("first", "secret", None, None, "test"))), renew };
        assert_eq!(provider.provide_credentials().await.unwrap().access_key_id(), "first");
        assert_eq!(asked.load(Ordering::SeqCst), 0, "the first credentials cost no second AssumeRole");
        assert_eq!(provider.provide_credentials().await.unwrap().access_key_id(), "renewed");
        assert_eq!(provider.provide_credentials().await.unwrap().access_key_id(), "renewed");
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_instructors_credentials_are_fetched_once_until_near_expiry() {
        let asked = Arc::new(AtomicUsize::new(0));
        let source = |lifetime: Duration| {
            let asked = asked.clone();
            SharedCredentialsProvider::new(aws_credential_types::credential_fn::provide_credentials_fn(move || {
                asked.fetch_add(1, Ordering::SeqCst);
                async move { Ok(Credentials::new("base", "secret", None, Some(SystemTime::now() + lifetime), "test")) }
            }))
        };
        let long_lived = CachedSource { source: source(Duration::from_secs(3600)), cached: tokio::sync::Mutex::new(None) };
        for _ in 0..3 {
            long_lived.provide_credentials().await.unwrap();
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        let expiring = CachedSource { source: source(Duration::from_secs(60)), cached: tokio::sync::Mutex::new(None) };
        expiring.provide_credentials().await.unwrap();
        expiring.provide_credentials().await.unwrap();
        assert_eq!(asked.load(Ordering::SeqCst), 3, "credentials about to expire are fetched again");
    }

    #[test]
    fn a_refusing_role_is_told_apart_from_other_assume_role_failures() {
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let sts_error = |code: &str| {
            let error = AssumeRoleError::generic(ErrorMetadata::builder().code(code).message("not today").build());
            let response = HttpResponse::new(403.try_into().unwrap(), SdkBody::empty());
            CredentialsError::provider_error(SdkError::service_error(error, response))
        };
        let arn = "arn:aws:iam::111122223333:role/audit";
        let denied = assume_role_failure(arn, &sts_error("AccessDenied"));
        assert!(denied.starts_with("role `arn:aws:iam::111122223333:role/audit` cannot be assumed") && denied.ends_with("not today"), "{denied}");
        let throttled = assume_role_failure(arn, &sts_error("Throttling"));
        assert_eq!(throttled, "failed to assume `arn:aws:iam::111122223333:role/audit`: Throttling: not today");
    }
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
