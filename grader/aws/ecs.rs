//! ECS questions the checks ask, each answered once per run.

use std::sync::Arc;

use aws_sdk_ecs::types::{Cluster, DesiredStatus, Service, Task, TaskDefinition, TaskDefinitionStatus};

use super::{Aws, AwsError, AwsErrorKind};

/// The tasks of a service in one desired status, described.
pub type ServiceTasks = Vec<Task>;

/// The last path segment of an ARN (`…:cluster/fargate-course` → `fargate-course`).
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl Aws {
    /// The cluster as ECS describes it (ACTIVE or INACTIVE), or `None` when ECS has never
    /// heard of it (`failures[].reason = MISSING`).
    pub async fn cluster(&self, region: &str, name: &str, fresh: bool) -> Result<Arc<Option<Cluster>>, AwsError> {
        self.cached(fresh, "ecs:DescribeClusters", format!("{region} {name}"), || async {
            let out = self.ecs(region).describe_clusters().clusters(name).send().await.map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", e))?;
            Ok(out.clusters().first().cloned())
        })
        .await
    }

    /// Names of the clusters in a region (ListClusters lists ACTIVE ones only).
    pub async fn cluster_names(&self, region: &str) -> Result<Arc<Vec<String>>, AwsError> {
        self.cached(false, "ecs:ListClusters", region.to_string(), || async {
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
    pub async fn service(&self, region: &str, cluster: &str, name: &str, fresh: bool) -> Result<Arc<Option<Service>>, AwsError> {
        self.cached(fresh, "ecs:DescribeServices", format!("{region} {cluster} {name}"), || async {
            match self.ecs(region).describe_services().cluster(cluster).services(name).send().await {
                Ok(out) => Ok(out.services().first().cloned()),
                Err(e) => {
                    let e = AwsError::from_sdk("ecs:DescribeServices", e);
                    if e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) }
                }
            }
        })
        .await
    }

    /// Names of the services in a cluster (ACTIVE and DRAINING ones).
    pub async fn service_names(&self, region: &str, cluster: &str) -> Result<Arc<Vec<String>>, AwsError> {
        self.cached(false, "ecs:ListServices", format!("{region} {cluster}"), || async {
            match self.ecs(region).list_services().cluster(cluster).send().await {
                Ok(out) => Ok(out.service_arns().iter().map(|a| arn_name(a).to_string()).collect()),
                Err(e) => {
                    let e = AwsError::from_sdk("ecs:ListServices", e);
                    if e.kind == AwsErrorKind::NotFound { Ok(Vec::new()) } else { Err(e) }
                }
            }
        })
        .await
    }

    /// The tasks of a cluster (of one service, when given) in one desired status, described.
    pub async fn tasks(&self, region: &str, cluster: &str, service: Option<&str>, desired: DesiredStatus, fresh: bool) -> Result<Arc<ServiceTasks>, AwsError> {
        let key = format!("{region} {cluster} {} {}", service.unwrap_or("*"), desired.as_str());
        self.cached(fresh, "ecs:ListTasks", key, || async {
            let client = self.ecs(region);
            let listed = client.list_tasks().cluster(cluster).set_service_name(service.map(str::to_string)).desired_status(desired).send().await;
            let arns = match listed {
                Ok(out) => out.task_arns().to_vec(),
                Err(e) => {
                    let e = AwsError::from_sdk("ecs:ListTasks", e);
                    return if matches!(e.kind, AwsErrorKind::NotFound) { Ok(Vec::new()) } else { Err(e) };
                }
            };
            if arns.is_empty() {
                return Ok(Vec::new());
            }
            let mut tasks = Vec::new();
            // DescribeTasks takes at most 100 tasks per call.
            for chunk in arns.chunks(100) {
                let out = client.describe_tasks().cluster(cluster).set_tasks(Some(chunk.to_vec())).send().await.map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", e))?;
                tasks.extend(out.tasks().iter().cloned());
            }
            Ok(tasks)
        })
        .await
    }

    /// The latest ACTIVE revision of a task definition family, or `None` when the family has
    /// no ACTIVE revision (ECS answers `ClientException` for that).
    pub async fn task_definition(&self, region: &str, family: &str, fresh: bool) -> Result<Arc<Option<TaskDefinition>>, AwsError> {
        self.cached(fresh, "ecs:DescribeTaskDefinition", format!("{region} {family}"), || async {
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

    /// ARNs of a family's revisions in one status, newest first.
    pub async fn task_definition_arns(&self, region: &str, family: &str, status: TaskDefinitionStatus) -> Result<Arc<Vec<String>>, AwsError> {
        self.cached(false, "ecs:ListTaskDefinitions", format!("{region} {family} {}", status.as_str()), || async {
            let out = self
                .ecs(region)
                .list_task_definitions()
                .family_prefix(family)
                .status(status)
                .sort(aws_sdk_ecs::types::SortOrder::Desc)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitions", e))?;
            // familyPrefix matches prefixes: keep only this family's revisions.
            Ok(out.task_definition_arns().iter().filter(|a| arn_name(a).rsplit_once(':').map(|(f, _)| f) == Some(family)).cloned().collect())
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
