//! Receipts: `grader check --receipt FILE` records which resources the passing checks graded
//! (ARNs, creation times, the ids AWS gives each creation), and `grader verify-receipt`
//! looks for the same resources in the account again.
//!
//! What a verified receipt proves: the account it names holds (or held, and has since
//! deleted) exactly the resources it lists, created before the receipt was issued; a receipt
//! copied from another account, or pointing at resources that were deleted and created anew,
//! is refused. What it does not prove: the verdicts it carries. A learner can edit those (it
//! is a local file with no signature); only the instructor's own run (`cohort`, or `check
//! --role-arn`) grades. A cluster recreated under the same name cannot be told apart (ECS
//! gives clusters no creation time).

use serde::{Deserialize, Serialize};

use crate::checks::identity::{KNOWN_KINDS, look_again};
pub use crate::checks::identity::{Finding, Seen, judge};
use crate::events::{Reporter, RunEvent};
use crate::checks::{Resource, Status};
use crate::lab::Lab;
use crate::report::Report;
use crate::runner::CheckOutcome;

/// The schema name of receipts.
pub const RECEIPT_SCHEMA: &str = "grader.receipt/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub schema: String,
    pub issued_at: String,
    pub account: String,
    pub region: String,
    pub lab: String,
    /// [`Lab::digest`] of the lab the checks came from.
    pub lab_digest: String,
    pub grader_version: String,
    /// Each step's status as the run decided it (not proof: see the module comment).
    pub steps: Vec<StepClaim>,
    /// What the passing checks graded, once each.
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepClaim {
    pub id: String,
    pub status: Status,
}

impl Receipt {
    pub fn issue(lab: &Lab, report: &Report, outcomes: &[CheckOutcome], issued_at: String) -> Receipt {
        let mut resources: Vec<Resource> = Vec::new();
        for resource in outcomes.iter().filter(|o| o.status == Status::Pass).flat_map(|o| &o.resources) {
            if !resources.iter().any(|r| r.arn == resource.arn) {
                resources.push(resource.clone());
            }
        }
        Receipt {
            schema: RECEIPT_SCHEMA.into(),
            issued_at,
            account: report.account.clone(),
            region: report.region.clone(),
            lab: lab.id.clone(),
            lab_digest: lab.digest(),
            grader_version: env!("CARGO_PKG_VERSION").into(),
            steps: report.steps.iter().map(|s| StepClaim { id: s.id.clone(), status: s.status }).collect(),
            resources,
        }
    }

    /// Reads a receipt, naming the file and what is wrong with it.
    pub fn parse(text: &str, path: &str) -> Result<Receipt, String> {
        let receipt: Receipt = serde_json::from_str(text).map_err(|e| format!("{path}:{}:{}: not a grader receipt: {e}", e.line(), e.column()))?;
        if receipt.schema != RECEIPT_SCHEMA {
            return Err(format!("{path}: schema `{}` is not `{RECEIPT_SCHEMA}`; this grader reads {RECEIPT_SCHEMA}", receipt.schema));
        }
        if let Some(r) = receipt.resources.iter().find(|r| !KNOWN_KINDS.contains(&r.kind.as_str())) {
            return Err(format!("{path}: resource `{}` is of kind `{}`, which no check records (known: {})", r.arn, r.kind, KNOWN_KINDS.join(", ")));
        }
        Ok(receipt)
    }
}

/// `--receipt FILE` as a reporter: the receipt is written when the run ends.
pub struct ReceiptReporter {
    path: std::path::PathBuf,
    lab: Option<Lab>,
}

impl ReceiptReporter {
    pub fn new(path: std::path::PathBuf) -> ReceiptReporter {
        ReceiptReporter { path, lab: None }
    }
}

impl Reporter for ReceiptReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        match event {
            RunEvent::Started { lab, .. } => self.lab = Some((*lab).clone()),
            RunEvent::Check(_) | RunEvent::Action(_) | RunEvent::AccountFinished(_) | RunEvent::TeardownFinished(_) | RunEvent::Selftest(_) => {}
            // Stopped before signing in: there is no account to tie anything to.
            RunEvent::Finished(end) if end.account.is_empty() => eprintln!("no receipt written: the run stopped before it signed in"),
            RunEvent::Finished(end) => {
                let lab = self.lab.as_ref().expect("a run starts before it finishes");
                // AWS's clock, not this machine's: the resources' creation times are AWS's, and a
                // learner's clock a few minutes slow must not make them look created later.
                let issued_at = end.aws_time.clone().unwrap_or_else(crate::timestamp::now);
                let receipt = Receipt::issue(lab, &end.report, &end.outcomes, issued_at);
                let text = serde_json::to_string_pretty(&receipt).expect("receipts serialize") + "\n";
                std::fs::write(&self.path, text).map_err(|e| format!("failed to write the receipt to {}: {e}", self.path.display()))?;
                let shown = self.path.display();
                eprintln!("receipt written to {shown} ({} resource(s)); `grader verify-receipt {shown}` checks it against the account", receipt.resources.len());
            }
        }
        Ok(())
    }
}

/// What `grader verify-receipt` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub schema: &'static str,
    /// The account the credentials reach now.
    pub account: String,
    /// Whether the receipt holds up: same account, and no resource replaced or unknown.
    pub verified: bool,
    /// Why the whole receipt is refused, when it is (another account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub resources: Vec<ResourceFinding>,
    /// Differences worth knowing that do not refuse the receipt (another lab version).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceFinding {
    #[serde(flatten)]
    pub resource: Resource,
    #[serde(flatten)]
    pub finding: Finding,
}

/// Looks for every resource of `receipt` in the account `aws` reaches (`account`).
pub async fn verify(aws: &crate::aws::Aws, account: &str, receipt: &Receipt, lab: Option<&Lab>) -> Verification {
    let mut notes = Vec::new();
    match lab {
        Some(lab) if lab.digest() != receipt.lab_digest => notes.push(format!(
            "the receipt was issued for lab `{}` with content {}; this grader's copy is {}: the checks may have changed since",
            receipt.lab,
            receipt.lab_digest,
            lab.digest()
        )),
        None => notes.push(format!("this grader has no lab `{}`; the resources were still looked for", receipt.lab)),
        Some(_) => {}
    }
    let mut verification = Verification { schema: VERIFICATION_SCHEMA, account: account.to_string(), verified: false, refused: None, resources: Vec::new(), notes };
    if receipt.account != account {
        verification.refused = Some(format!(
            "the receipt is for account {}, but these credentials reach account {account}: verify it with the role of the account it names",
            receipt.account
        ));
        return verification;
    }
    let lookup = aws.lookup();
    let findings = futures::future::join_all(receipt.resources.iter().map(|claimed| async {
        match look_again(&lookup, claimed).await {
            Ok(seen) => judge(claimed, &receipt.issued_at, seen),
            Err(e) => Finding::Unknown { why: e.to_string() },
        }
    }))
    .await;
    verification.resources = receipt.resources.iter().cloned().zip(findings).map(|(resource, finding)| ResourceFinding { resource, finding }).collect();
    verification.verified = !verification.resources.iter().any(|r| r.finding.refuses());
    verification
}

/// The schema name of `verify-receipt --format json`.
pub const VERIFICATION_SCHEMA: &str = "grader.receipt-verification/v1";

/// `verify-receipt`'s readable answer.
pub fn render_human(receipt: &Receipt, verification: &Verification) -> String {
    let mut out = format!(
        "Receipt: account {}, lab `{}` ({}), issued {} by grader {}\n",
        receipt.account, receipt.lab, receipt.lab_digest, receipt.issued_at, receipt.grader_version
    );
    if let Some(why) = &verification.refused {
        out.push_str(&format!("✗ refused: {why}\n"));
        return out;
    }
    for r in &verification.resources {
        let name = format!("{} `{}`", r.resource.kind, r.resource.name);
        out.push_str(&match &r.finding {
            Finding::Unchanged => format!("  ✓ {name}: still there, the same one\n"),
            Finding::Deleted => format!("  ✓ {name}: deleted since (consistent with clean-up)\n"),
            Finding::Replaced { why } => format!("  ✗ {name}: {why}\n"),
            Finding::Unknown { why } => format!("  ! {name}: could not look: {why}\n"),
        });
    }
    if receipt.resources.is_empty() {
        out.push_str("  (the receipt lists no resources: no check that records one passed)\n");
    }
    for note in &verification.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(if verification.verified {
        "Verified: the account holds, or held and deleted, every resource the receipt lists.\nThe step results in a receipt are the learner's copy: your own run (`grader check --role-arn`, `grader cohort`) is what grades.\n"
    } else {
        "Not verified: see the lines marked ✗ or !.\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUED: &str = "2026-11-27T18:00:00Z";

    fn role(id: &str, created: &str) -> Resource {
        Resource {
            kind: "iam_role".into(),
            name: "ecsTaskExecutionRole".into(),
            region: String::new(),
            arn: "arn:aws:iam::111122223333:role/ecsTaskExecutionRole".into(),
            created_at: Some(created.into()),
            unique_id: Some(id.into()),
        }
    }

    fn seen(resource: Resource, live: bool) -> Option<Seen> {
        Some(Seen { resource, live })
    }

    #[test]
    fn the_same_creation_is_unchanged_and_a_gone_one_deleted() {
        let claimed = role("AROA1", "2026-11-27T17:00:00Z");
        assert_eq!(judge(&claimed, ISSUED, seen(claimed.clone(), true)), Finding::Unchanged);
        assert_eq!(judge(&claimed, ISSUED, None), Finding::Deleted);
        // ECS answers for deleted services and deregistered revisions, as INACTIVE.
        assert_eq!(judge(&claimed, ISSUED, seen(claimed.clone(), false)), Finding::Deleted);
    }

    #[test]
    fn a_live_resource_with_a_new_id_or_creation_time_is_refused() {
        let claimed = role("AROA1", "2026-11-27T17:00:00Z");
        let new_id = judge(&claimed, ISSUED, seen(role("AROA2", "2026-11-27T17:00:00Z"), true));
        assert!(matches!(&new_id, Finding::Replaced { why } if why.contains("id AROA2 (receipt: AROA1)")), "{new_id:?}");
        let later = judge(&claimed, ISSUED, seen(role("AROA1", "2026-11-27T19:00:00Z"), true));
        assert!(matches!(&later, Finding::Replaced { why } if why.contains("created 2026-11-27T19:00:00Z")), "{later:?}");
        // Recreated and deleted again: the receipt's resource is gone all the same.
        assert_eq!(judge(&claimed, ISSUED, seen(role("AROA2", "2026-11-27T19:00:00Z"), false)), Finding::Deleted);
    }

    #[test]
    fn a_creation_time_after_the_receipt_means_an_edited_receipt() {
        let claimed = role("AROA1", "2026-11-28T09:00:00Z");
        let finding = judge(&claimed, ISSUED, seen(claimed.clone(), true));
        assert!(matches!(&finding, Finding::Replaced { why } if why.contains("the receipt was edited")), "{finding:?}");
        assert!(finding.refuses());
    }

    #[test]
    fn receipts_of_another_schema_or_with_unknown_kinds_are_refused_with_the_file_named() {
        let err = Receipt::parse("{\"schema\": \"grader.report/v1\"}", "r.json").unwrap_err();
        assert!(err.starts_with("r.json:1:"), "{err}");
        let mut receipt = Receipt {
            schema: "grader.receipt/v2".into(),
            issued_at: ISSUED.into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            lab: "fargate-nginx".into(),
            lab_digest: "0123456789abcdef".into(),
            grader_version: "0.1.0".into(),
            steps: vec![],
            resources: vec![role("AROA1", "2026-11-27T17:00:00Z")],
        };
        let err = Receipt::parse(&serde_json::to_string(&receipt).unwrap(), "r.json").unwrap_err();
        assert!(err.contains("schema `grader.receipt/v2` is not `grader.receipt/v1`"), "{err}");
        receipt.schema = RECEIPT_SCHEMA.into();
        receipt.resources[0].kind = "s3_bucket".into();
        let err = Receipt::parse(&serde_json::to_string(&receipt).unwrap(), "r.json").unwrap_err();
        assert!(err.contains("of kind `s3_bucket`, which no check records"), "{err}");
        receipt.resources[0].kind = "iam_role".into();
        assert_eq!(Receipt::parse(&serde_json::to_string(&receipt).unwrap(), "r.json").unwrap(), receipt);
    }
}
