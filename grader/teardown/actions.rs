//! Every AWS call in the grader that changes an account: the deletions of a teardown, each
//! with the waits and the bounded retries AWS needs between dependent deletions.

use std::time::{Duration, Instant};

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use super::plan::Planned;
use crate::aws::{Aws, AwsError, AwsErrorKind};

/// How long a deletion that depends on another one finishing is retried: a task's network
/// interface takes about a minute to be released, a load balancer's a little longer.
pub const DEPENDENCY_PATIENCE: Duration = Duration::from_secs(180);
/// How often it is tried again meanwhile.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// The error codes that mean "not yet: something still uses it".
const IN_USE: &[&str] =
    &["DependencyViolation", "ResourceInUse", "ClusterContainsServicesException", "ClusterContainsTasksException", "DeleteConflict", "InvalidNetworkInterface.InUse"];

/// The codes that mean it is gone already (deleted by hand, or with what used it).
const GONE: &[&str] = &[
    "ServiceNotFoundException",
    "ClusterNotFoundException",
    "InvalidGroup.NotFound",
    "InvalidNetworkInterfaceID.NotFound",
    "NoSuchEntity",
    "ResourceNotFoundException",
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ObjectNotFoundException",
];

/// Runs `call` until it succeeds, or fails with something other than "in use" or throttling, or
/// `patience` runs out. An error saying it is already gone is success.
async fn retrying<F, Fut>(patience: Duration, mut call: F) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), AwsError>>,
{
    let started = Instant::now();
    loop {
        match call().await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind == AwsErrorKind::NotFound || e.code.as_deref().is_some_and(|c| GONE.contains(&c)) => return Ok(()),
            // Still throttled after the SDK's own retries: a class teardown shares the
            // account's quota with whatever else runs there, so wait like for "in use".
            Err(e) if (e.kind == AwsErrorKind::Throttled || e.code.as_deref().is_some_and(|c| IN_USE.contains(&c))) && started.elapsed() < patience => {
                tokio::time::sleep(RETRY_EVERY).await
            }
            Err(e) => return Err(e),
        }
    }
}

/// Waits until `gone` says the resource no longer exists, within `patience`.
async fn until_gone<F, Fut>(patience: Duration, what: &str, mut gone: F) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, AwsError>>,
{
    let started = Instant::now();
    while !gone().await? {
        if started.elapsed() >= patience {
            return Err(AwsError::other("grader:Teardown", format!("{what} was still there after {} s", patience.as_secs())));
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
    Ok(())
}

/// Deletes one planned resource (already confirmed to be the planned creation). `patience`:
/// how long to wait for what uses it to go (none, once something before it could not be
/// deleted: then nothing is going to release it).
pub async fn delete(aws: &Aws, p: &Planned, patience: Duration) -> Result<(), AwsError> {
    let region = p.region.as_str();
    match p.kind.as_str() {
        "scalable_target" => {
            let scaling = aws.scaling(region);
            retrying(patience, || async {
                let call = scaling
                    .deregister_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .resource_id(&p.name);
                call.send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("application-autoscaling:DeregisterScalableTarget", e))
            })
            .await
        }
        "ecs_service" => {
            let (cluster, service) = p.name.split_once('/').unwrap_or(("default", p.name.as_str()));
            let ecs = aws.ecs(region);
            // Scaled to 0 first, as the book teaches: a forced delete would stop the tasks
            // too, but a learner reading the plan expects the service's own order.
            retrying(patience, || async { ecs.update_service().cluster(cluster).service(service).desired_count(0).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ecs:UpdateService", e)) }).await?;
            retrying(patience, || async { ecs.delete_service().cluster(cluster).service(service).force(true).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ecs:DeleteService", e)) }).await
        }
        "ecs_task" => {
            let cluster = p.arn.rsplit('/').nth(1).unwrap_or("default");
            let ecs = aws.ecs(region);
            retrying(patience, || async { ecs.stop_task().cluster(cluster).task(&p.arn).reason("grader cleanup --apply").send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ecs:StopTask", e)) }).await
        }
        "load_balancer" => {
            let elb = aws.elb(region);
            retrying(patience, || async { elb.delete_load_balancer().load_balancer_arn(&p.arn).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("elasticloadbalancing:DeleteLoadBalancer", e)) }).await?;
            // Its target group and security group stay in use until it is really gone.
            until_gone(patience, &format!("load balancer `{}`", p.name), || async { Ok(aws.lookup_since(Instant::now()).load_balancer(region, &p.name).await?.is_none()) }).await
        }
        "target_group" => {
            let elb = aws.elb(region);
            retrying(patience, || async { elb.delete_target_group().target_group_arn(&p.arn).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("elasticloadbalancing:DeleteTargetGroup", e)) }).await
        }
        "network_interface" => {
            // ECS releases a stopped task's interface itself, within about a minute; only one
            // left `available` after that is deleted here.
            let id = p.unique_id.clone().unwrap_or_else(|| p.name.clone());
            let started = Instant::now();
            loop {
                let enis = aws.lookup_since(Instant::now()).enis(region, std::slice::from_ref(&id)).await?;
                match enis.iter().find(|e| e.id == id) {
                    None => return Ok(()),
                    Some(eni) if eni.status == "available" => {
                        let ec2 = aws.ec2(region);
                        return retrying(patience, || async { ec2.delete_network_interface().network_interface_id(&id).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ec2:DeleteNetworkInterface", e)) }).await;
                    }
                    Some(eni) if started.elapsed() >= patience => {
                        return Err(AwsError::other(
                            "ec2:DeleteNetworkInterface",
                            format!("network interface `{id}` is still {} after {} s ({})", eni.status, patience.as_secs(), eni.description),
                        ));
                    }
                    Some(_) => tokio::time::sleep(RETRY_EVERY).await,
                }
            }
        }
        "security_group" => {
            let id = p.unique_id.clone().unwrap_or_default();
            let ec2 = aws.ec2(region);
            retrying(patience, || async { ec2.delete_security_group().group_id(&id).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ec2:DeleteSecurityGroup", e)) }).await
        }
        "log_group" => {
            let logs = aws.logs(region);
            retrying(patience, || async { logs.delete_log_group().log_group_name(&p.name).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("logs:DeleteLogGroup", e)) }).await
        }
        "task_definition" => {
            // Deregistered (INACTIVE: it can start no task), then deleted: ECS removes it for
            // good once nothing refers to it (DELETE_IN_PROGRESS meanwhile).
            let ecs = aws.ecs(region);
            let revision = if p.arn.is_empty() { p.name.as_str() } else { p.arn.as_str() };
            retrying(patience, || async {
                ecs.deregister_task_definition().task_definition(revision).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ecs:DeregisterTaskDefinition", e))
            })
            .await?;
            retrying(patience, || async {
                let out = ecs.delete_task_definitions().task_definitions(revision).send().await.map_err(|e| AwsError::from_sdk("ecs:DeleteTaskDefinitions", e))?;
                match out.failures().first() {
                    None => Ok(()),
                    Some(f) => Err(AwsError::other("ecs:DeleteTaskDefinitions", format!("{}: {}", f.reason().unwrap_or("failed"), f.detail().unwrap_or_default()))),
                }
            })
            .await
        }
        "iam_role" => delete_role(aws, &p.name, patience).await,
        "ecs_cluster" => {
            let ecs = aws.ecs(region);
            retrying(patience, || async { ecs.delete_cluster().cluster(&p.name).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("ecs:DeleteCluster", e)) }).await
        }
        other => Err(AwsError::other("grader:Teardown", format!("the teardown does not delete `{other}` resources"))),
    }
}

/// A role goes once nothing is attached to it: managed policies detached, inline ones deleted.
async fn delete_role(aws: &Aws, role: &str, patience: Duration) -> Result<(), AwsError> {
    let iam = aws.iam();
    let info = aws.lookup_since(Instant::now()).role(role).await?;
    let Some(info) = info.as_ref() else { return Ok(()) };
    for policy in &info.attached_policy_arns {
        retrying(patience, || async { iam.detach_role_policy().role_name(role).policy_arn(policy).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("iam:DetachRolePolicy", e)) }).await?;
    }
    let inline = iam.list_role_policies().role_name(role).send().await.map_err(|e| AwsError::from_sdk("iam:ListRolePolicies", e))?;
    for name in inline.policy_names() {
        retrying(patience, || async { iam.delete_role_policy().role_name(role).policy_name(name).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("iam:DeleteRolePolicy", e)) }).await?;
    }
    retrying(patience, || async { iam.delete_role().role_name(role).send().await.map(|_| ()).map_err(|e| AwsError::from_sdk("iam:DeleteRole", e)) }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn failing(code: &str) -> AwsError {
        AwsError { kind: AwsErrorKind::Other, action: "ec2:DeleteSecurityGroup", code: Some(code.into()), message: code.into() }
    }

    #[tokio::test(start_paused = true)]
    async fn in_use_is_retried_within_patience_gone_is_done_and_anything_else_is_an_error() {
        let calls = Cell::new(0);
        let answers = |codes: &'static [Option<&'static str>]| {
            calls.set(0);
            let calls = &calls;
            move || {
                let n = calls.get();
                calls.set(n + 1);
                async move { codes.get(n).copied().flatten().map_or(Ok(()), |c| Err(failing(c))) }
            }
        };
        // A security group whose interface goes after two tries.
        assert!(retrying(DEPENDENCY_PATIENCE, answers(&[Some("DependencyViolation"), Some("DependencyViolation"), None])).await.is_ok());
        assert_eq!(calls.get(), 3);
        // Deleted meanwhile by someone else: done.
        assert!(retrying(DEPENDENCY_PATIENCE, answers(&[Some("InvalidGroup.NotFound")])).await.is_ok());
        // Throttled beyond the SDK's retries: tried again.
        let throttled = || AwsError { kind: AwsErrorKind::Throttled, action: "ecs:DeleteService", code: Some("ThrottlingException".into()), message: "Rate exceeded".into() };
        let tries = Cell::new(0);
        let result = retrying(DEPENDENCY_PATIENCE, || {
            tries.set(tries.get() + 1);
            let n = tries.get();
            async move { if n < 3 { Err(throttled()) } else { Ok(()) } }
        })
        .await;
        assert!(result.is_ok() && tries.get() == 3);
        // A missing permission is not waited out.
        let denied = retrying(DEPENDENCY_PATIENCE, answers(&[Some("UnauthorizedOperation"), None])).await;
        assert!(denied.is_err() && calls.get() == 1);
        // With no patience left (something before it failed), in use is final.
        assert!(retrying(Duration::ZERO, answers(&[Some("DependencyViolation"), None])).await.is_err());
        assert_eq!(calls.get(), 1);
    }
}
