//! `grader cohort` over a class of 200 accounts in one emulator: 150 clean, 40 with assorted
//! leftovers across regions, 10 whose audit role cannot be assumed. Every account must be
//! classified exactly right, in every output format. A class of 30 graded on every step,
//! whose gradebook must say what its JSON report says. Also what one account costs in calls,
//! and the retry settings an instructor chooses.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use support::lab::{Clients, LabBuild, build};
use support::{Account, Emulator, fresh_account_id, grader_in, scratch_dir};

const AUDIT_ROLE: &str = "grader-audit";
const EXTERNAL_ID: &str = "class-7";
/// The account the `testing` keys act in: the instructor's.
const INSTRUCTOR: &str = "123456789012";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Clean,
    RunningService,
    EmptyCluster,
    LogGroupOnly,
    SecurityGroupOnly,
    InactiveTaskDefinitionsOnly,
    NoRole,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Clean | Kind::InactiveTaskDefinitionsOnly => "pass",
            Kind::NoRole => "error",
            _ => "fail",
        }
    }
}

fn class() -> Vec<Kind> {
    let mut kinds = vec![Kind::Clean; 150];
    for k in [Kind::RunningService, Kind::EmptyCluster, Kind::LogGroupOnly, Kind::SecurityGroupOnly, Kind::InactiveTaskDefinitionsOnly] {
        kinds.extend(std::iter::repeat_n(k, 8));
    }
    kinds.extend(std::iter::repeat_n(Kind::NoRole, 10));
    kinds
}

/// Sets up one learner account as `kind` says, through the role AWS Organizations puts in
/// every member account.
async fn set_up(endpoint: &str, account_id: &str, kind: Kind) {
    let learner = Account::assume_with_sdk(endpoint, account_id, "OrganizationAccountAccessRole").await;
    let us_east = Clients::new(&learner, "us-east-1");
    if kind != Kind::NoRole {
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{INSTRUCTOR}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{EXTERNAL_ID}"}}}}}}]}}"#
        );
        us_east.iam.create_role().role_name(AUDIT_ROLE).assume_role_policy_document(trust).send().await.unwrap();
    }
    match kind {
        Kind::RunningService => {
            build(&learner, &LabBuild { region: "us-west-2".into(), ..LabBuild::default() }).await;
        }
        Kind::EmptyCluster => {
            Clients::new(&learner, "us-west-2").ecs.create_cluster().cluster_name("fargate-course").send().await.unwrap();
        }
        Kind::LogGroupOnly => {
            Clients::new(&learner, "eu-west-1").logs.create_log_group().log_group_name("/ecs/nginx-web").send().await.unwrap();
        }
        Kind::SecurityGroupOnly => {
            us_east.ec2.create_security_group().group_name("nginx-web-sg").description("left over").send().await.unwrap();
        }
        Kind::InactiveTaskDefinitionsOnly => {
            let b = LabBuild::default();
            let arn = support::lab::register(&us_east, &learner, &b, "256").await;
            us_east.ecs.deregister_task_definition().task_definition(arn).send().await.unwrap();
        }
        Kind::Clean | Kind::NoRole => {}
    }
}

#[test]
fn a_class_of_200_is_classified_exactly_in_every_format() {
    let emulator = Emulator::start(&["--strict-assume-role"]);
    let kinds = class();
    let ids: Vec<String> = kinds.iter().map(|_| fresh_account_id()).collect();
    support::lab::block_on(async {
        let endpoint = emulator.url.clone();
        futures::future::join_all(ids.iter().zip(&kinds).map(|(id, kind)| set_up(&endpoint, id, *kind))).await;
    });
    let dir = scratch_dir("cohort");
    let roster = dir.join("roster.csv");
    let mut csv = String::from("label,account_id,role_arn,external_id\n");
    for (i, id) in ids.iter().enumerate() {
        csv.push_str(&format!("learner-{i:03},{id},arn:aws:iam::{id}:role/{AUDIT_ROLE},{EXTERNAL_ID}\n"));
    }
    std::fs::write(&roster, csv).unwrap();
    let expected: BTreeMap<String, &str> = ids.iter().cloned().zip(kinds.iter().map(|k| k.expected())).collect();
    let env = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())];
    let setup_calls = emulator.all_requests().len();
    let run = |format: &str| {
        let out = dir.join(format!("report.{format}"));
        let result = grader_in(
            None,
            &["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-west-2,eu-west-1", "--format", format, "--output", out.to_str().unwrap()],
            &env,
        );
        assert_eq!(result.code, 1, "some accounts fail, so exit 1: {}", result.stderr);
        std::fs::read_to_string(out).unwrap()
    };

    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["schema"], "grader.cohort/v1");
    assert_eq!(json["step"], "cleanup");
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 200);
    let mut wrong = Vec::new();
    for (a, kind) in accounts.iter().zip(&kinds) {
        let id = a["account_id"].as_str().unwrap();
        if a["status"] != expected[id] {
            wrong.push(format!("{id} ({kind:?}): {} {}", a["status"], a["error"]));
        }
        match kind {
            Kind::RunningService => {
                let resources: Vec<&str> = a["leftovers"].as_array().unwrap().iter().map(|l| l["resource"].as_str().unwrap()).collect();
                assert!(resources.contains(&"ecs_service") && resources.contains(&"ecs_task"), "{id}: {resources:?}");
                // Its one task (0.25 vCPU, 0.5 GB) and the task's public IPv4, each once: the
                // service, the task and the task's interface are three leftovers of one bill.
                assert!((a["usd_per_hour"].as_f64().unwrap() - 0.01734).abs() < 0.0001, "{id} costs its task once: {}", a["usd_per_hour"]);
                let service = a["leftovers"].as_array().unwrap().iter().find(|l| l["resource"] == "ecs_service").unwrap();
                assert!(service["usd_per_hour"].as_f64().unwrap() > 0.017, "a forgotten service is priced by its task: {service}");
                assert!(service["price_basis"].as_str().unwrap().starts_with("approximate: us-east-1 on-demand prices of 2026"), "{service}");
                assert!(a["leftovers"].as_array().unwrap().iter().all(|l| l["region"] == "us-west-2"));
            }
            Kind::EmptyCluster => assert_eq!(a["leftovers"][0]["teardown"][0], "aws ecs delete-cluster --cluster fargate-course --region us-west-2"),
            Kind::LogGroupOnly => assert_eq!(a["leftovers"][0]["region"], "eu-west-1"),
            Kind::SecurityGroupOnly => assert_eq!(a["leftovers"][0]["resource"], "security_group"),
            Kind::NoRole => assert!(a["error"].as_str().unwrap().contains("cannot be assumed"), "{}", a["error"]),
            _ => assert!(a["leftovers"].as_array().unwrap().is_empty(), "{id}: {}", a["leftovers"]),
        }
    }
    assert!(wrong.is_empty(), "misclassified accounts:\n{}", wrong.join("\n"));
    assert_eq!((json["summary"]["pass"].as_u64(), json["summary"]["fail"].as_u64(), json["summary"]["error"].as_u64()), (Some(158), Some(32), Some(10)));

    let csv = run("csv");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 200);
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[2], expected[cells[1]], "{row}");
    }

    let junit = run("junit");
    assert_eq!(junit.matches("<testsuite ").count(), 200);
    assert_eq!(junit.matches("name=\"access\"><error").count(), 10);
    for (id, status) in &expected {
        let suite = junit.split("<testsuite ").find(|s| s.contains(id.as_str())).unwrap();
        let failing = suite.contains("<failure") || suite.contains("<error");
        assert_eq!(failing, *status != "pass", "{id} in JUnit");
    }

    let html = run("html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<script>") && !html.contains("src=\"http"));
    assert_eq!(html.matches("<tr class=\"error\">").count(), 10);
    assert_eq!(html.matches("<tr class=\"fail\">").count(), 32);
    assert_eq!(html.matches("<tr class=\"pass\">").count(), 158);

    emulator.assert_read_only_since(setup_calls, None);

    let human = run("human");
    assert!(human.contains("200 accounts: 158 pass, 32 fail, 10 error"), "{human}");
    assert!(human.contains("Needs attention first:"));
}

/// The ids of the checks of one account's JSON report whose verdict is unknown: errors, and
/// skips behind one (the runner names the blocker: ``skipped: `id` did not pass (…)``).
fn undecided_checks(report: &serde_json::Value) -> std::collections::BTreeSet<String> {
    let checks: Vec<&serde_json::Value> = report["steps"].as_array().unwrap().iter().flat_map(|s| s["checks"].as_array().unwrap()).collect();
    let mut undecided: std::collections::BTreeSet<String> = checks.iter().filter(|c| c["status"] == "error").map(|c| c["id"].as_str().unwrap().to_string()).collect();
    loop {
        let before = undecided.len();
        for c in checks.iter().filter(|c| c["status"] == "skip") {
            let blocker = c["message"].as_str().unwrap().split('`').nth(1).unwrap_or_default().to_string();
            if undecided.contains(&blocker) {
                undecided.insert(c["id"].as_str().unwrap().to_string());
            }
        }
        if undecided.len() == before {
            return undecided;
        }
    }
}

#[test]
fn a_class_of_30_gets_a_gradebook_that_says_what_the_json_says() {
    let emulator = Emulator::start(&["--strict-assume-role"]);
    let mut kinds = vec![Kind::Clean; 10];
    for (kind, n) in [(Kind::RunningService, 8), (Kind::EmptyCluster, 4), (Kind::LogGroupOnly, 2), (Kind::SecurityGroupOnly, 2), (Kind::InactiveTaskDefinitionsOnly, 1), (Kind::NoRole, 3)] {
        kinds.extend(std::iter::repeat_n(kind, n));
    }
    assert_eq!(kinds.len(), 30);
    let ids: Vec<String> = kinds.iter().map(|_| fresh_account_id()).collect();
    support::lab::block_on(async {
        let endpoint = emulator.url.clone();
        futures::future::join_all(ids.iter().zip(&kinds).map(|(id, kind)| set_up(&endpoint, id, *kind))).await;
    });
    let dir = scratch_dir("cohort-gradebook");
    let roster = dir.join("roster.csv");
    // The running labs are in us-west-2, so the class is graded there. Every third learner
    // has no SIS id; labels with a comma and a quote test the writer's quoting.
    let mut csv = String::from("label,account_id,role_arn,external_id,region,email,sis_id
");
    for (i, id) in ids.iter().enumerate() {
        let sis_id = if i % 3 == 0 { String::new() } else { format!("S{i:04}") };
        csv.push_str(&format!("\"Learner, \"\"{i:02}\"\"\",{id},arn:aws:iam::{id}:role/{AUDIT_ROLE},{EXTERNAL_ID},us-west-2,learner{i}@example.edu,{sis_id}\n"));
    }
    std::fs::write(&roster, csv).unwrap();
    let env = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())];
    let run = |format: &str| {
        let out = dir.join(format!("class.{format}"));
        let args = ["cohort", "--roster", roster.to_str().unwrap(), "--all", "--scan-regions", "us-west-2", "--format", format, "--output", out.to_str().unwrap()];
        let result = grader_in(None, &args, &env);
        assert_eq!(result.code, 1, "some accounts fail, so exit 1: {}", result.stderr);
        std::fs::read_to_string(out).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let gradebook = run("gradebook");
    assert!(!gradebook.lines().any(|l| l.starts_with('#')), "no comment lines in the gradebook");
    let mut reader = csv::Reader::from_reader(gradebook.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();

    let steps = json["steps"].as_array().unwrap();
    assert!(steps.len() > 1 && steps.iter().all(|s| s["id"] != "cleanup"), "--all grades the build steps: {steps:?}");
    let pts = |n: u64| if n == 1 { "1 pt".to_string() } else { format!("{n} pts") };
    let mut expected_header = vec!["label".to_string(), "email".into(), "sis_id".into()];
    expected_header.extend(steps.iter().map(|s| format!("{} ({})", s["id"].as_str().unwrap(), pts(s["possible"].as_u64().unwrap()))));
    let possible: u64 = steps.iter().map(|s| s["possible"].as_u64().unwrap()).sum();
    expected_header.push(format!("total ({})", pts(possible)));
    expected_header.push("notes".into());
    assert_eq!(header, expected_header);

    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(rows.len(), accounts.len());
    assert_eq!(rows.len(), 30);
    let (mut empty_cells, mut full_marks, mut zeros) = (0, 0, 0);
    for (i, (row, a)) in rows.iter().zip(accounts).enumerate() {
        let label = a["label"].as_str().unwrap();
        assert_eq!(label, format!("Learner, \"{i:02}\""));
        assert_eq!(&row[0], label);
        assert_eq!(&row[1], format!("learner{i}@example.edu"));
        assert_eq!(&row[2], if i % 3 == 0 { String::new() } else { format!("S{i:04}") }, "a blank SIS id stays blank");
        let mut expected: Vec<String> = Vec::new();
        match a.get("report") {
            None => expected.extend(steps.iter().map(|_| String::new())),
            Some(report) => {
                let undecided = undecided_checks(report);
                for (column, step) in steps.iter().zip(report["steps"].as_array().unwrap()) {
                    assert_eq!(column["id"], step["id"]);
                    assert_eq!(column["possible"], step["points"]["possible"]);
                    let decided = step["checks"].as_array().unwrap().iter().all(|c| !undecided.contains(c["id"].as_str().unwrap()));
                    expected.push(if decided { step["points"]["earned"].to_string() } else { String::new() });
                }
            }
        }
        let total = if expected.iter().any(String::is_empty) { String::new() } else { expected.iter().map(|p| p.parse::<u64>().unwrap()).sum::<u64>().to_string() };
        expected.push(total);
        expected.push(a["error"].as_str().unwrap_or_default().to_string());
        let cells: Vec<&str> = row.iter().skip(3).collect();
        assert_eq!(cells, expected, "{label} ({})", a["account_id"]);
        empty_cells += cells[..steps.len()].iter().filter(|c| c.is_empty()).count();
        full_marks += usize::from(cells[steps.len()] == possible.to_string());
        zeros += cells[..steps.len()].iter().filter(|c| **c == "0").count();
        if kinds[i] == Kind::NoRole {
            assert!(cells[..=steps.len()].iter().all(|c| c.is_empty()) && cells[steps.len() + 1].contains("cannot be assumed"), "{cells:?}");
        }
    }
    assert!(empty_cells >= 3 * steps.len() && zeros > 0, "a mixed class: {empty_cells} empty cells, {zeros} zeros");
    eprintln!("gradebook: {full_marks} learners with full marks, {zeros} zero cells, {empty_cells} empty cells");

    // Where the class is: the funnel's figures are the accounts' own step verdicts, counted.
    let funnel = json["progress"]["steps"].as_array().unwrap();
    assert_eq!(funnel.len(), steps.len());
    let mut passed_cells = 0;
    for (column, count) in steps.iter().zip(funnel) {
        assert_eq!(column["id"], count["step"]);
        let verdicts: Vec<&str> = accounts.iter().filter_map(|a| a.get("report")).map(|r| r["steps"].as_array().unwrap().iter().find(|s| s["id"] == column["id"]).unwrap()["status"].as_str().unwrap()).collect();
        let n = |f: &dyn Fn(&str) -> bool| verdicts.iter().filter(|v| f(v)).count() as u64;
        assert_eq!(count["passed"].as_u64().unwrap(), n(&|v| v == "pass"), "{count}");
        assert_eq!(count["failed"].as_u64().unwrap(), n(&|v| v == "fail" || v == "skip"), "{count}");
        assert_eq!(count["undecided"].as_u64().unwrap(), n(&|v| v == "error"), "{count}");
        assert_eq!(count["not_audited"], 3, "the three learners without an audit role: {count}");
        passed_cells += count["passed"].as_u64().unwrap();
    }
    // The known class: everyone audited finds the default VPC (27 of 30); the 8 running labs
    // and the 4 empty clusters have a cluster (step 4: 12); only the 8 running labs get further.
    let passed: Vec<u64> = funnel.iter().map(|c| c["passed"].as_u64().unwrap()).collect();
    assert_eq!(passed, [27, 27, 8, 12, 8, 8, 8, 8, 8], "{funnel:?}");
    for failing in json["progress"]["failing_checks"].as_array().unwrap() {
        let learners = accounts
            .iter()
            .filter_map(|a| a.get("report"))
            .filter(|r| r["steps"].as_array().unwrap().iter().any(|s| s["id"] == failing["step"] && s["checks"].as_array().unwrap().iter().any(|c| c["id"] == failing["check"] && c["status"] == "fail")))
            .count();
        assert_eq!(failing["learners"].as_u64().unwrap() as usize, learners, "{failing}");
        assert!(failing["common_count"].as_u64().unwrap() >= 1 && failing["common_count"].as_u64() <= failing["learners"].as_u64(), "{failing}");
    }
    assert!(!json["progress"]["failing_checks"].as_array().unwrap().is_empty(), "a mixed class fails some checks");
    let html = run("html");
    assert_eq!(html.matches("✓ passed</td>").count() as u64, passed_cells, "the grid shows each step a learner passed");
    assert!(html.contains("<svg class=\"funnel\" role=\"img\""), "the funnel is drawn");
    assert!(!html.contains("<th>$/hour</th>"), "build steps have no cost column");

    let started_at = json["started_at"].as_str().unwrap();
    assert!(started_at.len() == 20 && started_at.ends_with('Z'), "{started_at}");
    // The HTML run is a later run: its time is the JSON run's or after, in the same format.
    let html_time = html.split("<time datetime=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("the HTML states when the audit ran");
    assert!(html_time.len() == 20 && html_time.ends_with('Z') && html_time >= started_at, "{html_time} vs {started_at}");
    assert!(html.contains(&format!(">{html_time}</time> (UTC)")));
    assert!(html.contains(&format!("lab <code>fargate-nginx</code> format 1, content <code>{}</code>", json["lab_digest"].as_str().unwrap())));
    assert_eq!(json["grader_version"], env!("CARGO_PKG_VERSION"));
    assert!(html.contains(&format!("grader {}", env!("CARGO_PKG_VERSION"))));
    for id in &ids {
        assert_eq!(html.matches(&format!("<a href=\"#acct-{id}\">")).count(), 1, "{id}");
        assert_eq!(html.matches(&format!("<section id=\"acct-{id}\">")).count(), 1, "{id}");
    }
}

/// Runs `grader cohort --format json` as the instructor, with the AWS retry variables only as
/// given (not inherited from whoever runs the tests), and returns the report.
fn audit(emulator: &Emulator, roster: &Path, retry_env: &[(&str, &str)]) -> serde_json::Value {
    audit_with(emulator, roster, retry_env, &[])
}

fn audit_with(emulator: &Emulator, roster: &Path, retry_env: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
    let home = scratch_dir("cohort-home");
    let out = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-west-2", "--format", "json"])
        .args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_MAX_ATTEMPTS")
        .env_remove("AWS_RETRY_MODE")
        .envs([("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())])
        .envs([("AWS_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true"), ("NO_COLOR", "1")])
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("GRADER_STATE_DIR", home.join("state"))
        .envs(retry_env.iter().copied())
        .output()
        .expect("run grader cohort");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

/// How many calls of `action` the emulator logged after the first `from`.
fn calls_since(emulator: &Emulator, from: usize, action: &str) -> usize {
    emulator.all_requests()[from..].iter().filter(|c| c["action"] == action).count()
}

#[test]
fn an_account_costs_one_assume_role_and_a_role_in_another_account_is_an_error() {
    let emulator = Emulator::shared();
    let (ok, listed, actual) = (fresh_account_id(), fresh_account_id(), fresh_account_id());
    let roster = scratch_dir("cohort-calls").join("roster.csv");
    let rows = format!("ok,{ok},arn:aws:iam::{ok}:role/{AUDIT_ROLE}\nmixed-up,{listed},arn:aws:iam::{actual}:role/{AUDIT_ROLE}\n");
    std::fs::write(&roster, format!("label,account_id,role_arn\n{rows}")).unwrap();
    let before = emulator.all_requests().len();
    let report = audit(emulator, &roster, &[]);
    assert_eq!(report["accounts"][0]["status"], "pass", "{report}");
    assert_eq!(report["accounts"][1]["status"], "error", "{report}");
    let error = report["accounts"][1]["error"].as_str().unwrap();
    assert!(error.contains(&format!("belongs to account {actual}, but the roster says {listed}")), "{error}");
    // The AssumeRole answer names the account, and its credentials serve every check.
    assert_eq!(calls_since(emulator, before, "AssumeRole"), 2);
    assert_eq!(calls_since(emulator, before, "GetCallerIdentity"), 0);
}

#[test]
fn aws_max_attempts_and_aws_retry_mode_are_honoured() {
    // Every call is throttled, so each audit makes exactly as many attempts as it may.
    let emulator = Emulator::start(&["--throttle-rate", "1"]);
    let id = fresh_account_id();
    let roster = scratch_dir("cohort-retries").join("roster.csv");
    std::fs::write(&roster, format!("label,account_id,role_arn\na,{id},arn:aws:iam::{id}:role/{AUDIT_ROLE}\n")).unwrap();
    // The default (adaptive, six attempts) is not run: under constant throttling adaptive
    // retry paces itself so that six attempts outlast the one-minute operation timeout.
    // Throttled past the retries, the account is asked once more at the end of the audit:
    // twice the attempts in all.
    for (env, attempts) in [(&[("AWS_MAX_ATTEMPTS", "2")][..], 2), (&[("AWS_RETRY_MODE", "standard")][..], 3)] {
        let before = emulator.all_requests().len();
        let report = audit(&emulator, &roster, env);
        let error = report["accounts"][0]["error"].as_str().unwrap_or_default();
        assert!(error.contains("failed to assume") && report["accounts"][0]["retried"] == true, "{env:?}: {report}");
        assert_eq!(calls_since(&emulator, before, "AssumeRole"), 2 * attempts, "{env:?}");
    }
}

#[test]
fn a_profile_with_its_own_endpoint_is_audited_there() {
    // A class spread over several endpoints names each in its profile; the run's own
    // endpoint (here a closed port) must not override it.
    let emulator = Emulator::shared();
    let account = fresh_account_id();
    let home = scratch_dir("cohort-endpoints");
    let config = format!("[profile learner]\nendpoint_url = {}\nregion = us-east-1\naws_access_key_id = testing\naws_secret_access_key = testing\n", emulator.url);
    std::fs::write(home.join("config"), config).unwrap();
    let roster = home.join("roster.csv");
    std::fs::write(&roster, format!("label,account_id,role_arn,profile\nsolo,{account},arn:aws:iam::{account}:role/{AUDIT_ROLE},learner\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-west-2", "--format", "json", "--endpoint-url", "http://127.0.0.1:9"])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .envs([("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true")])
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("GRADER_STATE_DIR", home.join("state"))
        .output()
        .expect("run grader cohort");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["accounts"][0]["status"], "pass", "{report}");
}

#[test]
fn the_second_labs_audit_finds_a_forgotten_load_balancer_and_prices_it() {
    let emulator = Emulator::shared();
    let student = support::Account::fresh(emulator);
    let vpc = student.aws_ok(&["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true", "--query", "Vpcs[0].VpcId", "--output", "text"]);
    let subnets = student.aws_ok(&["ec2", "describe-subnets", "--filters", &format!("Name=vpc-id,Values={vpc}"), "Name=default-for-az,Values=true", "--query", "Subnets[0:2].SubnetId", "--output", "text"]);
    let subnets: Vec<&str> = subnets.split_whitespace().collect();
    let mut create = vec!["elbv2", "create-load-balancer", "--name", "nginx-alb", "--type", "application", "--subnets"];
    create.extend(&subnets);
    student.aws_ok(&create);
    student.aws_ok(&["elbv2", "create-target-group", "--name", "nginx-targets", "--protocol", "HTTP", "--port", "80", "--vpc-id", &vpc, "--target-type", "ip"]);
    let clean = support::fresh_account_id();
    let roster = scratch_dir("cohort-alb").join("roster.csv");
    let id = &student.id;
    std::fs::write(&roster, format!("label,account_id,role_arn\nforgetful,{id},arn:aws:iam::{id}:role/{AUDIT_ROLE}\ntidy,{clean},arn:aws:iam::{clean}:role/{AUDIT_ROLE}\n")).unwrap();
    let report = audit_with(emulator, &roster, &[], &["--lab", "alb"]);
    assert_eq!(report["lab"], "alb", "{report}");
    assert_eq!(report["accounts"][1]["status"], "pass", "{report}");
    let forgetful = &report["accounts"][0];
    assert_eq!(forgetful["status"], "fail", "{forgetful}");
    let leftovers = forgetful["leftovers"].as_array().unwrap();
    let lb = leftovers.iter().find(|l| l["resource"] == "load_balancer").unwrap_or_else(|| panic!("{forgetful}"));
    assert_eq!(lb["name"], "nginx-alb");
    assert!((lb["usd_per_hour"].as_f64().unwrap() - 0.0325).abs() < 1e-9, "{lb}");
    assert!(lb["teardown"][0].as_str().unwrap().starts_with("aws elbv2 delete-load-balancer --load-balancer-arn arn:aws:elasticloadbalancing:"), "{lb}");
    assert!(leftovers.iter().any(|l| l["resource"] == "target_group" && l["name"] == "nginx-targets"), "{forgetful}");

    // With no --lab, the audit is every lab's clean-up (as `--lab all`): each lab's step is a
    // column of its own, and lab 1's clean-up alone would have passed this learner.
    let both = audit_with(emulator, &roster, &[], &[]);
    assert_eq!(both["lab"], "all", "{both}");
    let steps: Vec<&str> = both["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(steps, ["fargate-nginx:cleanup", "alb:cleanup", "ops:cleanup"], "{both}");
    assert_eq!(both["accounts"][1]["status"], "pass", "{both}");
    let forgetful = &both["accounts"][0];
    assert_eq!(forgetful["status"], "fail", "{forgetful}");
    let failing: Vec<&str> = forgetful["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .filter(|c| c["status"] != "pass")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["alb/load-balancer-deleted", "alb/target-group-deleted"], "{forgetful}");
}

/// `value` without what differs from run to run (timings), for comparing two audits.
fn without_timings(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            map.iter().filter(|(k, _)| !["duration_ms", "started_at", "elapsed_ms"].contains(&k.as_str())).map(|(k, v)| (k.clone(), without_timings(v))).collect()
        }
        serde_json::Value::Array(items) => items.iter().map(without_timings).collect(),
        other => other.clone(),
    }
}

#[test]
fn a_class_audited_in_shards_and_merged_reads_as_the_unsharded_audit() {
    let emulator = Emulator::start(&["--strict-assume-role"]);
    let kinds = [Kind::Clean, Kind::EmptyCluster, Kind::NoRole, Kind::LogGroupOnly, Kind::Clean, Kind::SecurityGroupOnly, Kind::InactiveTaskDefinitionsOnly, Kind::Clean, Kind::NoRole];
    let ids: Vec<String> = kinds.iter().map(|_| fresh_account_id()).collect();
    support::lab::block_on(async {
        let endpoint = emulator.url.clone();
        futures::future::join_all(ids.iter().zip(&kinds).map(|(id, kind)| set_up(&endpoint, id, *kind))).await;
    });
    let dir = scratch_dir("cohort-shards");
    let roster = dir.join("roster.csv");
    let rows: String = ids.iter().enumerate().map(|(i, id)| format!("learner-{i},{id},arn:aws:iam::{id}:role/{AUDIT_ROLE},{EXTERNAL_ID}\n")).collect();
    std::fs::write(&roster, format!("label,account_id,role_arn,external_id\n{rows}")).unwrap();
    let env = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())];
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let audit = |extra: &[&str], out: &str, vars: &[(&str, &str)]| {
        let mut args = vec!["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-west-2,eu-west-1,us-east-1", "--output", out];
        args.extend_from_slice(extra);
        let run = grader_in(None, &args, &[&env[..], vars].concat());
        // Accounts go to shards by a hash of their id, and the ids differ from run to run:
        // a shard may hold only passing accounts, and then exits 0.
        let all_pass = run.stderr.lines().any(|l| l.split_once(" accounts: ").is_some_and(|(n, rest)| rest.starts_with(&format!("{n} pass,"))));
        assert_eq!(run.code, if all_pass { 0 } else { 1 }, "exit 1 when some account does not pass: {}", run.stderr);
    };
    let read = |name: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(file(name)).unwrap()).unwrap() };
    audit(&["--format", "json"], &file("whole.json"), &[]);
    for format in ["csv", "gradebook"] {
        audit(&["--format", format], &file(&format!("whole.{format}")), &[]);
    }
    // Shard 1 by number, 2 as AWS Batch names it, 3 as Kubernetes does (indices from 0).
    audit(&["--format", "json", "--shard", "1/3"], &file("shard-1.json"), &[]);
    audit(&["--format", "json", "--shard", "auto/3"], &file("shard-2.json"), &[("AWS_BATCH_JOB_ARRAY_INDEX", "1")]);
    audit(&["--format", "json", "--shard", "auto/3"], &file("shard-3.json"), &[("JOB_COMPLETION_INDEX", "2")]);
    let mut seen: Vec<String> = Vec::new();
    for k in 1..=3 {
        let shard = read(&format!("shard-{k}.json"));
        assert_eq!((shard["shard"]["index"].as_u64(), shard["shard"]["count"].as_u64()), (Some(k), Some(3)), "{shard:#}");
        seen.extend(shard["accounts"].as_array().unwrap().iter().map(|a| a["account_id"].as_str().unwrap().to_string()));
    }
    seen.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(seen, all, "the shards are disjoint and together the roster");

    // Merged (in any order of files), it is the unsharded report in every format but timings.
    let shards = [file("shard-3.json"), file("shard-1.json"), file("shard-2.json")];
    let merge = |extra: &[&str], files: &[String]| {
        let mut args: Vec<&str> = vec!["cohort", "merge"];
        args.extend(files.iter().map(String::as_str));
        args.extend_from_slice(extra);
        grader_in(None, &args, &[])
    };
    let merged = merge(&["--format", "json", "--output", &file("merged.json")], &shards);
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    assert_eq!(without_timings(&read("merged.json")), without_timings(&read("whole.json")));
    for format in ["csv", "gradebook"] {
        let run = merge(&["--format", format], &shards);
        assert_eq!(run.stdout, std::fs::read_to_string(file(&format!("whole.{format}"))).unwrap(), "{format}");
    }

    // What cannot be merged is refused, naming the files.
    let refused = |files: &[String], says: &str| {
        let run = merge(&["--format", "json"], files);
        assert_eq!(run.code, 2, "{says}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(says), "expected `{says}` in: {}", run.stderr);
        assert!(run.stdout.is_empty());
    };
    refused(&shards[..2], "shard 2 of 3 is missing");
    refused(&[shards[0].clone(), shards[1].clone(), shards[2].clone(), shards[1].clone()], "shard 1 of 3 is given twice");
    refused(&[file("whole.json")], "not a shard's report");
    let mut other_lab = read("shard-2.json");
    other_lab["lab_digest"] = "0000".into();
    std::fs::write(file("other-lab.json"), other_lab.to_string()).unwrap();
    refused(&[shards[0].clone(), shards[1].clone(), file("other-lab.json")], "audit different versions of the lab");
    // An account in two shards (shards cut from different rosters).
    let mut overlapping = read("shard-2.json");
    let stolen = read("shard-1.json")["accounts"][0].clone();
    overlapping["accounts"].as_array_mut().unwrap().push(stolen.clone());
    overlapping["shard"]["roster_positions"].as_array_mut().unwrap().push(99.into());
    std::fs::write(file("overlapping.json"), overlapping.to_string()).unwrap();
    refused(&[shards[0].clone(), shards[1].clone(), file("overlapping.json")], &format!("account {} is in both", stolen["account_id"].as_str().unwrap()));

    // A shard that does not exist is a usage error before any account is asked.
    let bad = grader_in(None, &["cohort", "--roster", roster.to_str().unwrap(), "--shard", "4/3"], &env);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("shard 4 of 3 does not exist"), "{}", bad.stderr);
    let no_rate = grader_in(None, &["cohort", "--roster", roster.to_str().unwrap(), "--assume-rate", "0"], &env);
    assert_eq!(no_rate.code, 2, "{}", no_rate.stderr);
    assert!(no_rate.stderr.contains("`0` is not a rate"), "{}", no_rate.stderr);
    // A rate so slow its gap would not fit in a timer: refused, not a panic.
    let tiny_rate = grader_in(None, &["cohort", "--roster", roster.to_str().unwrap(), "--assume-rate", "1e-20"], &env);
    assert_eq!(tiny_rate.code, 2, "{}", tiny_rate.stderr);
    assert!(tiny_rate.stderr.contains("at least 0.01"), "{}", tiny_rate.stderr);
}

/// A learner account whose audit role trusts the instructor and holds `policy`, charged
/// `charges` (Cost Explorer's answers) and with Cost Explorer open to it or not.
async fn set_up_spender(emulator: &Emulator, account_id: &str, policy: Option<&str>, charges: serde_json::Value, cost_explorer: bool) {
    set_up(&emulator.url, account_id, Kind::Clean).await;
    if let Some(policy) = policy {
        let learner = Account::assume_with_sdk(&emulator.url, account_id, "OrganizationAccountAccessRole").await;
        let iam = Clients::new(&learner, "us-east-1").iam;
        iam.put_role_policy().role_name(AUDIT_ROLE).policy_name("grader").policy_document(policy).send().await.unwrap();
    }
    emulator.configure(account_id, serde_json::json!({"cost_and_usage": charges, "cost_explorer_enabled": cost_explorer, "max_page_size": 2}));
}

fn charge(date: &str, service: &str, usd: f64) -> serde_json::Value {
    serde_json::json!({"date": date, "service": service, "usd": usd})
}

const ECS: &str = "Amazon Elastic Container Service";
const VPC: &str = "Amazon Virtual Private Cloud";

#[test]
fn each_learners_spend_is_read_flagged_past_the_alert_and_said_in_every_format() {
    let emulator = Emulator::shared();
    let (big, small, closed, elsewhere, actual) = (fresh_account_id(), fresh_account_id(), fresh_account_id(), fresh_account_id(), fresh_account_id());
    support::lab::block_on(async {
        // Charges before the course began are not the course's.
        let big_charges = serde_json::json!([charge("2025-12-31", ECS, 100.0), charge("2026-01-15", ECS, 20.0), charge("2026-02-03", VPC, 5.5), charge("2026-02-04", ECS, 0.75)]);
        set_up_spender(emulator, &big, None, big_charges, true).await;
        set_up_spender(emulator, &small, None, serde_json::json!([charge("2026-03-01", VPC, 2.0), charge("2026-03-02", "Tax", 0.001)]), true).await;
        set_up_spender(emulator, &closed, None, serde_json::json!([charge("2026-03-01", ECS, 9.0)]), false).await;
    });
    let dir = scratch_dir("cohort-spend");
    let roster = dir.join("roster.csv");
    let rows = [
        format!("big,{big},arn:aws:iam::{big}:role/{AUDIT_ROLE},{EXTERNAL_ID}"),
        format!("small,{small},arn:aws:iam::{small}:role/{AUDIT_ROLE},{EXTERNAL_ID}"),
        format!("closed,{closed},arn:aws:iam::{closed}:role/{AUDIT_ROLE},{EXTERNAL_ID}"),
        format!("elsewhere,{elsewhere},arn:aws:iam::{actual}:role/{AUDIT_ROLE},{EXTERNAL_ID}"),
    ];
    std::fs::write(&roster, format!("label,account_id,role_arn,external_id\n{}\n", rows.join("\n"))).unwrap();
    let spend = ["--spend", "--since", "2026-01-01", "--spend-alert", "25"];
    let before = emulator.all_requests().len();
    let report = audit_with(emulator, &roster, &[], &spend);
    let account = |i: usize| &report["accounts"][i];
    // 20 + 5.5 + 0.75, its services largest first; above the $25 alert.
    assert_eq!(account(0)["spend"]["usd"], 26.25, "{report:#}");
    assert_eq!(account(0)["spend"]["above_alert"], true);
    assert_eq!(account(0)["spend"]["by_service"], serde_json::json!([{"service": ECS, "usd": 20.75}, {"service": VPC, "usd": 5.5}]));
    // Tax of a tenth of a cent is noise; $2 is below the alert.
    assert_eq!(account(1)["spend"], serde_json::json!({"usd": 2.0, "by_service": [{"service": VPC, "usd": 2.0}], "estimated": true, "above_alert": false, "requests": account(1)["spend"]["requests"]}));
    // Closed to Cost Explorer: unknown, and why; the audit's verdict is unchanged.
    assert_eq!(account(2)["status"], "pass");
    let why = account(2)["spend"]["error"].as_str().unwrap();
    assert!(account(2)["spend"]["usd"].is_null() && why.contains("Cost Explorer is not enabled for this account"), "{why}");
    // Not reached at all: no spend, no request.
    assert_eq!(account(3)["status"], "error");
    assert!(account(3).get("spend").is_none(), "{report:#}");
    // Monthly periods from January through this month, two to a page (max_page_size 2).
    let this_month = &report["started_at"].as_str().unwrap()[..7];
    let (year, month): (u32, u32) = (this_month[..4].parse().unwrap(), this_month[5..].parse().unwrap());
    let pages = ((year - 2026) * 12 + month).div_ceil(2);
    assert_eq!(account(0)["spend"]["requests"], pages, "{report:#}");
    assert_eq!(calls_since(emulator, before, "GetCostAndUsage"), 2 * pages as usize + 1);
    let class = &report["spend"];
    assert_eq!((class["since"].as_str(), class["metric"].as_str(), class["alert_usd"].as_f64()), (Some("2026-01-01"), Some("UnblendedCost"), Some(25.0)));
    assert_eq!((class["total_usd"].as_f64(), class["above_alert"].as_u64(), class["unknown"].as_u64()), (Some(28.25), Some(1), Some(2)));
    assert_eq!(class["requests_usd"].as_f64().unwrap(), f64::from(2 * pages + 1) * 0.01);

    // The same figures in the instructor's other formats.
    let text = |format: &str| {
        let out = dir.join(format!("report.{format}"));
        let mut args = vec!["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-west-2", "--format", format, "--output", out.to_str().unwrap()];
        args.extend_from_slice(&spend);
        let run = grader_in(None, &args, &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        std::fs::read_to_string(out).unwrap()
    };
    let human = text("human");
    assert!(human.contains("! $26.25") && human.contains("$2.00"), "{human}");
    assert!(human.contains("Spent from 2026-01-01 to ") && human.contains("(UnblendedCost, before credits, partly estimated): $28.25 across the class"), "{human}");
    assert!(human.contains(&format!("1 account(s) above the $25.00 alert (marked !):\n  big ({big}): $26.25 ({ECS} $20.75, {VPC} $5.50)")), "{human}");
    assert!(human.contains(&format!("Spend unknown for 1 account(s):\n  closed ({closed}): unknown: `ce:GetCostAndUsage` failed: Cost Explorer is not enabled")), "{human}");
    let csv = text("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",error,spend_usd,spend_above_alert,spend_by_service"), "{csv}");
    assert!(lines[1].ends_with(&format!(",26.25,true,{ECS} 20.75; {VPC} 5.50")), "{csv}");
    assert!(lines[4].ends_with(",,,"), "not reached: {csv}");
    let gradebook = text("gradebook");
    let rows: Vec<&str> = gradebook.lines().collect();
    assert_eq!(rows[0], "label,fargate-nginx:cleanup (6 pts),alb:cleanup (9 pts),ops:cleanup (3 pts),total (18 pts),spent since 2026-01-01 (USD),notes", "{gradebook}");
    assert!(rows[1].starts_with("big,6,9,3,18,26.25,\"above the alert: spend $26.25 ("), "{gradebook}");
    assert_eq!(rows[2], "small,6,9,3,18,2.00,", "{gradebook}");
    assert!(rows[3].starts_with("closed,6,9,3,18,,\"spend unknown: `ce:GetCostAndUsage` failed: Cost Explorer is not enabled"), "{gradebook}");
    let html = text("html");
    assert!(html.contains("<th>Spent</th>") && html.contains("$26.25 <strong class=\"over\">⚠ above alert</strong>"), "{html}");
    assert!(html.contains("<strong>$28.25</strong>. 1 above the <strong>$25.00</strong> alert (⚠). 2 unknown."), "{html}");

    // Shards carry their accounts' spend into the merge; a shard that read no spend does not
    // merge with one that did.
    let shard = |k: &str, extra: &[&str]| {
        let mut args = vec!["--shard", k];
        args.extend_from_slice(extra);
        let path = dir.join(format!("shard-{}-{}.json", &k[..1], extra.len()));
        std::fs::write(&path, audit_with(emulator, &roster, &[], &args).to_string()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (first, second, second_plain) = (shard("1/2", &spend), shard("2/2", &spend), shard("2/2", &[]));
    let merged = grader_in(None, &["cohort", "merge", &first, &second, "--format", "json"], &[]);
    let merged: serde_json::Value = serde_json::from_str(&merged.stdout).unwrap_or_else(|e| panic!("{e}: {}", merged.stderr));
    for key in ["since", "total_usd", "above_alert", "unknown", "alert_usd"] {
        assert_eq!(merged["spend"][key], report["spend"][key], "{key}: {merged:#}");
    }
    let mixed = grader_in(None, &["cohort", "merge", &first, &second_plain], &[]);
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    assert!(mixed.stderr.contains("spend differently"), "{}", mixed.stderr);

    // Without --spend nothing is asked of Cost Explorer and no column appears; a bad date or
    // an alert without --spend is refused before any account is asked.
    let before = emulator.all_requests().len();
    let plain = audit(emulator, &roster, &[]);
    assert!(plain.get("spend").is_none() && plain["accounts"][0].get("spend").is_none(), "{plain:#}");
    assert_eq!(calls_since(emulator, before, "GetCostAndUsage"), 0);
    for (args, says) in [(&["--spend", "--since", "2026-02-30"][..], "is not a date"), (&["--spend-alert", "10"][..], "--spend")] {
        let mut all = vec!["cohort", "--roster", roster.to_str().unwrap()];
        all.extend_from_slice(args);
        let run = grader_in(None, &all, &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn reading_spend_needs_its_own_permission_under_iam_enforcement() {
    let emulator = Emulator::start(&["--enforce-iam"]);
    let policy = |extra: &[&str]| {
        let mut args = vec!["policy", "--lab", "fargate-nginx"];
        args.extend_from_slice(extra);
        let run = grader_in(None, &args, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let (with_spend, without) = (policy(&["--spend"]), policy(&[]));
    assert!(with_spend.contains("\"ce:GetCostAndUsage\"") && !without.contains("ce:"), "only when asked:\n{with_spend}\n{without}");
    let (allowed, denied) = (fresh_account_id(), fresh_account_id());
    support::lab::block_on(async {
        set_up_spender(&emulator, &allowed, Some(&with_spend), serde_json::json!([charge("2026-01-02", ECS, 3.0)]), true).await;
        set_up_spender(&emulator, &denied, Some(&without), serde_json::json!([charge("2026-01-02", ECS, 3.0)]), true).await;
    });
    let roster = scratch_dir("cohort-spend-iam").join("roster.csv");
    let rows = format!("allowed,{allowed},arn:aws:iam::{allowed}:role/{AUDIT_ROLE},{EXTERNAL_ID}\ndenied,{denied},arn:aws:iam::{denied}:role/{AUDIT_ROLE},{EXTERNAL_ID}\n");
    std::fs::write(&roster, format!("label,account_id,role_arn,external_id\n{rows}")).unwrap();
    let report = audit_with(&emulator, &roster, &[], &["--lab", "fargate-nginx", "--spend", "--since", "2026-01-01"]);
    // The audit itself passes in both: its own policy is enough for the clean-up checks.
    assert_eq!((report["accounts"][0]["status"].as_str(), report["accounts"][1]["status"].as_str()), (Some("pass"), Some("pass")), "{report:#}");
    assert_eq!(report["accounts"][0]["spend"]["usd"], 3.0, "{report:#}");
    let why = report["accounts"][1]["spend"]["error"].as_str().unwrap_or_default();
    assert!(why.starts_with("missing permission `ce:GetCostAndUsage`"), "{report:#}");
}

/// A class of fresh accounts set up as `kinds` say, in parallel; their ids in that order.
fn set_up_class(emulator: &Emulator, kinds: &[Kind]) -> Vec<String> {
    let ids: Vec<String> = kinds.iter().map(|_| fresh_account_id()).collect();
    support::lab::block_on(async {
        futures::future::join_all(ids.iter().zip(kinds).map(|(id, kind)| set_up(&emulator.url, id, *kind))).await;
    });
    ids
}

/// A roster at `path` of these accounts, `learner-N` each, reached through the audit role.
fn write_roster(path: &Path, accounts: &[&String]) {
    let rows: String = accounts.iter().enumerate().map(|(i, id)| format!("learner-{i},{id},arn:aws:iam::{id}:role/{AUDIT_ROLE},{EXTERNAL_ID}\n")).collect();
    std::fs::write(path, format!("label,account_id,role_arn,external_id\n{rows}")).unwrap();
}

#[test]
fn an_account_aws_was_too_busy_for_is_asked_again_at_the_end_and_classified_right() {
    let emulator = Emulator::shared();
    let ids = set_up_class(emulator, &[Kind::Clean, Kind::EmptyCluster, Kind::Clean, Kind::Clean, Kind::Clean]);
    let dir = scratch_dir("cohort-busy");
    let roster_of = |name: &str, accounts: &[&String]| {
        let path = dir.join(name);
        write_roster(&path, accounts);
        path
    };
    let env = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str()), ("AWS_MAX_ATTEMPTS", "2")];
    let cohort = |roster: &Path| grader_in(None, &["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-west-2", "--format", "json", "--concurrency", "2"], &env);
    // Busy throughout: every call throttled, in both audits. Half its calls is what one
    // audit asks when AWS refuses everything.
    emulator.configure(&ids[3], serde_json::json!({"throttle_rate": 1.0}));
    let set_up_calls = emulator.requests(&ids[3]).len();
    let alone = cohort(&roster_of("busy.csv", &[&ids[3]]));
    assert!(alone.stdout.contains("\"retried\": true"), "{}\n{}", alone.stdout, alone.stderr);
    let calls = emulator.requests(&ids[3]).len() - set_up_calls;
    assert!(calls > 0 && calls % 2 == 0, "{calls} calls");
    // Busy for exactly the first audit, then answering; for contrast, a clean and a failing
    // account, audited once.
    emulator.configure(&ids[2], serde_json::json!({"throttle_calls": calls / 2}));
    let run = cohort(&roster_of("class.csv", &ids.iter().collect::<Vec<_>>()));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let statuses: Vec<&str> = report["accounts"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pass", "fail", "pass", "error", "pass"], "{report:#}");
    let retried: Vec<bool> = report["accounts"].as_array().unwrap().iter().map(|a| a["retried"] == true).collect();
    assert_eq!(retried, [false, false, true, true, false], "only the accounts AWS was too busy for: {report:#}");
    assert!(report["accounts"][3]["error"].as_str().unwrap().contains("throttled"), "{report:#}");
    assert_eq!(report["summary"]["retried"], 2);
    assert!(run.stderr.contains("cohort: asking 2 account(s) again that AWS was too slow or busy to answer"), "{}", run.stderr);
}

#[test]
fn an_audit_slows_down_for_an_aws_that_answers_slowly_and_still_classifies_every_account() {
    // No timeouts, no throttling: AWS only takes far longer to answer some accounts than the
    // first ones. The audit lowers its concurrency, does not ask them again (they were
    // answered), and grades them like the rest.
    let emulator = Emulator::shared();
    let ids = set_up_class(emulator, &[Kind::Clean, Kind::Clean, Kind::Clean, Kind::EmptyCluster, Kind::Clean]);
    for id in &ids[2..] {
        emulator.configure(id, serde_json::json!({"latency_ms": 4000}));
    }
    let roster = scratch_dir("cohort-slow").join("roster.csv");
    write_roster(&roster, &ids.iter().collect::<Vec<_>>());
    let env = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())];
    let run = grader_in(
        None,
        &["cohort", "--roster", roster.to_str().unwrap(), "--lab", "fargate-nginx", "--scan-regions", "us-west-2", "--format", "json", "--concurrency", "2"],
        &env,
    );
    for id in &ids[2..] {
        emulator.configure(id, serde_json::json!({"latency_ms": null}));
    }
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let statuses: Vec<&str> = report["accounts"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pass", "pass", "pass", "fail", "pass"], "{report:#}");
    assert!(report["accounts"].as_array().unwrap().iter().all(|a| a["retried"] != true), "answered, only slowly: nothing to ask again: {report:#}");
    assert!(!run.stderr.contains("asking"), "{}", run.stderr);
    assert!(
        run.stderr.contains("cohort: AWS is slow to answer (timeouts, throttling or answers far slower than before); 1 account(s) at a time now, of --concurrency 2"),
        "{}",
        run.stderr
    );
}
