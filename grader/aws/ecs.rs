//! ECS questions the checks ask, each answered once per attempt, every page read.

use std::sync::Arc;

use aws_sdk_ecs::types::{Cluster, DesiredStatus, Failure, Service, ServiceDeploymentBrief, Task, TaskDefinition, TaskDefinitionStatus};

use super::{AwsError, AwsErrorKind, Lookup};

/// The tasks of a service in one desired status, described.
pub type ServiceTasks = Vec<Task>;

/// The last path segment of an ARN (`…:cluster/fargate-course` → `fargate-course`).
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Reads a `Describe*` answer's `failures[]`: `MISSING` means ECS has no such resource;
/// any other reason (`ACCESS_DENIED` on that resource, a service-side problem) means it could
/// not say, which must never pass for "deleted". It is `Other`, never `AccessDenied`: a
/// region-wide denial (an SCP) skips a region in leftover scans, one resource's must not.
fn judge_failures(action: &'static str, what: &str, failures: &[Failure]) -> Result<(), AwsError> {
    match failures.iter().find(|f| f.reason() != Some("MISSING")) {
        None => Ok(()),
        Some(f) => {
            let reason = f.reason().unwrap_or("no reason given");
            let detail = f.detail().map(|d| format!(" ({d})")).unwrap_or_default();
            Err(AwsError { kind: AwsErrorKind::Other, action, code: Some(reason.to_string()), message: format!("ECS could not describe {what}: {reason}{detail}") })
        }
    }
}

impl Lookup<'_> {
    /// The cluster as ECS describes it (ACTIVE, PROVISIONING, DEPROVISIONING, FAILED or
    /// INACTIVE), or `None` when ECS has never heard of it (`failures[].reason = MISSING`).
    pub async fn cluster(&self, region: &str, name: &str) -> Result<Arc<Option<Cluster>>, AwsError> {
        self.cached("ecs:DescribeClusters", format!("{region} {name}"), || async {
            let out = self.ecs(region).describe_clusters().clusters(name).send().await.map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", e))?;
            judge_failures("ecs:DescribeClusters", &format!("cluster `{name}` in {region}"), out.failures())?;
            Ok(out.clusters().first().cloned())
        })
        .await
    }

    /// Names of the clusters in a region (ListClusters lists ACTIVE ones only).
    pub async fn cluster_names(&self, region: &str) -> Result<Arc<Vec<String>>, AwsError> {
        self.cached("ecs:ListClusters", region.to_string(), || async {
            let mut names = Vec::new();
            let mut pages = self.ecs(region).list_clusters().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ecs:ListClusters", e))?;
                names.extend(page.cluster_arns().iter().map(|a| arn_name(a).to_string()));
            }
            Ok(names)
        })
        .await
    }

    /// The service as ECS describes it, or `None` when it or its cluster is unknown.
    pub async fn service(&self, region: &str, cluster: &str, name: &str) -> Result<Arc<Option<Service>>, AwsError> {
        self.cached("ecs:DescribeServices", format!("{region} {cluster} {name}"), || async {
            match self.ecs(region).describe_services().cluster(cluster).services(name).send().await {
                Ok(out) => {
                    judge_failures("ecs:DescribeServices", &format!("service `{name}` in cluster `{cluster}` ({region})"), out.failures())?;
                    Ok(out.services().first().cloned())
                }
                Err(e) => {
                    let e = AwsError::from_sdk("ecs:DescribeServices", e);
                    if e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) }
                }
            }
        })
        .await
    }

    /// Names of the ACTIVE services in a cluster (a DRAINING one is no longer listed), every
    /// page of them: ListServices answers ten at a time.
    pub async fn service_names(&self, region: &str, cluster: &str) -> Result<Arc<Vec<String>>, AwsError> {
        self.cached("ecs:ListServices", format!("{region} {cluster}"), || async {
            let mut names = Vec::new();
            let mut pages = self.ecs(region).list_services().cluster(cluster).into_paginator().send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => names.extend(page.service_arns().iter().map(|a| arn_name(a).to_string())),
                    Err(e) => {
                        let e = AwsError::from_sdk("ecs:ListServices", e);
                        return if e.kind == AwsErrorKind::NotFound { Ok(Vec::new()) } else { Err(e) };
                    }
                }
            }
            Ok(names)
        })
        .await
    }

    /// The tasks of a cluster (of one service, when given) in one desired status, described.
    pub async fn tasks(&self, region: &str, cluster: &str, service: Option<&str>, desired: DesiredStatus) -> Result<Arc<ServiceTasks>, AwsError> {
        let key = format!("{region} {cluster} {} {}", service.unwrap_or("*"), desired.as_str());
        self.cached("ecs:ListTasks", key, || async {
            let client = self.ecs(region);
            let mut arns = Vec::new();
            let mut pages = client.list_tasks().cluster(cluster).set_service_name(service.map(str::to_string)).desired_status(desired).into_paginator().send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => arns.extend(page.task_arns().iter().cloned()),
                    Err(e) => {
                        let e = AwsError::from_sdk("ecs:ListTasks", e);
                        return if e.kind == AwsErrorKind::NotFound { Ok(Vec::new()) } else { Err(e) };
                    }
                }
            }
            let mut tasks = Vec::new();
            // DescribeTasks takes at most 100 tasks per call. A task listed a moment ago may
            // be gone (MISSING); any other failure means the list is incomplete.
            for chunk in arns.chunks(100) {
                let out = client.describe_tasks().cluster(cluster).set_tasks(Some(chunk.to_vec())).send().await.map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", e))?;
                judge_failures("ecs:DescribeTasks", &format!("the tasks of cluster `{cluster}` ({region})"), out.failures())?;
                tasks.extend(out.tasks().iter().cloned());
            }
            Ok(tasks)
        })
        .await
    }

    /// The latest ACTIVE revision of a task definition family, or `None` when the family has
    /// no ACTIVE revision (ECS answers `ClientException` for that).
    pub async fn task_definition(&self, region: &str, family: &str) -> Result<Arc<Option<TaskDefinition>>, AwsError> {
        self.cached("ecs:DescribeTaskDefinition", format!("{region} {family}"), || async {
            match self.ecs(region).describe_task_definition().task_definition(family).send().await {
                Ok(out) => Ok(out.task_definition().cloned()),
                Err(e) => {
                    let e = AwsError::from_sdk("ecs:DescribeTaskDefinition", e);
                    if matches!(e.code.as_deref(), Some("ClientException")) || e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) }
                }
            }
        })
        .await
    }

    /// One revision (by ARN or `family:revision`) with its tags, or `None` when ECS has no
    /// such revision.
    pub async fn task_definition_with_tags(&self, region: &str, revision: &str) -> Result<Arc<Option<(TaskDefinition, Vec<(String, String)>)>>, AwsError> {
        self.cached("ecs:DescribeTaskDefinition", format!("{region} {revision} tags"), || async {
            let call = self.ecs(region).describe_task_definition().task_definition(revision).include(aws_sdk_ecs::types::TaskDefinitionField::Tags);
            match call.send().await {
                Ok(out) => {
                    let tags = out.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect();
                    Ok(out.task_definition().cloned().map(|d| (d, tags)))
                }
                Err(e) => {
                    let e = AwsError::from_sdk("ecs:DescribeTaskDefinition", e);
                    if matches!(e.code.as_deref(), Some("ClientException")) || e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) }
                }
            }
        })
        .await
    }

    /// ARNs of a family's revisions in one status, newest first, every page of them.
    pub async fn task_definition_arns(&self, region: &str, family: &str, status: TaskDefinitionStatus) -> Result<Arc<Vec<String>>, AwsError> {
        self.cached("ecs:ListTaskDefinitions", format!("{region} {family} {}", status.as_str()), || async {
            let mut arns = Vec::new();
            let mut pages = self
                .ecs(region)
                .list_task_definitions()
                .family_prefix(family)
                .status(status)
                .sort(aws_sdk_ecs::types::SortOrder::Desc)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitions", e))?;
                arns.extend(page.task_definition_arns().iter().cloned());
            }
            // Keep only this family's revisions, whatever the filter matched.
            arns.retain(|a| arn_name(a).rsplit_once(':').map(|(f, _)| f) == Some(family));
            Ok(arns)
        })
        .await
    }
}

impl Lookup<'_> {
    /// The service's deployments as ECS's service deployments API lists them, newest first
    /// (every page), or `None` where the API is not offered (an older endpoint or partition
    /// answers `UnknownOperationException`): the caller then reads the service's events.
    pub async fn service_deployments(&self, region: &str, cluster: &str, service: &str) -> Result<Arc<Option<Vec<ServiceDeploymentBrief>>>, AwsError> {
        self.cached("ecs:ListServiceDeployments", format!("{region} {cluster} {service}"), || async {
            let mut found = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let call = self.ecs(region).list_service_deployments().cluster(cluster).service(service).max_results(100).set_next_token(token.take());
                match call.send().await {
                    Ok(page) => {
                        found.extend(page.service_deployments().iter().cloned());
                        token = page.next_token().map(str::to_string);
                        if token.is_none() {
                            break;
                        }
                    }
                    Err(e) => {
                        let e = AwsError::from_sdk("ecs:ListServiceDeployments", e);
                        return if matches!(e.code.as_deref(), Some("UnknownOperationException")) { Ok(None) } else { Err(e) };
                    }
                }
            }
            // Newest first, whatever order the pages came in.
            found.sort_by_key(|d| std::cmp::Reverse(d.created_at().map(|t| (t.secs(), t.subsec_nanos()))));
            Ok(Some(found))
        })
        .await
    }
}

/// The ENI id of a task (`attachments[type=ElasticNetworkInterface].details[networkInterfaceId]`).
pub fn task_eni(task: &Task) -> Option<String> {
    task.attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some("networkInterfaceId"))
        .and_then(|d| d.value().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(reason: &str) -> Failure {
        Failure::builder().arn("arn:aws:ecs:us-east-1:123456789012:cluster/c").reason(reason).build()
    }

    #[test]
    fn only_missing_means_absent() {
        assert!(judge_failures("ecs:DescribeClusters", "cluster `c`", &[failure("MISSING")]).is_ok());
        let denied = judge_failures("ecs:DescribeClusters", "cluster `c`", &[failure("ACCESS_DENIED")]).unwrap_err();
        assert_eq!(denied.kind, AwsErrorKind::Other);
        assert_eq!(denied.code.as_deref(), Some("ACCESS_DENIED"));
        let other = judge_failures("ecs:DescribeServices", "service `s`", &[failure("MISSING"), failure("INTERNAL_ERROR")]).unwrap_err();
        assert_eq!(other.kind, AwsErrorKind::Other);
        assert!(other.message.contains("INTERNAL_ERROR"), "{}", other.message);
    }
}
