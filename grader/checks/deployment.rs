//! `deployment`: what became of the service's last deployment: rolled back by the circuit
//! breaker, or completed on the newest revision.

use aws_sdk_ecs::types::Service;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;

/// The outcome a `deployment` check wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The circuit breaker failed a deployment and rolled the service back: its events say
    /// so, and the service is settled again on one completed deployment.
    RolledBack,
    /// One completed deployment, on the family's newest ACTIVE revision.
    Completed,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub cluster: String,
    pub service: String,
    pub outcome: Outcome,
    /// With `completed`: the family whose newest ACTIVE revision the service must run.
    #[serde(default)]
    pub task_family: Option<String>,
}

impl Kind for Deployment {
    const NAME: &'static str = "deployment";
    const SUMMARY: &'static str = "The service's last deployment was rolled back by the circuit breaker, or completed on the family's newest revision, and the service is settled.";
    const ACTIONS: &'static [&'static str] = &["ecs:DescribeServices", "ecs:DescribeTaskDefinition"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(service) = ctx.aws.service(ctx.region, &self.cluster, &self.service).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no service `{}` in cluster `{}`", self.service, self.cluster)).expected(format!("service `{}`", self.service)).found("none"));
        };
        let newest = match (&self.task_family, self.outcome) {
            (Some(family), Outcome::Completed) => ctx.aws.task_definition(ctx.region, family).await?.as_ref().as_ref().and_then(|d| d.task_definition_arn().map(str::to_string)),
            _ => None,
        };
        Ok(self.judge(&service, newest.as_deref()))
    }
}

impl Deployment {
    /// `newest`: the ARN of the family's newest ACTIVE revision, when one was asked for.
    pub fn judge(&self, service: &Service, newest: Option<&str>) -> Verdict {
        let name = &self.service;
        let deployments = service.deployments();
        let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
        let rollout = primary.and_then(|d| d.rollout_state()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into());
        let revision = service.task_definition().unwrap_or("none");
        let settled = deployments.len() == 1 && rollout == "COMPLETED";
        if !settled {
            let failed: i32 = deployments.iter().map(|d| d.failed_tasks()).sum();
            return Verdict::fail(format!("service `{name}` is still deploying: {} deployment(s), the newest {rollout}, {failed} failed task(s)", deployments.len()))
                .expected("one COMPLETED deployment")
                .found(format!("{} deployment(s), PRIMARY {rollout}", deployments.len()));
        }
        match self.outcome {
            Outcome::RolledBack => {
                let rolled = service.events().iter().filter_map(|e| e.message()).find(|m| m.to_ascii_lowercase().contains("rolling back"));
                match rolled {
                    Some(event) => Verdict::pass(format!("service `{name}` was rolled back and is settled on `{}`: {event}", short(revision))),
                    None => Verdict::fail(format!("service `{name}` is settled, but no deployment of it was rolled back"))
                        .expected("a failed deployment rolled back by the circuit breaker (an event \"rolling back to deployment …\")")
                        .found(format!("one COMPLETED deployment on `{}`, no rollback in the events", short(revision))),
                }
            }
            Outcome::Completed => match newest {
                Some(newest) if newest != revision => Verdict::fail(format!("service `{name}` runs `{}`, not the newest revision `{}`", short(revision), short(newest)))
                    .expected(format!("task definition {newest}"))
                    .found(revision.to_string()),
                _ => Verdict::pass(format!("service `{name}` completed its deployment of `{}`", short(revision))),
            },
        }
    }
}

/// `family:revision` of a task definition ARN.
fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use aws_sdk_ecs::types::{Deployment as EcsDeployment, DeploymentRolloutState, ServiceEvent};

    const GOOD: &str = "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:2";
    const NEWER: &str = "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:4";

    fn service(deployments: &[(&str, DeploymentRolloutState, i32)], events: &[&str], revision: &str) -> Service {
        let mut s = Service::builder().service_name("web-alb").task_definition(revision);
        for (status, state, failed) in deployments {
            s = s.deployments(EcsDeployment::builder().status(*status).rollout_state(state.clone()).failed_tasks(*failed).build());
        }
        for message in events {
            s = s.events(ServiceEvent::builder().message(*message).build());
        }
        s.build()
    }

    fn check(outcome: Outcome) -> Deployment {
        Deployment { cluster: "fargate-course".into(), service: "web-alb".into(), outcome, task_family: Some("nginx-web".into()) }
    }

    #[test]
    fn a_rollback_passes_once_the_service_settles() {
        let rolling = service(
            &[("PRIMARY", DeploymentRolloutState::InProgress, 2), ("ACTIVE", DeploymentRolloutState::Completed, 0)],
            &[],
            "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:3",
        );
        let v = check(Outcome::RolledBack).judge(&rolling, None);
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("still deploying: 2 deployment(s), the newest IN_PROGRESS, 2 failed task(s)"), "{}", v.message);
        let back = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &["(service web-alb) rolling back to deployment ecs-svc/1."], GOOD);
        let v = check(Outcome::RolledBack).judge(&back, None);
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
        assert!(v.message.contains("settled on `nginx-web:2`"), "{}", v.message);
        let never = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &["(service web-alb) has reached a steady state."], GOOD);
        assert_eq!(check(Outcome::RolledBack).judge(&never, None).status(), Status::Fail);
    }

    #[test]
    fn a_completed_update_must_run_the_newest_revision() {
        let updated = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &[], NEWER);
        assert_eq!(check(Outcome::Completed).judge(&updated, Some(NEWER)).status(), Status::Pass);
        let old = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &[], GOOD);
        let v = check(Outcome::Completed).judge(&old, Some(NEWER));
        assert_eq!(v.message, "service `web-alb` runs `nginx-web:2`, not the newest revision `nginx-web:4`");
    }
}
