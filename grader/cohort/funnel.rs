//! Where a class is stuck: for each step, how many learners passed it, failed it or could not
//! be graded (the funnel), and for each failing check how many learners fail it and the
//! finding most of them share. Computed from the accounts' reports, so a merged report has the
//! same figures as an unsharded one; the JSON carries them and the HTML draws them.

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

/// The progress of these accounts through these steps.
pub fn progress(steps: &[StepColumn], accounts: &[AccountResult]) -> ClassProgress {
    let mut counts: Vec<StepCount> =
        steps.iter().map(|s| StepCount { step: s.id.clone(), title: s.title.clone(), passed: 0, failed: 0, undecided: 0, not_audited: 0 }).collect();
    // (step, check, title) → the masked findings of the learners failing it.
    let mut failing: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for account in accounts {
        let Some(report) = &account.report else {
            counts.iter_mut().for_each(|c| c.not_audited += 1);
            continue;
        };
        for count in counts.iter_mut() {
            match report.steps.iter().find(|s| s.id == count.step).map(|s| s.status) {
                Some(Status::Pass) => count.passed += 1,
                Some(Status::Error) => count.undecided += 1,
                Some(Status::Fail | Status::Skip) => count.failed += 1,
                None => count.not_audited += 1,
            }
        }
        for step in &report.steps {
            for check in step.checks.iter().filter(|c| c.status == Status::Fail) {
                let finding = mask(check.found.as_deref().unwrap_or(&check.message));
                match failing.iter_mut().find(|(s, c, _, _)| *s == step.id && *c == check.id) {
                    Some((_, _, _, findings)) => findings.push(finding),
                    None => failing.push((step.id.clone(), check.id.clone(), check.title.clone(), vec![finding])),
                }
            }
        }
    }
    let mut failing_checks: Vec<FailingCheck> = failing
        .into_iter()
        .map(|(step, check, title, findings)| {
            let (common_finding, common_count) = most_common(&findings);
            FailingCheck { step, check, title, learners: findings.len(), common_finding, common_count }
        })
        .collect();
    // Most learners first; ties in step order (stable sort keeps the order they were met).
    failing_checks.sort_by(|a, b| b.learners.cmp(&a.learners));
    ClassProgress { steps: counts, failing_checks }
}

/// The most frequent text (the first met, on a tie) and how often it occurs.
fn most_common(texts: &[String]) -> (String, usize) {
    let mut best: (String, usize) = (String::new(), 0);
    for text in texts {
        let n = texts.iter().filter(|t| *t == text).count();
        if n > best.1 {
            best = (text.clone(), n);
        }
    }
    best
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
    fn ids_and_account_numbers_are_masked_and_words_are_not() {
        assert_eq!(mask("sg-0a1b2c3d4e5f60718 in 111122223333"), "sg-… in …");
        assert_eq!(mask("deadbeef cafe fade added"), "deadbeef cafe fade added", "hex-looking words without digits stay");
    }
}
