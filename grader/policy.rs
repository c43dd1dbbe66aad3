//! IAM policies the grader needs: the read-only permissions of a lab (from the actions each
//! check kind declares) and the trust policy of the cohort audit role.

use std::collections::BTreeSet;

use serde_json::json;

use crate::lab::Lab;

/// Every action the labs' checks may call, sorted and each once (IAM compares action names
/// without regard to case). Identity comes first in every run.
pub fn actions(labs: &[&Lab]) -> BTreeSet<String> {
    let mut actions: BTreeSet<String> = ["sts:GetCallerIdentity".to_string()].into();
    for (_, check) in labs.iter().flat_map(|l| l.checks()) {
        for action in check.kind.actions() {
            if !actions.iter().any(|a| a.eq_ignore_ascii_case(&action)) {
                actions.insert(action);
            }
        }
    }
    actions
}

/// The least-privilege permissions policy for running these labs' checks; with `spend`, also
/// for reading the account's costs (`grader cohort --spend`), in a statement of its own.
pub fn permissions_policy(labs: &[&Lab], spend: bool) -> serde_json::Value {
    let name: String = match labs {
        [lab] => lab.id.split(['-', '_']).map(capitalise).collect(),
        _ => "AllLabs".into(),
    };
    let mut statements = vec![json!({
        "Sid": format!("FargateCourseGrader{name}"),
        "Effect": "Allow",
        "Action": actions(labs).into_iter().collect::<Vec<_>>(),
        "Resource": "*"
    })];
    if spend {
        // Cost Explorer has no resource-level permissions: `*` is the only Resource it takes.
        statements.push(json!({ "Sid": "FargateCourseSpend", "Effect": "Allow", "Action": ["ce:GetCostAndUsage"], "Resource": "*" }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The trust policy for the audit role in each learner account: the instructor's account may
/// assume it, only with the class's external id.
pub fn trust_policy(instructor_account: &str, external_id: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{instructor_account}:root") },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "sts:ExternalId": external_id } }
        }]
    })
}

fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}
