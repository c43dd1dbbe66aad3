//! The teardown plan (`grader.teardown-plan/v1`): every leftover the clean-up checks found,
//! as AWS identifies that creation of it, with what it costs and the actions that delete it,
//! in the order AWS lets them be deleted.

use serde::{Deserialize, Serialize};

use crate::checks::{Leftover, Resource};
use crate::checks::identity::KNOWN_KINDS;
use crate::pricing::{self, Charge};
use crate::runner::CheckOutcome;

/// The schema name of plans.
pub const PLAN_SCHEMA: &str = "grader.teardown-plan/v1";

/// The order resources are deleted in: what uses a resource goes before it (the scaling
/// target before its service, the service before its cluster, the load balancer before its
/// target group, the interfaces before their security groups).
const ORDER: &[&str] = &[
    "scalable_target",
    "ecs_service",
    "ecs_task",
    "load_balancer",
    "target_group",
    "network_interface",
    "security_group",
    "log_group",
    "task_definition",
    "iam_role",
    "ecs_cluster",
];

/// A plan for one account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TeardownPlan {
    pub schema: String,
    pub account: String,
    /// The run's region (each resource names its own).
    pub region: String,
    /// When the plan was made, by AWS's clock where an answer gave it.
    pub created_at: String,
    pub grader_version: String,
    /// The labs whose clean-up found these resources.
    pub labs: Vec<String>,
    /// What the resources cost together per hour, each billed thing once: what the teardown stops.
    pub usd_per_hour: f64,
    pub resources: Vec<Planned>,
}

/// One resource to delete.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Planned {
    /// `ecs_service`, `load_balancer`, … (see `ORDER`).
    pub kind: String,
    /// How the resource is looked up again (`CLUSTER/SERVICE` for a service).
    pub name: String,
    /// Its region; `global` for IAM.
    pub region: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_hour: Option<f64>,
    /// The IAM actions deleting it takes, in order.
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
}

impl Planned {
    /// The identity the plan recorded, as `checks::identity` compares it.
    pub fn identity(&self) -> Resource {
        Resource {
            kind: self.kind.clone(),
            name: self.name.clone(),
            region: if self.region == "global" { String::new() } else { self.region.clone() },
            arn: self.arn.clone(),
            created_at: self.created_at.clone(),
            unique_id: self.unique_id.clone(),
        }
    }

    /// What a person reads: the name, and for a security group its id.
    pub fn shown(&self) -> String {
        match &self.unique_id {
            Some(id) if self.kind == "security_group" => format!("{} ({id})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// The IAM actions that delete a resource of `kind`, in the order `apply` takes them.
pub fn actions_for(kind: &str) -> &'static [&'static str] {
    match kind {
        "scalable_target" => &["application-autoscaling:DeregisterScalableTarget"],
        "ecs_service" => &["ecs:UpdateService", "ecs:DeleteService"],
        "ecs_task" => &["ecs:StopTask"],
        "load_balancer" => &["elasticloadbalancing:DeleteLoadBalancer"],
        "target_group" => &["elasticloadbalancing:DeleteTargetGroup"],
        "network_interface" => &["ec2:DeleteNetworkInterface"],
        "security_group" => &["ec2:DeleteSecurityGroup"],
        "log_group" => &["logs:DeleteLogGroup"],
        "task_definition" => &["ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"],
        "iam_role" => &["iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole"],
        "ecs_cluster" => &["ecs:DeleteCluster"],
        _ => &[],
    }
}

impl TeardownPlan {
    /// The plan of a clean-up run's outcomes: each leftover once (two labs' checks may find
    /// the same interface), in deletion order, the order the checks found them within a kind.
    pub fn from_outcomes(account: &str, region: &str, created_at: String, labs: Vec<String>, outcomes: &[CheckOutcome]) -> TeardownPlan {
        TeardownPlan::from_leftovers(account, region, created_at, labs, outcomes.iter().flat_map(|o| &o.leftovers))
    }

    /// The plan of leftovers as the clean-up checks found them (a cohort audit keeps them
    /// per account).
    pub fn from_leftovers<'a>(account: &str, region: &str, created_at: String, labs: Vec<String>, leftovers: impl IntoIterator<Item = &'a Leftover>) -> TeardownPlan {
        let mut resources: Vec<Planned> = Vec::new();
        for leftover in leftovers {
            let Some(identity) = &leftover.identity else { continue };
            if !KNOWN_KINDS.contains(&identity.kind.as_str()) || actions_for(&identity.kind).is_empty() {
                continue;
            }
            let planned = Planned {
                kind: identity.kind.clone(),
                name: identity.name.clone(),
                region: if identity.region.is_empty() { "global".into() } else { identity.region.clone() },
                arn: identity.arn.clone(),
                created_at: identity.created_at.clone(),
                unique_id: identity.unique_id.clone(),
                usd_per_hour: leftover.usd_per_hour,
                actions: actions_for(&identity.kind).iter().map(|a| a.to_string()).collect(),
                charges: leftover.charges.clone(),
            };
            let same = |p: &Planned| p.kind == planned.kind && p.region == planned.region && p.name == planned.name && p.arn == planned.arn;
            if !resources.iter().any(same) {
                resources.push(planned);
            }
        }
        resources.sort_by_key(|p| ORDER.iter().position(|k| *k == p.kind).unwrap_or(ORDER.len()));
        let usd_per_hour = pricing::total(resources.iter().flat_map(|p| &p.charges));
        TeardownPlan {
            schema: PLAN_SCHEMA.into(),
            account: account.into(),
            region: region.into(),
            created_at,
            grader_version: env!("CARGO_PKG_VERSION").into(),
            labs,
            usd_per_hour,
            resources,
        }
    }

    /// Reads a plan, refusing anything that is not one (file and line in the message).
    pub fn parse(text: &str, path: &str) -> Result<TeardownPlan, String> {
        let plan: TeardownPlan = serde_json::from_str(text).map_err(|e| format!("{path}:{}:{}: not a teardown plan: {e}", e.line(), e.column()))?;
        if plan.schema != PLAN_SCHEMA {
            return Err(format!("{path}: schema `{}` is not `{PLAN_SCHEMA}`; make the plan again with `grader cleanup --plan`", plan.schema));
        }
        if let Some(p) = plan.resources.iter().find(|p| actions_for(&p.kind).is_empty()) {
            return Err(format!("{path}: resource `{}` is of kind `{}`, which the teardown does not delete", p.name, p.kind));
        }
        Ok(plan)
    }

    /// The plan as a table, with what deleting it stops paying for.
    pub fn render_human(&self, file: &str) -> String {
        if self.resources.is_empty() {
            return format!("Nothing to delete in account {}: no lab left anything behind.\n", self.account);
        }
        let mut out = format!("Teardown plan for account {} ({} resource(s)):\n\n", self.account, self.resources.len());
        let width = self.resources.iter().map(|p| p.shown().len()).max().unwrap_or(0).max(4);
        out.push_str(&format!("  {:<18} {:<width$}  {:<14} {:>10}\n", "KIND", "NAME", "REGION", "$/HOUR"));
        for p in &self.resources {
            let cost = p.usd_per_hour.map(|c| format!("{c:.4}")).unwrap_or_else(|| "-".into());
            out.push_str(&format!("  {:<18} {:<width$}  {:<14} {cost:>10}\n", p.kind, p.shown(), p.region));
        }
        if self.usd_per_hour > 0.0 {
            out.push_str(&format!("\nDeleting them stops about ${:.4}/hour (${:.2}/day).\n", self.usd_per_hour, self.usd_per_hour * 24.0));
        }
        out.push_str(&format!(
            "\nWritten to {file}. `grader cleanup --apply {file}` deletes exactly these, each only if it is still the same resource (it asks first; `--yes` does not).\n"
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn outcome(leftovers: Vec<Leftover>) -> CheckOutcome {
        CheckOutcome {
            step_id: "cleanup".into(),
            id: "x".into(),
            kind: "cluster_absent",
            title: String::new(),
            status: Status::Fail,
            message: String::new(),
            expected: None,
            found: None,
            hint: None,
            points: 1,
            duration: std::time::Duration::ZERO,
            leftovers,
            resources: Vec::new(),
            transient: false,
        }
    }

    fn found(kind: &str, name: &str, arn: &str) -> Leftover {
        let identity = Resource { kind: kind.into(), name: name.into(), region: "us-east-1".into(), arn: arn.into(), created_at: None, unique_id: None };
        Leftover::new(kind, name, "us-east-1", vec![]).identified(identity)
    }

    #[test]
    fn leftovers_are_planned_once_in_the_order_aws_deletes_them() {
        let cluster = found("ecs_cluster", "fargate-course", "arn:aws:ecs:us-east-1:1:cluster/fargate-course");
        let service = found("ecs_service", "fargate-course/web-nginx", "arn:aws:ecs:us-east-1:1:service/fargate-course/web-nginx");
        let eni = found("network_interface", "eni-1", "");
        let sg = found("security_group", "nginx-web-sg", "arn:aws:ec2:us-east-1:1:security-group/sg-1");
        let plan = TeardownPlan::from_outcomes("1", "us-east-1", "t".into(), vec![], &[outcome(vec![cluster, sg, eni.clone()]), outcome(vec![service, eni])]);
        let kinds: Vec<&str> = plan.resources.iter().map(|p| p.kind.as_str()).collect();
        assert_eq!(kinds, ["ecs_service", "network_interface", "security_group", "ecs_cluster"]);
        assert_eq!(plan.resources[0].actions, ["ecs:UpdateService", "ecs:DeleteService"]);
        let text = serde_json::to_string(&plan).unwrap();
        assert_eq!(TeardownPlan::parse(&text, "plan.json").unwrap(), plan);
    }

    #[test]
    fn something_else_is_not_a_plan() {
        assert!(TeardownPlan::parse("{\"schema\": 1}", "p.json").unwrap_err().starts_with("p.json:1:"));
        let plan = TeardownPlan::from_outcomes("1", "us-east-1", "t".into(), vec![], &[]);
        let mut other = serde_json::to_value(&plan).unwrap();
        other["schema"] = "grader.receipt/v1".into();
        assert!(TeardownPlan::parse(&other.to_string(), "p.json").unwrap_err().contains("is not `grader.teardown-plan/v1`"));
        assert!(plan.render_human("p.json").starts_with("Nothing to delete"));
    }
}
