//! `scalable_target_absent`: the service's desired count is no longer a scalable target.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::aws::scaling::{ScalableTargetInfo, service_resource_id};
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The service's scalable target is deregistered (which also deletes its policies and their
/// CloudWatch alarms).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalableTargetAbsent {
    pub cluster: String,
    pub service: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for ScalableTargetAbsent {
    const NAME: &'static str = "scalable_target_absent";
    const SUMMARY: &'static str = "Cleanup: the service's desired count is no longer a scalable target in any enabled region.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "application-autoscaling:DescribeScalableTargets"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let id = service_resource_id(&self.cluster, &self.service);
        let found = scan(ctx, self.regions, |region| {
            let id = id.clone();
            async move {
                let target = ctx.aws.scalable_target(&region, &id).await?;
                Ok(target.as_ref().as_ref().map(|t| judge_registered(&region, &id, t)).unwrap_or_default())
            }
        })
        .await?;
        Ok(verdict("scalable target", found, self.regions))
    }
}

/// A scalable target still registered under the service's resource id.
pub fn judge_registered(region: &str, resource_id: &str, target: &ScalableTargetInfo) -> Vec<Leftover> {
    let command = format!(
        "aws application-autoscaling deregister-scalable-target --service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id {resource_id} --region {region}"
    );
    vec![Leftover::new("scalable_target", resource_id, region, vec![command]).identified(graded::scalable_target(resource_id, target, region))]
}
