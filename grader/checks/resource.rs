//! `resource`: a resource of any type exists, read through the Cloud Control API, and its
//! properties are as the lab says. Lab authors check S3, DynamoDB, SSM and the rest in YAML
//! alone; the type's handler permissions come from the grader's table or the check's own
//! `permissions:`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::properties::PropertyChecks;
use crate::aws::AwsError;
use crate::aws::cloudcontrol::known_type;
use crate::checks::{Ctx, Kind, Verdict};

/// A resource of `type` with this primary identifier exists, with these properties.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// A CloudFormation resource type name, e.g. `AWS::S3::Bucket`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The type's primary identifier (a bucket's name, a queue's URL, a secret's ARN).
    pub identifier: String,
    /// What must be true of its properties; empty: that it exists is enough.
    #[serde(default)]
    pub properties: PropertyChecks,
    /// The read permissions of the type's handler, for a type the grader's table lacks
    /// (its registry schema's `handlers.read.permissions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
}

impl Kind for Resource {
    const NAME: &'static str = "resource";
    const SUMMARY: &'static str = "A resource of any CloudFormation type exists (Cloud Control GetResource), with the properties given.";
    const ACTIONS: &'static [&'static str] = &["cloudformation:GetResource"];

    fn extra_actions(&self) -> Vec<String> {
        handler_permissions(&self.type_name, &self.permissions)
    }

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let what = format!("{} `{}`", self.type_name, self.identifier);
        let found = ctx.aws.cloud_resource(ctx.region, &self.type_name, &self.identifier).await?;
        let Some(properties) = found.as_ref() else {
            return Ok(Verdict::fail(format!("no {what} in {}", ctx.region)).expected(what).found("not found"));
        };
        let mismatches: Vec<String> = self.properties.0.iter().filter_map(|c| c.mismatch(properties)).collect();
        if mismatches.is_empty() {
            let checked = match self.properties.0.len() {
                0 => String::new(),
                1 => " with the expected property".into(),
                n => format!(" with the {n} expected properties"),
            };
            return Ok(Verdict::pass(format!("{what} exists{checked}")));
        }
        let wanted: Vec<String> = self.properties.0.iter().map(|c| c.path.to_string()).collect();
        Ok(Verdict::fail(format!("{what}: {}", mismatches.join("; "))).expected(format!("{what} with {}", wanted.join(", "))).found(mismatches.join("; ")))
    }
}

/// The handler permissions a check of this type needs: the table's, and the check's own.
pub fn handler_permissions(type_name: &str, extra: &[String]) -> Vec<String> {
    let table = known_type(type_name).map(|t| t.read).unwrap_or_default();
    table.iter().map(|p| p.to_string()).chain(extra.iter().cloned()).collect()
}
