//! `log_group_absent`: the lab's CloudWatch Logs group is deleted in every region.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::aws::logs::LogGroupInfo;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The lab's log group is deleted in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogGroupAbsent {
    pub log_group: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for LogGroupAbsent {
    const NAME: &'static str = "log_group_absent";
    const SUMMARY: &'static str = "Cleanup: the CloudWatch Logs group is deleted in every enabled region.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "logs:DescribeLogGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let group = ctx.aws.log_group(&region, &self.log_group).await?;
            Ok(self.judge_region(&region, group.as_ref()))
        })
        .await?;
        Ok(verdict("log group", found, self.regions))
    }
}

impl LogGroupAbsent {
    pub fn judge_region(&self, region: &str, group: Option<&LogGroupInfo>) -> Vec<Leftover> {
        group
            .map(|g| {
                let command = format!("aws logs delete-log-group --log-group-name {} --region {region}", self.log_group);
                Leftover::new("log_group", self.log_group.clone(), region, vec![command]).identified(graded::log_group(g, region))
            })
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_group_left_is_named_with_its_removal() {
        let logs = LogGroupAbsent { log_group: "/ecs/nginx-web".into(), regions: Regions::All };
        assert!(logs.judge_region("us-east-1", None).is_empty());
        let group = LogGroupInfo { name: "/ecs/nginx-web".into(), arn: String::new(), created_at: None, retention_days: Some(7) };
        assert_eq!(logs.judge_region("eu-west-1", Some(&group))[0].teardown, ["aws logs delete-log-group --log-group-name /ecs/nginx-web --region eu-west-1"]);
    }
}
