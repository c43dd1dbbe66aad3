//! `target_group`: the lab's target group routes to task IPs, checks their health on the
//! lab's path, and has enough healthy targets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::elb::{TargetGroupInfo, TargetHealth};

/// A target group by name of type `ip` (Fargate tasks are registered by IP), with its health
/// check on `health_check_path`, and at least `healthy_targets` targets `healthy`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    pub target_group: String,
    #[serde(default = "root")]
    pub health_check_path: String,
    /// How many targets must be healthy (0: only the group's settings are checked).
    #[serde(default)]
    pub healthy_targets: usize,
}

fn root() -> String {
    "/".into()
}

impl Kind for TargetGroup {
    const NAME: &'static str = "target_group";
    const SUMMARY: &'static str = "A target group by name has target type ip, a health check on the lab's path, and at least the required number of healthy targets.";
    const ACTIONS: &'static [&'static str] = &["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(group) = ctx.aws.target_group(ctx.region, &self.target_group).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no target group `{}` in {}", self.target_group, ctx.region))
                .expected(format!("target group `{}`", self.target_group))
                .found("none"));
        };
        let health = if self.healthy_targets > 0 { ctx.aws.target_health(ctx.region, &group.arn).await?.as_ref().clone() } else { Vec::new() };
        let verdict = self.judge(&group, &health);
        Ok(if verdict.status() == super::Status::Pass { verdict.resource(super::graded::target_group(&group, ctx.region)) } else { verdict })
    }
}

impl TargetGroup {
    pub fn judge(&self, group: &TargetGroupInfo, health: &[TargetHealth]) -> Verdict {
        let name = &self.target_group;
        if group.target_type != "ip" {
            return Verdict::fail(format!("`{name}` has target type {}: Fargate tasks (awsvpc) register by IP address", group.target_type))
                .expected("target type ip")
                .found(format!("target type {}", group.target_type));
        }
        let path = group.health_check_path.as_deref().unwrap_or("/");
        if path != self.health_check_path {
            return Verdict::fail(format!("`{name}` checks health on `{path}`")).expected(format!("health check path {}", self.health_check_path)).found(format!("health check path {path}"));
        }
        if self.healthy_targets == 0 {
            return Verdict::pass(format!("`{name}` routes to IP targets, health checked on {path}"));
        }
        let healthy = health.iter().filter(|t| t.state == "healthy").count();
        if healthy >= self.healthy_targets {
            return Verdict::pass(format!("`{name}` has {healthy} healthy target(s)"));
        }
        let seen: Vec<String> = health
            .iter()
            .map(|t| format!("{}:{} {}{}", t.id, t.port.map(|p| p.to_string()).unwrap_or_default(), t.state, t.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()))
            .collect();
        Verdict::fail(format!("`{name}` has {healthy} healthy target(s) of {} registered", health.len()))
            .expected(format!("at least {} healthy targets", self.healthy_targets))
            .found(if seen.is_empty() { "no targets registered: is the service attached to the target group?".into() } else { seen.join(", ") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn recorded(target_type: &str) -> TargetGroupInfo {
        TargetGroupInfo {
            arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nginx-targets/73e2d6bc24d8a067".into(),
            name: "nginx-targets".into(),
            target_type: target_type.into(),
            protocol: "HTTP".into(),
            port: Some(80),
            health_check_path: Some("/".into()),
            matcher: Some("200".into()),
            load_balancer_arns: vec![],
        }
    }

    fn target(ip: &str, state: &str) -> TargetHealth {
        TargetHealth { id: ip.into(), port: Some(80), state: state.into(), reason: (state != "healthy").then(|| "Health checks failed".into()) }
    }

    fn lab() -> TargetGroup {
        TargetGroup { target_group: "nginx-targets".into(), health_check_path: "/".into(), healthy_targets: 2 }
    }

    #[test]
    fn two_healthy_ip_targets_pass() {
        let v = lab().judge(&recorded("ip"), &[target("10.0.1.5", "healthy"), target("10.0.2.9", "healthy")]);
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
    }

    #[test]
    fn instance_targets_or_unhealthy_ones_fail_naming_each_target() {
        assert_eq!(lab().judge(&recorded("instance"), &[]).expected.as_deref(), Some("target type ip"));
        let v = lab().judge(&recorded("ip"), &[target("10.0.1.5", "healthy"), target("10.0.2.9", "unhealthy")]);
        assert_eq!(v.status(), Status::Fail);
        assert_eq!(v.found.as_deref(), Some("10.0.1.5:80 healthy, 10.0.2.9:80 unhealthy (Health checks failed)"));
        assert!(lab().judge(&recorded("ip"), &[]).found.unwrap().contains("is the service attached"));
    }
}
