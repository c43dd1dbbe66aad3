//! `ecs_cluster`: the lab's cluster exists and is ACTIVE.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, graded, nearby};
use crate::aws::AwsError;

/// An ECS cluster by name is ACTIVE (a deleted one stays visible as INACTIVE for a while).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsCluster {
    /// The cluster's name.
    pub cluster: String,
}

impl Kind for EcsCluster {
    const NAME: &'static str = "ecs_cluster";
    const SUMMARY: &'static str = "An ECS cluster by name exists and is ACTIVE; an INACTIVE (deleted) cluster does not count.";
    const ACTIONS: &'static [&'static str] = &["ecs:DescribeClusters", "ecs:ListClusters", "ec2:DescribeRegions"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let cluster = ctx.aws.cluster(ctx.region, &self.cluster).await?;
        let status = cluster.as_ref().as_ref().and_then(|c| c.status().map(str::to_string));
        match (status.as_deref(), cluster.as_ref()) {
            (Some("ACTIVE"), Some(found)) => {
                Ok(Verdict::pass(format!("cluster `{}` is ACTIVE in {}", self.cluster, ctx.region)).resource(graded::cluster(found, ctx.region)))
            }
            (Some(other), _) => {
                let why = match other {
                    "INACTIVE" => "it was deleted",
                    "PROVISIONING" => "ECS is still creating its capacity providers; check again in a minute",
                    "DEPROVISIONING" => "it is being deleted",
                    "FAILED" => "ECS could not create its capacity providers; see `aws ecs describe-clusters --include ATTACHMENTS`",
                    _ => "only ACTIVE clusters run tasks",
                };
                Ok(Verdict::fail(format!("cluster `{}` is {other}: {why}", self.cluster)).expected("ACTIVE").found(other.to_string()))
            }
            (None, _) => Ok(Verdict::fail(format!("no cluster `{}` in {}", self.cluster, ctx.region))
                .expected(format!("cluster `{}` ACTIVE", self.cluster))
                .found("none")
                .also(nearby::cluster(ctx, &self.cluster).await)),
        }
    }
}
