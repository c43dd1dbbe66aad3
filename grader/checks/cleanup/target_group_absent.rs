//! `target_group_absent`: the lab's target group is deleted in every region.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::aws::elb::TargetGroupInfo;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The lab's target group is deleted in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetGroupAbsent {
    pub target_group: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for TargetGroupAbsent {
    const NAME: &'static str = "target_group_absent";
    const SUMMARY: &'static str = "Cleanup: the target group is deleted in every enabled region (it can go once no listener uses it).";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "elasticloadbalancing:DescribeTargetGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let group = ctx.aws.target_group(&region, &self.target_group).await?;
            Ok(judge_target_group(&region, group.as_ref().as_ref()))
        })
        .await?;
        Ok(verdict("target group", found, self.regions))
    }
}

pub fn judge_target_group(region: &str, group: Option<&TargetGroupInfo>) -> Vec<Leftover> {
    group
        .map(|g| {
            let command = format!("aws elbv2 delete-target-group --target-group-arn {} --region {region}", g.arn);
            Leftover::new("target_group", g.name.clone(), region, vec![command]).identified(graded::target_group(g, region))
        })
        .into_iter()
        .collect()
}
