//! Is it still the same creation? Looking a resource a check graded (or a clean-up check
//! found) up again, read-only, and comparing what identifies each creation: its ARN, its
//! creation time and the id AWS gives it. Receipts (`grader verify-receipt`) and the teardown
//! (`grader cleanup --apply`, which deletes only what is still the planned resource) both ask.

use aws_sdk_ecs::types::DesiredStatus;
use serde::Serialize;

use super::{Resource, graded};
use crate::aws::{AwsError, Lookup};

/// The resource kinds [`look_again`] can find.
pub const KNOWN_KINDS: &[&str] = &[
    "ecs_cluster",
    "ecs_service",
    "ecs_task",
    "task_definition",
    "iam_role",
    "log_group",
    "security_group",
    "network_interface",
    "load_balancer",
    "target_group",
    "listener",
    "scalable_target",
];

/// What became of a resource a receipt or a teardown plan recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// Still there, the same creation.
    Unchanged,
    /// Gone (or INACTIVE): consistent with the lab's clean-up.
    Deleted,
    /// Something else holds its name now, or it claims to predate its own creation: refused.
    Replaced { why: String },
    /// AWS could not be asked.
    Unknown { why: String },
}

impl Finding {
    pub fn refuses(&self) -> bool {
        !matches!(self, Finding::Unchanged | Finding::Deleted)
    }
}

/// A resource as the account shows it today, and whether it is live (not INACTIVE or
/// being deleted).
pub struct Seen {
    pub resource: Resource,
    pub live: bool,
}

/// Compares what the receipt says with what the account shows. Pure, for tests.
pub fn judge(claimed: &Resource, issued_at: &str, seen: Option<Seen>) -> Finding {
    // RFC 3339 UTC times of the same shape compare as text.
    if let Some(created) = &claimed.created_at {
        if created.as_str() > issued_at {
            return Finding::Replaced { why: format!("it claims to be created at {created}, after the receipt was issued ({issued_at}): the receipt was edited") };
        }
    }
    let Some(Seen { resource: now, live }) = seen else { return Finding::Deleted };
    let mut differences = Vec::new();
    if now.arn != claimed.arn {
        differences.push(format!("ARN {} (receipt: {})", now.arn, claimed.arn));
    }
    if now.unique_id != claimed.unique_id {
        differences.push(format!("id {} (receipt: {})", now.unique_id.as_deref().unwrap_or("none"), claimed.unique_id.as_deref().unwrap_or("none")));
    }
    if now.created_at != claimed.created_at {
        differences.push(format!("created {} (receipt: {})", now.created_at.as_deref().unwrap_or("unknown"), claimed.created_at.as_deref().unwrap_or("unknown")));
    }
    match (differences.is_empty(), live) {
        (true, true) => Finding::Unchanged,
        (true, false) => Finding::Deleted,
        // The receipt's resource is gone and so is whatever took its name: cleaned up.
        (false, false) => Finding::Deleted,
        (false, true) => Finding::Replaced { why: format!("a different {} holds the name now: {}", claimed.kind, differences.join(", ")) },
    }
}

/// Looks a resource up again, read-only, as the check that found it did.
pub async fn look_again(aws: &Lookup<'_>, claimed: &Resource) -> Result<Option<Seen>, AwsError> {
    let region = claimed.region.as_str();
    Ok(match claimed.kind.as_str() {
        "ecs_cluster" => aws.cluster(region, &claimed.name).await?.as_ref().as_ref().map(|c| Seen { resource: graded::cluster(c, region), live: c.status() == Some("ACTIVE") }),
        "ecs_service" => {
            let (cluster, service) = claimed.name.split_once('/').unwrap_or(("default", claimed.name.as_str()));
            aws.service(region, cluster, service).await?.as_ref().as_ref().map(|s| Seen { resource: graded::service(cluster, s, region), live: s.status() == Some("ACTIVE") })
        }
        // By ARN: an INACTIVE revision still answers, with its registration time.
        "task_definition" => aws
            .task_definition(region, &claimed.arn)
            .await?
            .as_ref()
            .as_ref()
            .map(|d| Seen { resource: graded::task_definition(d, region), live: d.status().map(|s| s.as_str()) == Some("ACTIVE") }),
        "iam_role" => aws.role(&claimed.name).await?.as_ref().as_ref().map(|r| Seen { resource: graded::role(&claimed.name, r), live: true }),
        "log_group" => aws.log_group(region, &claimed.name).await?.map(|g| Seen { resource: graded::log_group(&g, region), live: true }),
        "security_group" => {
            let groups = aws.security_groups_named(region, &claimed.name).await?;
            // The same group if it is still there, else whichever took its name.
            let same = groups.iter().find(|g| Some(&g.id) == claimed.unique_id.as_ref());
            same.or(groups.first()).map(|g| Seen { resource: graded::security_group(g, region), live: true })
        }
        "load_balancer" => aws.load_balancer(region, &claimed.name).await?.as_ref().as_ref().map(|lb| Seen { resource: graded::load_balancer(lb, region), live: true }),
        "target_group" => aws.target_group(region, &claimed.name).await?.as_ref().as_ref().map(|g| Seen { resource: graded::target_group(g, region), live: true }),
        "listener" => {
            let (lb_name, port) = claimed.name.rsplit_once(':').unwrap_or((claimed.name.as_str(), "80"));
            match aws.load_balancer(region, lb_name).await?.as_ref() {
                Some(lb) => {
                    let listeners = aws.listeners(region, &lb.arn).await?;
                    listeners.iter().find(|l| l.port.map(|p| p.to_string()).as_deref() == Some(port)).map(|l| Seen { resource: graded::listener(lb_name, l, region), live: true })
                }
                None => None,
            }
        }
        "scalable_target" => aws.scalable_target(region, &claimed.name).await?.as_ref().as_ref().map(|t| Seen { resource: graded::scalable_target(&claimed.name, t, region), live: true }),
        // A task is known by its ARN (`…:task/CLUSTER/ID`); gone once it no longer runs.
        "ecs_task" => {
            let cluster = claimed.arn.rsplit('/').nth(1).unwrap_or("default");
            let tasks = aws.tasks(region, cluster, None, DesiredStatus::Running).await?;
            tasks.iter().find(|t| t.task_arn() == Some(claimed.arn.as_str())).map(|t| Seen { resource: graded::task(t, region), live: true })
        }
        "network_interface" => {
            let enis = aws.enis(region, std::slice::from_ref(&claimed.name)).await?;
            enis.iter().find(|e| e.id == claimed.name).map(|e| Seen { resource: graded::network_interface(e, region), live: true })
        }
        // `Receipt::parse` refuses other kinds.
        other => return Err(AwsError::other("grader:VerifyReceipt", format!("a receipt resource of unknown kind `{other}`"))),
    })
}

