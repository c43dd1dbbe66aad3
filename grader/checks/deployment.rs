//! `deployment`: what became of the service's last deployment: rolled back by the circuit
//! breaker, or completed on the newest revision.

use aws_sdk_ecs::types::{Service, ServiceDeploymentBrief, ServiceDeploymentStatus, TaskDefinitionStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::{AwsError, AwsErrorKind};

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
    const SUMMARY: &'static str = "The service's last deployment was rolled back by the circuit breaker, or completed on the family's newest revision after any rollback, and the service is settled; a deployment the circuit breaker failed without rollback fails at once.";
    const ACTIONS: &'static [&'static str] = &["ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListServiceDeployments"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(service) = ctx.aws.service(ctx.region, &self.cluster, &self.service).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no service `{}` in cluster `{}`", self.service, self.cluster)).expected(format!("service `{}`", self.service)).found("none"));
        };
        let (mut newest_active, mut newest_registered) = (None, None);
        if let (Some(family), Outcome::Completed) = (&self.task_family, self.outcome) {
            newest_active = ctx.aws.task_definition(ctx.region, family).await?.as_ref().as_ref().and_then(|d| d.task_definition_arn().map(str::to_string));
            let deregistered = ctx.aws.task_definition_arns(ctx.region, family, TaskDefinitionStatus::Inactive).await?;
            newest_registered = [newest_active.clone(), deregistered.first().cloned()].into_iter().flatten().max_by_key(|arn| revision_number(arn));
        }
        // The service deployments API says what became of each deployment; where it is not
        // offered (or an older audit role may not call it), the service's events do.
        let (listed, unlisted_why) = match ctx.aws.service_deployments(ctx.region, &self.cluster, &self.service).await {
            Ok(listed) if listed.is_some() => (Some(listed), None),
            Ok(_) => (None, Some("this endpoint offers no ListServiceDeployments")),
            Err(e) if e.kind == AwsErrorKind::AccessDenied => (None, Some("ecs:ListServiceDeployments was denied")),
            Err(e) => return Err(e),
        };
        let service_deployments = listed.as_ref().and_then(|l| l.as_ref().as_deref());
        let evidence = Evidence { newest_active: newest_active.as_deref(), newest_registered: newest_registered.as_deref(), service_deployments };
        let verdict = self.judge(&service, &evidence);
        // Only a rollback is read from the events; `completed` is judged on revisions either way.
        Ok(match unlisted_why {
            Some(why) if self.outcome == Outcome::RolledBack => verdict.also(Some(format!("judged from the service's events: {why}"))),
            _ => verdict,
        })
    }
}

/// What a `deployment` check knows besides the service itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// With `completed`: the ARN of the family's newest ACTIVE revision.
    pub newest_active: Option<&'a str>,
    /// With `completed`: the family's newest revision ever registered, ACTIVE or not.
    pub newest_registered: Option<&'a str>,
    /// The service's deployments from ListServiceDeployments, newest first, when offered.
    pub service_deployments: Option<&'a [ServiceDeploymentBrief]>,
}

impl Deployment {
    pub fn judge(&self, service: &Service, evidence: &Evidence) -> Verdict {
        let name = &self.service;
        let deployments = service.deployments();
        let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
        let rollout = primary.and_then(|d| d.rollout_state()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into());
        let revision = service.task_definition().unwrap_or("none");
        // With the circuit breaker on and rollback off, a failed deployment stays PRIMARY and
        // FAILED: nothing will change until the learner deploys again, so no waiting.
        if rollout == "FAILED" {
            let reason = primary.and_then(|d| d.rollout_state_reason()).unwrap_or("no reason given");
            let target = primary.and_then(|d| d.task_definition()).unwrap_or(revision);
            return Verdict::fail(format!("the circuit breaker failed service `{name}`'s deployment of `{}` and did not roll it back (rollback is off): {reason}", short(target)))
                .expected(match self.outcome {
                    Outcome::RolledBack => "a failed deployment rolled back by the circuit breaker (deploymentCircuitBreaker rollback=true)".to_string(),
                    Outcome::Completed => "one COMPLETED deployment".to_string(),
                })
                .found(format!("PRIMARY deployment FAILED: {reason}"))
                .conclusive();
        }
        let settled = deployments.len() == 1 && rollout == "COMPLETED";
        if !settled {
            let failed: i32 = deployments.iter().map(|d| d.failed_tasks()).sum();
            return Verdict::fail(format!("service `{name}` is still deploying: {} deployment(s), the newest {rollout}, {failed} failed task(s)", deployments.len()))
                .expected("one COMPLETED deployment")
                .found(format!("{} deployment(s), PRIMARY {rollout}", deployments.len()));
        }
        match self.outcome {
            Outcome::RolledBack => self.judge_rollback(service, evidence.service_deployments, revision),
            Outcome::Completed => self.judge_completed(evidence, revision),
        }
    }

    fn judge_rollback(&self, service: &Service, listed: Option<&[ServiceDeploymentBrief]>, revision: &str) -> Verdict {
        let name = &self.service;
        let never = |found: String| {
            Verdict::fail(format!("service `{name}` is settled, but no deployment of it was rolled back"))
                .expected("a failed deployment rolled back by the circuit breaker (an event \"rolling back to deployment …\")")
                .found(found)
        };
        if let Some(listed) = listed {
            return match listed.iter().find(|d| status_of(d) == ServiceDeploymentStatus::RollbackSuccessful) {
                Some(d) => Verdict::pass(format!("service `{name}` was rolled back by the circuit breaker (service deployment {} ROLLBACK_SUCCESSFUL) and is settled on `{}`", when(d), short(revision))),
                None => never(format!("{} service deployment(s), none ROLLBACK_SUCCESSFUL; the newest {}", listed.len(), listed.first().map(|d| status_of(d).as_str().to_string()).unwrap_or_else(|| "none".into()))),
            };
        }
        match service.events().iter().filter_map(|e| e.message()).find(|m| m.to_ascii_lowercase().contains("rolling back")) {
            Some(event) => Verdict::pass(format!("service `{name}` was rolled back and is settled on `{}`: {event}", short(revision))),
            None => never(format!("one COMPLETED deployment on `{}`, no rollback in the events", short(revision))),
        }
    }

    fn judge_completed(&self, evidence: &Evidence, revision: &str) -> Verdict {
        let name = &self.service;
        if let Some(newest) = evidence.newest_active.filter(|newest| *newest != revision) {
            return Verdict::fail(format!("service `{name}` runs `{}`, not the newest revision `{}`", short(revision), short(newest)))
                .expected(format!("task definition {newest}"))
                .found(revision.to_string());
        }
        // Deregistering the revision the circuit breaker rolled back makes the old one the
        // newest ACTIVE again; a rolling update still means deploying one newer than both.
        if let Some(registered) = evidence.newest_registered.filter(|r| revision_number(r) > revision_number(revision)) {
            return Verdict::fail(format!(
                "service `{name}` runs `{}`, but `{}` was registered after it (and deregistered since): a rolling update deploys a new revision",
                short(revision),
                short(registered)
            ))
            .expected(format!("a revision newer than `{}`, deployed", short(registered)))
            .found(revision.to_string());
        }
        if let Some(newest) = evidence.service_deployments.and_then(|listed| listed.first()) {
            let status = status_of(newest);
            if status != ServiceDeploymentStatus::Successful {
                let why = if status == ServiceDeploymentStatus::RollbackSuccessful { ": the circuit breaker rolled it back, so deploy a revision that starts" } else { "" };
                return Verdict::fail(format!("service `{name}`'s newest deployment ({}) ended {}{why}", when(newest), status.as_str()))
                    .expected("the newest service deployment SUCCESSFUL, after any rollback")
                    .found(format!("newest service deployment {}", status.as_str()));
            }
        }
        Verdict::pass(format!("service `{name}` completed its deployment of `{}`", short(revision)))
    }
}

fn status_of(d: &ServiceDeploymentBrief) -> ServiceDeploymentStatus {
    d.status().cloned().unwrap_or_else(|| ServiceDeploymentStatus::from("UNKNOWN"))
}

/// `created 2026-12-03T08:01:02Z`, or nothing when ECS gave no time.
fn when(d: &ServiceDeploymentBrief) -> String {
    d.created_at().map(|t| format!("created {}", crate::timestamp::of(t))).unwrap_or_else(|| "of unknown date".into())
}

/// A task definition ARN's revision (`…/alb-web:3` → 3); 0 when there is none.
fn revision_number(arn: &str) -> u32 {
    arn.rsplit(':').next().and_then(|r| r.parse().ok()).unwrap_or(0)
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

    fn active(newest: &str) -> Evidence<'_> {
        Evidence { newest_active: Some(newest), newest_registered: Some(newest), service_deployments: None }
    }

    fn brief(status: ServiceDeploymentStatus, created: i64) -> ServiceDeploymentBrief {
        ServiceDeploymentBrief::builder().status(status).created_at(aws_smithy_types::DateTime::from_secs(created)).build()
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
        let v = check(Outcome::RolledBack).judge(&rolling, &Evidence::default());
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("still deploying: 2 deployment(s), the newest IN_PROGRESS, 2 failed task(s)"), "{}", v.message);
        let back = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &["(service web-alb) rolling back to deployment ecs-svc/1."], GOOD);
        let v = check(Outcome::RolledBack).judge(&back, &Evidence::default());
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
        assert!(v.message.contains("settled on `nginx-web:2`"), "{}", v.message);
        let never = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &["(service web-alb) has reached a steady state."], GOOD);
        assert_eq!(check(Outcome::RolledBack).judge(&never, &Evidence::default()).status(), Status::Fail);
    }

    #[test]
    fn a_completed_update_must_run_the_newest_revision() {
        let updated = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &[], NEWER);
        assert_eq!(check(Outcome::Completed).judge(&updated, &active(NEWER)).status(), Status::Pass);
        let old = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &[], GOOD);
        let v = check(Outcome::Completed).judge(&old, &active(NEWER));
        assert_eq!(v.message, "service `web-alb` runs `nginx-web:2`, not the newest revision `nginx-web:4`");
    }

    #[test]
    fn deregistering_the_rolled_back_revision_is_not_an_update() {
        // Rolled back from :3 to :2; :3 deregistered, so :2 is the newest ACTIVE again.
        let settled = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &["(service web-alb) rolling back to deployment ecs-svc/1."], GOOD);
        let broken = "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:3";
        let v = check(Outcome::Completed).judge(&settled, &Evidence { newest_active: Some(GOOD), newest_registered: Some(broken), service_deployments: None });
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("`nginx-web:3` was registered after it (and deregistered since)"), "{}", v.message);
        // And from the service deployments API: the newest one was rolled back, not completed.
        let listed = [brief(ServiceDeploymentStatus::RollbackSuccessful, 200), brief(ServiceDeploymentStatus::Successful, 100)];
        let v = check(Outcome::Completed).judge(&settled, &Evidence { newest_active: Some(GOOD), newest_registered: Some(GOOD), service_deployments: Some(&listed) });
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("ended ROLLBACK_SUCCESSFUL: the circuit breaker rolled it back"), "{}", v.message);
        let updated = [brief(ServiceDeploymentStatus::Successful, 300), brief(ServiceDeploymentStatus::RollbackSuccessful, 200)];
        let newer = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &[], NEWER);
        assert_eq!(check(Outcome::Completed).judge(&newer, &Evidence { newest_active: Some(NEWER), newest_registered: Some(NEWER), service_deployments: Some(&updated) }).status(), Status::Pass);
    }

    #[test]
    fn the_service_deployments_api_decides_a_rollback() {
        let settled = service(&[("PRIMARY", DeploymentRolloutState::Completed, 0)], &[], GOOD);
        let listed = [brief(ServiceDeploymentStatus::RollbackSuccessful, 200), brief(ServiceDeploymentStatus::Successful, 100)];
        let v = check(Outcome::RolledBack).judge(&settled, &Evidence { service_deployments: Some(&listed), ..Evidence::default() });
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
        assert!(v.message.contains("ROLLBACK_SUCCESSFUL"), "{}", v.message);
        // Events older than the newest 100 are gone; the API still knows. Without either, a fail.
        let none = [brief(ServiceDeploymentStatus::Successful, 100)];
        assert_eq!(check(Outcome::RolledBack).judge(&settled, &Evidence { service_deployments: Some(&none), ..Evidence::default() }).status(), Status::Fail);
    }

    #[test]
    fn a_failed_deployment_without_rollback_fails_at_once() {
        let mut failed = EcsDeployment::builder().status("PRIMARY").rollout_state(DeploymentRolloutState::Failed).failed_tasks(3);
        failed = failed.rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.").task_definition("arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:3");
        let s = Service::builder()
            .service_name("web-alb")
            .task_definition(GOOD)
            .deployments(failed.build())
            .deployments(EcsDeployment::builder().status("ACTIVE").rollout_state(DeploymentRolloutState::Completed).build())
            .build();
        for outcome in [Outcome::RolledBack, Outcome::Completed] {
            let v = check(outcome).judge(&s, &Evidence::default());
            assert_eq!(v.status(), Status::Fail);
            assert!(v.conclusive, "waiting cannot change it");
            assert!(v.message.contains("did not roll it back (rollback is off)") && v.message.contains("nginx-web:3"), "{}", v.message);
        }
    }
}
