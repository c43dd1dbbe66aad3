//! `resource_absent`: a resource of any type is gone, read through the Cloud Control API:
//! not found means gone. In the lab's region by default (S3 buckets and IAM roles are seen
//! from every region, so a scan would find one bucket many times); `all_regions: true` scans
//! every enabled region like the other clean-up kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::checks::resource::handler_permissions;
use crate::checks::{Ctx, Kind, Leftover, Verdict};

/// A resource of `type` with this primary identifier no longer exists.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceAbsent {
    /// A CloudFormation resource type name, e.g. `AWS::DynamoDB::Table`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The type's primary identifier.
    pub identifier: String,
    /// Look in every enabled region, not only the lab's (for regional types).
    #[serde(default)]
    pub all_regions: bool,
    /// The read permissions of the type's handler, for a type the grader's table lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
}

impl Kind for ResourceAbsent {
    const NAME: &'static str = "resource_absent";
    const SUMMARY: &'static str = "Cleanup: a resource of any CloudFormation type is gone (Cloud Control GetResource finds it no more).";
    const ACTIONS: &'static [&'static str] = &["cloudformation:GetResource"];

    fn extra_actions(&self) -> Vec<String> {
        let scan = self.all_regions.then(|| "ec2:DescribeRegions".to_string());
        scan.into_iter().chain(handler_permissions(&self.type_name, &self.permissions)).collect()
    }

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let regions = if self.all_regions { Regions::All } else { Regions::Lab };
        let found = scan(ctx, regions, |region| async move {
            let found = ctx.aws.cloud_resource(&region, &self.type_name, &self.identifier).await?;
            Ok(if found.is_some() { vec![self.leftover(&region)] } else { Vec::new() })
        })
        .await?;
        Ok(verdict(&format!("{} `{}`", self.type_name, self.identifier), found, regions))
    }
}

impl ResourceAbsent {
    fn leftover(&self, region: &str) -> Leftover {
        let command = format!("aws cloudcontrol delete-resource --type-name {} --identifier '{}' --region {region}", self.type_name, self.identifier);
        Leftover::new("resource", format!("{} {}", self.type_name, self.identifier), region, vec![command])
    }
}
