//! CloudWatch Logs questions: the lab's log group and its streams, every page read.

use std::sync::Arc;

use super::{AwsError, AwsErrorKind, Lookup};

/// A log group: its name and retention (`None` = never expire).
#[derive(Debug, Clone)]
pub struct LogGroupInfo {
    pub name: String,
    /// The group's ARN without the `:*` that `arn` carries.
    pub arn: String,
    pub created_at: Option<String>,
    pub retention_days: Option<i32>,
}

/// A log stream: its name and whether it has received events.
#[derive(Debug, Clone)]
pub struct LogStreamInfo {
    pub name: String,
    pub has_events: bool,
}

fn to_group(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> LogGroupInfo {
    LogGroupInfo {
        name: g.log_group_name().unwrap_or_default().to_string(),
        arn: g.log_group_arn().or(g.arn().map(|a| a.trim_end_matches(":*"))).unwrap_or_default().to_string(),
        created_at: g.creation_time().map(crate::timestamp::of_millis),
        retention_days: g.retention_in_days(),
    }
}

impl Lookup<'_> {
    /// Log groups whose names start with `prefix`.
    pub async fn log_groups(&self, region: &str, prefix: &str) -> Result<Arc<Vec<LogGroupInfo>>, AwsError> {
        self.cached("logs:DescribeLogGroups", format!("{region} {prefix}"), || async {
            let mut groups = Vec::new();
            let mut pages = self.logs(region).describe_log_groups().log_group_name_prefix(prefix).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", e))?;
                groups.extend(page.log_groups().iter().map(to_group));
            }
            Ok(groups)
        })
        .await
    }

    /// The exact log group, or `None`.
    pub async fn log_group(&self, region: &str, name: &str) -> Result<Option<LogGroupInfo>, AwsError> {
        Ok(self.log_groups(region, name).await?.iter().find(|g| g.name == name).cloned())
    }

    /// Streams of a group whose names start with `prefix`, or `None` when the group is gone.
    pub async fn log_streams(&self, region: &str, group: &str, prefix: &str) -> Result<Arc<Option<Vec<LogStreamInfo>>>, AwsError> {
        self.cached("logs:DescribeLogStreams", format!("{region} {group} {prefix}"), || async {
            let mut streams = Vec::new();
            let mut pages = self.logs(region).describe_log_streams().log_group_name(group).log_stream_name_prefix(prefix).into_paginator().send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => streams.extend(page.log_streams().iter().map(|s| LogStreamInfo {
                        name: s.log_stream_name().unwrap_or_default().to_string(),
                        has_events: s.last_event_timestamp().is_some() || s.last_ingestion_time().is_some(),
                    })),
                    Err(e) => {
                        let e = AwsError::from_sdk("logs:DescribeLogStreams", e);
                        return if e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) };
                    }
                }
            }
            Ok(Some(streams))
        })
        .await
    }
}

/// How many of a stream's newest events `newest_events` reads: one page of GetLogEvents at
/// its largest. An access log holds every request; a learner's own visit is among the
/// newest unless something has been hammering the site since.
const NEWEST_EVENTS: i32 = 10_000;

impl Lookup<'_> {
    /// The newest events of one stream as `(timestamp ms, message)`, or `None` when the
    /// group or the stream does not exist.
    pub async fn newest_events(&self, region: &str, group: &str, stream: &str) -> Result<Arc<Option<Vec<(i64, String)>>>, AwsError> {
        self.cached("logs:GetLogEvents", format!("{region} {group} {stream}"), || async {
            let call = self.logs(region).get_log_events().log_group_name(group).log_stream_name(stream).start_from_head(false).limit(NEWEST_EVENTS);
            match call.send().await {
                Ok(out) => Ok(Some(out.events().iter().map(|e| (e.timestamp().unwrap_or_default(), e.message().unwrap_or_default().to_string())).collect())),
                Err(e) => {
                    let e = AwsError::from_sdk("logs:GetLogEvents", e);
                    if e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) }
                }
            }
        })
        .await
    }
}
