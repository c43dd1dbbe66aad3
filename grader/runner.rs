//! Running checks: concurrently, each after the checks it depends on, retrying the ones that
//! may `wait`, and reporting every decision as an event.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::{mpsc, watch};

use crate::aws::Aws;
use crate::checks::{Ctx, KindSpec, Leftover, Resource, Status, Vantage, Verdict};
use crate::lab::{Lab, Step, template};

/// One check, ready to run: parameters rendered with the run's variables.
#[derive(Debug, Clone)]
pub struct PlannedCheck {
    pub step_id: String,
    pub id: String,
    pub title: String,
    pub hint: Option<String>,
    pub points: u32,
    pub wait: Option<Duration>,
    pub depends_on: Vec<String>,
    pub kind: KindSpec,
}

/// What one check decided, with its evidence.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub step_id: String,
    pub id: String,
    pub kind: &'static str,
    pub title: String,
    pub status: Status,
    pub message: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub hint: Option<String>,
    pub points: u32,
    pub duration: Duration,
    pub leftovers: Vec<Leftover>,
    /// What a passing check graded, for `grader check --receipt`.
    pub resources: Vec<Resource>,
    /// Undecided only because AWS was slow or throttling past the retries: asking again
    /// later may decide it (a class audit does, once, at the end).
    pub transient: bool,
}

/// What the runner reports while it works.
#[derive(Debug, Clone)]
pub enum Event {
    /// A check's dependencies passed and it asks AWS for the first time.
    Started { step_id: String, check_id: String },
    /// A waiting check failed this attempt and looks again after `retry_in`.
    Waiting { step_id: String, check_id: String, message: String, elapsed: Duration, limit: Duration, retry_in: Duration },
    /// A check decided.
    Finished(Box<CheckOutcome>),
}

/// Variables for a run: the lab's defaults overridden by `--var`. Unknown names are refused
/// so a typo does not silently check the default.
pub fn merge_vars(lab: &Lab, overrides: &[(String, String)]) -> Result<BTreeMap<String, String>, String> {
    let mut vars = lab.vars.clone();
    for (name, value) in overrides {
        if !vars.contains_key(name) {
            let known: Vec<&str> = lab.vars.keys().map(String::as_str).collect();
            return Err(match crate::lab::did_you_mean(name, known.iter().copied()) {
                Some(s) => format!("unknown variable `{name}` in `--var`; did you mean `{s}`?"),
                None => format!("unknown variable `{name}` in `--var`; this lab has {}", known.join(", ")),
            });
        }
        vars.insert(name.clone(), value.clone());
    }
    Ok(vars)
}

/// Renders the checks of `steps` with `vars`.
pub fn plan(steps: &[&Step], vars: &BTreeMap<String, String>) -> Result<Vec<PlannedCheck>, String> {
    let mut planned = Vec::new();
    for step in steps {
        for check in &step.checks {
            let mut value = serde_json::to_value(&check.kind).map_err(|e| e.to_string())?;
            template::render_json(&mut value, vars).map_err(|e| format!("check `{}`: {e}", check.id))?;
            let kind: KindSpec = serde_json::from_value(value).map_err(|e| format!("check `{}`: {e}", check.id))?;
            planned.push(PlannedCheck {
                step_id: step.id.clone(),
                id: check.id.clone(),
                title: template::render(&check.title, vars).unwrap_or_else(|_| check.title.clone()),
                hint: check.hint.as_ref().map(|h| template::render(h, vars).unwrap_or_else(|_| h.clone())),
                points: check.points,
                wait: check.wait.map(|w| w.0),
                depends_on: check.depends_on.clone(),
                kind,
            });
        }
    }
    Ok(planned)
}

/// The first pause of a waiting check; pauses double up to `LONGEST_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// A waiting check looks again at least this often, so it passes within seconds of the
/// change it waits for. Each look is a few read calls, far inside AWS's rate limits.
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// The message of a check skipped because `dependency` did not pass. Reports read the
/// dependency back with [`skipped_behind`], so the two stay together here.
fn skip_message(dependency: &str, status: Status) -> String {
    format!("skipped: `{dependency}` did not pass ({})", status.as_str())
}

/// The dependency a skipped check's message names as the one that did not pass.
pub fn skipped_behind(message: &str) -> Option<&str> {
    message.strip_prefix("skipped: `").and_then(|rest| rest.split_once('`')).map(|(id, _)| id)
}

/// Options for one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Ignore `wait:` and decide on the first attempt.
    pub no_wait: bool,
    /// A cap on every check's `wait:`.
    pub max_wait: Option<Duration>,
    /// Where the run looks from (the learner's machine unless told otherwise).
    pub vantage: Vantage,
}

/// Runs every planned check and returns the outcomes in plan order. Events go to `events`
/// as checks decide; a dropped receiver is fine.
pub async fn run(aws: &Aws, checks: &[PlannedCheck], options: RunOptions, events: mpsc::UnboundedSender<Event>) -> Vec<CheckOutcome> {
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for check in checks {
        let (tx, rx) = watch::channel(None::<Status>);
        senders.insert(check.id.clone(), tx);
        receivers.insert(check.id.clone(), rx);
    }
    let runs = checks.iter().map(|check| {
        let done = senders.get(&check.id).expect("one sender per check").clone();
        let deps: Vec<(String, Option<watch::Receiver<Option<Status>>>)> =
            check.depends_on.iter().map(|d| (d.clone(), receivers.get(d).cloned())).collect();
        let events = events.clone();
        async move {
            let outcome = run_one(aws, check, deps, options, &events).await;
            done.send_replace(Some(outcome.status));
            let _ = events.send(Event::Finished(Box::new(outcome.clone())));
            outcome
        }
    });
    join_all(runs).await
}

async fn run_one(
    aws: &Aws,
    check: &PlannedCheck,
    deps: Vec<(String, Option<watch::Receiver<Option<Status>>>)>,
    options: RunOptions,
    events: &mpsc::UnboundedSender<Event>,
) -> CheckOutcome {
    let outcome = |verdict: Verdict, started: Instant, transient: bool| CheckOutcome {
        step_id: check.step_id.clone(),
        id: check.id.clone(),
        kind: check.kind.name(),
        title: check.title.clone(),
        status: verdict.status(),
        hint: if verdict.status() == Status::Fail { check.hint.clone() } else { None },
        message: verdict.message,
        expected: verdict.expected,
        found: verdict.found,
        points: check.points,
        duration: started.elapsed(),
        leftovers: verdict.leftovers,
        resources: verdict.resources,
        transient,
    };
    // A dependency outside this run (another step) is not waited for.
    for (id, rx) in deps {
        let Some(mut rx) = rx else { continue };
        let status = match rx.wait_for(Option::is_some).await {
            Ok(s) => s.expect("waited for Some"),
            Err(_) => Status::Error,
        };
        if status != Status::Pass {
            let mut v = Verdict::default();
            v.status = Some(Status::Skip);
            v.message = skip_message(&id, status);
            return outcome(v, Instant::now(), false);
        }
    }
    // The check's own time starts once its dependencies are decided.
    let started = Instant::now();
    let _ = events.send(Event::Started { step_id: check.step_id.clone(), check_id: check.id.clone() });
    let limit = match (options.no_wait, check.wait, options.max_wait) {
        (true, _, _) | (_, None, _) => Duration::ZERO,
        (false, Some(wait), Some(cap)) => wait.min(cap),
        (false, Some(wait), None) => wait,
    };
    let mut pause = FIRST_PAUSE;
    let mut attempt_started = None;
    loop {
        // A retry asks AWS again for everything: the account is what changes while we wait.
        let lookup = match attempt_started {
            None => aws.lookup(),
            Some(at) => aws.lookup_since(at),
        };
        let ctx = Ctx { aws: lookup, region: &aws.region, vantage: options.vantage };
        let mut transient = false;
        let verdict = match check.kind.evaluate(&ctx).await {
            Ok(v) => v,
            Err(e) => {
                transient = e.is_transient();
                Verdict::error(e.to_string())
            }
        };
        let elapsed = started.elapsed();
        let left = limit.saturating_sub(elapsed);
        if verdict.status() == Status::Fail && !verdict.conclusive && !left.is_zero() {
            // The last attempt comes at the end of the wait, not a pause before it.
            let retry_in = pause.min(left);
            let _ = events.send(Event::Waiting {
                step_id: check.step_id.clone(),
                check_id: check.id.clone(),
                message: verdict.message.clone(),
                elapsed,
                limit,
                retry_in,
            });
            tokio::time::sleep(retry_in).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            attempt_started = Some(Instant::now());
            continue;
        }
        return outcome(verdict, started, transient);
    }
}
