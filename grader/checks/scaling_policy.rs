//! `scaling_policy`: a target-tracking policy on the lab's metric scales the service.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::scaling::{ScalingPolicyInfo, service_resource_id};

/// The service has a target-tracking scaling policy on `metric` (a predefined metric, for
/// example `ECSServiceAverageCPUUtilization`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingPolicy {
    pub cluster: String,
    pub service: String,
    #[serde(default = "cpu")]
    pub metric: String,
}

fn cpu() -> String {
    "ECSServiceAverageCPUUtilization".into()
}

impl Kind for ScalingPolicy {
    const NAME: &'static str = "scaling_policy";
    const SUMMARY: &'static str = "The service has a target-tracking scaling policy on the lab's predefined metric (average CPU by default).";
    const ACTIONS: &'static [&'static str] = &["application-autoscaling:DescribeScalingPolicies"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let id = service_resource_id(&self.cluster, &self.service);
        Ok(self.judge(&ctx.aws.scaling_policies(ctx.region, &id).await?))
    }
}

impl ScalingPolicy {
    pub fn judge(&self, policies: &[ScalingPolicyInfo]) -> Verdict {
        let id = service_resource_id(&self.cluster, &self.service);
        let expected = format!("a TargetTrackingScaling policy on {}", self.metric);
        if let Some(p) = policies.iter().find(|p| p.policy_type == "TargetTrackingScaling" && p.metric.as_deref() == Some(self.metric.as_str())) {
            let target = p.target_value.map(|t| format!(", target {t}")).unwrap_or_default();
            return Verdict::pass(format!("`{}` tracks {} on `{id}`{target}", p.name, self.metric));
        }
        let found: Vec<String> = policies.iter().map(|p| format!("`{}` ({}{})", p.name, p.policy_type, p.metric.as_ref().map(|m| format!(" on {m}")).unwrap_or_default())).collect();
        Verdict::fail(format!("`{id}` has no target-tracking policy on {}", self.metric)).expected(expected).found(if found.is_empty() { "no scaling policies".into() } else { found.join(", ") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn policy(policy_type: &str, metric: &str) -> ScalingPolicyInfo {
        ScalingPolicyInfo { name: "cpu-50".into(), policy_type: policy_type.into(), metric: Some(metric.into()), target_value: Some(50.0) }
    }

    #[test]
    fn a_cpu_target_tracking_policy_passes_and_others_are_named() {
        let lab = ScalingPolicy { cluster: "fargate-course".into(), service: "web-alb".into(), metric: cpu() };
        let v = lab.judge(&[policy("TargetTrackingScaling", "ECSServiceAverageCPUUtilization")]);
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
        assert!(v.message.ends_with("target 50"), "{}", v.message);
        let memory = lab.judge(&[policy("TargetTrackingScaling", "ECSServiceAverageMemoryUtilization")]);
        assert_eq!(memory.found.as_deref(), Some("`cpu-50` (TargetTrackingScaling on ECSServiceAverageMemoryUtilization)"));
        assert_eq!(lab.judge(&[]).found.as_deref(), Some("no scaling policies"));
    }
}
