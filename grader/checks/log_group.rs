//! `log_group`: the lab's log group exists with the retention the lab asks for.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, graded, nearby};
use crate::aws::AwsError;

/// A CloudWatch Logs group exists, with a retention period when one is given.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogGroup {
    /// The group's name.
    pub log_group: String,
    /// Required retention in days; a group without a policy never expires its events.
    #[serde(default)]
    pub retention_days: Option<i32>,
}

impl Kind for LogGroup {
    const NAME: &'static str = "log_group";
    const SUMMARY: &'static str = "A CloudWatch Logs group exists with the required retention (a group with no retention policy keeps events forever).";
    const ACTIONS: &'static [&'static str] = &["logs:DescribeLogGroups", "ec2:DescribeRegions"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(group) = ctx.aws.log_group(ctx.region, &self.log_group).await? else {
            return Ok(Verdict::fail(format!("no log group `{}` in {}", self.log_group, ctx.region))
                .expected(format!("log group `{}`", self.log_group))
                .found("none")
                .also(nearby::log_group(ctx, &self.log_group).await));
        };
        let verdict = match (self.retention_days, group.retention_days) {
            (Some(want), Some(have)) if want == have => Ok(Verdict::pass(format!("log group `{}` keeps events {want} days", self.log_group))),
            (Some(want), have) => Ok(Verdict::fail(format!("log group `{}` has the wrong retention", self.log_group))
                .expected(format!("{want} days"))
                .found(have.map(|d| format!("{d} days")).unwrap_or_else(|| "no retention policy (never expire)".into()))),
            (None, _) => Ok(Verdict::pass(format!("log group `{}` exists", self.log_group))),
        };
        verdict.map(|v| v.resource(graded::log_group(&group, ctx.region)))
    }
}
