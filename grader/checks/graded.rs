//! The resources passing checks graded, named the way AWS identifies them, for receipts.
//! `grader verify-receipt` builds the same records from today's answers and compares.

use aws_sdk_ecs::types::{Cluster, Service, Task, TaskDefinition};

use super::Resource;
use crate::aws::ec2::{Eni, SecurityGroupInfo};
use crate::aws::elb::{ListenerInfo, LoadBalancerInfo, TargetGroupInfo};
use crate::aws::scaling::ScalableTargetInfo;
use crate::aws::iam::RoleInfo;
use crate::aws::logs::LogGroupInfo;
use crate::timestamp;

/// ECS says nothing of when a cluster was created, and its ARN is made from its name: a
/// cluster deleted and created again under the same name cannot be told apart.
pub fn cluster(cluster: &Cluster, region: &str) -> Resource {
    Resource {
        kind: "ecs_cluster".into(),
        name: cluster.cluster_name().unwrap_or_default().into(),
        region: region.into(),
        arn: cluster.cluster_arn().unwrap_or_default().into(),
        created_at: None,
        unique_id: None,
    }
}

/// A service's name is `cluster/service`, so that it can be looked up again.
pub fn service(cluster: &str, service: &Service, region: &str) -> Resource {
    Resource {
        kind: "ecs_service".into(),
        name: format!("{cluster}/{}", service.service_name().unwrap_or_default()),
        region: region.into(),
        arn: service.service_arn().unwrap_or_default().into(),
        created_at: service.created_at().map(timestamp::of),
        unique_id: None,
    }
}

/// A revision's name is `family:revision`; ECS never reuses a revision number.
pub fn task_definition(def: &TaskDefinition, region: &str) -> Resource {
    Resource {
        kind: "task_definition".into(),
        name: format!("{}:{}", def.family().unwrap_or_default(), def.revision()),
        region: region.into(),
        arn: def.task_definition_arn().unwrap_or_default().into(),
        created_at: def.registered_at().map(timestamp::of),
        unique_id: None,
    }
}

pub fn role(name: &str, role: &RoleInfo) -> Resource {
    Resource {
        kind: "iam_role".into(),
        name: name.into(),
        region: String::new(),
        arn: role.arn.clone(),
        created_at: Some(role.created_at.clone()),
        unique_id: Some(role.role_id.clone()),
    }
}

pub fn log_group(group: &LogGroupInfo, region: &str) -> Resource {
    Resource {
        kind: "log_group".into(),
        name: group.name.clone(),
        region: region.into(),
        arn: group.arn.clone(),
        created_at: group.created_at.clone(),
        unique_id: None,
    }
}

/// A security group's ARN carries its id, new for every creation; EC2 gives no creation time.
pub fn security_group(group: &SecurityGroupInfo, region: &str) -> Resource {
    Resource {
        kind: "security_group".into(),
        name: group.name.clone(),
        region: region.into(),
        arn: group.arn.clone(),
        created_at: None,
        unique_id: Some(group.id.clone()),
    }
}

/// A load balancer's ARN ends in an id new for every creation, and ELB gives its creation time.
pub fn load_balancer(lb: &LoadBalancerInfo, region: &str) -> Resource {
    Resource { kind: "load_balancer".into(), name: lb.name.clone(), region: region.into(), arn: lb.arn.clone(), created_at: lb.created_at.clone(), unique_id: None }
}

/// A target group's ARN ends in an id new for every creation; ELB gives no creation time.
pub fn target_group(group: &TargetGroupInfo, region: &str) -> Resource {
    Resource { kind: "target_group".into(), name: group.name.clone(), region: region.into(), arn: group.arn.clone(), created_at: None, unique_id: None }
}

/// A listener's name is `LOAD_BALANCER:PORT`, so that it can be looked up again; its ARN ends
/// in an id new for every creation.
pub fn listener(load_balancer: &str, listener: &ListenerInfo, region: &str) -> Resource {
    Resource {
        kind: "listener".into(),
        name: format!("{load_balancer}:{}", listener.port.unwrap_or_default()),
        region: region.into(),
        arn: listener.arn.clone(),
        created_at: None,
        unique_id: None,
    }
}

/// A scalable target's name is the service's resource id (`service/CLUSTER/SERVICE`); its
/// ARN and creation time change with every registration.
pub fn scalable_target(resource_id: &str, target: &ScalableTargetInfo, region: &str) -> Resource {
    Resource {
        kind: "scalable_target".into(),
        name: resource_id.into(),
        region: region.into(),
        arn: target.arn.clone(),
        created_at: target.created_at.clone(),
        unique_id: None,
    }
}

/// A task's ARN ends in an id new for every task.
pub fn task(task: &Task, region: &str) -> Resource {
    let arn = task.task_arn().unwrap_or_default();
    Resource {
        kind: "ecs_task".into(),
        name: arn.rsplit('/').next().unwrap_or(arn).into(),
        region: region.into(),
        arn: arn.into(),
        created_at: task.created_at().map(timestamp::of),
        unique_id: None,
    }
}

/// EC2 says nothing of when an interface was made; its id is new for every one.
pub fn network_interface(eni: &Eni, region: &str) -> Resource {
    Resource { kind: "network_interface".into(), name: eni.id.clone(), region: region.into(), arn: String::new(), created_at: None, unique_id: Some(eni.id.clone()) }
}
