//! A check run from start to finish, the same for `check`, `serve` and `cohort`: choose the
//! steps, merge the variables, plan, connect, sign in while the checks start, hand every
//! event to the reporters, and stop early when asked.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::aws::{Aws, AwsOptions, SetupError, load_config};
use crate::events::{Dispatch, RunEnd, RunEvent};
use crate::lab::{Lab, LabSet, Phase, Step};
use crate::report::Report;
use crate::runner::{self, CheckOutcome, Event, PlannedCheck, RunOptions};
use crate::suggest::did_you_mean;

/// A command line or request that asks for steps or variables the lab does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

/// What a run will check: the lab, its chosen steps in lab order, and their checks with the
/// variables filled in.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub lab: &'a Lab,
    pub steps: Vec<&'a Step>,
    pub checks: Vec<PlannedCheck>,
}

impl<'a> Plan<'a> {
    /// The steps named (or, with `all`, every step that builds the lab), with `overrides`
    /// (`--var`) over the lab's variables.
    pub fn new(lab: &'a Lab, names: &[String], all: bool, overrides: &[(String, String)]) -> Result<Plan<'a>, PlanError> {
        let vars = runner::merge_vars(lab, overrides).map_err(PlanError)?;
        Plan::with_vars(lab, names, all, &vars)
    }

    /// [`Plan::new`] with the variables already merged (`serve` merges them once).
    pub fn with_vars(lab: &'a Lab, names: &[String], all: bool, vars: &BTreeMap<String, String>) -> Result<Plan<'a>, PlanError> {
        let steps = select_steps(lab, names, all)?;
        let checks = runner::plan(&steps, vars).map_err(PlanError)?;
        Ok(Plan { lab, steps, checks })
    }

    pub fn step_ids(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.id.as_str()).collect()
    }

    /// The report of `outcomes` (in plan order) for this plan's steps.
    pub fn report(&self, account: &str, region: &str, duration_ms: u64, outcomes: &[CheckOutcome]) -> Report {
        Report::build(self.lab, &self.step_ids(), account, region, duration_ms, outcomes)
    }
}

/// A lab, the step ids to run, and the `--var`s its plan still has to apply.
pub type Chosen<'a> = (&'a Lab, Vec<String>, Vec<(String, String)>);

/// The lab and the steps a check or an audit runs. `--lab all` is every lab's named steps
/// (`LAB:STEP`, each lab's own variables). With no `--lab`, a clean-up step means every lab's
/// clean-up: a learner who did both labs must hear about both labs' leftovers, whichever lab
/// they think of. Otherwise, the one lab.
///
/// The variables the plan still has to apply come back with them: a combined lab has its
/// variables filled in already (`--var` changes every lab that has the variable).
pub fn lab_and_steps<'a>(
    labs: &'a LabSet,
    lab: Option<&str>,
    steps: &[String],
    vars: &[(String, String)],
    combined: &'a mut Option<Lab>,
) -> Result<Chosen<'a>, PlanError> {
    let every_cleanup = lab.is_none()
        && labs.labs.len() > 1
        && !steps.is_empty()
        && steps.iter().all(|s| labs.select(None).ok().and_then(|l| l.step(s)).is_some_and(|s| s.phase == Phase::Cleanup));
    if lab != Some(crate::lab::combined::ALL) && !every_cleanup {
        return Ok((labs.select(lab).map_err(|e| PlanError(e.0))?, steps.to_vec(), vars.to_vec()));
    }
    let all = combined.insert(crate::lab::combined::combine(&labs.labs, vars).map_err(PlanError)?);
    let mut chosen = Vec::new();
    for step in steps {
        let found: Vec<String> = labs.labs.iter().filter(|l| l.step(step).is_some()).map(|l| format!("{}:{step}", l.id)).collect();
        if found.is_empty() {
            return Err(PlanError(format!("no lab has a step `{step}`")));
        }
        chosen.extend(found);
    }
    Ok((all, chosen, Vec::new()))
}

/// The steps named, in lab order, or an error that suggests the closest step.
fn select_steps<'a>(lab: &'a Lab, names: &[String], all: bool) -> Result<Vec<&'a Step>, PlanError> {
    if all {
        return Ok(lab.steps.iter().filter(|s| s.phase == Phase::Build).collect());
    }
    for name in names {
        if lab.step(name).is_none() {
            let ids = lab.step_ids();
            return Err(PlanError(match did_you_mean(name, ids.iter().copied()) {
                Some(s) => format!("lab `{}` has no step `{name}`; did you mean `{s}`?", lab.id),
                None => format!("lab `{}` has no step `{name}`; its steps are {}", lab.id, ids.join(", ")),
            }));
        }
    }
    Ok(lab.steps.iter().filter(|s| names.contains(&s.id)).collect())
}

/// The AWS connection `options` ask for (nothing is called yet).
pub async fn connect(options: &AwsOptions) -> Result<Aws, SetupError> {
    Ok(Aws::new(load_config(options).await?, options.verbose))
}

/// The labs a plan's steps come from: the lab's own id, or each lab of a combined run
/// (steps named `LAB:STEP`), once each.
pub fn labs_of(plan: &Plan<'_>) -> Vec<String> {
    match plan.lab.id.as_str() {
        crate::lab::combined::ALL => {
            let mut labs: Vec<String> = Vec::new();
            for lab in plan.step_ids().iter().filter_map(|s| s.split_once(':').map(|(l, _)| l.to_string())) {
                if !labs.contains(&lab) {
                    labs.push(lab);
                }
            }
            labs
        }
        id => vec![id.to_string()],
    }
}

/// Signs in (`sts:GetCallerIdentity`): the account, or why AWS could not be reached.
pub async fn sign_in(aws: &Aws, options: &AwsOptions) -> Result<String, SetupError> {
    match aws.caller_identity().await {
        Ok(identity) => Ok(identity.0.clone()),
        Err(e) => Err(crate::aws::explain(e, options, &aws.region).await),
    }
}

/// Signs in (`identity`: usually [`sign_in`]; a cohort already knows the account it assumed
/// a role in) and runs `plan`, every event to `reporters`, until every check decides or
/// `stop` resolves (Ctrl-C, a closed browser tab). A failed sign-in ends the run before any
/// reporter heard of it, so its only output is the error.
pub async fn run(
    aws: &Aws,
    identity: impl Future<Output = Result<String, SetupError>>,
    plan: &Plan<'_>,
    run_options: RunOptions,
    reporters: &mut Dispatch<'_>,
    stop: impl Future<Output = ()>,
) -> Result<RunEnd, SetupError> {
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Signing in and the checks start together: no check's first call needs the identity,
    // and the identity check shares its cached answer, so this saves one round trip. Events
    // are held until the sign-in succeeds.
    let checks = runner::run(aws, &plan.checks, run_options, tx);
    tokio::pin!(identity, checks, stop);
    let mut account: Option<String> = None;
    let mut held: Vec<Event> = Vec::new();
    let mut outcomes: Vec<CheckOutcome> = Vec::new();
    let mut interrupted = false;
    let mut checks_done = false;
    let on_event = |event: Event, reporters: &mut Dispatch<'_>, outcomes: &mut Vec<CheckOutcome>| {
        reporters.emit(&RunEvent::Check(&event));
        if let Event::Finished(o) = event {
            outcomes.push(*o);
        }
    };
    let started_event = |account: &str, reporters: &mut Dispatch<'_>| {
        reporters.emit(&RunEvent::Started { lab: plan.lab, account, region: &aws.region, checks: &plan.checks });
    };
    loop {
        tokio::select! {
            signed_in = &mut identity, if account.is_none() => {
                let signed_in = signed_in?;
                started_event(&signed_in, reporters);
                account = Some(signed_in);
                for event in held.drain(..) {
                    on_event(event, reporters, &mut outcomes);
                }
            }
            event = rx.recv() => match event {
                Some(event) if account.is_some() => on_event(event, reporters, &mut outcomes),
                Some(event) => held.push(event),
                None => break,
            },
            _ = &mut checks, if !checks_done => checks_done = true,
            _ = &mut stop => { interrupted = true; break; }
        }
    }
    // Every check finished before the sign-in answered: wait for it, then tell them.
    if account.is_none() && !interrupted {
        let signed_in = (&mut identity).await?;
        started_event(&signed_in, reporters);
        account = Some(signed_in);
        for event in held.drain(..) {
            on_event(event, reporters, &mut outcomes);
        }
    }
    // Stopped before the sign-in answered: no account to name, but every reporter still
    // hears a start before the end.
    if account.is_none() {
        started_event("", reporters);
    }
    let account = account.unwrap_or_default();
    let duration_ms = started.elapsed().as_millis() as u64;
    // Plan order in every output, whatever order the checks finished in.
    outcomes.sort_by_key(|o| plan.checks.iter().position(|p| p.id == o.id));
    let report = plan.report(&account, &aws.region, duration_ms, &outcomes);
    let aws_time = aws.clock.now().map(|t| crate::timestamp::of(&t));
    let end = RunEnd { account, region: aws.region.clone(), duration_ms, outcomes, interrupted, report, aws_time };
    reporters.emit(&RunEvent::Finished(&end));
    Ok(end)
}

/// Planned checks with no outcome among `decided`, as `error` outcomes that say why: what
/// the autograder formats score as "could not grade".
pub fn undecided_outcomes(planned: &[PlannedCheck], decided: &[CheckOutcome], reason: &str) -> Vec<CheckOutcome> {
    planned
        .iter()
        .filter(|p| !decided.iter().any(|o| o.id == p.id))
        .map(|p| CheckOutcome {
            step_id: p.step_id.clone(),
            id: p.id.clone(),
            kind: p.kind.name(),
            title: p.title.clone(),
            status: crate::checks::Status::Error,
            message: reason.to_string(),
            expected: None,
            found: None,
            hint: None,
            points: p.points,
            duration: std::time::Duration::ZERO,
            leftovers: Vec::new(),
            resources: Vec::new(),
            transient: false,
        })
        .collect()
}
