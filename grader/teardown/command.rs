//! `grader cleanup`: `--plan FILE` runs the clean-up checks (read-only) and writes what they
//! found as a plan; `--apply FILE` deletes exactly that plan, after asking.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::sync::Mutex;

use super::apply::apply;
use super::class::{CLASS_PLAN_SCHEMA, ClassApply, ClassPlan, apply_class};
use super::plan::TeardownPlan;
use super::report::{HumanApply, ResultDocument};
use crate::aws::AwsOptions;
use crate::checks::{Status, Vantage};
use crate::events::{Dispatch, NdjsonReporter, Reporter, RunEvent};
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
    let labs = grading::labs_of(&run_plan);
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

/// How `--apply` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutput {
    /// A line per resource (a class: per account, under a bar) and a summary.
    Human,
    /// The result document at the end.
    Json,
    /// Every event as a JSON line, as it happens.
    Ndjson,
}

/// What `grader cleanup --apply` is asked.
pub struct ApplyRequest<'a> {
    pub file: &'a Path,
    pub yes: bool,
    pub output: ApplyOutput,
    pub aws: AwsOptions,
    /// A class plan: the teardown role's name in accounts whose section names no role.
    pub teardown_role_name: Option<&'a str>,
    /// A class plan: how many accounts at once.
    pub concurrency: usize,
}

/// Deletes the plan: one account's (`grader cleanup --plan`) or a class's (`grader cohort
/// --teardown-plan`). Exit 0 when everything planned is gone, 1 when something was skipped
/// or failed (or the plan is another account's), 2 when nobody confirmed, 130 when interrupted.
pub async fn apply_plan(request: ApplyRequest<'_>) -> Result<Exit, Failure> {
    let shown = request.file.display().to_string();
    let text = std::fs::read_to_string(request.file).map_err(|e| Failure::usage(format!("failed to read the plan {shown}: {e}")))?;
    // The schema says which plan it is; a file that is neither is refused as a plan.
    let schema = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v.get("schema").and_then(|s| s.as_str()).map(str::to_string));
    if schema.as_deref() == Some(CLASS_PLAN_SCHEMA) {
        let plan = ClassPlan::parse(&text, &shown).map_err(Failure::usage)?;
        return apply_class_plan(&request, &plan, &shown).await;
    }
    let plan = TeardownPlan::parse(&text, &shown).map_err(Failure::usage)?;
    let options = AwsOptions { fallback_region: plan.region.clone(), ..request.aws.clone() };
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
        confirm(&plan.render_human(&shown), &format!("Delete these {} resource(s) in account {}?", plan.resources.len(), plan.account), &shown)?;
    }
    if request.output == ApplyOutput::Human {
        println!("Deleting what {shown} lists in account {account}:");
    }
    let (stop, watcher) = stop_on_ctrl_c();
    let (mut human, mut document, mut ndjson) = reporters(request.output, None);
    let dispatch = Mutex::new(Dispatch::new(chosen(&mut human, &mut document, &mut ndjson)));
    let result = apply(&aws, &plan, &stop, |applied| dispatch.lock().expect("event lock").emit(&RunEvent::Action(&applied.event(&account)))).await;
    watcher.abort();
    let mut dispatch = dispatch.into_inner().expect("event lock");
    dispatch.emit(&RunEvent::AccountFinished(&result.tally(None)));
    dispatch.emit(&RunEvent::TeardownFinished(&serde_json::to_value(&result).expect("results serialize")));
    if let Some(e) = dispatch.into_error() {
        return Err(Failure::usage(e));
    }
    Ok(if result.interrupted {
        Exit::Interrupted
    } else if result.complete() {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

/// A class plan: every account through its teardown role, a few at a time.
async fn apply_class_plan(request: &ApplyRequest<'_>, plan: &ClassPlan, shown: &str) -> Result<Exit, Failure> {
    // Every account must have a way in before anything is deleted anywhere.
    let roles = plan.roles(request.teardown_role_name).map_err(Failure::usage)?;
    let resources: usize = plan.accounts.iter().map(|a| a.plan.resources.len()).sum();
    if resources == 0 {
        println!("The plan lists nothing to delete in any of its {} account(s).", plan.accounts.len());
        return Ok(if plan.not_planned.is_empty() { Exit::Ok } else { Exit::CheckFailed });
    }
    if !request.yes {
        let busy = plan.accounts.iter().filter(|a| !a.plan.resources.is_empty()).count();
        confirm(&plan.render_human(shown), &format!("Delete these {resources} resource(s) in {busy} account(s)?"), shown)?;
    }
    let base = crate::aws::load_config(&request.aws).await?;
    let terminal = std::io::stderr().is_terminal();
    let (stop, watcher) = stop_on_ctrl_c();
    let (mut human, mut document, mut ndjson) = reporters(request.output, Some((plan.accounts.len(), terminal)));
    let dispatch = Mutex::new(Dispatch::new(chosen(&mut human, &mut document, &mut ndjson)));
    if request.output == ApplyOutput::Human {
        println!("Deleting what {shown} lists in {} account(s), {} at a time:", plan.accounts.len(), request.concurrency.max(1));
    }
    let assume_pace = std::sync::Arc::new(crate::aws::assume::Pace::per_second(crate::aws::assume::DEFAULT_ASSUME_RATE));
    let run = ClassApply { plan, roles, base, concurrency: request.concurrency, verbose: request.aws.verbose, assume_pace };
    let result = apply_class(&run, &stop, &dispatch).await;
    watcher.abort();
    let mut dispatch = dispatch.into_inner().expect("event lock");
    dispatch.emit(&RunEvent::TeardownFinished(&serde_json::to_value(&result).expect("results serialize")));
    if let Some(e) = dispatch.into_error() {
        return Err(Failure::usage(e));
    }
    if !plan.not_planned.is_empty() && request.output == ApplyOutput::Human {
        let names: Vec<String> = plan.not_planned.iter().map(|n| format!("{} ({}): {}", n.label, n.account_id, n.why)).collect();
        println!("Not in the plan, so nothing of theirs was deleted: {}", names.join("; "));
    }
    Ok(if result.interrupted {
        Exit::Interrupted
    } else if result.complete() && plan.not_planned.is_empty() {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

type Human = HumanApply<std::io::Stdout>;
type Document = ResultDocument<std::io::Stdout>;
type Ndjson = NdjsonReporter<std::io::Stdout>;

/// The reporters of `output`; `class`: the number of accounts and whether stderr is a terminal.
fn reporters(output: ApplyOutput, class: Option<(usize, bool)>) -> (Option<Human>, Option<Document>, Option<Ndjson>) {
    match output {
        ApplyOutput::Human => {
            let human = match class {
                Some((accounts, terminal)) => HumanApply::class(std::io::stdout(), accounts, terminal),
                None => HumanApply::account(std::io::stdout()),
            };
            (Some(human), None, None)
        }
        ApplyOutput::Json => (None, Some(ResultDocument { out: std::io::stdout() }), None),
        ApplyOutput::Ndjson => (None, None, Some(NdjsonReporter::new(std::io::stdout()))),
    }
}

fn chosen<'r>(human: &'r mut Option<Human>, document: &'r mut Option<Document>, ndjson: &'r mut Option<Ndjson>) -> Vec<&'r mut dyn Reporter> {
    let mut list: Vec<&'r mut dyn Reporter> = Vec::new();
    if let Some(r) = human.as_mut() {
        list.push(r);
    }
    if let Some(r) = document.as_mut() {
        list.push(r);
    }
    if let Some(r) = ndjson.as_mut() {
        list.push(r);
    }
    list
}

/// Ctrl-C sets the flag: the teardown stops after the current resource.
fn stop_on_ctrl_c() -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
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
    (stop, watcher)
}

/// Asks on a terminal; with none, refuses: a teardown never runs unconfirmed.
fn confirm(plan: &str, question: &str, file: &str) -> Result<(), Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "refusing to delete without confirmation: no terminal to ask on; review {file} (or `grader cleanup --plan` again) and pass --yes. Nothing was deleted"
        )));
    }
    print!("{plan}");
    print!("\n{question} Type `yes` to go on: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" { Ok(()) } else { Err(Failure::usage("not confirmed: nothing was deleted")) }
}
