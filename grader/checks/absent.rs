//! The cleanup kinds: each lab resource is gone from every enabled region.
//!
//! ECS keeps deleted clusters and services visible as INACTIVE for a while, and keeps
//! deregistered task definitions INACTIVE forever; none of that is a leftover. What still
//! runs, costs or blocks deletion is, and each leftover comes with its cost and the commands
//! that remove it.

use aws_sdk_ecs::types::{Cluster, DesiredStatus, Service, Task};
use futures::future::join_all;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Leftover, Verdict};
use crate::aws::{AwsError, AwsErrorKind};
use crate::aws::ec2::{Eni, SecurityGroupInfo};
use crate::aws::ecs::{arn_name, task_eni};
use crate::aws::iam::RoleInfo;
use crate::aws::logs::LogGroupInfo;
use crate::aws::elb::LoadBalancerInfo;
use crate::aws::scaling::service_resource_id;
use crate::pricing::{PUBLIC_IPV4_HOUR, alb_per_hour, fargate_task_per_hour};

/// Where a cleanup check looks.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Regions {
    /// Every region enabled for the account (learners often build in the wrong one).
    #[default]
    All,
    /// Only the region of the run.
    Lab,
}

async fn regions(ctx: &Ctx<'_>, scope: Regions) -> Result<Vec<String>, AwsError> {
    Ok(match scope {
        Regions::All => ctx.aws.enabled_regions().await?.as_ref().clone(),
        Regions::Lab => vec![ctx.region.to_string()],
    })
}

/// What a scan found, and the regions it had to leave out with the reason.
struct Scan {
    leftovers: Vec<Leftover>,
    skipped: Vec<(String, Skip)>,
}

/// Why a region was left out of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// It refuses credentials the run's own region accepted: an opt-in region the account
    /// has not enabled, where nothing can have been left.
    NotEnabled,
    /// Calls there are denied though they are allowed in the run's own region: an
    /// Organizations SCP (classroom accounts usually allow one or two regions) or a
    /// region condition in the grader's policy.
    Denied,
}

/// Runs `find` in every region concurrently and gathers the leftovers. A region that
/// refuses or denies what the run's own region allows is skipped and named, and what the
/// other regions found is still reported; in the run's own region every error counts.
async fn scan<'a, F, Fut>(ctx: &'a Ctx<'_>, scope: Regions, find: F) -> Result<Scan, AwsError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Vec<Leftover>, AwsError>> + 'a,
{
    let regions = regions(ctx, scope).await?;
    let found = join_all(regions.iter().cloned().map(find)).await;
    let mut scan = Scan { leftovers: Vec::new(), skipped: Vec::new() };
    for (region, f) in regions.into_iter().zip(found) {
        match f {
            Ok(l) => scan.leftovers.extend(l),
            Err(e) if region != ctx.region && e.kind == AwsErrorKind::Credentials => scan.skipped.push((region, Skip::NotEnabled)),
            Err(e) if region != ctx.region && e.kind == AwsErrorKind::AccessDenied => scan.skipped.push((region, Skip::Denied)),
            Err(e) => return Err(e),
        }
    }
    Ok(scan)
}

/// " (skipped: …)" naming the regions a scan left out and why.
fn skipped_note(skipped: &[(String, Skip)]) -> String {
    let named = |why: Skip| skipped.iter().filter(|(_, s)| *s == why).map(|(r, _)| r.as_str()).collect::<Vec<_>>();
    let mut notes = Vec::new();
    let not_enabled = named(Skip::NotEnabled);
    if !not_enabled.is_empty() {
        notes.push(format!("{} refused these credentials and were skipped as not enabled: {}", plural(not_enabled.len()), not_enabled.join(", ")));
    }
    let denied = named(Skip::Denied);
    if !denied.is_empty() {
        notes.push(format!(
            "{} denied the grader's calls and were skipped, probably by an organization policy (SCP) that limits regions: {}",
            plural(denied.len()),
            denied.join(", ")
        ));
    }
    if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) }
}

fn plural(n: usize) -> String {
    if n == 1 { "1 region".into() } else { format!("{n} regions") }
}

/// The verdict on a scan: pass when nothing is left, else a fail naming each leftover and
/// the command to remove it.
fn verdict(what: &str, scan: Scan, regions: Regions) -> Verdict {
    let scope = match regions {
        Regions::All => "in any enabled region",
        Regions::Lab => "in this region",
    };
    let skipped = skipped_note(&scan.skipped);
    let leftovers = scan.leftovers;
    if leftovers.is_empty() {
        return Verdict::pass(format!("no {what} left {scope}{skipped}"));
    }
    let names: Vec<String> = leftovers.iter().map(|l| format!("{} `{}` in {}", l.resource.replace('_', " "), l.name, l.region)).collect();
    let commands: Vec<String> = leftovers.iter().flat_map(|l| l.teardown.clone()).collect();
    let cost: f64 = leftovers.iter().filter_map(|l| l.usd_per_hour).sum();
    let mut message = format!("left behind: {}{skipped}", names.join(", "));
    if cost > 0.0 {
        message.push_str(&format!(" (about ${cost:.4}/hour)"));
    }
    message.push_str(&format!("; remove with: {}", commands.join(" && ")));
    let mut v = Verdict::fail(message).expected(format!("no {what}")).found(names.join(", "));
    v.leftovers = leftovers;
    v
}

/// Whether a cluster exists in a region and so may hold services and tasks: any status but
/// INACTIVE (deleted) counts, PROVISIONING and DEPROVISIONING included.
async fn cluster_exists(ctx: &Ctx<'_>, region: &str, cluster: &str) -> Result<bool, AwsError> {
    Ok(ctx.aws.cluster(region, cluster).await?.as_ref().as_ref().is_some_and(|c| c.status() != Some("INACTIVE")))
}

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
    const SUMMARY: &'static str = "Cleanup: the ECS service is deleted in every enabled region; INACTIVE counts as deleted, DRAINING does not yet.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ecs:DescribeClusters", "ecs:DescribeServices"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            if !cluster_exists(ctx, &region, &self.cluster).await? {
                return Ok(vec![]);
            }
            let service = ctx.aws.service(&region, &self.cluster, &self.service).await?;
            Ok(self.judge_region(&region, service.as_ref().as_ref()))
        })
        .await?;
        Ok(verdict("ECS service", found, self.regions))
    }
}

impl ServiceAbsent {
    /// A service that is not INACTIVE is left behind (DRAINING still stops its tasks).
    fn judge_region(&self, region: &str, service: Option<&Service>) -> Vec<Leftover> {
        match service {
            Some(s) if s.status() != Some("INACTIVE") => vec![Leftover {
                resource: "ecs_service".into(),
                name: self.service.clone(),
                region: region.to_string(),
                usd_per_hour: None,
                teardown: vec![
                    format!("aws ecs update-service --cluster {} --service {} --desired-count 0 --region {region}", self.cluster, self.service),
                    format!("aws ecs delete-service --cluster {} --service {} --force --region {region}", self.cluster, self.service),
                ],
            }],
            _ => vec![],
        }
    }
}

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
    fn judge_region(&self, region: &str, cluster: Option<&Cluster>) -> Vec<Leftover> {
        match cluster.and_then(|c| c.status()) {
            None | Some("INACTIVE") => vec![],
            // DEPROVISIONING is a deletion under way: not gone yet, and named as such so the
            // learner waits instead of deleting again. (No `#` comments in the commands: a
            // Mac's interactive zsh would run them as words.)
            Some(status) => vec![Leftover {
                resource: "ecs_cluster".into(),
                name: if status == "ACTIVE" { self.cluster.clone() } else { format!("{} ({status})", self.cluster) },
                region: region.to_string(),
                usd_per_hour: None,
                teardown: vec![if status == "DEPROVISIONING" {
                    format!("aws ecs describe-clusters --clusters {} --region {region} --query 'clusters[0].status'", self.cluster)
                } else {
                    format!("aws ecs delete-cluster --cluster {} --region {region}", self.cluster)
                }],
            }],
        }
    }
}

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
            let tasks = ctx.aws.tasks(&region, &self.cluster, None, DesiredStatus::Running).await?;
            let eni_ids: Vec<String> = tasks.iter().filter_map(task_eni).collect();
            let enis = ctx.aws.enis(&region, &eni_ids).await?;
            Ok(self.judge_region(&region, &tasks, &enis))
        })
        .await?;
        Ok(verdict("running task", found, self.regions))
    }
}

impl TasksStopped {
    /// Each running task, priced by its size and whether its interface has a public IP; a
    /// service's task is stopped by scaling the service, not by StopTask (which it replaces).
    fn judge_region(&self, region: &str, tasks: &[Task], enis: &[Eni]) -> Vec<Leftover> {
        tasks
            .iter()
            .map(|t| {
                let id = arn_name(t.task_arn().unwrap_or_default()).to_string();
                let public = task_eni(t).is_some_and(|e| enis.iter().any(|n| n.id == e && n.public_ip.is_some()));
                let stop = match t.group().and_then(|g| g.strip_prefix("service:")) {
                    Some(service) => format!("aws ecs update-service --cluster {} --service {service} --desired-count 0 --region {region}", self.cluster),
                    None => format!("aws ecs stop-task --cluster {} --task {id} --region {region}", self.cluster),
                };
                Leftover {
                    resource: "ecs_task".into(),
                    name: id,
                    region: region.to_string(),
                    usd_per_hour: fargate_task_per_hour(t.cpu().unwrap_or("0"), t.memory().unwrap_or("0"), public),
                    teardown: vec![stop],
                }
            })
            .collect()
    }
}

/// The lab's log group is deleted in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogGroupAbsent {
    pub log_group: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for LogGroupAbsent {
    const NAME: &'static str = "log_group_absent";
    const SUMMARY: &'static str = "Cleanup: the CloudWatch Logs group is deleted in every enabled region.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "logs:DescribeLogGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let group = ctx.aws.log_group(&region, &self.log_group).await?;
            Ok(self.judge_region(&region, group.as_ref()))
        })
        .await?;
        Ok(verdict("log group", found, self.regions))
    }
}

impl LogGroupAbsent {
    fn judge_region(&self, region: &str, group: Option<&LogGroupInfo>) -> Vec<Leftover> {
        group
            .map(|_| Leftover {
                resource: "log_group".into(),
                name: self.log_group.clone(),
                region: region.to_string(),
                usd_per_hour: None,
                teardown: vec![format!("aws logs delete-log-group --log-group-name {} --region {region}", self.log_group)],
            })
            .into_iter()
            .collect()
    }
}

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
        let found = scan(ctx, self.regions, |region| async move {
            Ok(judge_groups(&region, &ctx.aws.security_groups_named(&region, &self.group_name).await?))
        })
        .await?;
        Ok(verdict("security group", found, self.regions))
    }
}

/// Every group of the lab's name is left behind, whatever its VPC.
fn judge_groups(region: &str, groups: &[SecurityGroupInfo]) -> Vec<Leftover> {
    groups
        .iter()
        .map(|g| Leftover {
            resource: "security_group".into(),
            name: format!("{} ({})", g.name, g.id),
            region: region.to_string(),
            usd_per_hour: None,
            teardown: vec![format!("aws ec2 delete-security-group --group-id {} --region {region}", g.id)],
        })
        .collect()
}

/// No network interface still uses the lab's security group (a task's ENI outlives the
/// task for a short while and blocks deleting the group).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnisReleased {
    pub group_name: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for EnisReleased {
    const NAME: &'static str = "enis_released";
    const SUMMARY: &'static str = "Cleanup: no network interface still uses the lab's security group in any enabled region; public IPs on them are priced.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let groups = ctx.aws.security_groups_named(&region, &self.group_name).await?;
            let mut found = Vec::new();
            for group in groups.iter() {
                found.extend(judge_enis(&region, &ctx.aws.enis_in_group(&region, &group.id).await?));
            }
            Ok(found)
        })
        .await?;
        Ok(verdict("network interface using the lab's security group", found, self.regions))
    }
}

/// Each interface still in the group. ECS releases a task's interface once the task stopped;
/// the command shows which task's attachment it is, so the learner stops that task.
fn judge_enis(region: &str, enis: &[Eni]) -> Vec<Leftover> {
    enis.iter()
        .map(|eni| Leftover {
            resource: "network_interface".into(),
            name: eni.id.clone(),
            region: region.to_string(),
            usd_per_hour: eni.public_ip.as_ref().map(|_| PUBLIC_IPV4_HOUR),
            teardown: vec![format!("aws ec2 describe-network-interfaces --network-interface-ids {} --region {region} --query 'NetworkInterfaces[0].Description'", eni.id)],
        })
        .collect()
}

/// The lab's load balancer is deleted in every region: it costs by the hour, idle or not.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerAbsent {
    pub load_balancer: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for LoadBalancerAbsent {
    const NAME: &'static str = "load_balancer_absent";
    const SUMMARY: &'static str = "Cleanup: the load balancer is deleted in every enabled region; one left behind is priced by the hour with its public addresses.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "elasticloadbalancing:DescribeLoadBalancers"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let lb = ctx.aws.load_balancer(&region, &self.load_balancer).await?;
            Ok(judge_load_balancer(&region, lb.as_ref().as_ref()))
        })
        .await?;
        Ok(verdict("load balancer", found, self.regions))
    }
}

fn judge_load_balancer(region: &str, lb: Option<&LoadBalancerInfo>) -> Vec<Leftover> {
    lb.map(|lb| Leftover {
        resource: "load_balancer".into(),
        name: lb.name.clone(),
        region: region.to_string(),
        usd_per_hour: Some(alb_per_hour(lb.zones.len())),
        teardown: vec![format!("aws elbv2 delete-load-balancer --load-balancer-arn {} --region {region}", lb.arn)],
    })
    .into_iter()
    .collect()
}

/// The lab's target group is deleted in every region.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetGroupAbsent {
    pub target_group: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for TargetGroupAbsent {
    const NAME: &'static str = "target_group_absent";
    const SUMMARY: &'static str = "Cleanup: the target group is deleted in every enabled region (it can go once no listener uses it).";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "elasticloadbalancing:DescribeTargetGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let group = ctx.aws.target_group(&region, &self.target_group).await?;
            Ok(group
                .as_ref()
                .as_ref()
                .map(|g| Leftover {
                    resource: "target_group".into(),
                    name: g.name.clone(),
                    region: region.clone(),
                    usd_per_hour: None,
                    teardown: vec![format!("aws elbv2 delete-target-group --target-group-arn {} --region {region}", g.arn)],
                })
                .into_iter()
                .collect())
        })
        .await?;
        Ok(verdict("target group", found, self.regions))
    }
}

/// The service's scalable target is deregistered (which also deletes its policies and their
/// CloudWatch alarms).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalableTargetAbsent {
    pub cluster: String,
    pub service: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for ScalableTargetAbsent {
    const NAME: &'static str = "scalable_target_absent";
    const SUMMARY: &'static str = "Cleanup: the service's desired count is no longer a scalable target in any enabled region.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "application-autoscaling:DescribeScalableTargets"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let id = service_resource_id(&self.cluster, &self.service);
        let found = scan(ctx, self.regions, |region| {
            let id = id.clone();
            async move {
                let target = ctx.aws.scalable_target(&region, &id).await?;
                Ok(target
                    .as_ref()
                    .as_ref()
                    .map(|_| Leftover {
                        resource: "scalable_target".into(),
                        name: id.clone(),
                        region: region.clone(),
                        usd_per_hour: None,
                        teardown: vec![format!(
                            "aws application-autoscaling deregister-scalable-target --service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id {id} --region {region}"
                        )],
                    })
                    .into_iter()
                    .collect())
            }
        })
        .await?;
        Ok(verdict("scalable target", found, self.regions))
    }
}

/// The lab's IAM role is deleted; with `optional: true` a remaining role is reported but
/// passes, because the role is often shared with other work in the account.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleAbsent {
    pub role: String,
    #[serde(default)]
    pub optional: bool,
}

impl Kind for RoleAbsent {
    const NAME: &'static str = "role_absent";
    const SUMMARY: &'static str = "Cleanup: the IAM role is deleted; when optional, a remaining role is reported but passes.";
    const ACTIONS: &'static [&'static str] = &["iam:GetRole", "iam:ListAttachedRolePolicies"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        Ok(self.judge(ctx.aws.role(&self.role).await?.as_ref().as_ref()))
    }
}

impl RoleAbsent {
    fn judge(&self, role: Option<&RoleInfo>) -> Verdict {
        let Some(role) = role else {
            return Verdict::pass(format!("IAM role `{}` is deleted", self.role));
        };
        let mut teardown: Vec<String> =
            role.attached_policy_arns.iter().map(|p| format!("aws iam detach-role-policy --role-name {} --policy-arn {p}", self.role)).collect();
        teardown.push(format!("aws iam delete-role --role-name {}", self.role));
        if self.optional {
            return Verdict::pass(format!(
                "IAM role `{}` still exists; that is fine if other work uses it, otherwise remove it with: {}",
                self.role,
                teardown.join(" && ")
            ));
        }
        let leftover = Leftover { resource: "iam_role".into(), name: self.role.clone(), region: "global".into(), usd_per_hour: None, teardown };
        verdict("IAM role", Scan { leftovers: vec![leftover], skipped: Vec::new() }, Regions::Lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use aws_sdk_ecs::types::{Attachment, KeyValuePair};

    fn service(status: &str) -> Service {
        Service::builder().service_name("web-nginx").status(status).build()
    }

    #[test]
    fn an_inactive_service_or_cluster_is_deleted_and_anything_else_is_left() {
        let kind = ServiceAbsent { cluster: "fargate-course".into(), service: "web-nginx".into(), regions: Regions::All };
        assert!(kind.judge_region("us-east-1", Some(&service("INACTIVE"))).is_empty());
        assert!(kind.judge_region("us-east-1", None).is_empty());
        let draining = kind.judge_region("eu-west-1", Some(&service("DRAINING")));
        assert_eq!(draining[0].teardown[1], "aws ecs delete-service --cluster fargate-course --service web-nginx --force --region eu-west-1");

        let kind = ClusterAbsent { cluster: "fargate-course".into(), regions: Regions::All };
        let cluster = |status: &str| Cluster::builder().cluster_name("fargate-course").status(status).build();
        assert!(kind.judge_region("us-east-1", Some(&cluster("INACTIVE"))).is_empty());
        assert_eq!(kind.judge_region("us-east-1", Some(&cluster("ACTIVE")))[0].teardown, ["aws ecs delete-cluster --cluster fargate-course --region us-east-1"]);
        let going = kind.judge_region("us-east-1", Some(&cluster("DEPROVISIONING")));
        assert_eq!(going[0].name, "fargate-course (DEPROVISIONING)");
        assert!(going[0].teardown.iter().all(|c| !c.contains('#')), "commands a learner pastes carry no comments: {:?}", going[0].teardown);
    }

    #[test]
    fn running_tasks_are_priced_by_size_and_public_address() {
        let kind = TasksStopped { cluster: "fargate-course".into(), regions: Regions::All };
        let eni = Attachment::builder().r#type("ElasticNetworkInterface").details(KeyValuePair::builder().name("networkInterfaceId").value("eni-1").build()).build();
        let task = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:111122223333:task/fargate-course/abc")
            .group("service:web-nginx")
            .cpu("256")
            .memory("512")
            .attachments(eni)
            .build();
        let public = Eni { id: "eni-1".into(), status: "in-use".into(), public_ip: Some("203.0.113.7".into()), group_ids: vec![], description: String::new() };
        let found = kind.judge_region("us-east-1", std::slice::from_ref(&task), std::slice::from_ref(&public));
        assert_eq!(found[0].name, "abc");
        assert_eq!(found[0].teardown, ["aws ecs update-service --cluster fargate-course --service web-nginx --desired-count 0 --region us-east-1"]);
        let with_ip = found[0].usd_per_hour.unwrap();
        let without = kind.judge_region("us-east-1", &[task], &[])[0].usd_per_hour.unwrap();
        assert!((with_ip - without - PUBLIC_IPV4_HOUR).abs() < 1e-9, "{with_ip} {without}");
    }

    #[test]
    fn a_load_balancer_left_behind_is_priced_with_its_public_addresses() {
        let lb = LoadBalancerInfo {
            arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/1".into(),
            name: "nginx-alb".into(),
            dns_name: String::new(),
            scheme: "internet-facing".into(),
            kind: "application".into(),
            state: "active".into(),
            zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            security_groups: vec![],
        };
        let left = judge_load_balancer("us-east-1", Some(&lb));
        assert!((left[0].usd_per_hour.unwrap() - 0.0325).abs() < 1e-9, "{:?}", left[0].usd_per_hour);
        assert_eq!(left[0].teardown, [format!("aws elbv2 delete-load-balancer --load-balancer-arn {} --region us-east-1", lb.arn)]);
        assert!(judge_load_balancer("us-east-1", None).is_empty());
    }

    #[test]
    fn groups_interfaces_log_groups_and_roles_left_behind_are_named_with_their_removal() {
        let group = SecurityGroupInfo { id: "sg-1".into(), arn: String::new(), name: "nginx-web-sg".into(), vpc_id: "vpc-1".into(), ingress: vec![] };
        assert_eq!(judge_groups("us-east-1", &[group])[0].teardown, ["aws ec2 delete-security-group --group-id sg-1 --region us-east-1"]);
        let eni = Eni { id: "eni-1".into(), status: "in-use".into(), public_ip: None, group_ids: vec!["sg-1".into()], description: String::new() };
        let enis = judge_enis("us-east-1", &[eni]);
        assert_eq!(enis[0].usd_per_hour, None);
        assert!(!enis[0].teardown[0].contains('#'));
        let logs = LogGroupAbsent { log_group: "/ecs/nginx-web".into(), regions: Regions::All };
        assert!(logs.judge_region("us-east-1", None).is_empty());

        let role = RoleInfo { arn: String::new(), role_id: "AROA1".into(), created_at: String::new(), trust_policy: serde_json::json!({}), attached_policy_arns: vec!["arn:aws:iam::aws:policy/P".into()] };
        let strict = RoleAbsent { role: "ecsTaskExecutionRole".into(), optional: false };
        assert_eq!(strict.judge(None).status(), Status::Pass);
        let left = strict.judge(Some(&role));
        assert_eq!(left.status(), Status::Fail);
        assert_eq!(left.leftovers[0].teardown, ["aws iam detach-role-policy --role-name ecsTaskExecutionRole --policy-arn arn:aws:iam::aws:policy/P", "aws iam delete-role --role-name ecsTaskExecutionRole"]);
        let optional = RoleAbsent { role: "ecsTaskExecutionRole".into(), optional: true };
        assert_eq!(optional.judge(Some(&role)).status(), Status::Pass);
    }
}
