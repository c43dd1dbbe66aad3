//! `ecs_service`: the lab's service runs on Fargate with a public IP and is stable.

use aws_sdk_ecs::types::{DesiredStatus, Service};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, graded, nearby};
use crate::aws::AwsError;

/// An ECS service is ACTIVE, on Fargate, with the network settings the lab asks for, and
/// stable: exactly one deployment and as many running tasks as desired (at least one).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsService {
    pub cluster: String,
    pub service: String,
    /// Required `assignPublicIp` (`ENABLED` or `DISABLED`); unchecked when absent.
    #[serde(default)]
    pub assign_public_ip: Option<String>,
    /// The task definition family the service must run.
    #[serde(default)]
    pub task_family: Option<String>,
    /// Whether the service must also be stable (steady state reached).
    #[serde(default = "yes")]
    pub stable: bool,
}

fn yes() -> bool {
    true
}

impl Kind for EcsService {
    const NAME: &'static str = "ecs_service";
    const SUMMARY: &'static str = "An ECS service is ACTIVE on Fargate with the required public IP setting and task family, and stable: one deployment, running == desired > 0.";
    const ACTIONS: &'static [&'static str] =
        &["ecs:DescribeServices", "ecs:ListServices", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeClusters", "iam:GetRole", "iam:ListAttachedRolePolicies"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(service) = ctx.aws.service(ctx.region, &self.cluster, &self.service).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no service `{}` in cluster `{}` ({})", self.service, self.cluster, ctx.region))
                .expected(format!("service `{}`", self.service))
                .found("none")
                .also(nearby::service(ctx, &self.cluster, &self.service).await)
                .also(missing_service_linked_role(ctx, &self.cluster).await));
        };
        if let Some(v) = self.judge_settings(&service) {
            return Ok(v);
        }
        if !self.stable {
            return Ok(Verdict::pass(format!("service `{}` is ACTIVE on Fargate", self.service)).resource(graded::service(&self.cluster, &service, ctx.region)));
        }
        let (running, desired, pending) = (service.running_count(), service.desired_count(), service.pending_count());
        let deployments = service.deployments().len();
        if deployments == 1 && running == desired && desired > 0 {
            return Ok(Verdict::pass(format!("service `{}` is stable: {running}/{desired} tasks running", self.service))
                .resource(graded::service(&self.cluster, &service, ctx.region)));
        }
        let mut why = format!("service `{}`: {running}/{desired} running", self.service);
        if pending > 0 {
            why.push_str(&format!(", {pending} pending"));
        }
        if deployments > 1 {
            why.push_str(&format!(", {deployments} deployments in progress"));
        }
        if desired == 0 {
            why.push_str(", desired count is 0");
        }
        if running < desired {
            if let Some(reason) = self.last_stop_reason(ctx).await? {
                why.push_str(&format!("; last task stopped: {reason}"));
            }
        }
        Ok(Verdict::fail(why)
            .expected("one deployment, runningCount == desiredCount > 0")
            .found(format!("{deployments} deployment(s), running {running}, desired {desired}, pending {pending}")))
    }
}

/// ECS's service-linked role. `create-cluster` succeeds without it (it tries to create the
/// role and carries on when it may not); `create-service` then fails with "Unable to assume
/// the service linked role", which the grader cannot see, but the missing role it can.
const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForECS";

/// Said only where a cluster stands: before step 4 no account has the role, nor needs it yet.
async fn missing_service_linked_role(ctx: &Ctx<'_>, cluster: &str) -> Option<String> {
    let cluster = ctx.aws.cluster(ctx.region, cluster).await.ok()?;
    if cluster.as_ref().as_ref().and_then(|c| c.status()) != Some("ACTIVE") {
        return None;
    }
    match ctx.aws.role(SERVICE_LINKED_ROLE).await {
        Ok(role) if role.is_none() => Some(format!(
            "the account has no ECS service-linked role ({SERVICE_LINKED_ROLE}), so `create-service` fails with \"Unable to assume the service linked role\": \
             create it with `aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com`, then create the service again"
        )),
        // A role, or no permission to look: nothing to add to the failure.
        _ => None,
    }
}

impl EcsService {
    /// The settings that do not change while a service settles.
    fn judge_settings(&self, service: &Service) -> Option<Verdict> {
        let status = service.status().unwrap_or("UNKNOWN");
        if status != "ACTIVE" {
            return Some(Verdict::fail(format!("service `{}` is {status}: it was deleted", self.service)).expected("ACTIVE").found(status.to_string()));
        }
        let on_fargate = service.launch_type().map(|l| l.as_str()) == Some("FARGATE")
            || service.capacity_provider_strategy().iter().any(|s| s.capacity_provider().starts_with("FARGATE"));
        if !on_fargate {
            let found = service.launch_type().map(|l| l.as_str().to_string()).unwrap_or_else(|| "a non-Fargate capacity provider".into());
            return Some(Verdict::fail(format!("service `{}` does not run on Fargate", self.service)).expected("launch type FARGATE").found(found));
        }
        if let Some(want) = &self.assign_public_ip {
            let have = service
                .network_configuration()
                .and_then(|n| n.awsvpc_configuration())
                .and_then(|a| a.assign_public_ip())
                .map(|a| a.as_str().to_string())
                .unwrap_or_else(|| "DISABLED".into());
            if &have != want {
                return Some(
                    Verdict::fail(format!("service `{}` has assignPublicIp {have}; its task gets no public address", self.service))
                        .expected(format!("assignPublicIp {want}"))
                        .found(format!("assignPublicIp {have}")),
                );
            }
        }
        if let Some(family) = &self.task_family {
            let arn = service.task_definition().unwrap_or("none");
            let have = arn.rsplit('/').next().unwrap_or(arn).rsplit_once(':').map(|(f, _)| f).unwrap_or(arn);
            if have != family {
                return Some(Verdict::fail(format!("service `{}` runs task definition `{have}`", self.service)).expected(format!("family `{family}`")).found(arn.to_string()));
            }
        }
        None
    }

    /// Why the service's most recent stopped task stopped (for example
    /// `CannotPullContainerError: …`).
    async fn last_stop_reason(&self, ctx: &Ctx<'_>) -> Result<Option<String>, AwsError> {
        let stopped = ctx.aws.tasks(ctx.region, &self.cluster, Some(&self.service), DesiredStatus::Stopped).await?;
        let latest = stopped.iter().max_by_key(|t| t.stopped_at().map(|d| d.secs()).unwrap_or(0));
        Ok(latest.and_then(|t| t.stopped_reason().map(str::to_string)))
    }
}
