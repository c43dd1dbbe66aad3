//! `tasks_stopped`: no task of the lab's cluster still runs, in any region.

use aws_sdk_ecs::types::{DesiredStatus, Task};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, cluster_exists, scan, verdict};
use crate::aws::AwsError;
use crate::aws::ec2::Eni;
use crate::aws::ecs::{arn_name, task_eni};
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};
use crate::pricing::{self, Charge};

/// No task of the lab's cluster is still running, in any region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TasksStopped {
    pub cluster: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for TasksStopped {
    const NAME: &'static str = "tasks_stopped";
    const SUMMARY: &'static str = "Cleanup: no task runs in the lab's cluster in any enabled region; each one found is priced by its size and public IP.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ecs:DescribeClusters", "ecs:ListTasks", "ecs:DescribeTasks", "ec2:DescribeNetworkInterfaces"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            if !cluster_exists(ctx, &region, &self.cluster).await? {
                return Ok(vec![]);
            }
            let (tasks, enis) = running_tasks(ctx, &region, &self.cluster).await?;
            Ok(self.judge_region(&region, &tasks, &enis))
        })
        .await?;
        Ok(verdict("running task", found, self.regions))
    }
}

/// The running tasks of a cluster and their network interfaces: one question for every
/// clean-up kind that needs them (the run's cache shares it).
pub(super) async fn running_tasks(ctx: &Ctx<'_>, region: &str, cluster: &str) -> Result<(Vec<Task>, Vec<Eni>), AwsError> {
    let tasks = ctx.aws.tasks(region, cluster, None, DesiredStatus::Running).await?;
    let eni_ids: Vec<String> = tasks.iter().filter_map(task_eni).collect();
    let enis = ctx.aws.enis(region, &eni_ids).await?;
    Ok((tasks.as_ref().clone(), enis.as_ref().clone()))
}

/// What a running task is billed for: its size, and the public address on its interface.
pub(super) fn task_charges(region: &str, task: &Task, enis: &[Eni]) -> Vec<Charge> {
    let public = task_eni(task).filter(|e| enis.iter().any(|n| n.id == *e && n.public_ip.is_some()));
    pricing::fargate_task(region, task.task_arn().unwrap_or_default(), task.cpu().unwrap_or("0"), task.memory().unwrap_or("0"), public.as_deref())
}

impl TasksStopped {
    /// Each running task, priced by its size and whether its interface has a public IP; a
    /// service's task is stopped by scaling the service, not by StopTask (which it replaces).
    pub fn judge_region(&self, region: &str, tasks: &[Task], enis: &[Eni]) -> Vec<Leftover> {
        tasks
            .iter()
            .map(|t| {
                let id = arn_name(t.task_arn().unwrap_or_default()).to_string();
                let stop = match t.group().and_then(|g| g.strip_prefix("service:")) {
                    Some(service) => format!("aws ecs update-service --cluster {} --service {service} --desired-count 0 --region {region}", self.cluster),
                    None => format!("aws ecs stop-task --cluster {} --task {id} --region {region}", self.cluster),
                };
                Leftover::new("ecs_task", id, region, vec![stop]).charged(task_charges(region, t, enis)).identified(graded::task(t, region))
            })
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Attachment, KeyValuePair};

    /// A running task of the lab's service with its interface `eni-1`.
    pub fn lab_task() -> Task {
        let eni = Attachment::builder().r#type("ElasticNetworkInterface").details(KeyValuePair::builder().name("networkInterfaceId").value("eni-1").build()).build();
        Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:111122223333:task/fargate-course/abc")
            .group("service:web-nginx")
            .cpu("256")
            .memory("512")
            .attachments(eni)
            .build()
    }

    pub fn public_eni() -> Eni {
        Eni { id: "eni-1".into(), status: "in-use".into(), public_ip: Some("203.0.113.7".into()), group_ids: vec![], description: String::new(), zone: "us-east-1a".into() }
    }

    #[test]
    fn running_tasks_are_priced_by_size_and_public_address() {
        let kind = TasksStopped { cluster: "fargate-course".into(), regions: Regions::All };
        let task = lab_task();
        let found = kind.judge_region("us-east-1", std::slice::from_ref(&task), &[public_eni()]);
        assert_eq!(found[0].name, "abc");
        assert_eq!(found[0].teardown, ["aws ecs update-service --cluster fargate-course --service web-nginx --desired-count 0 --region us-east-1"]);
        assert_eq!(found[0].price_basis.as_deref(), Some("us-east-1 on-demand prices of 2026"));
        let with_ip = found[0].usd_per_hour.unwrap();
        let without = kind.judge_region("us-east-1", &[task], &[])[0].usd_per_hour.unwrap();
        assert!((with_ip - without - pricing::PUBLIC_IPV4_HOUR).abs() < 1e-9, "{with_ip} {without}");
    }
}
