//! `log_streams`: the task's container writes to CloudWatch Logs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;

/// The log group has at least one stream under a prefix that has received events.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogStreams {
    pub log_group: String,
    /// Stream name prefix (awslogs names streams `prefix/container/task-id`).
    pub prefix: String,
}

impl Kind for LogStreams {
    const NAME: &'static str = "log_streams";
    const SUMMARY: &'static str = "A log group has at least one stream under a prefix that has received events.";
    const ACTIONS: &'static [&'static str] = &["logs:DescribeLogStreams"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let streams = ctx.aws.log_streams(ctx.region, &self.log_group, &self.prefix).await?;
        let Some(streams) = streams.as_ref() else {
            return Ok(Verdict::fail(format!("no log group `{}`", self.log_group)).expected("the log group").found("none"));
        };
        let with_events: Vec<&str> = streams.iter().filter(|s| s.has_events).map(|s| s.name.as_str()).collect();
        match with_events.first() {
            Some(first) => Ok(Verdict::pass(format!("{} stream(s) with events, e.g. `{first}`", with_events.len()))),
            None => Ok(Verdict::fail(format!("no stream with events under `{}` in `{}`", self.prefix, self.log_group))
                .expected(format!("a stream `{}…` with events", self.prefix))
                .found(format!("{} stream(s), none with events", streams.len()))),
        }
    }
}
