//! The clean-up kinds: each lab resource is gone from every enabled region, one file per
//! kind, with the region scan and the verdict they share in `scan`.
//!
//! ECS keeps deleted clusters and services visible as INACTIVE for a while, and keeps
//! deregistered task definitions INACTIVE forever; none of that is a leftover. What still
//! runs, costs or blocks deletion is, and each leftover comes with what it costs and the
//! commands that remove it. Each kind's `judge_region` is pure: given what AWS answered in
//! one region, the leftovers there.

mod cluster_absent;
mod enis_released;
mod load_balancer_absent;
mod log_group_absent;
mod resource_absent;
mod role_absent;
mod scalable_target_absent;
mod scan;
mod security_group_absent;
mod service_absent;
mod target_group_absent;
mod task_definitions_deregistered;
mod tasks_stopped;

pub use cluster_absent::ClusterAbsent;
pub use enis_released::EnisReleased;
pub use load_balancer_absent::LoadBalancerAbsent;
pub use log_group_absent::LogGroupAbsent;
pub use resource_absent::ResourceAbsent;
pub use role_absent::RoleAbsent;
pub use scalable_target_absent::ScalableTargetAbsent;
pub use security_group_absent::SecurityGroupAbsent;
pub use service_absent::ServiceAbsent;
pub use target_group_absent::TargetGroupAbsent;
pub use task_definitions_deregistered::TaskDefinitionsDeregistered;
pub use tasks_stopped::TasksStopped;
