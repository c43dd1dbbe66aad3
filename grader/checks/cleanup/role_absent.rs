//! `role_absent`: the lab's IAM role is deleted (or, when optional, reported).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, Scan, verdict};
use crate::aws::AwsError;
use crate::aws::iam::RoleInfo;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The lab's IAM role is deleted; with `optional: true` a remaining role is reported but
/// passes, because the role is often shared with other work in the account.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleAbsent {
    pub role: String,
    #[serde(default)]
    pub optional: bool,
}

impl Kind for RoleAbsent {
    const NAME: &'static str = "role_absent";
    const SUMMARY: &'static str = "Cleanup: the IAM role is deleted; when optional, a remaining role is reported but passes.";
    const ACTIONS: &'static [&'static str] = &["iam:GetRole", "iam:ListAttachedRolePolicies"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        Ok(self.judge(ctx.aws.role(&self.role).await?.as_ref().as_ref()))
    }
}

impl RoleAbsent {
    pub fn judge(&self, role: Option<&RoleInfo>) -> Verdict {
        let Some(role) = role else {
            return Verdict::pass(format!("IAM role `{}` is deleted", self.role));
        };
        let mut teardown: Vec<String> =
            role.attached_policy_arns.iter().map(|p| format!("aws iam detach-role-policy --role-name {} --policy-arn {p}", self.role)).collect();
        teardown.push(format!("aws iam delete-role --role-name {}", self.role));
        if self.optional {
            return Verdict::pass(format!(
                "IAM role `{}` still exists; that is fine if other work uses it, otherwise remove it with: {}",
                self.role,
                teardown.join(" && ")
            ));
        }
        let leftover = Leftover::new("iam_role", self.role.clone(), "global", teardown).identified(graded::role(&self.role, role));
        verdict("IAM role", Scan { leftovers: vec![leftover], skipped: Vec::new() }, Regions::Lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    #[test]
    fn a_role_left_is_named_with_its_removal_unless_optional() {
        let role = RoleInfo { arn: String::new(), role_id: "AROA1".into(), created_at: String::new(), trust_policy: serde_json::json!({}), attached_policy_arns: vec!["arn:aws:iam::aws:policy/P".into()] };
        let strict = RoleAbsent { role: "ecsTaskExecutionRole".into(), optional: false };
        assert_eq!(strict.judge(None).status(), Status::Pass);
        let left = strict.judge(Some(&role));
        assert_eq!(left.status(), Status::Fail);
        assert_eq!(left.leftovers[0].teardown, ["aws iam detach-role-policy --role-name ecsTaskExecutionRole --policy-arn arn:aws:iam::aws:policy/P", "aws iam delete-role --role-name ecsTaskExecutionRole"]);
        let optional = RoleAbsent { role: "ecsTaskExecutionRole".into(), optional: true };
        assert_eq!(optional.judge(Some(&role)).status(), Status::Pass);
    }
}
