//! Cloud Control questions: any resource type's properties by its primary identifier, and
//! the read permissions each supported type's handler needs (the caller's own credentials run
//! the handler, so a grader's policy must hold them as well as the Cloud Control action).

use std::sync::Arc;

use super::{AwsError, AwsErrorKind, Lookup};

/// A resource type the grader knows the handler permissions of, from its CloudFormation
/// registry schema (`handlers.read` / `handlers.list`, schemas of 2025-2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownType {
    pub name: &'static str,
    pub read: &'static [&'static str],
    pub list: &'static [&'static str],
    /// Read permissions that reveal more than configuration (a secret's value): the policy
    /// appendix says so.
    pub sensitive: &'static [&'static str],
}

/// Every type the grader's policy can be built for without the lab naming `permissions:`.
/// As the schemas list them, with the service prefix in lower case and each action once (S3's
/// schema writes `S3:GetBucketWebsite` and names GetBucketPublicAccessBlock twice).
pub const KNOWN_TYPES: &[KnownType] = &[
    KnownType {
        name: "AWS::S3::Bucket",
        read: &[
            "s3:GetAccelerateConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetAnalyticsConfiguration",
            "s3:GetBucketCORS",
            "s3:GetEncryptionConfiguration",
            "s3:GetInventoryConfiguration",
            "s3:GetBucketLogging",
            "s3:GetMetricsConfiguration",
            "s3:GetBucketNotification",
            "s3:GetBucketVersioning",
            "s3:GetReplicationConfiguration",
            "s3:GetBucketWebsite",
            "s3:GetBucketObjectLockConfiguration",
            "s3:GetBucketTagging",
            "s3:ListTagsForResource",
            "s3:GetBucketAbac",
            "s3:GetBucketOwnershipControls",
            "s3:GetIntelligentTieringConfiguration",
            "s3:GetBucketMetadataTableConfiguration",
            "s3:ListBucket",
        ],
        list: &["s3:ListAllMyBuckets"],
        sensitive: &[],
    },
    KnownType {
        name: "AWS::DynamoDB::Table",
        read: &[
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeContributorInsights",
            "dynamodb:DescribeKinesisStreamingDestination",
            "dynamodb:ListTagsOfResource",
            "dynamodb:GetResourcePolicy",
            "dynamodb:DescribeTimeToLive",
        ],
        list: &["dynamodb:ListTables"],
        sensitive: &[],
    },
    KnownType { name: "AWS::SSM::Parameter", read: &["ssm:GetParameters", "ssm:ListTagsForResource"], list: &["ssm:DescribeParameters"], sensitive: &["ssm:GetParameters"] },
    KnownType { name: "AWS::SQS::Queue", read: &["sqs:GetQueueAttributes", "sqs:ListQueueTags"], list: &["sqs:ListQueues"], sensitive: &[] },
    KnownType {
        name: "AWS::Logs::LogGroup",
        read: &["logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:GetDataProtectionPolicy", "logs:DescribeIndexPolicies", "logs:DescribeResourcePolicies"],
        list: &["logs:DescribeLogGroups", "logs:ListTagsForResource"],
        sensitive: &[],
    },
    KnownType {
        name: "AWS::ECR::Repository",
        read: &["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource"],
        list: &["ecr:DescribeRepositories"],
        sensitive: &[],
    },
    KnownType {
        name: "AWS::SecretsManager::Secret",
        read: &["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        list: &["secretsmanager:ListSecrets"],
        sensitive: &["secretsmanager:GetSecretValue"],
    },
    KnownType { name: "AWS::CloudWatch::Alarm", read: &["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"], list: &["cloudwatch:DescribeAlarms"], sensitive: &[] },
    KnownType {
        name: "AWS::IAM::Role",
        read: &["iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy"],
        list: &["iam:ListRoles"],
        sensitive: &[],
    },
];

/// The known type of this name.
pub fn known_type(name: &str) -> Option<&'static KnownType> {
    KNOWN_TYPES.iter().find(|t| t.name == name)
}

/// Whether `name` has the form of a resource type name: `Organization::Service::Resource`,
/// each part letters and digits starting with a letter (`AWS::S3::Bucket`).
pub fn is_type_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split("::").collect();
    parts.len() == 3 && parts.iter().all(|p| p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

const GET: &str = "cloudformation:GetResource";

impl Lookup<'_> {
    /// The resource's properties (a JSON object), or `None` when Cloud Control says it is
    /// not found. A handler denied one of its own reads is AccessDenied naming that permission.
    pub async fn cloud_resource(&self, region: &str, type_name: &str, identifier: &str) -> Result<Arc<Option<serde_json::Value>>, AwsError> {
        self.cached(GET, format!("{region} {type_name} {identifier}"), || async {
            let answer = self.cloudcontrol(region).get_resource().type_name(type_name).identifier(identifier).send().await;
            match answer {
                Ok(out) => {
                    let text = out.resource_description().and_then(|d| d.properties()).unwrap_or("{}");
                    let properties = serde_json::from_str(text).map_err(|e| AwsError::other(GET, format!("Cloud Control answered properties that are not JSON: {e}")))?;
                    Ok(Some(properties))
                }
                Err(e) => {
                    let e = AwsError::from_sdk(GET, e);
                    if e.kind == AwsErrorKind::NotFound {
                        return Ok(None);
                    }
                    Err(name_denied_permission(e, type_name))
                }
            }
        })
        .await
    }
}

/// A handler's AccessDenied names the permission it lacked inside the message ("… is not
/// authorized to perform: s3:GetBucketVersioning …"): the error names that one, where the
/// type is known, instead of the Cloud Control action that was allowed.
fn name_denied_permission(mut e: AwsError, type_name: &str) -> AwsError {
    if e.kind != AwsErrorKind::AccessDenied || !e.message.contains("Handler returned status FAILED") {
        return e;
    }
    let denied = e.message.split("not authorized to perform: ").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_default();
    if let Some(permission) = known_type(type_name).and_then(|t| t.read.iter().find(|p| p.eq_ignore_ascii_case(denied))) {
        e.action = permission;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_have_three_parts_of_letters_and_digits() {
        for good in ["AWS::S3::Bucket", "AWS::EC2::VPC", "MyOrg::Team::Thing2"] {
            assert!(is_type_name(good), "{good}");
        }
        for bad in ["AWS::S3", "aws:s3:bucket", "AWS::S3::Bucket::", "AWS::S3::Bu cket", "AWS::3S::Bucket", ""] {
            assert!(!is_type_name(bad), "{bad}");
        }
    }

    #[test]
    fn every_known_type_reads_only_and_names_valid_actions() {
        for t in KNOWN_TYPES {
            assert!(is_type_name(t.name), "{}", t.name);
            for action in t.read.iter().chain(t.list) {
                let (service, op) = action.split_once(':').unwrap_or_else(|| panic!("{action}"));
                assert!(service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{action}: service in lower case");
                assert!(["Get", "List", "Describe"].iter().any(|p| op.starts_with(p)), "{action} is not a read");
            }
            assert!(t.sensitive.iter().all(|s| t.read.contains(s)));
        }
    }

    #[test]
    fn a_handler_s_denial_names_the_permission_it_lacked() {
        let denied = AwsError {
            kind: AwsErrorKind::AccessDenied,
            action: GET,
            code: Some("AccessDeniedException".into()),
            message: "AWS::S3::Bucket Handler returned status FAILED: User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: S3:GetBucketVersioning (Service: S3, Status Code: 403) (HandlerErrorCode: AccessDenied)".into(),
        };
        assert_eq!(name_denied_permission(denied.clone(), "AWS::S3::Bucket").action, "s3:GetBucketVersioning");
        assert_eq!(name_denied_permission(denied, "AWS::Unknown::Thing").action, GET, "an unknown type keeps the Cloud Control action");
    }
}
