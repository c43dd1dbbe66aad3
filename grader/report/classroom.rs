//! Autograder result files: Gradescope's `results.json`, PrairieLearn's external grader
//! results and the JSON GitHub Classroom's grading reporter reads, each from one report.
//!
//! A check that could not decide (`error`, or skipped because something it depends on could
//! not decide) is never scored as a plain fail: each platform is told, in its own terms, that
//! the grade is incomplete.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{CheckReport, Report, undecided_checks};
use crate::checks::Status;
use crate::runner::PlannedCheck;

/// Each check's points by check id (ids are unique within a lab). `grader.report/v1` keeps
/// only each step's sums, and the platforms score test by test, so the renderers take this
/// beside it.
pub type Plans = HashMap<String, u32>;

pub fn plans(planned: &[PlannedCheck]) -> Plans {
    planned.iter().map(|p| (p.id.clone(), p.points)).collect()
}

/// What one run gives the platforms.
#[derive(Debug, Clone, Copy)]
pub struct Grading<'a> {
    pub report: &'a Report,
    pub plans: &'a Plans,
    /// Why no check could run at all (AWS could not be reached); the report then holds every
    /// planned check as `error`.
    pub setup_failure: Option<&'a str>,
}

/// A check as a platform sees it.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Passed,
    Failed,
    /// Not decided: the reason to show instead of a score.
    CouldNotGrade(String),
}

struct Graded<'a> {
    step_id: &'a str,
    step_title: &'a str,
    check: &'a CheckReport,
    points: u32,
    verdict: Verdict,
}

impl Graded<'_> {
    fn name(&self) -> String {
        format!("{} · {}", self.step_id, self.check.title)
    }
    fn earned(&self) -> u32 {
        if self.verdict == Verdict::Passed { self.points } else { 0 }
    }
    /// The check's message with its evidence, one item a line.
    fn evidence(&self) -> String {
        let mut text = match &self.verdict {
            Verdict::CouldNotGrade(reason) => format!("could not grade: {reason}"),
            _ => self.check.message.clone(),
        };
        for (label, value) in [("expected", &self.check.expected), ("found", &self.check.found), ("hint", &self.check.hint)] {
            if let Some(v) = value {
                text.push_str(&format!("\n{label}: {v}"));
            }
        }
        text
    }
}

impl<'a> Grading<'a> {
    fn checks(&self) -> Vec<Graded<'a>> {
        let undecided = undecided_checks(&self.report.steps);
        let mut out = Vec::new();
        for step in &self.report.steps {
            for check in &step.checks {
                let verdict = match check.status {
                    Status::Pass => Verdict::Passed,
                    Status::Fail => Verdict::Failed,
                    Status::Error | Status::Skip if undecided.contains(check.id.as_str()) => Verdict::CouldNotGrade(check.message.clone()),
                    Status::Error | Status::Skip => Verdict::Failed,
                };
                let points = self.plans.get(&check.id).copied().unwrap_or(0);
                out.push(Graded { step_id: &step.id, step_title: &step.title, check, points, verdict });
            }
        }
        out
    }

    /// Why the grade is incomplete, or `None` when every check decided.
    fn incomplete(&self, checks: &[Graded]) -> Option<String> {
        if let Some(reason) = self.setup_failure {
            // The first line names the problem; the advice after it is in `output`.
            return Some(format!("could not grade: {}", reason.lines().next().unwrap_or(reason)));
        }
        let undecided: Vec<&str> = checks.iter().filter(|c| matches!(c.verdict, Verdict::CouldNotGrade(_))).map(|c| c.check.id.as_str()).collect();
        (!undecided.is_empty()).then(|| {
            format!(
                "could not grade {} check(s) ({}): the grader could not decide them, so this is not a grade; run it again, or ask your instructor",
                undecided.len(),
                undecided.join(", ")
            )
        })
    }

    fn summary(&self, checks: &[Graded]) -> String {
        let earned: u32 = checks.iter().map(Graded::earned).sum();
        let possible: u32 = checks.iter().map(|c| c.points).sum();
        let s = &self.report.summary;
        format!(
            "lab {} in account {} ({}): {} passed, {} failed, {} error, {} skipped · {earned}/{possible} points",
            self.report.lab,
            if self.report.account.is_empty() { "unknown" } else { &self.report.account },
            self.report.region,
            s.pass,
            s.fail,
            s.error,
            s.skip
        )
    }

    /// The text for a platform's whole-submission `output`: the incomplete notice first, the
    /// setup failure's full advice, then the summary.
    fn overview(&self, checks: &[Graded]) -> String {
        let mut parts = Vec::new();
        if let Some(why) = self.incomplete(checks) {
            parts.push(format!("Grade incomplete: {why}"));
        }
        if let Some(reason) = self.setup_failure {
            parts.push(reason.to_string());
        }
        parts.push(self.summary(checks));
        parts.join("\n\n")
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text
}

/// Gradescope's `results.json` (gradescope/autograder_samples, docs/specs.md): `status` only
/// knows `passed` and `failed`, and nothing marks a submission ungradable, so a check that
/// could not decide scores 0 with "could not grade" in its output, and the top-level output
/// opens with "Grade incomplete" for the student and the instructor reviewing it.
pub fn gradescope(grading: &Grading) -> String {
    let checks = grading.checks();
    let tests: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "name": c.name(),
                "score": c.earned(),
                "max_score": c.points,
                "status": if c.verdict == Verdict::Passed { "passed" } else { "failed" },
                "output": c.evidence(),
                "output_format": "text",
                "visibility": "visible",
            })
        })
        .collect();
    pretty(&json!({
        "score": checks.iter().map(Graded::earned).sum::<u32>(),
        // Whole seconds, as in the specification's example; a run under a second counts as one.
        "execution_time": grading.report.duration_ms.div_ceil(1000),
        "output": grading.overview(&checks),
        // Plain text everywhere: the top-level output's default is `simple_format`, which
        // renders HTML, and text such as `<none>` or a `<h1>` in a found body would vanish.
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "tests": tests,
    }))
}

/// PrairieLearn's external grader results (PrairieLearn/PrairieLearn, docs/externalGrading.md):
/// `"gradable": false` records no score and costs the student no attempt, which is what an
/// undecided check or an unreachable AWS deserves; `score` is then left out, not 0.
pub fn prairielearn(grading: &Grading) -> String {
    let checks = grading.checks();
    let tests: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "name": c.name(),
                "description": format!("{}: {}", c.step_id, c.step_title),
                "points": c.earned(),
                "max_points": c.points,
                "message": match &c.verdict {
                    Verdict::CouldNotGrade(reason) => format!("could not grade: {reason}"),
                    _ => c.check.message.clone(),
                },
                "output": c.evidence(),
            })
        })
        .collect();
    let mut doc = json!({
        "gradable": true,
        "message": grading.summary(&checks),
        "output": grading.overview(&checks),
        "tests": tests,
    });
    match grading.incomplete(&checks) {
        Some(why) => {
            doc["gradable"] = json!(false);
            doc["message"] = json!(why);
        }
        None => {
            let earned: u32 = checks.iter().map(Graded::earned).sum();
            let possible: u32 = checks.iter().map(|c| c.points).sum();
            // A run worth no points (only optional checks) is complete when it decided.
            let score = if possible == 0 { 1.0 } else { f64::from(earned) / f64::from(possible) };
            doc["score"] = json!(score);
        }
    }
    pretty(&doc)
}

/// The result GitHub Classroom's reporter reads from a grading step, in the shape its own
/// graders write (classroom-resources/autograding-command-grader `src/main.js`: `version` 1,
/// `status`, `max_score`, `tests[]` with `name`, `status`, `score`, `message`, `test_code`,
/// `filename: ''`, `line_no: 0`), written for how classroom-resources/autograding-grading-reporter
/// reads it:
/// - `src/notify-classroom.js` posts the sum of the tests' `score` over the sum of `max_score`,
///   whatever `status` says, and skips a result whose `max_score` is 0. So an incomplete run
///   (a check could not decide) has `max_score` 0 and posts no points rather than a low grade,
///   and its first test, status `error`, says why.
/// - `src/console-results.js` prints a test's `message` only for `error`, its `test_code`
///   always, and `- line N` unless `line_no` is 0. So the message, expected, found and hint go
///   in `test_code`, and `line_no` is 0.
pub fn github_classroom(grading: &Grading) -> String {
    let checks = grading.checks();
    let incomplete = grading.incomplete(&checks);
    let mut tests: Vec<Value> = Vec::new();
    if let Some(why) = &incomplete {
        tests.push(json!({
            "name": "Grade incomplete: no points posted",
            "status": "error",
            "message": format!("{why}. No points are posted for this run, so that it is not taken for a grade."),
            "test_code": "",
            "filename": "",
            "line_no": 0,
            "score": 0,
        }));
    }
    tests.extend(checks.iter().map(|c| {
        json!({
            "name": c.name(),
            "status": match c.verdict {
                Verdict::Passed => "pass",
                Verdict::Failed => "fail",
                Verdict::CouldNotGrade(_) => "error",
            },
            "message": c.evidence(),
            "test_code": c.evidence(),
            "filename": "",
            "line_no": 0,
            "score": if incomplete.is_some() { 0 } else { c.earned() },
        })
    }));
    let status = if incomplete.is_some() {
        "error"
    } else if checks.iter().all(|c| c.verdict == Verdict::Passed) {
        "pass"
    } else {
        "fail"
    };
    let max_score: u32 = if incomplete.is_some() { 0 } else { checks.iter().map(|c| c.points).sum() };
    pretty(&json!({
        "version": 1,
        "status": status,
        "max_score": max_score,
        "tests": tests,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Points, StepReport, Summary};

    fn check(id: &str, status: Status, message: &str) -> CheckReport {
        CheckReport {
            id: id.into(),
            kind: "ecs_cluster".into(),
            title: format!("title of {id}"),
            status,
            message: message.into(),
            expected: (status == Status::Fail).then(|| "ACTIVE".to_string()),
            found: (status == Status::Fail).then(|| "none".to_string()),
            hint: None,
            duration_ms: 5,
            leftovers: Vec::new(),
        }
    }

    /// A recorded run: `a` passes (2 points), `b` fails (1), `c` is skipped because `b` failed (1).
    fn report(extra: Vec<CheckReport>) -> (Report, Plans) {
        let mut checks = vec![
            check("a", Status::Pass, "cluster is ACTIVE"),
            check("b", Status::Fail, "no cluster"),
            check("c", Status::Skip, "skipped: `b` did not pass (fail)"),
        ];
        checks.extend(extra);
        let mut summary = Summary::default();
        checks.iter().for_each(|c| summary.add(c.status));
        let mut plans: Plans = HashMap::new();
        plans.insert("a".into(), 2);
        plans.insert("b".into(), 1);
        plans.insert("c".into(), 1);
        plans.insert("d".into(), 3);
        plans.insert("e".into(), 1);
        let step = StepReport { id: "step-4".into(), title: "ECS cluster".into(), status: Status::Fail, points: Points::default(), checks };
        let report = Report {
            schema: crate::report::REPORT_SCHEMA.into(),
            lab: "fargate-nginx".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            duration_ms: 1500,
            steps: vec![step],
            summary,
        };
        (report, plans)
    }

    fn undecided_checks() -> Vec<CheckReport> {
        vec![
            check("d", Status::Error, "AccessDenied: not authorized to perform ecs:DescribeServices"),
            check("e", Status::Skip, "skipped: `d` did not pass (error)"),
        ]
    }

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("renderers write JSON")
    }

    #[test]
    fn gradescope_scores_each_check_with_its_points() {
        let (report, plans) = report(vec![]);
        let doc = parse(&gradescope(&Grading { report: &report, plans: &plans, setup_failure: None }));
        assert_eq!(doc["score"], 2);
        assert_eq!(doc["execution_time"], 2);
        assert_eq!(doc["visibility"], "visible");
        assert!(doc["output"].as_str().unwrap().contains("2/4 points"), "{doc}");
        assert!(!doc["output"].as_str().unwrap().contains("incomplete"), "{doc}");
        let tests = doc["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 3);
        let expected = [("passed", 2, 2), ("failed", 0, 1), ("failed", 0, 1)];
        for (test, (status, score, max)) in tests.iter().zip(expected) {
            assert_eq!(test["status"], status, "{test}");
            assert_eq!(test["score"], score, "{test}");
            assert_eq!(test["max_score"], max, "{test}");
            assert_eq!(test["visibility"], "visible");
        }
        assert_eq!(tests[0]["name"], "step-4 · title of a");
        assert_eq!(tests[1]["output"], "no cluster\nexpected: ACTIVE\nfound: none");
        assert_eq!(tests[2]["output"], "skipped: `b` did not pass (fail)");
    }

    #[test]
    fn gradescope_says_could_not_grade_and_incomplete() {
        let (report, plans) = report(undecided_checks());
        let doc = parse(&gradescope(&Grading { report: &report, plans: &plans, setup_failure: None }));
        let output = doc["output"].as_str().unwrap();
        assert!(output.starts_with("Grade incomplete: could not grade 2 check(s) (d, e)"), "{output}");
        let tests = doc["tests"].as_array().unwrap();
        assert_eq!(tests[3]["output"], "could not grade: AccessDenied: not authorized to perform ecs:DescribeServices");
        assert_eq!(tests[3]["score"], 0);
        assert_eq!(tests[3]["max_score"], 3);
        // Skipped because its dependency could not decide: undecided too, not a fail.
        assert_eq!(tests[4]["output"], "could not grade: skipped: `d` did not pass (error)");
        assert_eq!(doc["score"], 2);
    }

    #[test]
    fn prairielearn_scores_a_complete_run_from_0_to_1() {
        let (report, plans) = report(vec![]);
        let doc = parse(&prairielearn(&Grading { report: &report, plans: &plans, setup_failure: None }));
        assert_eq!(doc["gradable"], true);
        assert_eq!(doc["score"], 0.5);
        assert!(doc["message"].as_str().unwrap().contains("1 passed, 1 failed, 0 error, 1 skipped · 2/4 points"), "{doc}");
        let tests = doc["tests"].as_array().unwrap();
        assert_eq!(tests[0]["points"], 2);
        assert_eq!(tests[0]["max_points"], 2);
        assert_eq!(tests[0]["description"], "step-4: ECS cluster");
        assert_eq!(tests[0]["message"], "cluster is ACTIVE");
        assert_eq!(tests[1]["points"], 0);
        assert_eq!(tests[1]["max_points"], 1);
        assert_eq!(tests[1]["output"], "no cluster\nexpected: ACTIVE\nfound: none");
    }

    #[test]
    fn prairielearn_is_not_gradable_when_a_check_could_not_decide() {
        let (report, plans) = report(undecided_checks());
        let doc = parse(&prairielearn(&Grading { report: &report, plans: &plans, setup_failure: None }));
        assert_eq!(doc["gradable"], false);
        assert!(doc.get("score").is_none(), "an ungradable result carries no score: {doc}");
        assert!(doc["message"].as_str().unwrap().starts_with("could not grade 2 check(s) (d, e)"), "{doc}");
        assert_eq!(doc["tests"][3]["message"], "could not grade: AccessDenied: not authorized to perform ecs:DescribeServices");
    }

    #[test]
    fn a_setup_failure_is_not_gradable_with_the_reason() {
        let (mut report, plans) = report(vec![]);
        for c in &mut report.steps[0].checks {
            c.status = Status::Error;
            c.message = "AWS could not be reached".into();
        }
        report.account = String::new();
        let reason = "failed to reach AWS at http://127.0.0.1:9: connection refused\n\nCheck your network connection.";
        let grading = Grading { report: &report, plans: &plans, setup_failure: Some(reason) };
        let pl = parse(&prairielearn(&grading));
        assert_eq!(pl["gradable"], false);
        assert_eq!(pl["message"], "could not grade: failed to reach AWS at http://127.0.0.1:9: connection refused");
        assert!(pl["output"].as_str().unwrap().contains("Check your network connection."));
        let gs = parse(&gradescope(&grading));
        assert!(gs["output"].as_str().unwrap().starts_with("Grade incomplete: could not grade: failed to reach AWS"), "{gs}");
        assert_eq!(gs["score"], 0);
        let gh = parse(&github_classroom(&grading));
        assert_eq!(gh["status"], "error");
        assert_eq!(gh["max_score"], 0);
        assert!(gh["tests"].as_array().unwrap().iter().all(|t| t["status"] == "error"));
    }

    /// The points classroom-resources/autograding-grading-reporter posts for one runner's
    /// result (`src/notify-classroom.js`, lines 6-31 at 43c2d9f): nothing when `max_score` is
    /// 0 or missing, else the sum of every test's `score` over `max_score`.
    fn reporter_posts(doc: &Value) -> Option<(u64, u64)> {
        let max = doc["max_score"].as_u64().filter(|m| *m != 0)?;
        Some((doc["tests"].as_array().unwrap().iter().map(|t| t["score"].as_u64().unwrap()).sum(), max))
    }

    /// What that reporter prints for each test (`src/console-results.js`, lines 23-42):
    /// `message` only for `error`, ` - line N` unless `line_no` is 0, `test_code` whenever it
    /// is not empty, `filename` never.
    fn reporter_prints(doc: &Value) -> String {
        let mut out = String::new();
        for t in doc["tests"].as_array().unwrap() {
            let line = if t["line_no"] != 0 { format!(" - line {}", t["line_no"]) } else { String::new() };
            match t["status"].as_str().unwrap() {
                "pass" => out.push_str(&format!("✅ {}{line}\n", t["name"].as_str().unwrap())),
                "error" => out.push_str(&format!("Error: {}\n", t["message"].as_str().unwrap())),
                _ => out.push_str(&format!("❌ {}{line}\n", t["name"].as_str().unwrap())),
            }
            if let Some(code) = t["test_code"].as_str().filter(|c| !c.is_empty()) {
                out.push_str(&format!("Test code:\n{code}\n"));
            }
        }
        out
    }

    #[test]
    fn github_classroom_reports_pass_fail_and_error() {
        let (report, plans) = report(vec![]);
        let doc = parse(&github_classroom(&Grading { report: &report, plans: &plans, setup_failure: None }));
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["status"], "fail");
        assert_eq!(doc["max_score"], 4);
        let tests = doc["tests"].as_array().unwrap();
        let statuses: Vec<&str> = tests.iter().map(|t| t["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["pass", "fail", "fail"]);
        assert!(tests.iter().all(|t| t["line_no"] == 0 && t["filename"] == ""), "{doc}");
        assert_eq!(reporter_posts(&doc), Some((2, 4)));
        // A failed check's evidence is where the reporter prints it.
        let printed = reporter_prints(&doc);
        assert!(printed.contains("❌ step-4 · title of b\nTest code:\nno cluster\nexpected: ACTIVE\nfound: none"), "{printed}");
        assert!(!printed.contains("- line"), "{printed}");

        let (undecided, plans) = self::report(undecided_checks());
        let doc = parse(&github_classroom(&Grading { report: &undecided, plans: &plans, setup_failure: None }));
        assert_eq!(doc["status"], "error");
        // No points at all rather than 2 of 8: an incomplete run is not a grade.
        assert_eq!(reporter_posts(&doc), None, "{doc}");
        let tests = doc["tests"].as_array().unwrap();
        assert_eq!(tests[0]["status"], "error");
        assert_eq!(tests[4]["status"], "error");
        assert_eq!(tests[5]["status"], "error");
        let printed = reporter_prints(&doc);
        assert!(printed.starts_with("Error: could not grade 2 check(s) (d, e)"), "{printed}");
        assert!(printed.contains("No points are posted"), "{printed}");
    }

    #[test]
    fn gradescope_output_is_plain_text() {
        let (report, plans) = report(vec![]);
        let doc = parse(&gradescope(&Grading { report: &report, plans: &plans, setup_failure: None }));
        // gradescope/autograder_samples docs/specs.md, "Output String Formatting": the
        // top-level output defaults to `simple_format` (HTML), which would swallow `<none>`.
        assert_eq!(doc["output_format"], "text");
        assert_eq!(doc["test_output_format"], "text");
        assert!(doc["tests"].as_array().unwrap().iter().all(|t| t["output_format"] == "text"), "{doc}");
    }

    #[test]
    fn a_finished_run_passes_everywhere() {
        let (mut report, plans) = report(vec![]);
        report.steps[0].checks.truncate(1);
        let grading = Grading { report: &report, plans: &plans, setup_failure: None };
        assert_eq!(parse(&github_classroom(&grading))["status"], "pass");
        assert_eq!(parse(&prairielearn(&grading))["score"], 1.0);
        assert_eq!(parse(&gradescope(&grading))["tests"][0]["status"], "passed");
    }
}
