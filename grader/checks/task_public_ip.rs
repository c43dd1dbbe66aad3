//! `task_public_ip`: the service's running task is reachable at a public IPv4 address.

use aws_sdk_ecs::types::DesiredStatus;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::ecs::{arn_name, task_eni};

/// The service's running tasks have a public IPv4 address (task → ENI attachment → EC2
/// network interface → association).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPublicIp {
    pub cluster: String,
    pub service: String,
}

impl Kind for TaskPublicIp {
    const NAME: &'static str = "task_public_ip";
    const SUMMARY: &'static str = "The service's running tasks have a public IPv4 address, found through each task's network interface.";
    const ACTIONS: &'static [&'static str] = &["ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServices", "ec2:DescribeNetworkInterfaces"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        Ok(match public_ips(ctx, &self.cluster, &self.service).await? {
            Ok(ips) => {
                let list: Vec<String> = ips.iter().map(|(task, ip)| format!("{ip} (task {task})")).collect();
                Verdict::pass(format!("service `{}` answers at {}", self.service, list.join(", ")))
            }
            Err(v) => v,
        })
    }
}

/// The public IPs of the service's running tasks as `(task id, ip)`, or the failure that
/// says why there are none.
pub async fn public_ips(ctx: &Ctx<'_>, cluster: &str, service: &str) -> Result<Result<Vec<(String, String)>, Verdict>, AwsError> {
    let tasks = ctx.aws.tasks(ctx.region, cluster, Some(service), DesiredStatus::Running).await?;
    let running: Vec<_> = tasks.iter().filter(|t| t.last_status() == Some("RUNNING")).collect();
    if running.is_empty() {
        let pending = tasks.len();
        return Ok(Err(Verdict::fail(format!("service `{service}` has no running task{}", if pending > 0 { format!(" ({pending} still starting)") } else { String::new() }))
            .expected("at least one RUNNING task")
            .found(format!("{pending} task(s), none RUNNING"))));
    }
    let eni_ids: Vec<String> = running.iter().filter_map(|t| task_eni(t)).collect();
    let enis = ctx.aws.enis(ctx.region, &eni_ids).await?;
    let mut ips = Vec::new();
    for task in &running {
        let id = arn_name(task.task_arn().unwrap_or_default()).to_string();
        let eni = task_eni(task).and_then(|e| enis.iter().find(|n| n.id == e));
        if let Some(ip) = eni.and_then(|e| e.public_ip.clone()) {
            ips.push((id, ip));
        }
    }
    if !ips.is_empty() {
        return Ok(Ok(ips));
    }
    let setting = ctx
        .aws
        .service(ctx.region, cluster, service)
        .await?
        .as_ref()
        .as_ref()
        .and_then(|s| s.network_configuration()?.awsvpc_configuration()?.assign_public_ip().map(|a| a.as_str().to_string()))
        .unwrap_or_else(|| "DISABLED".into());
    let why = if setting != "ENABLED" {
        format!("its tasks have no public IP because the service has assignPublicIp {setting}")
    } else {
        "its task's network interface has no public IP association".to_string()
    };
    Ok(Err(Verdict::fail(format!("service `{service}`: {why}")).expected("a public IPv4 address on the task's network interface").found("no public IP")))
}
