//! `security_group_absent`: the lab's security group is deleted in every region.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::aws::ec2::SecurityGroupInfo;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The lab's security group is deleted in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupAbsent {
    pub group_name: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for SecurityGroupAbsent {
    const NAME: &'static str = "security_group_absent";
    const SUMMARY: &'static str = "Cleanup: the security group is deleted in every enabled region.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ec2:DescribeSecurityGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move { Ok(judge_groups(&region, &ctx.aws.security_groups_named(&region, &self.group_name).await?)) }).await?;
        Ok(verdict("security group", found, self.regions))
    }
}

/// Every group of the lab's name is left behind, whatever its VPC.
pub fn judge_groups(region: &str, groups: &[SecurityGroupInfo]) -> Vec<Leftover> {
    groups
        .iter()
        .map(|g| {
            let command = format!("aws ec2 delete-security-group --group-id {} --region {region}", g.id);
            Leftover::new("security_group", format!("{} ({})", g.name, g.id), region, vec![command]).identified(graded::security_group(g, region))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_of_the_name_is_named_with_its_removal() {
        let group = SecurityGroupInfo { id: "sg-1".into(), arn: String::new(), name: "nginx-web-sg".into(), vpc_id: "vpc-1".into(), ingress: vec![] };
        let left = judge_groups("us-east-1", &[group]);
        assert_eq!(left[0].name, "nginx-web-sg (sg-1)");
        assert_eq!(left[0].teardown, ["aws ec2 delete-security-group --group-id sg-1 --region us-east-1"]);
    }
}
