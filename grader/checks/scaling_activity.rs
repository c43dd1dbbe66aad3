//! `scaling_activity`: Application Auto Scaling itself once set the service's desired count to
//! at least N, as its scaling activities record.
//!
//! Why a history and not the count: a lab that shows scaling raises the minimum, watches the
//! extra task start, and puts the minimum back, so by the time it is graded the service runs
//! the usual count again. What stays is the scaling activity AWS recorded (six weeks). Only
//! activities since the scalable target was registered count: activities outlive the target,
//! and one from an earlier attempt at the lab must not pass this one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::scaling::{ScalableTargetInfo, ScalingActivityInfo, service_resource_id};

/// A successful scaling activity set the service's desired count to at least `desired_count`,
/// since its scalable target was registered.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingActivity {
    pub cluster: String,
    pub service: String,
    /// The desired count the activity must have set, at least.
    pub desired_count: i32,
}

/// How many of the activities a failing verdict names.
const SHOWN: usize = 3;

impl Kind for ScalingActivity {
    const NAME: &'static str = "scaling_activity";
    const SUMMARY: &'static str = "Application Auto Scaling set the service's desired count to at least N in a successful scaling activity since its scalable target was registered (evidence that stays after the bounds are put back).";
    const ACTIONS: &'static [&'static str] = &["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingActivities"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let id = service_resource_id(&self.cluster, &self.service);
        let target = ctx.aws.scalable_target(ctx.region, &id).await?;
        let Some(target) = target.as_ref() else {
            return Ok(self.judge(None, &[]));
        };
        let activities = ctx.aws.scaling_activities(ctx.region, &id).await?;
        let verdict = self.judge(Some(target), &activities);
        Ok(if verdict.status() == super::Status::Pass { verdict.resource(super::graded::scalable_target(&id, target, ctx.region)) } else { verdict })
    }
}

impl ScalingActivity {
    /// `activities` newest first, as AWS lists them.
    pub fn judge(&self, target: Option<&ScalableTargetInfo>, activities: &[ScalingActivityInfo]) -> Verdict {
        let id = service_resource_id(&self.cluster, &self.service);
        let wanted = self.desired_count;
        let expected = format!("a successful scaling activity that set the desired count to {wanted} or more");
        let Some(target) = target else {
            return Verdict::fail(format!("`{id}` is not registered with Application Auto Scaling")).expected(expected).found("no scalable target");
        };
        // RFC 3339 at second precision in UTC compares as text. A target without a creation
        // time (an endpoint that does not give one) lets every activity count.
        let since = target.created_at.as_deref().unwrap_or("");
        let (current, earlier): (Vec<&ScalingActivityInfo>, Vec<&ScalingActivityInfo>) = activities.iter().partition(|a| a.started_at.as_str() >= since);
        let reaching = |a: &&ScalingActivityInfo| a.desired_count().is_some_and(|n| n >= wanted);
        if let Some(a) = current.iter().find(|a| reaching(a) && a.status == "Successful") {
            let n = a.desired_count().unwrap_or(wanted);
            return Verdict::pass(format!("Application Auto Scaling set `{id}`'s desired count to {n} at {} ({})", a.started_at, a.cause));
        }
        let found = if current.is_empty() {
            let mut text = format!("no scaling activity since the scalable target was registered ({since})");
            if !earlier.is_empty() {
                text.push_str(&format!("; {} older one(s) belong to an earlier registration", earlier.len()));
            }
            text
        } else {
            current
                .iter()
                .take(SHOWN)
                .map(|a| format!("`{}` {} ({}){}", a.description, a.status, a.cause, a.status_message.as_ref().filter(|_| a.status != "Successful").map(|m| format!(": {m}")).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // An activity to the count that is still under way can still succeed: waiting helps.
        if let Some(a) = current.iter().find(|a| reaching(a) && matches!(a.status.as_str(), "Pending" | "InProgress")) {
            return Verdict::fail(format!("Application Auto Scaling is still setting `{id}`'s desired count ({})", a.description)).expected(expected).found(found);
        }
        Verdict::fail(format!("Application Auto Scaling has not set `{id}`'s desired count to {wanted} or more")).expected(expected).found(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn lab() -> ScalingActivity {
        ScalingActivity { cluster: "fargate-course".into(), service: "web-alb".into(), desired_count: 3 }
    }

    fn target(created_at: &str) -> ScalableTargetInfo {
        ScalableTargetInfo { min: 2, max: 4, arn: String::new(), created_at: Some(created_at.into()) }
    }

    fn activity(count: i32, status: &str, at: &str) -> ScalingActivityInfo {
        ScalingActivityInfo {
            description: format!("Setting desired count to {count}."),
            cause: format!("minimum capacity was set to {count}"),
            status: status.into(),
            status_message: (status != "Successful").then(|| "Service is not ACTIVE.".into()),
            started_at: at.into(),
        }
    }

    #[test]
    fn a_successful_scale_out_since_registration_passes_after_the_count_is_back() {
        // Newest first: the policy scaled back in to 2 after the minimum went back.
        let history = [activity(2, "Successful", "2026-03-02T10:20:00Z"), activity(3, "Successful", "2026-03-02T10:05:00Z")];
        let v = lab().judge(Some(&target("2026-03-02T10:00:00Z")), &history);
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
        assert!(v.message.contains("desired count to 3 at 2026-03-02T10:05:00Z (minimum capacity was set to 3)"), "{}", v.message);
    }

    #[test]
    fn an_activity_of_an_earlier_registration_does_not_count() {
        let v = lab().judge(Some(&target("2026-03-09T08:00:00Z")), &[activity(3, "Successful", "2026-03-02T10:05:00Z")]);
        assert_eq!(v.status(), Status::Fail);
        assert_eq!(v.found.as_deref(), Some("no scaling activity since the scalable target was registered (2026-03-09T08:00:00Z); 1 older one(s) belong to an earlier registration"));
    }

    #[test]
    fn too_small_failed_or_unreadable_activities_fail_naming_them() {
        let t = target("2026-03-02T10:00:00Z");
        let mut odd = activity(3, "Successful", "2026-03-02T10:07:00Z");
        odd.description = "Scaling to three".into();
        let history = [odd, activity(3, "Failed", "2026-03-02T10:06:00Z"), activity(2, "Successful", "2026-03-02T10:05:00Z")];
        let v = lab().judge(Some(&t), &history);
        assert_eq!(v.status(), Status::Fail);
        let found = v.found.unwrap();
        assert!(found.contains("`Setting desired count to 3.` Failed (minimum capacity was set to 3): Service is not ACTIVE."), "{found}");
        assert!(found.contains("`Setting desired count to 2.` Successful (minimum capacity was set to 2)"), "{found}");
        assert!(lab().judge(Some(&t), &[activity(3, "InProgress", "2026-03-02T10:06:00Z")]).message.contains("still setting"));
        assert_eq!(lab().judge(None, &[]).found.as_deref(), Some("no scalable target"));
    }

    #[test]
    fn the_count_is_read_from_the_description() {
        assert_eq!(activity(12, "Successful", "").desired_count(), Some(12));
        let mut other = activity(3, "Successful", "");
        other.description = "Setting desired count to .".into();
        assert_eq!(other.desired_count(), None);
    }
}
