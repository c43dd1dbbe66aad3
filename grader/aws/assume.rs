//! Reaching a learner's account from an instructor's: its profile or the instructor's
//! credentials, then AssumeRole into the role the roster (or a teardown plan) names. The
//! class audit (`grader cohort`) and the class teardown (`grader cleanup --apply`) share it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

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

/// How to reach one account.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    /// Paces AssumeRole calls across every account of a run (first fetches and renewals).
    pub pace: Option<&'a Arc<Pace>>,
    /// The account's region (else the base configuration's, else us-east-1).
    pub region: Option<&'a str>,
    /// A profile whose credentials (and endpoint) are used instead of the base ones.
    pub profile: Option<&'a str>,
    /// The role to assume; none means "the profile's or the base credentials as they are".
    pub role_arn: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// What the account's CloudTrail shows as the session: who came, and why.
    pub session_name: &'a str,
}

/// Why an account could not be reached, and whether asking again later may help: AWS was
/// only slow or throttling, not refusing.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreached {
    pub message: String,
    pub transient: bool,
}

impl std::fmt::Display for Unreached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Unreached {
    fn from(message: String) -> Unreached {
        Unreached { message, transient: false }
    }
}

/// Credentials for one learner account: its profile, or the base credentials, then
/// AssumeRole into `access.role_arn` (with the external id when given). Returns the
/// configuration and, after AssumeRole, the account the role is in.
pub async fn credentials_for(base: &SdkConfig, entry: &Access<'_>) -> Result<(SdkConfig, Option<String>), Unreached> {
    let region = entry.region.map(str::to_string).or_else(|| base.region().map(|r| r.to_string())).unwrap_or_else(|| "us-east-1".into());
    let mut source = match entry.profile {
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
    let Some(role_arn) = entry.role_arn else { return Ok((source, None)) };
    let mut role = AssumeRoleProvider::builder(role_arn).configure(&source).session_name(entry.session_name).session_length(Duration::from_secs(900));
    if let Some(external_id) = entry.external_id {
        role = role.external_id(external_id);
    }
    let role = role.build().await;
    // One fetch now, so an account whose role refuses us is reported as such before any
    // check runs; the provider renews the 15-minute session whenever an audit outlasts it
    // (15 minutes is also well inside role chaining's one-hour limit).
    if let Some(pace) = entry.pace {
        pace.wait().await;
    }
    let first = role.provide_credentials().await.map_err(|e| assume_role_failure(role_arn, &e))?;
    let account = first.account_id().map(|a| a.as_str().to_string());
    let credentials = FirstThenRenewed { first: Mutex::new(Some(first)), renew: Paced { inner: role, pace: entry.pace.cloned() } };
    Ok((source.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build(), account))
}

/// Signs in to one account: its credentials ([`credentials_for`]), its clients, and the
/// account they reach: AssumeRole's answer names it; other credentials cost one STS call.
pub async fn reach(base: &SdkConfig, access: &Access<'_>, verbose: bool) -> Result<(super::Aws, String), Unreached> {
    let (config, assumed_account) = credentials_for(base, access).await?;
    let aws = super::Aws::new(config, verbose);
    let account = match assumed_account {
        Some(account) => account,
        None => aws.caller_identity().await.map_err(|e| Unreached { message: format!("failed to sign in to the account: {e}"), transient: e.is_transient() })?.0.clone(),
    };
    Ok((aws, account))
}

/// `base` with its credentials fetched once for the whole audit. AssumeRoleProvider asks its
/// source afresh for every AssumeRole (it turns the SDK's cache off), and for an SSO or
/// `credential_process` profile every ask is a call or a process: once per account, and again
/// for each renewal, without this.
pub fn with_cached_credentials(base: &SdkConfig) -> SdkConfig {
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

/// AssumeRole calls a second unless told otherwise: a thirtieth of STS's default quota.
pub const DEFAULT_ASSUME_RATE: f64 = 20.0;

/// At most so many calls a second, evenly spaced, however many tasks ask at once: a class
/// of thousands must not spend the instructor account's STS quota (600 requests a second by
/// default) in a burst, nor starve the other work in that account.
#[derive(Debug)]
pub struct Pace {
    gap: Duration,
    next: tokio::sync::Mutex<Option<Instant>>,
}

impl Pace {
    /// `per_second` must be positive (the command line checks).
    pub fn per_second(per_second: f64) -> Pace {
        Pace { gap: Duration::from_secs_f64(1.0 / per_second), next: tokio::sync::Mutex::new(None) }
    }

    /// Waits for this caller's turn.
    pub async fn wait(&self) {
        let turn = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let turn = next.map_or(now, |n| n.max(now));
            *next = Some(turn + self.gap);
            turn
        };
        tokio::time::sleep_until(turn).await;
    }
}

/// A credentials provider whose every fetch waits for its turn first.
#[derive(Debug)]
struct Paced<P> {
    inner: P,
    pace: Option<Arc<Pace>>,
}

impl<P: ProvideCredentials> ProvideCredentials for Paced<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if let Some(pace) = &self.pace {
                pace.wait().await;
            }
            self.inner.provide_credentials().await
        })
    }
}

/// Why AssumeRole failed, in the words an instructor can act on. The provider wraps STS's
/// answer in a credentials error; its code tells a refusing role from everything else.
fn assume_role_failure(role_arn: &str, e: &CredentialsError) -> Unreached {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(sts) = c.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            let message = sts.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(sts).to_string());
            // Slow or busy, not refused: the audit asks again at the end.
            let transient = match sts {
                SdkError::TimeoutError(_) => true,
                SdkError::DispatchFailure(d) => d.is_timeout(),
                _ => matches!(sts.code(), Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded")),
            };
            let message = match sts.code() {
                Some("AccessDenied") => {
                    format!("role `{role_arn}` cannot be assumed (does it exist, and does its trust policy allow you and this external id?): {message}")
                }
                Some(code) => format!("failed to assume `{role_arn}`: {code}: {message}"),
                None => format!("failed to assume `{role_arn}`: {message}"),
            };
            return Unreached { message, transient };
        }
        cause = c.source();
    }
    format!("failed to assume `{role_arn}`: {}", DisplayErrorContext(e)).into()
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

    #[tokio::test(start_paused = true)]
    async fn assume_role_calls_are_paced_evenly_however_many_ask_at_once() {
        let pace = Arc::new(Pace::per_second(4.0));
        let started = Instant::now();
        let turns: Vec<Duration> = futures::future::join_all((0..5).map(|_| {
            let pace = pace.clone();
            async move {
                pace.wait().await;
                started.elapsed()
            }
        }))
        .await;
        let mut ms: Vec<u128> = turns.iter().map(|t| t.as_millis()).collect();
        ms.sort();
        assert_eq!(ms, [0, 250, 500, 750, 1000]);
        // After a pause, the next call goes at once.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = Instant::now();
        pace.wait().await;
        assert_eq!(before.elapsed(), Duration::ZERO);
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
        assert!(denied.message.starts_with("role `arn:aws:iam::111122223333:role/audit` cannot be assumed") && denied.message.ends_with("not today"), "{denied}");
        assert!(!denied.transient, "a refusal stays a refusal");
        // Throttled past the retries: worth asking again at the end of the audit.
        let throttled = assume_role_failure(arn, &sts_error("Throttling"));
        assert_eq!(throttled, Unreached { message: "failed to assume `arn:aws:iam::111122223333:role/audit`: Throttling: not today".into(), transient: true });
    }
}
