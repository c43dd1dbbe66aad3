//! IAM questions: the execution role, its trust policy and attached policies.

use std::sync::Arc;

use super::{AwsError, AwsErrorKind, Lookup};

/// A role as the checks see it.
#[derive(Debug, Clone)]
pub struct RoleInfo {
    pub arn: String,
    /// A new id for every creation, though the ARN of a role recreated under the same name
    /// is the same.
    pub role_id: String,
    pub created_at: String,
    /// The trust policy, decoded (IAM returns it percent-encoded).
    pub trust_policy: serde_json::Value,
    pub attached_policy_arns: Vec<String>,
}

impl Lookup<'_> {
    /// The role with its trust policy and attached managed policies, or `None`.
    pub async fn role(&self, name: &str) -> Result<Arc<Option<RoleInfo>>, AwsError> {
        self.cached("iam:GetRole", name.to_string(), || async {
            let role = match self.iam.get_role().role_name(name).send().await {
                Ok(out) => out.role().cloned(),
                Err(e) => {
                    let e = AwsError::from_sdk("iam:GetRole", e);
                    return if e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) };
                }
            };
            let Some(role) = role else { return Ok(None) };
            let mut attached = Vec::new();
            let mut pages = self.iam.list_attached_role_policies().role_name(name).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", e))?;
                attached.extend(page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)));
            }
            Ok(Some(RoleInfo {
                arn: role.arn().to_string(),
                role_id: role.role_id().to_string(),
                created_at: crate::timestamp::of(role.create_date()),
                trust_policy: decode_policy(role.assume_role_policy_document().unwrap_or("{}")),
                attached_policy_arns: attached,
            }))
        })
        .await
    }
}

/// Parses a policy document that may be percent-encoded, as IAM returns them.
pub fn decode_policy(document: &str) -> serde_json::Value {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).or_else(|_| serde_json::from_str(document)).unwrap_or(serde_json::Value::Null)
}

/// Whether two ARNs name the same thing in whatever partition: a lab names the AWS managed
/// policy as `arn:aws:iam::aws:policy/…`, which is `arn:aws-cn:…` in China and
/// `arn:aws-us-gov:…` in GovCloud.
pub fn same_arn_any_partition(a: &str, b: &str) -> bool {
    let rest = |arn: &str| arn.strip_prefix("arn:").and_then(|r| r.split_once(':')).map(|(_, rest)| rest.to_string());
    match (rest(a), rest(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Whether a trust policy lets `service` assume the role (`Principal.Service` may be a
/// string or a list).
pub fn trusts_service(policy: &serde_json::Value, service: &str) -> bool {
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    statements.iter().any(|s| {
        let allows = s["Effect"] == "Allow";
        let action_ok = match &s["Action"] {
            serde_json::Value::String(a) => a == "sts:AssumeRole" || a == "sts:*" || a == "*",
            serde_json::Value::Array(list) => list.iter().any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*"),
            _ => false,
        };
        let principal_ok = match &s["Principal"]["Service"] {
            serde_json::Value::String(p) => p == service,
            serde_json::Value::Array(list) => list.iter().any(|p| p == service),
            _ => false,
        };
        allows && action_ok && principal_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_encoded_trust_policies_with_string_or_list_principals() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert!(trusts_service(&decode_policy(encoded), "ecs-tasks.amazonaws.com"));
        let list = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":["sts:AssumeRole"]}}"#;
        assert!(trusts_service(&decode_policy(list), "ecs-tasks.amazonaws.com"));
        let wrong = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts_service(&decode_policy(wrong), "ecs-tasks.amazonaws.com"));
    }

    #[test]
    fn managed_policy_arns_match_in_every_partition() {
        let lab = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
        assert!(same_arn_any_partition(lab, lab));
        assert!(same_arn_any_partition(lab, "arn:aws-cn:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"));
        assert!(same_arn_any_partition(lab, "arn:aws-us-gov:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"));
        assert!(!same_arn_any_partition(lab, "arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy"));
        assert!(!same_arn_any_partition(lab, "arn:aws:iam::123456789012:policy/service-role/AmazonECSTaskExecutionRolePolicy"));
    }
}
