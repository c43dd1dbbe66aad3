//! Talking to AWS: one SDK configuration, per-region clients, and a per-run response cache
//! so that two checks needing the same answer make one call.

mod cache;
pub mod assume;
pub mod clock;
pub mod cloudcontrol;
pub mod cost;
pub mod ec2;
pub mod ecs;
pub mod elb;
mod error;
pub mod iam;
pub mod latency;
pub mod logs;
pub mod profile;
pub mod scaling;
mod regions;
mod sign_in;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

pub use cache::Cache;
pub use error::{AwsError, AwsErrorKind};
pub use regions::{KNOWN_REGIONS, check_region_name};
pub use sign_in::{SetupError, explain};


/// How to reach AWS, from the command line and the environment.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Log each AWS call (service, action, region, time) on stderr. Never credentials.
    pub verbose: bool,
    /// Region used when neither the flag nor the AWS configuration names one.
    pub fallback_region: String,
    /// Grade another account: assume this role (with this external id) from the credentials
    /// found above, as an autograder does with each student's audit role.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
}

/// Clients for one region, each made when first needed: most regions of a leftover scan
/// are asked by two or three services, and making a client costs more than a call's CPU.
#[derive(Default)]
struct RegionClients {
    ecs: OnceLock<aws_sdk_ecs::Client>,
    ec2: OnceLock<aws_sdk_ec2::Client>,
    logs: OnceLock<aws_sdk_cloudwatchlogs::Client>,
    elb: OnceLock<aws_sdk_elasticloadbalancingv2::Client>,
    scaling: OnceLock<aws_sdk_applicationautoscaling::Client>,
    cloudcontrol: OnceLock<aws_sdk_cloudcontrol::Client>,
}

/// The grader's view of one AWS account for one run.
pub struct Aws {
    config: SdkConfig,
    /// The region checks run in.
    pub region: String,
    clients: Mutex<HashMap<String, Arc<RegionClients>>>,
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    pub cache: Cache,
    pub http: reqwest::Client,
    verbose: bool,
    /// Regions that leftover scans cover instead of every enabled region.
    scan_regions: Option<Vec<String>>,
    /// AWS's clock, from the `Date` of the sign-in's answer.
    pub clock: Arc<clock::AwsClock>,
    /// How long the run's questions took.
    pub call_times: latency::CallTimes,
}

/// The questions one attempt of a check asks. Every AWS question goes through a `Lookup`,
/// so freshness cannot be forgotten: a first attempt shares whatever the run has already
/// asked, a retry (`since` = when it began) gets answers at least as new as itself.
#[derive(Clone, Copy)]
pub struct Lookup<'a> {
    aws: &'a Aws,
    since: Option<Instant>,
}

impl std::ops::Deref for Lookup<'_> {
    type Target = Aws;
    fn deref(&self) -> &Aws {
        self.aws
    }
}

/// The AWS partition a region belongs to (credentials never cross partitions).
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// The HTTPS client the SDK clients use: hyper 1 with rustls on ring and the system's root
/// certificates (the SDK's own default would compile a second TLS library). Not a process-wide
/// static: a connection pool belongs to the tokio runtime that opened its connections.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let hyper = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build_https();
    aws_smithy_runtime_api::client::http::SharedHttpClient::new(ValidatedOnce { inner: hyper, validated: Arc::new(std::sync::OnceLock::new()) })
}

/// An HTTP client that checks itself once, not at every SDK client's construction. The hyper
/// client's check builds a throwaway connector, reading and parsing the system's root
/// certificates, each time an SDK client is made with it; a class audit makes a dozen clients
/// per account, and that check was the largest part of its CPU (BENCHMARKS.md). The
/// connectors it really uses are built once per timeout setting and cached, so one check
/// proves them all.
#[derive(Debug)]
struct ValidatedOnce {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    validated: Arc<std::sync::OnceLock<()>>,
}

impl aws_smithy_runtime_api::client::http::HttpClient for ValidatedOnce {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
        config: &aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if self.validated.get().is_some() {
            return Ok(());
        }
        self.inner.validate_base_client_config(components, config)?;
        let _ = self.validated.set(());
        Ok(())
    }

    fn connector_metadata(&self) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

/// How long one attempt of a call may take: AWS answers reads in well under a second, so
/// this only ends attempts on an endpoint that accepted the connection and went silent.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A call with all its retries: long enough for throttling backoff on a busy account.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// The sign-in call, with its retries: a learner whose endpoint never answers hears so
/// within half a minute, not after every retry of every check.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(30);

/// Loads the SDK configuration: credentials chain, region, endpoint, retries and timeouts.
pub async fn load_config(opts: &AwsOptions) -> Result<SdkConfig, SetupError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(
            TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).operation_attempt_timeout(ATTEMPT_TIMEOUT).operation_timeout(OPERATION_TIMEOUT).build(),
        );
    // Throttling is retried with backoff by the SDK; eight attempts ride out heavy
    // throttling (a 30 % rate fails all eight one time in 15,000) before a check reports
    // `error`. AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, when set, are the user's to decide.
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() && std::env::var_os("AWS_RETRY_MODE").is_none() {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
    }
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    // `--region` wins; otherwise the loader's own chain (environment, profile, instance
    // metadata, all through our HTTP client) and, failing those, the lab's region.
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let mut config = loader.load().await;
    if config.region().is_none() {
        config = config.to_builder().region(Region::new(opts.fallback_region.clone())).build();
    }
    if let Some(role_arn) = &opts.role_arn {
        // The provider renews the session for long waits; a role that refuses us shows at
        // sign-in as a failed credentials source (exit 4, with the role named).
        let mut role = aws_config::sts::AssumeRoleProvider::builder(role_arn).configure(&config).session_name("fargate-course-grader");
        if let Some(id) = &opts.external_id {
            role = role.external_id(id);
        }
        let role = role.build().await;
        config = config.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(role)).build();
    }
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    if opts.endpoint_url.is_none() {
        check_region_name(&region).map_err(SetupError)?;
    }
    Ok(config)
}

impl Aws {
    pub fn new(config: SdkConfig, verbose: bool) -> Aws {
        let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(6))
            .no_proxy()
            .build()
            .expect("a plain HTTP client with timeouts always builds");
        let aws_clock = Arc::new(clock::AwsClock::default());
        let sts = aws_sdk_sts::config::Builder::from(&config).interceptor(clock::DateHeader(aws_clock.clone())).build();
        Aws {
            iam: aws_sdk_iam::Client::new(&config),
            sts: aws_sdk_sts::Client::from_conf(sts),
            clock: aws_clock,
            config,
            region,
            clients: Mutex::new(HashMap::new()),
            cache: Cache::default(),
            http,
            verbose,
            scan_regions: None,
            call_times: latency::CallTimes::default(),
        }
    }

    /// Limits leftover scans to these regions (plus the run's own), for instructors who know
    /// where their class works and want a faster audit.
    pub fn with_scan_regions(mut self, regions: Option<Vec<String>>) -> Aws {
        self.scan_regions = regions;
        self
    }

    fn clients(&self, region: &str) -> Arc<RegionClients> {
        self.clients.lock().expect("client map lock").entry(region.to_string()).or_default().clone()
    }

    pub(crate) fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        let r = Region::new(region.to_string());
        self.clients(region).ecs.get_or_init(|| aws_sdk_ecs::Client::from_conf(aws_sdk_ecs::config::Builder::from(&self.config).region(r).build())).clone()
    }
    pub(crate) fn cloudcontrol(&self, region: &str) -> aws_sdk_cloudcontrol::Client {
        let r = Region::new(region.to_string());
        self.clients(region)
            .cloudcontrol
            .get_or_init(|| aws_sdk_cloudcontrol::Client::from_conf(aws_sdk_cloudcontrol::config::Builder::from(&self.config).region(r).build()))
            .clone()
    }
    pub(crate) fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let r = Region::new(region.to_string());
        self.clients(region).ec2.get_or_init(|| aws_sdk_ec2::Client::from_conf(aws_sdk_ec2::config::Builder::from(&self.config).region(r).build())).clone()
    }
    pub(crate) fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        let r = Region::new(region.to_string());
        self.clients(region)
            .logs
            .get_or_init(|| aws_sdk_cloudwatchlogs::Client::from_conf(aws_sdk_cloudwatchlogs::config::Builder::from(&self.config).region(r).build()))
            .clone()
    }
    pub(crate) fn elb(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        let r = Region::new(region.to_string());
        self.clients(region)
            .elb
            .get_or_init(|| aws_sdk_elasticloadbalancingv2::Client::from_conf(aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.config).region(r).build()))
            .clone()
    }
    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        self.iam.clone()
    }
    pub(crate) fn scaling(&self, region: &str) -> aws_sdk_applicationautoscaling::Client {
        let r = Region::new(region.to_string());
        self.clients(region)
            .scaling
            .get_or_init(|| aws_sdk_applicationautoscaling::Client::from_conf(aws_sdk_applicationautoscaling::config::Builder::from(&self.config).region(r).build()))
            .clone()
    }

    /// Reads for a first attempt: answers the run already has are good enough.
    pub fn lookup(&self) -> Lookup<'_> {
        Lookup { aws: self, since: None }
    }

    /// Reads for an attempt that began at `since`: nothing older will do.
    pub fn lookup_since(&self, since: Instant) -> Lookup<'_> {
        Lookup { aws: self, since: Some(since) }
    }

    /// The caller's account and ARN (`sts:GetCallerIdentity`), shared with the checks.
    pub async fn caller_identity(&self) -> Result<Arc<(String, String)>, AwsError> {
        self.lookup().caller_identity().await
    }
}

impl Lookup<'_> {
    /// Runs `call` unless the run has an answer for `key` that is new enough for this
    /// attempt (or another check is fetching one).
    pub(crate) async fn cached<T, F, Fut>(&self, action: &'static str, key: String, call: F) -> Result<Arc<T>, AwsError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let verbose = self.verbose;
        let call_times = &self.aws.call_times;
        self.cache
            .get_or_fetch(self.since, format!("{action} {key}"), || async move {
                let started = Instant::now();
                let result = call().await;
                call_times.record(started.elapsed());
                if verbose {
                    let outcome = match &result {
                        Ok(_) => "ok".to_string(),
                        Err(e) => e.code.clone().unwrap_or_else(|| format!("{:?}", e.kind)),
                    };
                    eprintln!("aws: {action} {key} -> {outcome} in {} ms", started.elapsed().as_millis());
                }
                result
            })
            .await
    }

    /// The caller's account and ARN (`sts:GetCallerIdentity`).
    pub async fn caller_identity(&self) -> Result<Arc<(String, String)>, AwsError> {
        self.cached("sts:GetCallerIdentity", String::new(), || async {
            // The first call of every run retries as often as the checks but with short
            // pauses, so a learner with no network or a stopped endpoint hears so within
            // seconds rather than after half a minute of backoff.
            let mut config = aws_sdk_sts::config::Builder::default()
                .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(ATTEMPT_TIMEOUT).operation_timeout(SIGN_IN_TIMEOUT).build());
            if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() && std::env::var_os("AWS_RETRY_MODE").is_none() {
                config = config.retry_config(RetryConfig::standard().with_max_attempts(8).with_initial_backoff(Duration::from_millis(100)).with_max_backoff(Duration::from_secs(1)));
            }
            let call = self.sts.get_caller_identity().customize().config_override(config);
            let out = call.send().await.map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", e))?;
            Ok((out.account().unwrap_or_default().to_string(), out.arn().unwrap_or_default().to_string()))
        })
        .await
    }

    /// The regions enabled for this account (`ec2:DescribeRegions`), the configured region
    /// first; or the scan regions, when given.
    pub async fn enabled_regions(&self) -> Result<Arc<Vec<String>>, AwsError> {
        let region = self.region.clone();
        if let Some(scan) = &self.scan_regions {
            let mut regions = vec![region.clone()];
            regions.extend(scan.iter().filter(|r| **r != region).cloned());
            return Ok(Arc::new(regions));
        }
        self.cached("ec2:DescribeRegions", String::new(), || async move {
            let out = self.ec2(&region).describe_regions().send().await.map_err(|e| AwsError::from_sdk("ec2:DescribeRegions", e))?;
            // AWS lists only enabled regions of the caller's partition here; an emulator may
            // list more, and a region outside either refuses the credentials anyway.
            let mut names: Vec<String> = out
                .regions()
                .iter()
                .filter(|r| r.opt_in_status() != Some("not-opted-in"))
                .filter_map(|r| r.region_name().map(str::to_string))
                .filter(|r| partition(r) == partition(&region))
                .collect();
            names.sort();
            names.retain(|r| *r != region);
            names.insert(0, region);
            Ok(names)
        })
        .await
    }
}
