//! `service_absent`: the lab's ECS service is deleted (INACTIVE or gone) in every region.

use aws_sdk_ecs::types::{Service, Task};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, cluster_exists, scan, verdict};
use super::tasks_stopped::{running_tasks, task_charges};
use crate::aws::AwsError;
use crate::aws::ec2::Eni;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// The lab's ECS service is deleted (INACTIVE or gone) in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAbsent {
    pub cluster: String,
    pub service: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for ServiceAbsent {
    const NAME: &'static str = "service_absent";
    const SUMMARY: &'static str = "Cleanup: the ECS service is deleted in every enabled region; INACTIVE counts as deleted, DRAINING does not yet; one left behind is priced by its running tasks.";
    const ACTIONS: &'static [&'static str] =
        &["ec2:DescribeRegions", "ecs:DescribeClusters", "ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks", "ec2:DescribeNetworkInterfaces"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            if !cluster_exists(ctx, &region, &self.cluster).await? {
                return Ok(vec![]);
            }
            let service = ctx.aws.service(&region, &self.cluster, &self.service).await?;
            if service.as_ref().as_ref().is_none_or(|s| s.status() == Some("INACTIVE")) {
                return Ok(vec![]);
            }
            let (tasks, enis) = running_tasks(ctx, &region, &self.cluster).await?;
            Ok(self.judge_region(&region, service.as_ref().as_ref(), &tasks, &enis))
        })
        .await?;
        Ok(verdict("ECS service", found, self.regions))
    }
}

impl ServiceAbsent {
    /// A service that is not INACTIVE is left behind (DRAINING still stops its tasks), billed
    /// for what its running tasks are: their size and their public addresses.
    pub fn judge_region(&self, region: &str, service: Option<&Service>, tasks: &[Task], enis: &[Eni]) -> Vec<Leftover> {
        match service {
            Some(s) if s.status() != Some("INACTIVE") => {
                let group = format!("service:{}", self.service);
                let charges = tasks.iter().filter(|t| t.group() == Some(group.as_str())).flat_map(|t| task_charges(region, t, enis)).collect();
                let teardown = vec![
                    format!("aws ecs update-service --cluster {} --service {} --desired-count 0 --region {region}", self.cluster, self.service),
                    format!("aws ecs delete-service --cluster {} --service {} --force --region {region}", self.cluster, self.service),
                ];
                vec![Leftover::new("ecs_service", self.service.clone(), region, teardown).charged(charges).identified(graded::service(&self.cluster, s, region))]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::cleanup::tasks_stopped::tests::{lab_task, public_eni};
    use crate::checks::cleanup::TasksStopped;
    use crate::pricing;

    fn service(status: &str) -> Service {
        Service::builder().service_name("web-nginx").status(status).build()
    }

    #[test]
    fn an_inactive_service_is_deleted_and_anything_else_is_left() {
        let kind = ServiceAbsent { cluster: "fargate-course".into(), service: "web-nginx".into(), regions: Regions::All };
        assert!(kind.judge_region("us-east-1", Some(&service("INACTIVE")), &[], &[]).is_empty());
        assert!(kind.judge_region("us-east-1", None, &[], &[]).is_empty());
        let draining = kind.judge_region("eu-west-1", Some(&service("DRAINING")), &[], &[]);
        assert_eq!(draining[0].teardown[1], "aws ecs delete-service --cluster fargate-course --service web-nginx --force --region eu-west-1");
        assert_eq!(draining[0].usd_per_hour, None, "a service with no running task costs nothing by the hour");
    }

    #[test]
    fn a_service_is_priced_by_its_tasks_and_their_addresses_once_across_checks() {
        let kind = ServiceAbsent { cluster: "fargate-course".into(), service: "web-nginx".into(), regions: Regions::All };
        let task = lab_task();
        let other = Task::builder().task_arn("arn:aws:ecs:us-east-1:111122223333:task/fargate-course/xyz").group("service:other").cpu("1024").memory("2048").build();
        let tasks = [task, other];
        let left = kind.judge_region("us-east-1", Some(&service("ACTIVE")), &tasks, &[public_eni()]);
        let cost = left[0].usd_per_hour.unwrap();
        assert!((cost - 0.01734).abs() < 0.0001, "its one task (0.25 vCPU, 0.5 GB) and its public IPv4: {cost}");
        // tasks_stopped finds the same task: the run's total counts it once.
        let stopped = TasksStopped { cluster: "fargate-course".into(), regions: Regions::All }.judge_region("us-east-1", &tasks[..1], &[public_eni()]);
        let both = pricing::total(left.iter().chain(&stopped).flat_map(|l| &l.charges));
        assert!((both - cost).abs() < 1e-12, "{both} vs {cost}");
    }
}
