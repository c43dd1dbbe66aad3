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
    /// The name of a target group the service must register its tasks in.
    #[serde(default)]
    pub target_group: Option<String>,
    /// Whether the deployment circuit breaker must be on, with rollback.
    #[serde(default)]
    pub circuit_breaker: bool,
    /// The fewest Availability Zones the running tasks must be spread over.
    #[serde(default)]
    pub min_zones: Option<usize>,
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
        // Why the last task stopped is worth a call only when tasks are missing.
        let stop_reason = if self.judge_settings(&service).is_none() && self.stable && service.running_count() < service.desired_count() {
            self.last_stop_reason(ctx).await?
        } else {
            None
        };
        let verdict = self.judge(&service, stop_reason.as_deref(), ctx.region);
        match self.min_zones {
            Some(min) if verdict.status() == crate::checks::Status::Pass => {
                let tasks = ctx.aws.tasks(ctx.region, &self.cluster, Some(&self.service), DesiredStatus::Running).await?;
                let zones: Vec<&str> = tasks.iter().filter_map(|t| t.availability_zone()).collect();
                Ok(judge_spread(&self.service, &zones, min).unwrap_or(verdict))
            }
            _ => Ok(verdict),
        }
    }
}

/// `None` when the running tasks are in at least `min` zones; else the failure.
fn judge_spread(service: &str, zones: &[&str], min: usize) -> Option<Verdict> {
    let mut distinct: Vec<&str> = zones.to_vec();
    distinct.sort();
    distinct.dedup();
    (distinct.len() < min).then(|| {
        Verdict::fail(format!("service `{service}`'s running tasks are in {} Availability Zone(s): one zone's outage would stop them all", distinct.len()))
            .expected(format!("tasks in at least {min} zones (give the service subnets in several zones)"))
            .found(if zones.is_empty() { "no running task".into() } else { zones.join(", ") })
    })
}

impl EcsService {
    /// The verdict on a service as DescribeServices answered, with why its last task stopped
    /// (when it was asked). Pure, for tests on recorded answers.
    pub fn judge(&self, service: &Service, last_stop_reason: Option<&str>, region: &str) -> Verdict {
        if let Some(v) = self.judge_settings(service) {
            return v;
        }
        let graded = graded::service(&self.cluster, service, region);
        if !self.stable {
            return Verdict::pass(format!("service `{}` is ACTIVE on Fargate", self.service)).resource(graded);
        }
        let (running, desired, pending) = (service.running_count(), service.desired_count(), service.pending_count());
        let deployments = service.deployments().len();
        if deployments == 1 && running == desired && desired > 0 {
            return Verdict::pass(format!("service `{}` is stable: {running}/{desired} tasks running", self.service)).resource(graded);
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
        if let Some(reason) = last_stop_reason.filter(|_| running < desired) {
            why.push_str(&format!("; last task stopped: {reason}"));
        }
        Verdict::fail(why)
            .expected("one deployment, runningCount == desiredCount > 0")
            .found(format!("{deployments} deployment(s), running {running}, desired {desired}, pending {pending}"))
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
        if let Some(group) = &self.target_group {
            // A target group's ARN reads `…:targetgroup/NAME/ID`.
            let attached: Vec<&str> = service.load_balancers().iter().filter_map(|l| l.target_group_arn()).collect();
            if !attached.iter().any(|arn| arn.split('/').nth(1) == Some(group.as_str())) {
                return Some(
                    Verdict::fail(format!("service `{}` is not attached to the target group `{group}`", self.service))
                        .expected(format!("loadBalancers with target group `{group}`"))
                        .found(if attached.is_empty() { "no load balancer".into() } else { attached.join(", ") }),
                );
            }
        }
        if self.circuit_breaker {
            let breaker = service.deployment_configuration().and_then(|c| c.deployment_circuit_breaker());
            let (enable, rollback) = breaker.map(|b| (b.enable(), b.rollback())).unwrap_or((false, false));
            if !(enable && rollback) {
                return Some(
                    Verdict::fail(format!("service `{}` has no circuit breaker with rollback: a broken deployment would keep failing", self.service))
                        .expected("deploymentCircuitBreaker enable=true, rollback=true")
                        .found(format!("enable={enable}, rollback={rollback}")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use aws_sdk_ecs::types::{AssignPublicIp, AwsVpcConfiguration, Deployment, LaunchType, NetworkConfiguration};

    fn lab() -> EcsService {
        EcsService {
            cluster: "fargate-course".into(),
            service: "web-nginx".into(),
            assign_public_ip: Some("ENABLED".into()),
            task_family: Some("nginx-web".into()),
            stable: true,
            target_group: None,
            circuit_breaker: false,
            min_zones: None,
        }
    }

    #[test]
    fn behind_a_load_balancer_the_attachment_breaker_and_spread_are_judged() {
        let alb = EcsService { target_group: Some("nginx-targets".into()), circuit_breaker: true, min_zones: Some(2), ..lab() };
        let bare = alb.judge(&recorded(2, 2, 1), None, "us-east-1");
        assert_eq!(bare.found.as_deref(), Some("no load balancer"), "{}", bare.message);
        let mut attached = recorded(2, 2, 1);
        attached.load_balancers = Some(vec![
            aws_sdk_ecs::types::LoadBalancer::builder()
                .target_group_arn("arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nginx-targets/73e2d6bc24d8a067")
                .build(),
        ]);
        let no_breaker = alb.judge(&attached, None, "us-east-1");
        assert_eq!(no_breaker.found.as_deref(), Some("enable=false, rollback=false"), "{}", no_breaker.message);
        attached.deployment_configuration = Some(
            aws_sdk_ecs::types::DeploymentConfiguration::builder()
                .deployment_circuit_breaker(aws_sdk_ecs::types::DeploymentCircuitBreaker::builder().enable(true).rollback(true).build())
                .build(),
        );
        assert_eq!(alb.judge(&attached, None, "us-east-1").status(), Status::Pass);
        assert!(judge_spread("web-alb", &["us-east-1a", "us-east-1b"], 2).is_none());
        let one = judge_spread("web-alb", &["us-east-1a", "us-east-1a"], 2).unwrap();
        assert!(one.message.contains("1 Availability Zone(s)"), "{}", one.message);
    }

    /// A DescribeServices answer as AWS gives it for the lab's service.
    fn recorded(running: i32, desired: i32, deployments: usize) -> Service {
        let network = NetworkConfiguration::builder()
            .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("subnet-1").assign_public_ip(AssignPublicIp::Enabled).build().unwrap())
            .build();
        let mut service = Service::builder()
            .service_name("web-nginx")
            .service_arn("arn:aws:ecs:us-east-1:111122223333:service/fargate-course/web-nginx")
            .status("ACTIVE")
            .launch_type(LaunchType::Fargate)
            .task_definition("arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:3")
            .network_configuration(network)
            .running_count(running)
            .desired_count(desired)
            .pending_count(desired - running)
            .created_at(aws_smithy_types::DateTime::from_secs(1_764_266_709));
        for i in 0..deployments {
            service = service.deployments(Deployment::builder().id(format!("ecs-svc/{i}")).build());
        }
        service.build()
    }

    #[test]
    fn a_stable_service_passes_and_records_what_it_graded() {
        let v = lab().judge(&recorded(1, 1, 1), None, "us-east-1");
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
        assert_eq!(v.message, "service `web-nginx` is stable: 1/1 tasks running");
        assert_eq!(v.resources[0].name, "fargate-course/web-nginx");
        assert_eq!(v.resources[0].created_at.as_deref(), Some("2025-11-27T18:05:09Z"));
    }

    #[test]
    fn a_settling_service_fails_with_counts_deployments_and_the_stop_reason() {
        let v = lab().judge(&recorded(0, 1, 2), Some("CannotPullContainerError: not found"), "us-east-1");
        assert_eq!(v.status(), Status::Fail);
        assert_eq!(v.message, "service `web-nginx`: 0/1 running, 1 pending, 2 deployments in progress; last task stopped: CannotPullContainerError: not found");
        assert_eq!(v.found.as_deref(), Some("2 deployment(s), running 0, desired 1, pending 1"));
        let idle = lab().judge(&recorded(0, 0, 1), Some("ignored when nothing is missing"), "us-east-1");
        assert_eq!(idle.message, "service `web-nginx`: 0/0 running, desired count is 0");
    }

    #[test]
    fn settings_fail_before_stability_is_judged() {
        let mut private = recorded(1, 1, 1);
        private.network_configuration = Some(
            NetworkConfiguration::builder()
                .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("subnet-1").assign_public_ip(AssignPublicIp::Disabled).build().unwrap())
                .build(),
        );
        let v = lab().judge(&private, None, "us-east-1");
        assert_eq!(v.found.as_deref(), Some("assignPublicIp DISABLED"), "{}", v.message);
        let mut deleted = recorded(0, 0, 0);
        deleted.status = Some("INACTIVE".into());
        assert_eq!(lab().judge(&deleted, None, "us-east-1").message, "service `web-nginx` is INACTIVE: it was deleted");
        let mut other = recorded(1, 1, 1);
        other.task_definition = Some("arn:aws:ecs:us-east-1:111122223333:task-definition/httpd:1".into());
        assert_eq!(lab().judge(&other, None, "us-east-1").message, "service `web-nginx` runs task definition `httpd`");
    }
}
