//! `default_vpc`: the region has a default VPC with subnets to place the task in.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;

/// The region has a default VPC with at least `min_subnets` subnets.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultVpc {
    /// How many subnets the default VPC must have.
    #[serde(default = "one")]
    pub min_subnets: usize,
}

fn one() -> usize {
    1
}

impl Kind for DefaultVpc {
    const NAME: &'static str = "default_vpc";
    const SUMMARY: &'static str = "The region has a default VPC with enough subnets for the task.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeVpcs", "ec2:DescribeSubnets"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(vpc) = ctx.aws.default_vpc(ctx.region).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("region {} has no default VPC", ctx.region))
                .expected("a default VPC")
                .found("none"));
        };
        let subnets = ctx.aws.subnets(ctx.region, &vpc).await?;
        if subnets.len() < self.min_subnets {
            return Ok(Verdict::fail(format!("default VPC `{vpc}` has {} subnet(s)", subnets.len()))
                .expected(format!("at least {} subnet(s)", self.min_subnets))
                .found(format!("{} subnet(s)", subnets.len())));
        }
        let mut zones: Vec<&str> = subnets.iter().map(|(_, az)| az.as_str()).collect();
        zones.sort();
        zones.dedup();
        Ok(Verdict::pass(format!("default VPC `{vpc}` has {} subnets in {} availability zones", subnets.len(), zones.len())))
    }
}
