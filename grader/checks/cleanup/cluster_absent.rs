//! `cluster_absent`: the lab's ECS cluster is deleted (INACTIVE or gone) in every region.

use aws_sdk_ecs::types::Cluster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The lab's ECS cluster is deleted (INACTIVE or gone) in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterAbsent {
    pub cluster: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for ClusterAbsent {
    const NAME: &'static str = "cluster_absent";
    const SUMMARY: &'static str = "Cleanup: the ECS cluster is deleted in every enabled region; INACTIVE counts as deleted.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ecs:DescribeClusters"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let cluster = ctx.aws.cluster(&region, &self.cluster).await?;
            Ok(self.judge_region(&region, cluster.as_ref().as_ref()))
        })
        .await?;
        Ok(verdict("ECS cluster", found, self.regions))
    }
}

impl ClusterAbsent {
    pub fn judge_region(&self, region: &str, cluster: Option<&Cluster>) -> Vec<Leftover> {
        match cluster.and_then(|c| c.status()) {
            None | Some("INACTIVE") => vec![],
            // DEPROVISIONING is a deletion under way: not gone yet, and named as such so the
            // learner waits instead of deleting again. (No `#` comments in the commands: a
            // Mac's interactive zsh would run them as words.)
            Some(status) => {
                let name = if status == "ACTIVE" { self.cluster.clone() } else { format!("{} ({status})", self.cluster) };
                let command = if status == "DEPROVISIONING" {
                    format!("aws ecs describe-clusters --clusters {} --region {region} --query 'clusters[0].status'", self.cluster)
                } else {
                    format!("aws ecs delete-cluster --cluster {} --region {region}", self.cluster)
                };
                let identity = cluster.map(|c| graded::cluster(c, region));
                vec![Leftover { identity, ..Leftover::new("ecs_cluster", name, region, vec![command]) }]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inactive_cluster_is_deleted_and_anything_else_is_left() {
        let kind = ClusterAbsent { cluster: "fargate-course".into(), regions: Regions::All };
        let cluster = |status: &str| Cluster::builder().cluster_name("fargate-course").status(status).build();
        assert!(kind.judge_region("us-east-1", Some(&cluster("INACTIVE"))).is_empty());
        assert!(kind.judge_region("us-east-1", None).is_empty());
        assert_eq!(kind.judge_region("us-east-1", Some(&cluster("ACTIVE")))[0].teardown, ["aws ecs delete-cluster --cluster fargate-course --region us-east-1"]);
        let going = kind.judge_region("us-east-1", Some(&cluster("DEPROVISIONING")));
        assert_eq!(going[0].name, "fargate-course (DEPROVISIONING)");
        assert!(going[0].teardown.iter().all(|c| !c.contains('#')), "commands a learner pastes carry no comments: {:?}", going[0].teardown);
    }
}
