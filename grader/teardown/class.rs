//! A class's teardown: `grader cohort --teardown-plan FILE` writes one plan with a section per
//! account (`grader.teardown-class-plan/v1`), and `grader cleanup --apply FILE` applies it
//! account by account through each account's teardown role, a few accounts at a time. One
//! account's failure (a role that cannot be assumed, a deletion refused) never stops the others.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_config::SdkConfig;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::apply::{TeardownResult, apply};
use super::plan::TeardownPlan;
use crate::aws::assume::{Access, reach, with_cached_credentials};
use crate::events::{AccountTally, Dispatch, RunEvent};

/// The schema name of class plans.
pub const CLASS_PLAN_SCHEMA: &str = "grader.teardown-class-plan/v1";
/// The schema name of `--apply --format json` for a class.
pub const CLASS_RESULT_SCHEMA: &str = "grader.teardown-class-result/v1";

/// One plan for a class: a section per account the audit reached, and the accounts it could
/// not plan for (their leftovers are unknown, so nothing of theirs is deleted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassPlan {
    pub schema: String,
    /// When the audit ended (the instructor's clock).
    pub created_at: String,
    pub grader_version: String,
    pub labs: Vec<String>,
    /// What every account's resources cost together per hour.
    pub usd_per_hour: f64,
    pub accounts: Vec<AccountPlan>,
    #[serde(default)]
    pub not_planned: Vec<NotPlanned>,
}

/// One account's section: how to reach it to delete, and its plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountPlan {
    pub label: String,
    /// The role `--apply` assumes to delete (the roster's `teardown_role_arn`); without one,
    /// `--teardown-role-name` names it in every account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A profile whose credentials reach the account (or assume its role), as in the roster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Some clean-up checks could not decide: the plan may miss what they would have found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    pub plan: TeardownPlan,
}

/// An account the audit could not plan for, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotPlanned {
    pub label: String,
    pub account_id: String,
    pub why: String,
}

/// One account's teardown.
#[derive(Debug, Clone, Serialize)]
pub struct AccountApplied {
    pub label: String,
    pub account_id: String,
    /// Why nothing was deleted in it (its role could not be assumed, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<TeardownResult>,
}

/// The class's teardown, for `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct ClassResult {
    pub schema: &'static str,
    pub accounts: Vec<AccountApplied>,
    pub usd_per_hour_stopped: f64,
    pub interrupted: bool,
}

impl ClassResult {
    /// Every account reached and everything planned gone.
    pub fn complete(&self) -> bool {
        self.accounts.iter().all(|a| a.error.is_none() && a.result.as_ref().is_some_and(TeardownResult::complete))
    }
}

impl ClassPlan {
    pub fn new(created_at: String, labs: Vec<String>, accounts: Vec<AccountPlan>, not_planned: Vec<NotPlanned>) -> ClassPlan {
        let usd_per_hour = accounts.iter().map(|a| a.plan.usd_per_hour).sum();
        ClassPlan { schema: CLASS_PLAN_SCHEMA.into(), created_at, grader_version: env!("CARGO_PKG_VERSION").into(), labs, usd_per_hour, accounts, not_planned }
    }

    /// Reads a class plan, refusing anything that is not one; each account's plan is checked
    /// as a plan of its own is.
    pub fn parse(text: &str, path: &str) -> Result<ClassPlan, String> {
        let plan: ClassPlan = serde_json::from_str(text).map_err(|e| format!("{path}:{}:{}: not a class teardown plan: {e}", e.line(), e.column()))?;
        if plan.schema != CLASS_PLAN_SCHEMA {
            return Err(format!("{path}: schema `{}` is not `{CLASS_PLAN_SCHEMA}`", plan.schema));
        }
        for account in &plan.accounts {
            let text = serde_json::to_string(&account.plan).expect("plans serialize");
            TeardownPlan::parse(&text, &format!("{path} (account {})", account.plan.account))?;
        }
        Ok(plan)
    }

    /// The role each account is deleted through: its own `teardown_role_arn`, else
    /// `role_name` in that account. The accounts with neither are the error.
    pub fn roles(&self, role_name: Option<&str>) -> Result<Vec<String>, String> {
        let mut roles = Vec::new();
        let mut missing = Vec::new();
        for a in &self.accounts {
            match (&a.teardown_role_arn, role_name) {
                (Some(arn), _) => roles.push(arn.clone()),
                (None, Some(name)) => roles.push(format!("arn:{}:iam::{}:role/{name}", partition(&a.plan.region), a.plan.account)),
                (None, None) => missing.push(format!("{} ({})", a.label, a.plan.account)),
            }
        }
        if missing.is_empty() {
            Ok(roles)
        } else {
            Err(format!(
                "no teardown role for {}: give --teardown-role-name NAME (the role in every account) or a `teardown_role_arn` roster column, then plan again. Nothing was deleted",
                missing.join(", ")
            ))
        }
    }

    /// The plan as a table: an account a line, what it holds and costs.
    pub fn render_human(&self, file: &str) -> String {
        let resources: usize = self.accounts.iter().map(|a| a.plan.resources.len()).sum();
        let mut out = format!("Teardown plan for a class of {} account(s): {resources} resource(s)\n\n", self.accounts.len() + self.not_planned.len());
        let width = self.accounts.iter().map(|a| a.label.chars().count()).chain(self.not_planned.iter().map(|n| n.label.chars().count())).max().unwrap_or(0).max(7);
        out.push_str(&format!("  {:<width$}  {:<12}  {:>9}  {:>10}\n", "ACCOUNT", "ID", "RESOURCES", "$/HOUR"));
        for a in &self.accounts {
            let note = a.incomplete.as_ref().map(|why| format!("  (incomplete: {why})")).unwrap_or_default();
            out.push_str(&format!("  {:<width$}  {:<12}  {:>9}  {:>10.4}{note}\n", a.label, a.plan.account, a.plan.resources.len(), a.plan.usd_per_hour));
        }
        for n in &self.not_planned {
            out.push_str(&format!("  {:<width$}  {:<12}  not planned: {}\n", n.label, n.account_id, n.why));
        }
        if self.usd_per_hour > 0.0 {
            out.push_str(&format!("\nDeleting them stops about ${:.4}/hour (${:.2}/day).\n", self.usd_per_hour, self.usd_per_hour * 24.0));
        }
        out.push_str(&format!(
            "\nWritten to {file}. `grader cleanup --apply {file}` deletes exactly these, account by account through each account's teardown role, each only if it is still the same resource.\n"
        ));
        out
    }
}

/// The partition of a region's ARNs.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// What applying a class plan needs besides the plan.
pub struct ClassApply<'a> {
    pub plan: &'a ClassPlan,
    /// The role to delete through, per account, in plan order (see [`ClassPlan::roles`]).
    pub roles: Vec<String>,
    /// The instructor's configuration: credentials, endpoint, default region.
    pub base: SdkConfig,
    pub concurrency: usize,
    pub verbose: bool,
    /// AssumeRole calls, paced across the class.
    pub assume_pace: std::sync::Arc<crate::aws::assume::Pace>,
}

/// Applies every account's plan, `concurrency` accounts at a time, each through its teardown
/// role. Every event goes to `dispatch` as it happens; `stop` (Ctrl-C) ends each account's
/// teardown after its current resource and starts no other account.
pub async fn apply_class(run: &ClassApply<'_>, stop: &AtomicBool, dispatch: &Mutex<Dispatch<'_>>) -> ClassResult {
    let base = &with_cached_credentials(&run.base);
    let mut applied: Vec<(usize, AccountApplied)> = futures::stream::iter(run.plan.accounts.iter().zip(&run.roles).enumerate())
        .map(|(i, (account, role))| async move {
            let done = one_account(run, base, account, role, stop, dispatch).await;
            let tally = match (&done.result, &done.error) {
                (Some(result), _) => result.tally(Some(&account.label)),
                (None, error) => AccountTally { account: account.plan.account.clone(), label: Some(account.label.clone()), error: error.clone(), ..AccountTally::default() },
            };
            dispatch.lock().expect("event lock").emit(&RunEvent::AccountFinished(&tally));
            (i, done)
        })
        .buffer_unordered(run.concurrency.max(1))
        .collect()
        .await;
    applied.sort_by_key(|(i, _)| *i);
    let accounts: Vec<AccountApplied> = applied.into_iter().map(|(_, a)| a).collect();
    let usd_per_hour_stopped = accounts.iter().filter_map(|a| a.result.as_ref()).map(|r| r.usd_per_hour_stopped).sum();
    ClassResult { schema: CLASS_RESULT_SCHEMA, accounts, usd_per_hour_stopped, interrupted: stop.load(Ordering::SeqCst) }
}

async fn one_account(run: &ClassApply<'_>, base: &SdkConfig, account: &AccountPlan, role: &str, stop: &AtomicBool, dispatch: &Mutex<Dispatch<'_>>) -> AccountApplied {
    let plan = &account.plan;
    let failed = |error: String| AccountApplied { label: account.label.clone(), account_id: plan.account.clone(), error: Some(error), result: None };
    let finished = |result: TeardownResult| AccountApplied { label: account.label.clone(), account_id: plan.account.clone(), error: None, result: Some(result) };
    if plan.resources.is_empty() {
        return finished(TeardownResult { interrupted: false, ..TeardownResult::not_attempted(plan) });
    }
    // Interrupted before this account's turn: nothing is asked of it.
    if stop.load(Ordering::SeqCst) {
        return finished(TeardownResult::not_attempted(plan));
    }
    let access = Access {
        pace: Some(&run.assume_pace),
        region: Some(&plan.region),
        profile: account.profile.as_deref(),
        role_arn: Some(role),
        external_id: account.external_id.as_deref(),
        session_name: "fargate-course-teardown",
    };
    let (aws, reached) = match reach(base, &access, run.verbose).await {
        Ok(r) => r,
        Err(e) => return failed(e.message),
    };
    // The same refusal as one account's plan: never delete in an account the plan is not for.
    if reached != plan.account {
        return failed(format!("role `{role}` belongs to account {reached}, but the plan is for account {}", plan.account));
    }
    let result = apply(&aws, plan, stop, |a| {
        dispatch.lock().expect("event lock").emit(&RunEvent::Action(&a.event(&plan.account)));
    })
    .await;
    finished(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(label: &str, id: &str, role: Option<&str>, region: &str) -> AccountPlan {
        let mut plan = TeardownPlan::from_leftovers(id, region, "2026-12-03T10:00:00Z".into(), vec!["fargate-nginx".into()], []);
        plan.usd_per_hour = 0.0173;
        AccountPlan { label: label.into(), teardown_role_arn: role.map(str::to_string), external_id: None, profile: None, incomplete: None, plan }
    }

    #[test]
    fn each_account_is_deleted_through_its_own_role_or_the_named_one_in_its_partition() {
        let plan = ClassPlan::new(
            "t".into(),
            vec![],
            vec![
                account("Ana", "111122223333", Some("arn:aws:iam::111122223333:role/custom"), "us-east-1"),
                account("Bo", "444455556666", None, "cn-north-1"),
                account("Cy", "777788889999", None, "us-gov-west-1"),
            ],
            vec![],
        );
        assert_eq!(
            plan.roles(Some("grader-teardown")).unwrap(),
            ["arn:aws:iam::111122223333:role/custom", "arn:aws-cn:iam::444455556666:role/grader-teardown", "arn:aws-us-gov:iam::777788889999:role/grader-teardown"]
        );
        let e = plan.roles(None).unwrap_err();
        assert!(e.starts_with("no teardown role for Bo (444455556666), Cy (777788889999): give --teardown-role-name"), "{e}");
        assert!((plan.usd_per_hour - 0.0519).abs() < 1e-9);
    }

    #[test]
    fn a_class_plan_reads_back_and_something_else_is_refused_with_where() {
        let plan = ClassPlan::new("t".into(), vec![], vec![account("Ana", "111122223333", None, "us-east-1")], vec![NotPlanned { label: "Bo".into(), account_id: "444455556666".into(), why: "role cannot be assumed".into() }]);
        let text = serde_json::to_string_pretty(&plan).unwrap();
        assert_eq!(ClassPlan::parse(&text, "class.json").unwrap(), plan);
        let mut broken: serde_json::Value = serde_json::from_str(&text).unwrap();
        broken["accounts"][0]["plan"]["schema"] = "grader.receipt/v1".into();
        let e = ClassPlan::parse(&broken.to_string(), "class.json").unwrap_err();
        assert!(e.contains("class.json (account 111122223333): schema `grader.receipt/v1`"), "{e}");
        let shown = plan.render_human("class.json");
        assert!(shown.contains("Bo       444455556666  not planned: role cannot be assumed"), "{shown}");
    }
}
