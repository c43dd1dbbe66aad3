//! Where a class is stuck: for each step, how many learners passed it, failed it or could not
//! be graded (the funnel), and for each failing check how many learners fail it and the
//! finding most of them share. Computed from the accounts' reports, so a merged report has the
//! same figures as an unsharded one; the JSON carries them and the HTML draws them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AccountResult, StepColumn};
use crate::checks::Status;

/// The class's progress, step by step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassProgress {
    pub steps: Vec<StepCount>,
    /// Failing checks, the most learners first.
    pub failing_checks: Vec<FailingCheck>,
}

/// One step of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepCount {
    pub step: String,
    pub title: String,
    pub passed: usize,
    /// Failed, or not reached because an earlier check failed.
    pub failed: usize,
    /// A check could not decide.
    pub undecided: usize,
    /// The account could not be audited at all (its role refused, …).
    pub not_audited: usize,
}

/// One check that fails for some learners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingCheck {
    pub step: String,
    pub check: String,
    pub title: String,
    pub learners: usize,
    /// The finding most of them share (ids and account numbers masked, so that the same
    /// problem in different accounts reads the same).
    pub common_finding: String,
    pub common_count: usize,
}

/// The progress of these accounts (in roster order) through these steps.
#[cfg(test)]
fn progress(steps: &[StepColumn], accounts: &[AccountResult]) -> ClassProgress {
    let mut funnel = Funnel::new(steps);
    for (position, account) in accounts.iter().enumerate() {
        funnel.add(position, account);
    }
    funnel.finish()
}

/// Where a failing check or a finding was first met: the account's roster position, then the
/// check's place in that account's report. Accounts are added in the order they finish, and
/// ties are broken by this, so the figures do not depend on that order (a sharded and merged
/// audit has the same as an unsharded one).
type FirstMet = (usize, usize);

/// One failing check's learners so far, by masked finding.
struct Failing {
    step: String,
    check: String,
    title: String,
    first: FirstMet,
    learners: usize,
    findings: BTreeMap<String, (usize, FirstMet)>,
}

/// The class's progress, added up one account at a time, in any order: nothing of an account
/// is kept but its counts and masked findings.
pub struct Funnel {
    counts: Vec<StepCount>,
    failing: Vec<Failing>,
}

impl Funnel {
    pub fn new(steps: &[StepColumn]) -> Funnel {
        let counts = steps.iter().map(|s| StepCount { step: s.id.clone(), title: s.title.clone(), passed: 0, failed: 0, undecided: 0, not_audited: 0 }).collect();
        Funnel { counts, failing: Vec::new() }
    }

    /// Adds the account at roster position `position`.
    pub fn add(&mut self, position: usize, account: &AccountResult) {
        let Some(report) = &account.report else {
            self.counts.iter_mut().for_each(|c| c.not_audited += 1);
            return;
        };
        for count in self.counts.iter_mut() {
            match report.steps.iter().find(|s| s.id == count.step).map(|s| s.status) {
                Some(Status::Pass) => count.passed += 1,
                Some(Status::Error) => count.undecided += 1,
                Some(Status::Fail | Status::Skip) => count.failed += 1,
                None => count.not_audited += 1,
            }
        }
        let failed = report.steps.iter().flat_map(|step| step.checks.iter().filter(|c| c.status == Status::Fail).map(move |c| (step, c)));
        for (place, (step, check)) in failed.enumerate() {
            let met = (position, place);
            let finding = mask(check.found.as_deref().unwrap_or(&check.message));
            let entry = match self.failing.iter().position(|f| f.step == step.id && f.check == check.id) {
                Some(i) => &mut self.failing[i],
                None => {
                    let fresh = Failing { step: step.id.clone(), check: check.id.clone(), title: check.title.clone(), first: met, learners: 0, findings: BTreeMap::new() };
                    self.failing.push(fresh);
                    self.failing.last_mut().expect("just pushed")
                }
            };
            entry.first = entry.first.min(met);
            entry.learners += 1;
            let (n, first) = entry.findings.entry(finding).or_insert((0, met));
            *n += 1;
            *first = (*first).min(met);
        }
    }

    pub fn finish(self) -> ClassProgress {
        let mut failing = self.failing;
        // Most learners first; ties in the order first met (by roster position).
        failing.sort_by(|a, b| b.learners.cmp(&a.learners).then(a.first.cmp(&b.first)));
        let failing_checks = failing
            .into_iter()
            .map(|f| {
                // The most frequent finding, the first met on a tie.
                let (common_finding, (common_count, _)) =
                    f.findings.into_iter().min_by(|(_, (n, met)), (_, (m, other))| m.cmp(n).then(met.cmp(other))).expect("a failing check has a finding");
                FailingCheck { step: f.step, check: f.check, title: f.title, learners: f.learners, common_finding, common_count }
            })
            .collect();
        ClassProgress { steps: self.counts, failing_checks }
    }
}

/// `text` with what differs between accounts masked: any run of 8 or more hexadecimal
/// characters holding a digit (account numbers, `sg-…`/`eni-…` ids, task ids) becomes `…`.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 8 && run.chars().any(|c| c.is_ascii_digit()) {
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckReport, Points, Report, StepReport, Summary};

    fn check(id: &str, status: Status, found: &str) -> CheckReport {
        CheckReport {
            id: id.into(),
            kind: "ecs_service".into(),
            title: format!("{id} title"),
            status,
            message: String::new(),
            expected: None,
            found: Some(found.into()),
            hint: None,
            duration_ms: 0,
            leftovers: Vec::new(),
        }
    }

    fn learner(steps: Vec<(&str, Status, Vec<CheckReport>)>) -> AccountResult {
        let steps = steps.into_iter().map(|(id, status, checks)| StepReport { id: id.into(), title: String::new(), status, points: Points::default(), checks }).collect();
        AccountResult {
            label: "l".into(),
            account_id: "111122223333".into(),
            email: None,
            sis_id: None,
            status: Status::Fail,
            error: None,
            report: Some(Report { schema: String::new(), lab: String::new(), account: String::new(), region: String::new(), duration_ms: 0, steps, summary: Summary::default() }),
            leftovers: Vec::new(),
            usd_per_hour: 0.0,
            retried: false,
            spend: None,
        }
    }

    #[test]
    fn the_funnel_counts_each_step_and_names_the_finding_most_learners_share() {
        let columns: Vec<StepColumn> = ["step-1", "step-2"].iter().map(|id| StepColumn { id: id.to_string(), title: format!("{id} title"), possible: 1 }).collect();
        let pull = |task: &str| check("running", Status::Fail, &format!("task {task} stopped: CannotPullContainerError"));
        let accounts = vec![
            learner(vec![("step-1", Status::Pass, vec![]), ("step-2", Status::Pass, vec![])]),
            learner(vec![("step-1", Status::Pass, vec![]), ("step-2", Status::Fail, vec![pull("0b69d5c0d7ba4f7c")])]),
            learner(vec![("step-1", Status::Pass, vec![]), ("step-2", Status::Fail, vec![pull("9f3e1a2b3c4d5e6f")])]),
            learner(vec![("step-1", Status::Pass, vec![]), ("step-2", Status::Fail, vec![check("running", Status::Fail, "0 of 1 tasks running")])]),
            learner(vec![("step-1", Status::Error, vec![]), ("step-2", Status::Skip, vec![])]),
            AccountResult { report: None, status: Status::Error, ..learner(vec![]) },
        ];
        let p = progress(&columns, &accounts);
        assert_eq!((p.steps[0].passed, p.steps[0].failed, p.steps[0].undecided, p.steps[0].not_audited), (4, 0, 1, 1));
        assert_eq!((p.steps[1].passed, p.steps[1].failed, p.steps[1].undecided, p.steps[1].not_audited), (1, 4, 0, 1));
        assert_eq!(p.failing_checks.len(), 1);
        let f = &p.failing_checks[0];
        assert_eq!((f.check.as_str(), f.learners, f.common_count), ("running", 3, 2));
        assert_eq!(f.common_finding, "task … stopped: CannotPullContainerError");
    }

    #[test]
    fn the_figures_do_not_depend_on_the_order_accounts_finish_in() {
        let columns: Vec<StepColumn> = ["step-1"].iter().map(|id| StepColumn { id: id.to_string(), title: String::new(), possible: 1 }).collect();
        let failing = |check_id: &str, found: &str| learner(vec![("step-1", Status::Fail, vec![check(check_id, Status::Fail, found)])]);
        // Two checks failed by two learners each, each with two findings once each: the first
        // in roster order wins every tie.
        let accounts = [failing("b", "found x"), failing("a", "found y"), failing("b", "found z"), failing("a", "found w")];
        let in_order = progress(&columns, &accounts);
        let mut funnel = Funnel::new(&columns);
        for position in [3, 2, 1, 0] {
            funnel.add(position, &accounts[position]);
        }
        let reversed = funnel.finish();
        assert_eq!(reversed, in_order);
        let first = &in_order.failing_checks[0];
        assert_eq!((first.check.as_str(), first.learners, first.common_finding.as_str()), ("b", 2, "found x"));
        let second = &in_order.failing_checks[1];
        assert_eq!((second.check.as_str(), second.learners, second.common_finding.as_str()), ("a", 2, "found y"));
    }

    #[test]
    fn ids_and_account_numbers_are_masked_and_words_are_not() {
        assert_eq!(mask("sg-0a1b2c3d4e5f60718 in 111122223333"), "sg-… in …");
        assert_eq!(mask("deadbeef cafe fade added"), "deadbeef cafe fade added", "hex-looking words without digits stay");
    }
}
