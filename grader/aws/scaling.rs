//! Application Auto Scaling questions: the scalable target of an ECS service's desired
//! count, its scaling policies, and the scaling activities that changed the count.

use std::sync::Arc;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use super::{AwsError, Lookup};

/// A scalable target's bounds, and what identifies its creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalableTargetInfo {
    pub min: i32,
    pub max: i32,
    /// Its ARN (`arn:aws:application-autoscaling:REGION:ACCOUNT:scalable-target/ID`), new for
    /// every registration; empty where an older endpoint does not give it.
    pub arn: String,
    pub created_at: Option<String>,
}

/// A scaling policy, with its target-tracking metric and value when it has them.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicyInfo {
    pub name: String,
    /// `TargetTrackingScaling`, `StepScaling` or `PredictiveScaling`.
    pub policy_type: String,
    pub metric: Option<String>,
    pub target_value: Option<f64>,
}

/// One scaling activity: a change (or attempted change) of the desired count, which AWS
/// lists for six weeks, also after the bounds or the target that caused it are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingActivityInfo {
    /// `Setting desired count to 3.`
    pub description: String,
    /// Why: `minimum capacity was set to 3`, `monitor alarm … in state ALARM triggered policy …`.
    pub cause: String,
    /// `Successful`, `InProgress`, `Pending`, `Failed`, `Unfulfilled` or `Overridden`.
    pub status: String,
    pub status_message: Option<String>,
    /// When it started (RFC 3339, second precision, so that it compares as text with a
    /// target's `created_at`).
    pub started_at: String,
}

impl ScalingActivityInfo {
    /// The desired count the activity set, read from its description (`Setting desired count
    /// to 3.`); `None` for a description in another form.
    pub fn desired_count(&self) -> Option<i32> {
        let (_, rest) = self.description.split_once("desired count to ")?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    }
}

/// The resource id Application Auto Scaling gives a service: `service/CLUSTER/SERVICE`.
pub fn service_resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

impl Lookup<'_> {
    /// The scalable target of a service's desired count, or `None`.
    pub async fn scalable_target(&self, region: &str, resource_id: &str) -> Result<Arc<Option<ScalableTargetInfo>>, AwsError> {
        self.cached("application-autoscaling:DescribeScalableTargets", format!("{region} {resource_id}"), || async {
            let out = self
                .scaling(region)
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_ids(resource_id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalableTargets", e))?;
            Ok(out.scalable_targets().iter().find(|t| t.resource_id() == resource_id).map(|t| ScalableTargetInfo {
                min: t.min_capacity(),
                max: t.max_capacity(),
                arn: t.scalable_target_arn().unwrap_or_default().to_string(),
                created_at: Some(crate::timestamp::of(t.creation_time())),
            }))
        })
        .await
    }

    /// The scaling activities of a service's desired count, newest first.
    pub async fn scaling_activities(&self, region: &str, resource_id: &str) -> Result<Arc<Vec<ScalingActivityInfo>>, AwsError> {
        self.cached("application-autoscaling:DescribeScalingActivities", format!("{region} {resource_id}"), || async {
            let mut activities = Vec::new();
            let mut pages = self
                .scaling(region)
                .describe_scaling_activities()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_id(resource_id)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalingActivities", e))?;
                activities.extend(page.scaling_activities().iter().filter(|a| a.resource_id() == resource_id).map(|a| ScalingActivityInfo {
                    description: a.description().to_string(),
                    cause: a.cause().to_string(),
                    status: a.status_code().as_str().to_string(),
                    status_message: a.status_message().map(str::to_string),
                    started_at: crate::timestamp::of(a.start_time()),
                }));
            }
            Ok(activities)
        })
        .await
    }

    /// The scaling policies of a service's desired count.
    pub async fn scaling_policies(&self, region: &str, resource_id: &str) -> Result<Arc<Vec<ScalingPolicyInfo>>, AwsError> {
        self.cached("application-autoscaling:DescribeScalingPolicies", format!("{region} {resource_id}"), || async {
            let mut policies = Vec::new();
            let mut pages = self
                .scaling(region)
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_id(resource_id)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalingPolicies", e))?;
                policies.extend(page.scaling_policies().iter().filter(|p| p.resource_id() == resource_id).map(|p| {
                    let tracking = p.target_tracking_scaling_policy_configuration();
                    ScalingPolicyInfo {
                        name: p.policy_name().to_string(),
                        policy_type: p.policy_type().as_str().to_string(),
                        metric: tracking.and_then(|t| t.predefined_metric_specification()).map(|m| m.predefined_metric_type().as_str().to_string()),
                        target_value: tracking.map(|t| t.target_value()),
                    }
                }));
            }
            Ok(policies)
        })
        .await
    }
}
