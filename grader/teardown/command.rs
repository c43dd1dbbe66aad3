//! `grader cleanup`: `--plan FILE` runs the clean-up checks (read-only) and writes what they
//! found as a plan; `--apply FILE` deletes exactly that plan, after asking.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::apply::{apply, render_line, render_summary};
use super::plan::TeardownPlan;
use crate::aws::AwsOptions;
use crate::checks::{Status, Vantage};
use crate::events::Dispatch;
use crate::exit::{Exit, Failure};
use crate::grading::{self, Plan};
use crate::lab::{LabSet, Phase};
use crate::runner::RunOptions;

/// What `grader cleanup --plan` is asked.
pub struct PlanRequest<'a> {
    pub labs: &'a LabSet,
    pub lab: Option<&'a str>,
    pub vars: &'a [(String, String)],
    pub aws: AwsOptions,
    pub file: &'a Path,
}

/// Finds every leftover as `grader check cleanup` does and writes the plan. Exit 0 when there
/// is nothing to delete, 1 when the plan holds resources or a check could not decide.
pub async fn plan(request: PlanRequest<'_>) -> Result<Exit, Failure> {
    // The clean-up steps: every lab's with no `--lab`, else that lab's.
    let steps: Vec<String> = match request.lab {
        None | Some(crate::lab::combined::ALL) => vec!["cleanup".into()],
        Some(id) => request.labs.select(Some(id))?.steps.iter().filter(|s| s.phase == Phase::Cleanup).map(|s| s.id.clone()).collect(),
    };
    let mut combined = None;
    let (lab, steps, vars) = grading::lab_and_steps(request.labs, request.lab, &steps, request.vars, &mut combined)?;
    let run_plan = Plan::new(lab, &steps, false, &vars)?;
    let options = AwsOptions { fallback_region: lab.region.clone(), ..request.aws };
    let aws = grading::connect(&options).await?;
    let run_options = RunOptions { no_wait: true, max_wait: None, vantage: Vantage::Elsewhere };
    let mut quiet = Dispatch::new(Vec::new());
    let end = grading::run(&aws, grading::sign_in(&aws, &options), &run_plan, run_options, &mut quiet, std::future::pending()).await?;
    let labs: Vec<String> = match lab.id.as_str() {
        crate::lab::combined::ALL => run_plan.step_ids().iter().filter_map(|s| s.split_once(':').map(|(l, _)| l.to_string())).collect(),
        id => vec![id.to_string()],
    };
    let created_at = end.aws_time.clone().unwrap_or_else(crate::timestamp::now);
    let plan = TeardownPlan::from_outcomes(&end.account, &end.region, created_at, labs, &end.outcomes);
    let text = serde_json::to_string_pretty(&plan).expect("plans serialize") + "\n";
    std::fs::write(request.file, text).map_err(|e| Failure::usage(format!("failed to write the plan to {}: {e}", request.file.display())))?;
    print!("{}", plan.render_human(&request.file.display().to_string()));
    // A check that could not decide may have missed something: the plan is not the whole truth.
    let undecided: Vec<&str> = end.outcomes.iter().filter(|o| o.status == Status::Error).map(|o| o.id.as_str()).collect();
    if !undecided.is_empty() {
        eprintln!("warning: {} clean-up check(s) could not decide ({}), so the plan may miss what they would have found; see `grader check cleanup`", undecided.len(), undecided.join(", "));
    }
    Ok(if plan.resources.is_empty() && undecided.is_empty() { Exit::Ok } else { Exit::CheckFailed })
}

/// What `grader cleanup --apply` is asked.
pub struct ApplyRequest<'a> {
    pub file: &'a Path,
    pub yes: bool,
    pub json: bool,
    pub aws: AwsOptions,
}

/// Deletes the plan, account by the credentials' account. Exit 0 when everything planned is
/// gone, 1 when something was skipped or failed (or the plan is another account's), 2 when
/// nobody confirmed, 130 when interrupted.
pub async fn apply_plan(request: ApplyRequest<'_>) -> Result<Exit, Failure> {
    let shown = request.file.display().to_string();
    let text = std::fs::read_to_string(request.file).map_err(|e| Failure::usage(format!("failed to read the plan {shown}: {e}")))?;
    let plan = TeardownPlan::parse(&text, &shown).map_err(Failure::usage)?;
    let options = AwsOptions { fallback_region: plan.region.clone(), ..request.aws };
    let aws = grading::connect(&options).await?;
    let account = grading::sign_in(&aws, &options).await?;
    if account != plan.account {
        return Err(Failure {
            exit: Exit::CheckFailed,
            message: format!(
                "the plan is for account {}, but these credentials reach account {account}: nothing was deleted; apply it with that account's credentials (or --role-arn)",
                plan.account
            ),
        });
    }
    if plan.resources.is_empty() {
        println!("The plan lists nothing to delete in account {account}.");
        return Ok(Exit::Ok);
    }
    if !request.yes {
        confirm(&plan, &shown)?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nstopping after the current resource (apply the plan again to continue)…");
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    if !request.json {
        println!("Deleting what {shown} lists in account {account}:");
    }
    let json = request.json;
    let result = apply(&aws, &plan, &stop, |applied| {
        if !json {
            println!("{}", render_line(applied));
            let _ = std::io::stdout().flush();
        }
    })
    .await;
    watcher.abort();
    if json {
        println!("{}", serde_json::to_string_pretty(&result).expect("results serialize"));
    } else {
        print!("{}", render_summary(&result));
    }
    Ok(if result.interrupted {
        Exit::Interrupted
    } else if result.resources.iter().all(|a| a.outcome.done()) {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

/// Asks on a terminal; with none, refuses: a teardown never runs unconfirmed.
fn confirm(plan: &TeardownPlan, file: &str) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "refusing to delete without confirmation: no terminal to ask on; review {file} (or `grader cleanup --plan` again) and pass --yes. Nothing was deleted"
        )));
    }
    print!("{}", plan.render_human(file));
    print!("\nDelete these {} resource(s) in account {}? Type `yes` to go on: ", plan.resources.len(), plan.account);
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" { Ok(()) } else { Err(Failure::usage("not confirmed: nothing was deleted")) }
}
