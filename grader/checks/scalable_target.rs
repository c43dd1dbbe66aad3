//! `scalable_target`: Application Auto Scaling may change the service's desired count within
//! the lab's bounds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::scaling::{ScalableTargetInfo, service_resource_id};

/// The service's desired count is a scalable target with these bounds.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalableTarget {
    pub cluster: String,
    pub service: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
}

impl Kind for ScalableTarget {
    const NAME: &'static str = "scalable_target";
    const SUMMARY: &'static str = "The service's desired count is registered with Application Auto Scaling, with the lab's minimum and maximum.";
    const ACTIONS: &'static [&'static str] = &["application-autoscaling:DescribeScalableTargets"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let id = service_resource_id(&self.cluster, &self.service);
        let found = ctx.aws.scalable_target(ctx.region, &id).await?;
        let verdict = self.judge(found.as_ref().as_ref());
        Ok(match found.as_ref() {
            Some(target) if verdict.status() == super::Status::Pass => verdict.resource(super::graded::scalable_target(&id, target, ctx.region)),
            _ => verdict,
        })
    }
}

impl ScalableTarget {
    pub fn judge(&self, found: Option<&ScalableTargetInfo>) -> Verdict {
        let id = service_resource_id(&self.cluster, &self.service);
        let expected = format!("min {}, max {}", self.min_capacity, self.max_capacity);
        match found {
            None => Verdict::fail(format!("`{id}` is not registered with Application Auto Scaling")).expected(expected).found("no scalable target"),
            Some(t) if t.min == self.min_capacity && t.max == self.max_capacity => Verdict::pass(format!("`{id}` scales between {} and {} tasks", t.min, t.max)),
            Some(t) => Verdict::fail(format!("`{id}` scales between {} and {} tasks", t.min, t.max)).expected(expected).found(format!("min {}, max {}", t.min, t.max)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn lab() -> ScalableTarget {
        ScalableTarget { cluster: "fargate-course".into(), service: "web-alb".into(), min_capacity: 2, max_capacity: 4 }
    }

    #[test]
    fn the_bounds_decide() {
        assert_eq!(lab().judge(Some(&ScalableTargetInfo { min: 2, max: 4, arn: String::new(), created_at: None })).status(), Status::Pass);
        assert_eq!(lab().judge(Some(&ScalableTargetInfo { min: 1, max: 4, arn: String::new(), created_at: None })).found.as_deref(), Some("min 1, max 4"));
        assert_eq!(lab().judge(None).found.as_deref(), Some("no scalable target"));
    }
}
