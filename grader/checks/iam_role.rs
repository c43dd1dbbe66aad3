//! `iam_role`: the task execution role exists, trusts ECS tasks and has the managed policy.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, graded};
use crate::aws::AwsError;
use crate::aws::iam::{same_arn_any_partition, trusts_service};

/// An IAM role exists, its trust policy lets a service assume it, and a managed policy is
/// attached.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IamRole {
    /// The role's name.
    pub role: String,
    /// The service principal the trust policy must allow.
    #[serde(default = "ecs_tasks")]
    pub trusted_service: String,
    /// ARN of a managed policy that must be attached.
    #[serde(default)]
    pub managed_policy: Option<String>,
}

fn ecs_tasks() -> String {
    "ecs-tasks.amazonaws.com".into()
}

impl Kind for IamRole {
    const NAME: &'static str = "iam_role";
    const SUMMARY: &'static str = "An IAM role exists, trusts a service principal (ecs-tasks.amazonaws.com) and has a managed policy attached.";
    const ACTIONS: &'static [&'static str] = &["iam:GetRole", "iam:ListAttachedRolePolicies"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(role) = ctx.aws.role(&self.role).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no IAM role `{}`", self.role)).expected(format!("role `{}`", self.role)).found("none"));
        };
        if !trusts_service(&role.trust_policy, &self.trusted_service) {
            return Ok(Verdict::fail(format!("role `{}` does not let `{}` assume it", self.role, self.trusted_service))
                .expected(format!("trust policy allowing sts:AssumeRole for {}", self.trusted_service))
                .found(role.trust_policy.to_string()));
        }
        if let Some(policy) = &self.managed_policy {
            if !role.attached_policy_arns.iter().any(|a| same_arn_any_partition(a, policy)) {
                return Ok(Verdict::fail(format!("role `{}` lacks the policy `{}`", self.role, policy.rsplit('/').next().unwrap_or(policy)))
                    .expected(format!("attached: {policy}"))
                    .found(if role.attached_policy_arns.is_empty() { "no attached policies".into() } else { role.attached_policy_arns.join(", ") }));
            }
        }
        Ok(Verdict::pass(format!("role `{}` trusts {} and has its policy attached", self.role, self.trusted_service)).resource(graded::role(&self.role, &role)))
    }
}
