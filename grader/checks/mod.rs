//! Check kinds: the registry, the verdict type, and one file per kind.
//!
//! Adding a kind = one new file here + one line in the `kinds!` list below. The list
//! generates the lab file's `kind:` enum, the registry the book, `grader policy` and the
//! tests loop over, and the dispatch from a parsed check to its code.

mod access_log;
mod cleanup;
mod caller_identity;
mod default_vpc;
mod deployment;
pub mod graded;
pub mod identity;
mod ecs_cluster;
mod ecs_service;
mod http_get;
mod iam_role;
mod lb_http;
mod listener;
mod load_balancer;
mod log_group;
mod log_streams;
mod nearby;
mod properties;
mod resource;
mod scalable_target;
mod scaling_activity;
mod scaling_policy;
mod security_group;
mod security_group_source;
mod target_group;
mod task_definition;
mod task_public_ip;

use std::future::Future;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, Lookup};
use crate::pricing::{self, Charge};

/// What one check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// The check could not decide (API error, missing permission, throttled past retries).
    Error,
    /// Not run, because a check it depends on did not pass.
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }
}

/// A resource left behind after the lab, with what it costs and how to remove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leftover {
    /// What kind of resource: `ecs_service`, `ecs_cluster`, `ecs_task`, `log_group`,
    /// `security_group`, `network_interface`, `iam_role`.
    pub resource: String,
    pub name: String,
    pub region: String,
    /// Estimated on-demand cost per hour in USD, when it costs anything by the hour: the sum
    /// of its `charges`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_hour: Option<f64>,
    /// The AWS CLI commands that remove it, in order.
    pub teardown: Vec<String>,
    /// What AWS bills for it by the hour, each thing named so that a run adds it up once
    /// however many checks find it (see `pricing::total`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    /// Which prices `usd_per_hour` comes from (region and date), and whether it is approximate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_basis: Option<String>,
    /// The resource as AWS identifies this creation of it (ARN, creation time, id), so that a
    /// teardown plan deletes it only if it is still the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Resource>,
}

impl Leftover {
    /// A leftover that costs nothing by the hour.
    pub fn new(resource: &str, name: impl Into<String>, region: &str, teardown: Vec<String>) -> Leftover {
        Leftover { resource: resource.into(), name: name.into(), region: region.into(), usd_per_hour: None, teardown, charges: Vec::new(), price_basis: None, identity: None }
    }

    /// With the identity of the creation it is.
    pub fn identified(mut self, identity: Resource) -> Leftover {
        self.identity = Some(identity);
        self
    }

    /// With what it is billed for (nothing changes when `charges` is empty).
    pub fn charged(mut self, charges: Vec<Charge>) -> Leftover {
        if !charges.is_empty() {
            self.usd_per_hour = Some(pricing::total(&charges));
            self.price_basis = Some(pricing::basis(&self.region));
            self.charges = charges;
        }
        self
    }
}

/// A resource a passing check graded, as AWS identifies it: what a receipt records and
/// `grader verify-receipt` looks for again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// What it is: one of `identity::KNOWN_KINDS` (`ecs_cluster`, `ecs_service`,
    /// `load_balancer`, …).
    pub kind: String,
    /// The name a learner gave it (for a task definition, `family:revision`).
    pub name: String,
    /// Its region; empty for IAM, which is global.
    pub region: String,
    pub arn: String,
    /// When AWS created it (RFC 3339, UTC); `None` where AWS does not say (ECS clusters,
    /// security groups).
    pub created_at: Option<String>,
    /// An identifier AWS gives each creation anew where the ARN does not change with it
    /// (an IAM role's `RoleId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
}

/// A check's decision with the evidence a learner needs to act on it.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub status: Option<Status>,
    pub message: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub leftovers: Vec<Leftover>,
    /// What a passing check graded (for receipts).
    pub resources: Vec<Resource>,
    /// Waiting will not change this verdict (a deployment the circuit breaker failed with
    /// rollback off stays failed): the runner decides at once instead of retrying.
    pub conclusive: bool,
}

impl Verdict {
    pub fn pass(message: impl Into<String>) -> Verdict {
        Verdict { status: Some(Status::Pass), message: message.into(), ..Verdict::default() }
    }
    pub fn fail(message: impl Into<String>) -> Verdict {
        Verdict { status: Some(Status::Fail), message: message.into(), ..Verdict::default() }
    }
    pub fn error(message: impl Into<String>) -> Verdict {
        Verdict { status: Some(Status::Error), message: message.into(), ..Verdict::default() }
    }
    pub fn expected(mut self, text: impl Into<String>) -> Verdict {
        self.expected = Some(text.into());
        self
    }
    pub fn found(mut self, text: impl Into<String>) -> Verdict {
        self.found = Some(text.into());
        self
    }
    /// Marks a verdict that waiting cannot change.
    pub fn conclusive(mut self) -> Verdict {
        self.conclusive = true;
        self
    }
    /// Records a resource this verdict is about.
    pub fn resource(mut self, resource: Resource) -> Verdict {
        self.resources.push(resource);
        self
    }
    /// Adds "; found X nearby" style context to a failure message.
    pub fn also(mut self, note: Option<String>) -> Verdict {
        if let Some(note) = note {
            self.message.push_str("; ");
            self.message.push_str(&note);
        }
        self
    }
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::Error)
    }
}

/// Where a run looks from, which decides what an HTTP check that gets no answer means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Vantage {
    /// The learner's own machine: the lab's security groups admit it, so a site that does
    /// not answer is a fail.
    #[default]
    Learner,
    /// Anywhere else (an autograder, a cohort audit, `--role-arn`): the lab's security
    /// groups keep this machine out on purpose, so a site that does not answer is judged
    /// on AWS's own evidence (access logs, target health), or left undecided.
    Elsewhere,
}

/// What one attempt of a check can see while it runs.
pub struct Ctx<'a> {
    /// Every AWS question of this attempt, as new as the attempt needs (see `Lookup`).
    pub aws: Lookup<'a>,
    /// The region the learner works in for this run.
    pub region: &'a str,
    /// Where this run looks from.
    pub vantage: Vantage,
}

/// One check kind's parameters and logic.
pub trait Kind {
    /// The `kind:` name in lab files.
    const NAME: &'static str;
    /// One sentence for the book's reference and `grader validate --kinds`.
    const SUMMARY: &'static str;
    /// Every IAM action this kind may call; `grader policy` is built from these.
    const ACTIONS: &'static [&'static str];
    /// The IAM actions this check needs besides the kind's own: what its parameters add
    /// (a `resource` check's type needs its handler's read permissions).
    fn extra_actions(&self) -> Vec<String> {
        Vec::new()
    }
    /// Decides. An `Err` (API error) becomes an `error` verdict, never a fail or a pass.
    fn evaluate(&self, ctx: &Ctx<'_>) -> impl Future<Output = Result<Verdict, AwsError>> + Send;
}

/// A check kind as the registry lists it.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub actions: &'static [&'static str],
    /// The JSON schema of the kind's parameters, for the book's reference.
    pub schema: fn() -> schemars::Schema,
}

macro_rules! kinds {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        /// The kind of a check and its parameters, tagged by `kind:` in lab files.
        #[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum KindSpec {
            $($variant($ty),)*
        }

        /// Every check kind, in the order the book's reference lists them.
        pub const KINDS: &[KindInfo] = &[
            $(KindInfo {
                name: <$ty as Kind>::NAME,
                summary: <$ty as Kind>::SUMMARY,
                actions: <$ty as Kind>::ACTIONS,
                schema: || schemars::schema_for!($ty),
            },)*
        ];

        impl KindSpec {
            pub fn name(&self) -> &'static str {
                match self { $(KindSpec::$variant(_) => <$ty as Kind>::NAME,)* }
            }

            /// Every IAM action this check may call: its kind's and its parameters'.
            pub fn actions(&self) -> Vec<String> {
                match self {
                    $(KindSpec::$variant(k) => <$ty as Kind>::ACTIONS.iter().map(|a| a.to_string()).chain(k.extra_actions()).collect(),)*
                }
            }

            pub async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
                match self { $(KindSpec::$variant(k) => k.evaluate(ctx).await,)* }
            }
        }
    };
}

kinds! {
    CallerIdentity => caller_identity::CallerIdentity,
    DefaultVpc => default_vpc::DefaultVpc,
    SecurityGroup => security_group::SecurityGroup,
    EcsCluster => ecs_cluster::EcsCluster,
    IamRole => iam_role::IamRole,
    LogGroup => log_group::LogGroup,
    TaskDefinition => task_definition::TaskDefinition,
    EcsService => ecs_service::EcsService,
    TaskPublicIp => task_public_ip::TaskPublicIp,
    HttpGet => http_get::HttpGet,
    LogStreams => log_streams::LogStreams,
    SecurityGroupSource => security_group_source::SecurityGroupSource,
    LoadBalancer => load_balancer::LoadBalancer,
    TargetGroup => target_group::TargetGroup,
    Listener => listener::Listener,
    LbHttp => lb_http::LbHttp,
    ScalableTarget => scalable_target::ScalableTarget,
    ScalingPolicy => scaling_policy::ScalingPolicy,
    ScalingActivity => scaling_activity::ScalingActivity,
    Deployment => deployment::Deployment,
    Resource => resource::Resource,
    ServiceAbsent => cleanup::ServiceAbsent,
    ClusterAbsent => cleanup::ClusterAbsent,
    TasksStopped => cleanup::TasksStopped,
    LogGroupAbsent => cleanup::LogGroupAbsent,
    SecurityGroupAbsent => cleanup::SecurityGroupAbsent,
    EnisReleased => cleanup::EnisReleased,
    RoleAbsent => cleanup::RoleAbsent,
    LoadBalancerAbsent => cleanup::LoadBalancerAbsent,
    TargetGroupAbsent => cleanup::TargetGroupAbsent,
    ScalableTargetAbsent => cleanup::ScalableTargetAbsent,
    TaskDefinitionsDeregistered => cleanup::TaskDefinitionsDeregistered,
    ResourceAbsent => cleanup::ResourceAbsent,
}

/// The registry entry for a kind name.
pub fn kind_info(name: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn kind_names_are_unique_snake_case_and_documented() {
        let mut seen = HashSet::new();
        for kind in KINDS {
            assert!(seen.insert(kind.name), "duplicate kind `{}`", kind.name);
            assert!(kind.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "`{}` is not snake_case", kind.name);
            assert!(kind.summary.ends_with('.') && kind.summary.len() > 20, "`{}` needs a one-sentence summary", kind.name);
            assert!(!kind.actions.is_empty() || kind.name == "http_get", "`{}` declares no AWS actions", kind.name);
            for action in kind.actions {
                let (service, op) = action.split_once(':').unwrap_or_else(|| panic!("`{action}` is not service:Action"));
                assert!(["ecs", "ec2", "iam", "logs", "sts", "elasticloadbalancing", "application-autoscaling", "cloudformation"].contains(&service), "unknown service in `{action}`");
                assert!(op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"), "`{action}` is not read-only");
            }
        }
    }
}
