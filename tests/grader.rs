//! The grader against the emulator: every check kind passing and failing on real API
//! answers, the traps learners fall into, exit codes, reports, and one call per question.

mod support;

use support::lab::{LabBuild, Upto, block_on, build, clean_up};
use serde_json::json;
use support::{Account, Emulator, grader};

fn fresh() -> Account {
    Account::fresh(Emulator::shared())
}

fn check(account: &Account, args: &[&str]) -> support::GraderRun {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    grader(Some(account), &all)
}

#[test]
fn the_finished_lab_passes_every_step() {
    let account = fresh();
    block_on(build(&account, &LabBuild::default()));
    let run = check(&account, &["--all"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["schema"], "grader.report/v1");
    assert_eq!(report["account"], account.id.as_str());
    assert_eq!(report["region"], "us-east-1");
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 9, "--all checks the nine build steps");
    for step in steps {
        assert_eq!(step["status"], "pass", "{step}");
        assert_eq!(step["points"]["earned"], step["points"]["possible"]);
    }
    assert_eq!(report["summary"]["fail"], 0);
    assert!(run.check("http-200")["message"].as_str().unwrap().contains("answered HTTP 200"));
}

#[test]
fn a_full_check_asks_each_question_once_and_only_reads() {
    let emulator = Emulator::shared();
    let account = fresh();
    block_on(build(&account, &LabBuild::default()));
    let before = emulator.requests(&account.id).len();
    let run = check(&account, &["--all"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let calls: Vec<String> = emulator.requests(&account.id)[before..]
        .iter()
        .map(|r| format!("{}:{}", r["service"].as_str().unwrap_or("?"), r["action"].as_str().unwrap_or("?")))
        .collect();
    assert!(!calls.is_empty(), "the request log recorded nothing");
    let mut counts = std::collections::BTreeMap::new();
    for c in &calls {
        *counts.entry(c.clone()).or_insert(0) += 1;
    }
    // On a finished lab every question concerns one resource, so each action is called once.
    for (action, n) in &counts {
        assert_eq!(*n, 1, "`{action}` was called {n} times: {counts:?}");
        let op = action.split(':').nth(1).unwrap();
        assert!(op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"), "the grader called `{action}`");
    }
}

#[test]
fn an_empty_account_fails_every_step_that_builds_something() {
    let account = fresh();
    let run = check(&account, &["--all", "--no-wait"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    for step in report["steps"].as_array().unwrap() {
        let id = step["id"].as_str().unwrap();
        // A new AWS account already has its identity and a default VPC.
        let expected = if id == "step-1" || id == "step-2" { "pass" } else { "fail" };
        let status = step["status"].as_str().unwrap();
        // http-200 depends on public-ip, so step-9 holds a skip under its fail.
        assert_eq!(status, expected, "{id}: {step}");
    }
    assert_eq!(run.status_of("http-200"), "skip");
    assert!(run.check("http-200")["message"].as_str().unwrap().contains("`public-ip` did not pass"));
}

#[test]
fn the_human_report_lists_each_check_with_evidence() {
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::Cluster, ingress_cidr: "0.0.0.0/0".into(), ..LabBuild::default() }));
    let run = grader(Some(&account), &["check", "step-3", "step-4", "step-5"]);
    assert_eq!(run.code, 1);
    // The closing line ends with the run time, and the group id is random: normalise both.
    let text = run.stdout.rsplit_once(" · ").map(|(head, _)| head.to_string()).unwrap_or_default();
    let sg = text.lines().find(|l| l.contains("security-group")).unwrap_or_default().to_string();
    let group_id = sg.split('`').nth(1).unwrap_or("sg-?").to_string();
    let text = text.replace(&group_id, "sg-ID");
    let expected = "\
step-3 · Security group
  ✗ security-group  security finding: `sg-ID` opens port 80 to the whole internet (0.0.0.0/0)
      expected: tcp/80 from a single address (x.x.x.x/32) only
      found:    tcp/80 from 0.0.0.0/0
      hint:     The inbound rule should name your own public address with `/32` at the end, not `0.0.0.0/0`.

step-4 · ECS cluster
  ✓ cluster-active  cluster `fargate-course` is ACTIVE in us-east-1

step-5 · Task execution role
  ✗ execution-role  no IAM role `ecsTaskExecutionRole`
      expected: role `ecsTaskExecutionRole`
      found:    none
      hint:     Compare the role's trust policy with the one on the lab page, and list its attached policies with `aws iam list-attached-role-policies`.

1 passed, 2 failed, 0 errors, 0 skipped · 1/3 points";
    assert_eq!(text.trim(), expected);
}

#[test]
fn junit_output_has_a_case_per_check() {
    let account = fresh();
    let run = grader(Some(&account), &["check", "step-1", "step-4", "--format", "junit", "--no-wait"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("<?xml"), "{}", run.stdout);
    assert!(run.stdout.contains("<testcase classname=\"fargate-nginx.step-1\" name=\"identity\""));
    assert!(run.stdout.contains("<failure message=\"no cluster `fargate-course` in us-east-1"), "{}", run.stdout);
}

#[test]
fn security_group_open_to_the_world_is_a_finding() {
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::SecurityGroup, ingress_cidr: "0.0.0.0/0".into(), ..LabBuild::default() }));
    let run = check(&account, &["step-3"]);
    assert_eq!(run.status_of("security-group"), "fail");
    assert!(run.check("security-group")["message"].as_str().unwrap().starts_with("security finding"));
}

#[test]
fn log_group_without_retention_fails() {
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::LogGroup, retention_days: None, ..LabBuild::default() }));
    let run = check(&account, &["step-6"]);
    let c = run.check("log-group");
    assert_eq!(c["status"], "fail", "{c}");
    assert_eq!(c["found"], "no retention policy (never expire)");
    assert_eq!(c["expected"], "7 days");
}

#[test]
fn task_definition_with_the_wrong_size_fails() {
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::TaskDefinition, cpu: "512".into(), memory: "1024".into(), ..LabBuild::default() }));
    let c = check(&account, &["step-7"]).check("task-definition");
    assert_eq!(c["status"], "fail", "{c}");
    assert_eq!(c["expected"], "cpu 256; memory 512");
    assert_eq!(c["found"], "cpu 512; memory 1024");
}

#[test]
fn only_the_latest_task_definition_revision_counts() {
    let account = fresh();
    let b = LabBuild { upto: Upto::TaskDefinition, ..LabBuild::default() };
    block_on(build(&account, &b));
    assert_eq!(check(&account, &["step-7"]).status_of("task-definition"), "pass");
    // A newer, wrong revision hides the right older one.
    block_on(async {
        let c = support::lab::Clients::new(&account, "us-east-1");
        support::lab::register(&c, &account, &LabBuild { memory: "1024".into(), ..b.clone() }, "512").await;
    });
    let c = check(&account, &["step-7"]).check("task-definition");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["message"].as_str().unwrap().contains("nginx-web:2"), "{c}");
}

#[test]
fn service_without_public_ip_fails_and_says_why() {
    let account = fresh();
    block_on(build(&account, &LabBuild { assign_public_ip: false, ..LabBuild::default() }));
    let run = check(&account, &["step-8", "step-9", "--no-wait"]);
    let service = run.check("service-stable");
    assert_eq!(service["status"], "fail");
    assert_eq!(service["found"], "assignPublicIp DISABLED");
    let ip = run.check("public-ip");
    assert_eq!(ip["status"], "fail");
    assert!(ip["message"].as_str().unwrap().contains("assignPublicIp DISABLED"), "{ip}");
    assert_eq!(run.status_of("http-200"), "skip");
}

#[test]
fn a_service_that_never_stabilises_fails_after_a_bounded_wait_with_the_reason() {
    let account = fresh();
    block_on(build(&account, &LabBuild { image: "public.ecr.aws/nginx/does-not-exist:stable".into(), ..LabBuild::default() }));
    let run = check(&account, &["step-8", "--max-wait", "3s"]);
    assert!(run.elapsed >= std::time::Duration::from_secs(2), "it should have waited, took {:?}", run.elapsed);
    assert!(run.elapsed < std::time::Duration::from_secs(30), "the wait is bounded, took {:?}", run.elapsed);
    let c = run.check("service-stable");
    assert_eq!(c["status"], "fail", "{c}");
    let message = c["message"].as_str().unwrap();
    assert!(message.contains("0/1 running"), "{message}");
    assert!(message.contains("CannotPullContainerError"), "{message}");
}

#[test]
fn cleanup_passes_after_teardown_though_ecs_keeps_inactive_records() {
    let account = fresh();
    let b = LabBuild::default();
    let built = block_on(build(&account, &b));
    let before = check(&account, &["cleanup", "--no-wait"]);
    assert_eq!(before.code, 1);
    for id in ["service-deleted", "tasks-stopped", "cluster-deleted", "log-group-deleted", "security-group-deleted"] {
        assert_eq!(before.status_of(id), "fail", "{id} before teardown");
    }
    assert!(before.check("tasks-stopped")["leftovers"][0]["usd_per_hour"].as_f64().unwrap() > 0.017);
    // The service is priced by its running task, and the run's total counts that task and its
    // public address once, though three checks find them.
    let service = before.check("service-deleted");
    assert!((service["leftovers"][0]["usd_per_hour"].as_f64().unwrap() - 0.01734).abs() < 0.0001, "{service}");
    assert_eq!(service["leftovers"][0]["price_basis"], "us-east-1 on-demand prices of 2026");
    let human = grader(Some(&account), &["check", "cleanup", "--lab", "fargate-nginx", "--no-wait"]);
    assert!(human.stdout.contains("What is left costs about $0.0173/hour in all ($0.42/day; us-east-1 on-demand prices of 2026)."), "{}", human.stdout);
    block_on(clean_up(&account, &b, &built));
    // ECS still describes the deleted cluster, as INACTIVE.
    let described = account.aws_ok(&["ecs", "describe-clusters", "--clusters", "fargate-course", "--query", "clusters[0].status", "--output", "text"]);
    assert_eq!(described, "INACTIVE");
    let after = check(&account, &["cleanup", "--no-wait"]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    // And the step that built the cluster now says it was deleted.
    let c = check(&account, &["step-4"]).check("cluster-active");
    assert_eq!(c["found"], "INACTIVE", "{c}");
}

#[test]
fn resources_in_another_region_are_found() {
    let account = fresh();
    block_on(build(&account, &LabBuild { region: "us-west-2".into(), upto: Upto::LogGroup, ..LabBuild::default() }));
    let c = check(&account, &["step-4"]).check("cluster-active");
    assert_eq!(c["status"], "fail");
    assert!(c["message"].as_str().unwrap().contains("found cluster `fargate-course` in us-west-2"), "{c}");
    let cleanup = check(&account, &["cleanup", "--no-wait"]);
    let leftover = cleanup.check("cluster-deleted");
    assert_eq!(leftover["status"], "fail");
    assert_eq!(leftover["leftovers"][0]["region"], "us-west-2");
    assert!(leftover["message"].as_str().unwrap().contains("aws ecs delete-cluster --cluster fargate-course --region us-west-2"), "{leftover}");
    assert_eq!(cleanup.check("log-group-deleted")["leftovers"][0]["region"], "us-west-2");
}

#[test]
fn own_names_pass_with_var() {
    let account = fresh();
    block_on(build(&account, &LabBuild { cluster: "my-cluster".into(), service: "my-web".into(), ..LabBuild::default() }));
    let run = check(&account, &["step-4", "step-8", "step-9", "--var", "cluster=my-cluster", "--var", "service=my-web"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Without --var the grader looks for the lab's names, and says what it found instead.
    let default_names = check(&account, &["step-4", "--no-wait"]);
    assert_eq!(default_names.status_of("cluster-active"), "fail");
    let message = default_names.check("cluster-active")["message"].as_str().unwrap().to_string();
    assert!(message.contains("no cluster `fargate-course`"), "{message}");
    assert!(message.contains("us-east-1 has cluster(s) `my-cluster`; if one of them is yours, pass `--var cluster=NAME`"), "{message}");
}

#[test]
fn progress_is_recorded_and_listed() {
    let account = fresh();
    let state = support::scratch_dir("state");
    let env = [("GRADER_STATE_DIR", state.to_str().unwrap())];
    let run = support::grader_in(Some(&account), &["check", "step-1", "step-4", "--no-wait"], &env);
    assert_eq!(run.code, 1);
    let list = support::grader_in(Some(&account), &["list"], &env);
    assert!(list.stdout.lines().any(|l| l.contains("step-1") && l.ends_with("pass")), "{}", list.stdout);
    assert!(list.stdout.lines().any(|l| l.contains("step-4") && l.ends_with("fail")), "{}", list.stdout);
    assert!(list.stdout.lines().any(|l| l.contains("step-5") && l.ends_with("not checked")), "{}", list.stdout);
}

/// Runs `check --all --format FORMAT --output FILE` (plus `extra`) and parses the file.
fn classroom(account: Option<&Account>, format: &str, extra: &[&str], env: &[(&str, &str)]) -> (support::GraderRun, serde_json::Value) {
    let file = support::scratch_dir(format).join("results.json");
    let mut args = vec!["check", "--all", "--format", format, "--output", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = support::grader_in(account, &args, env);
    assert_eq!(run.stdout, "", "with --output nothing goes to stdout");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("no {} ({e}); stderr:\n{}", file.display(), run.stderr));
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{format} output is not JSON ({e}):\n{text}"));
    (run, doc)
}

/// The JSON report's checks (id, status) in order, and its earned and possible points.
fn checks_and_points(report: &serde_json::Value) -> (Vec<(String, String)>, u64, u64) {
    let steps = report["steps"].as_array().unwrap();
    let checks = steps.iter().flat_map(|s| s["checks"].as_array().unwrap()).map(|c| (c["id"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string())).collect();
    let sum = |key: &str| steps.iter().map(|s| s["points"][key].as_u64().unwrap()).sum();
    (checks, sum("earned"), sum("possible"))
}

/// Checks every field of the three documents against the JSON report of the same account.
fn assert_classroom_documents(account: &Account, extra: &[&str], report: &serde_json::Value) {
    let (checks, earned, possible) = checks_and_points(report);
    let all_pass = checks.iter().all(|(_, s)| s == "pass");
    let code = if all_pass { 0 } else { 1 };
    let name_of = |test: &serde_json::Value| test["name"].as_str().unwrap().to_string();

    let (run, gs) = classroom(Some(account), "gradescope", extra, &[]);
    assert_eq!(run.code, code, "{}", run.stderr);
    assert!(run.stderr.contains("report written to"), "{}", run.stderr);
    assert_eq!(gs["score"].as_u64(), Some(earned), "{gs}");
    assert!(gs["execution_time"].as_u64().unwrap() >= 1, "{gs}");
    assert_eq!(gs["visibility"], "visible");
    let output = gs["output"].as_str().unwrap();
    assert!(output.contains(&format!("{earned}/{possible} points")), "{output}");
    assert!(!output.contains("incomplete"), "{output}");
    let tests = gs["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    assert_eq!(tests.iter().map(|t| t["max_score"].as_u64().unwrap()).sum::<u64>(), possible);
    for (test, (id, status)) in tests.iter().zip(&checks) {
        let passed = status == "pass";
        assert_eq!(test["status"], if passed { "passed" } else { "failed" }, "{id}: {test}");
        if passed {
            assert_eq!(test["score"], test["max_score"], "{id}: {test}");
        } else {
            assert_eq!(test["score"], 0, "{id}: {test}");
        }
        assert!(name_of(test).starts_with("step-"), "{test}");
        assert!(!test["output"].as_str().unwrap().is_empty(), "{test}");
        assert_eq!(test["visibility"], "visible");
    }

    let (run, pl) = classroom(Some(account), "prairielearn", extra, &[]);
    assert_eq!(run.code, code, "{}", run.stderr);
    assert_eq!(pl["gradable"], true, "{pl}");
    let score = pl["score"].as_f64().unwrap();
    assert!((score - earned as f64 / possible as f64).abs() < 1e-9, "{pl}");
    assert!(pl["message"].as_str().unwrap().contains(&format!("{earned}/{possible} points")), "{pl}");
    assert!(pl["output"].is_string());
    let tests = pl["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    for (test, (id, status)) in tests.iter().zip(&checks) {
        let max = test["max_points"].as_u64().unwrap();
        assert_eq!(test["points"].as_u64().unwrap(), if status == "pass" { max } else { 0 }, "{id}: {test}");
        assert!(test["description"].as_str().unwrap().starts_with("step-"), "{test}");
        assert!(test["message"].is_string() && test["output"].is_string() && test["name"].is_string(), "{test}");
    }

    let (run, gh) = classroom(Some(account), "github-classroom", extra, &[]);
    assert_eq!(run.code, code, "{}", run.stderr);
    assert_eq!(gh["version"], 1);
    assert_eq!(gh["status"], if all_pass { "pass" } else { "fail" }, "{gh}");
    assert_eq!(gh["max_score"].as_u64(), Some(possible));
    let tests = gh["tests"].as_array().unwrap();
    assert_eq!(tests.len(), checks.len());
    assert_eq!(tests.iter().map(|t| t["score"].as_u64().unwrap()).sum::<u64>(), earned);
    for (test, (id, status)) in tests.iter().zip(&checks) {
        assert_eq!(test["status"], if status == "pass" { "pass" } else { "fail" }, "{id}: {test}");
        assert!(test["message"].is_string() && test["name"].is_string(), "{test}");
    }
}

#[test]
fn autograder_documents_of_a_finished_lab_give_full_marks() {
    let account = fresh();
    block_on(build(&account, &LabBuild::default()));
    let report = check(&account, &["--all"]).json();
    let (_, earned, possible) = checks_and_points(&report);
    assert_eq!(earned, possible);
    assert!(possible > 0);
    assert_classroom_documents(&account, &[], &report);
}

#[test]
fn autograder_documents_of_an_empty_account_score_what_exists() {
    let account = fresh();
    let report = check(&account, &["--all", "--no-wait"]).json();
    let (checks, earned, possible) = checks_and_points(&report);
    assert!(0 < earned && earned < possible, "{earned}/{possible}");
    // http-200 is skipped because public-ip failed: that is a fail, not "could not grade".
    assert!(checks.contains(&("http-200".to_string(), "skip".to_string())));
    assert_classroom_documents(&account, &["--no-wait"], &report);
}

#[test]
fn an_unreachable_endpoint_is_not_gradable_and_exits_4() {
    let keys = [("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "verysecretvalue")];
    let endpoint = ["--endpoint-url", "http://127.0.0.1:9"];
    let (run, pl) = classroom(None, "prairielearn", &endpoint, &keys);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("failed to reach AWS at http://127.0.0.1:9"), "{}", run.stderr);
    assert_eq!(pl["gradable"], false, "{pl}");
    assert!(pl.get("score").is_none(), "not gradable means no score, not 0: {pl}");
    assert!(pl["message"].as_str().unwrap().starts_with("could not grade: failed to reach AWS at http://127.0.0.1:9"), "{pl}");
    let tests = pl["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    for test in tests {
        assert_eq!(test["points"], 0);
        assert!(test["message"].as_str().unwrap().starts_with("could not grade"), "{test}");
    }
    let (run, gs) = classroom(None, "gradescope", &endpoint, &keys);
    assert_eq!(run.code, 4);
    assert!(gs["output"].as_str().unwrap().starts_with("Grade incomplete: could not grade: failed to reach AWS"), "{gs}");
    assert!(gs["tests"].as_array().unwrap().iter().all(|t| t["output"].as_str().unwrap().starts_with("could not grade")));
    let (run, gh) = classroom(None, "github-classroom", &endpoint, &keys);
    assert_eq!(run.code, 4);
    assert_eq!(gh["status"], "error");
    assert!(gh["tests"].as_array().unwrap().iter().all(|t| t["status"] == "error" && t["score"] == 0));
    for doc in [&pl, &gs, &gh] {
        assert!(!doc.to_string().contains("verysecretvalue"));
    }
}

#[test]
fn an_autograder_grades_a_student_account_through_its_role() {
    // The instructor's own keys, and the student's audit role: the report is the student's.
    let emulator = Emulator::shared();
    let student = fresh();
    block_on(build(&student, &LabBuild::default()));
    let instructor = Account::root(emulator);
    let role = format!("arn:aws:iam::{}:role/grader-audit", student.id);
    let run = grader(Some(&instructor), &["check", "step-4", "step-8", "--format", "json", "--role-arn", &role, "--external-id", "class-7"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["account"], student.id.as_str());
    // A role that does not exist (or does not trust the instructor) is exit 4, named.
    let strict = Emulator::start(&["--strict-assume-role"]);
    let nobody = format!("arn:aws:iam::{}:role/grader-audit", support::fresh_account_id());
    let refused = grader(Some(&Account::root(&strict)), &["check", "step-1", "--role-arn", &nobody]);
    assert_eq!(refused.code, 4, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains(&format!("failed to assume `{nobody}`")) && refused.stderr.contains("grader policy --trust"), "{}", refused.stderr);
}

#[test]
fn a_receipt_holds_on_the_untouched_account_and_is_refused_after_a_resource_is_recreated() {
    let emulator = Emulator::shared();
    let student = fresh();
    let b = LabBuild::default();
    let built = block_on(build(&student, &b));
    let instructor = Account::root(emulator);
    let role = format!("arn:aws:iam::{}:role/grader-audit", student.id);
    let dir = support::scratch_dir("receipt");
    let file = dir.join("receipt.json");
    let file = file.to_str().unwrap();

    let issued = grader(Some(&student), &["check", "--all", "--format", "json", "--receipt", file]);
    assert_eq!(issued.code, 0, "{}\n{}", issued.stdout, issued.stderr);
    let receipt: serde_json::Value = serde_json::from_str(&support::read(file)).unwrap();
    assert_eq!(receipt["schema"], "grader.receipt/v1");
    assert_eq!(receipt["account"], student.id.as_str());
    assert_eq!(receipt["lab"], "fargate-nginx");
    assert_eq!(receipt["lab_digest"].as_str().unwrap().len(), 16);
    let kinds: Vec<&str> = receipt["resources"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["security_group", "ecs_cluster", "iam_role", "log_group", "task_definition", "ecs_service"], "{receipt:#}");
    let resource = |kind: &str| receipt["resources"].as_array().unwrap().iter().find(|r| r["kind"] == kind).unwrap().clone();
    assert_eq!(resource("task_definition")["arn"], built.task_definition_arn.as_str());
    assert_eq!(resource("security_group")["unique_id"], built.group_id.as_str());
    assert!(resource("ecs_service")["created_at"].as_str().unwrap().ends_with('Z'), "{receipt:#}");
    assert!(resource("iam_role")["unique_id"].as_str().is_some_and(|id| !id.is_empty()), "{receipt:#}");

    // The instructor, through the student's audit role: untouched, it holds.
    let verify = |args: &[&str]| {
        let mut all = vec!["verify-receipt", file, "--role-arn", role.as_str(), "--format", "json"];
        all.extend_from_slice(args);
        grader(Some(&instructor), &all)
    };
    let from = emulator.all_requests().len();
    let untouched = verify(&[]);
    assert_eq!(untouched.code, 0, "{}\n{}", untouched.stdout, untouched.stderr);
    emulator.assert_read_only_since(from, Some(&student.id));
    let findings = untouched.json();
    assert_eq!(findings["verified"], true);
    assert!(findings["resources"].as_array().unwrap().iter().all(|r| r["finding"] == "unchanged"), "{findings:#}");

    // Clean-up is consistent with the receipt: a deleted service still verifies.
    block_on(clean_up(&student, &b, &built));
    let cleaned = verify(&[]);
    assert_eq!(cleaned.code, 0, "{}\n{}", cleaned.stdout, cleaned.stderr);
    assert!(cleaned.json()["resources"].as_array().unwrap().iter().filter(|r| r["finding"] == "deleted").count() >= 4, "{}", cleaned.stdout);

    // The role deleted and created again under its name: same ARN, a new creation. Refused.
    let policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
    student.aws_ok(&["iam", "detach-role-policy", "--role-name", &b.role, "--policy-arn", policy]);
    student.aws_ok(&["iam", "delete-role", "--role-name", &b.role]);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    student.aws_ok(&["iam", "create-role", "--role-name", &b.role, "--assume-role-policy-document", trust]);
    let recreated = verify(&[]);
    assert_eq!(recreated.code, 1, "{}\n{}", recreated.stdout, recreated.stderr);
    let findings = recreated.json();
    assert_eq!(findings["verified"], false);
    let role_finding = findings["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "iam_role").unwrap().clone();
    assert_eq!(role_finding["finding"], "replaced", "{findings:#}");
    assert!(role_finding["why"].as_str().unwrap().contains("id "), "{role_finding:#}");
    let human = grader(Some(&instructor), &["verify-receipt", file, "--role-arn", &role]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("✗ iam_role `ecsTaskExecutionRole`: a different iam_role holds the name now") && human.stdout.contains("Not verified"), "{}", human.stdout);

    // Another account's receipt, presented as this one's: refused as a whole.
    let other = fresh();
    let elsewhere = grader(Some(&other), &["verify-receipt", file, "--format", "json"]);
    assert_eq!(elsewhere.code, 1, "{}\n{}", elsewhere.stdout, elsewhere.stderr);
    assert!(elsewhere.json()["refused"].as_str().unwrap().contains(&format!("these credentials reach account {}", other.id)), "{}", elsewhere.stdout);

    // A file that is not a receipt: usage error naming file, line and column.
    std::fs::write(dir.join("broken.json"), "{\"schema\": \"grader.receipt/v1\",\n \"account\": 12}").unwrap();
    let broken = grader(Some(&student), &["verify-receipt", dir.join("broken.json").to_str().unwrap()]);
    assert_eq!(broken.code, 2, "{}", broken.stderr);
    assert!(broken.stderr.contains("broken.json:2:"), "{}", broken.stderr);
}

/// The human output, byte for byte (ids the emulator draws at random masked): reporters
/// may be rebuilt, the text learners read must not drift unnoticed. `UPDATE_SNAPSHOTS=1`
/// rewrites the files after a deliberate change.
#[test]
fn the_human_output_matches_its_snapshot() {
    let account = fresh();
    let b = LabBuild { upto: Upto::LogGroup, retention_days: Some(3), ..LabBuild::default() };
    let built = block_on(build(&account, &b));
    let mask = |text: &str| {
        let text = text.replace(&account.id, "ACCOUNT").replace(&built.vpc_id, "VPC").replace(&built.group_id, "SG");
        // The run's duration, on the last line.
        text.lines()
            .map(|l| match l.rsplit_once(" · ") {
                Some((head, tail)) if tail.ends_with('s') && tail[..tail.len() - 1].parse::<f64>().is_ok() => format!("{head} · TIME"),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    for (name, args) in [("build-steps", &["check", "--all", "--no-wait"][..]), ("cleanup", &["check", "cleanup", "--no-wait"][..])] {
        let run = grader(Some(&account), args);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        let path = support::root().join(format!("tests/fixtures/human/{name}.txt"));
        let got = mask(&run.stdout);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
        }
        let want = support::read(&path);
        assert_eq!(got, want, "the human output of `grader {}` changed; if on purpose, rerun with UPDATE_SNAPSHOTS=1 and review the diff", args.join(" "));
    }
}

#[test]
fn ndjson_writes_the_events_as_they_happen_and_ends_with_the_report() {
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::SecurityGroup, ..LabBuild::default() }));
    let run = grader(Some(&account), &["check", "step-3", "step-4", "--format", "ndjson", "--no-wait"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let events: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object per line: {l:?}: {e}"))).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_finished"), "{kinds:?}");
    assert_eq!(events[0]["account"], account.id.as_str());
    assert_eq!(events[0]["checks"].as_array().unwrap().len(), 2);
    for id in ["security-group", "cluster-active"] {
        let started = events.iter().position(|e| e["event"] == "check_started" && e["check"] == id).unwrap_or_else(|| panic!("{id} started: {kinds:?}"));
        let finished = events.iter().position(|e| e["event"] == "check_finished" && e["check"]["id"] == id).unwrap_or_else(|| panic!("{id} finished: {kinds:?}"));
        assert!(started < finished, "{id}: {kinds:?}");
    }
    let cluster = events.iter().find(|e| e["event"] == "check_finished" && e["check"]["id"] == "cluster-active").unwrap();
    assert_eq!(cluster["check"]["status"], "fail");
    assert_eq!(cluster["step"], "step-4");
    // The last line holds the same document `--format json` prints.
    let report = &events.last().unwrap()["report"];
    assert_eq!(report["schema"], "grader.report/v1");
    assert_eq!(report["summary"]["pass"], 1);
    assert_eq!(report["summary"]["fail"], 1);
}

/// The public IP the `public-ip` check of a step-9 run found (`… answers at IP (task …)`).
fn public_ip_of(run: &support::GraderRun) -> String {
    let message = run.check("public-ip")["message"].as_str().unwrap().to_string();
    message.split(" answers at ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or_else(|| panic!("no IP in {message}")).to_string()
}

#[test]
fn graded_from_elsewhere_the_page_passes_on_the_task_s_access_log_and_is_never_failed_for_silence() {
    let emulator = Emulator::shared();
    let student = fresh();
    // The lab as taught: port 80 open to the learner's own address only.
    block_on(build(&student, &LabBuild { ingress_cidr: "203.0.113.10/32".into(), ..LabBuild::default() }));
    let learner = json!({ "client_address": "203.0.113.10" });
    let autograder = json!({ "client_address": "198.51.100.20" });

    // From anywhere but the learner's machine the group drops the request. Run as the
    // learner's own check, that silence is a fail that points at the security group...
    emulator.configure(&student.id, autograder.clone());
    let local = check(&student, &["step-9", "--no-wait"]).check("http-200");
    assert_eq!(local["status"], "fail", "{local}");
    assert!(local["message"].as_str().unwrap().contains("no answer before the timeout: is port 80 open"), "{local}");

    // ...but graded from elsewhere it never is. Nobody has opened the page yet, so the task's
    // log holds no answer (the grader's own attempts never reached nginx): undecided, and the
    // learner is told what to do.
    let remote = check(&student, &["step-9", "--no-wait", "--remote"]);
    let ip = public_ip_of(&remote);
    let undecided = remote.check("http-200");
    assert_eq!(undecided["status"], "error", "{undecided}");
    let message = undecided["message"].as_str().unwrap();
    assert!(message.starts_with("could not grade from here: GET http://"), "{message}");
    assert!(message.contains(&format!("open http://{ip}:80/ once from your own machine")), "{message}");
    assert_eq!(remote.code, 1);

    // On the learner's machine the probe is the truth: the page answers, and so does curl.
    emulator.configure(&student.id, learner);
    let at_home = check(&student, &["step-9", "--no-wait"]);
    assert_eq!(at_home.status_of("http-200"), "pass", "{}", at_home.stdout);
    assert_eq!(support::curl_status(&ip, 80, "/"), Some(200));

    // Then the autograder grades again: a pass on evidence, naming the learner's address.
    emulator.configure(&student.id, autograder);
    assert_eq!(support::curl_status(&ip, 80, "/"), None, "the group must drop the autograder's own request");
    let evidence = check(&student, &["step-9", "--no-wait", "--remote"]).check("http-200");
    assert_eq!(evidence["status"], "pass", "{evidence}");
    assert!(evidence["message"].as_str().unwrap().starts_with("graded from elsewhere"), "{evidence}");
    let found = evidence["found"].as_str().unwrap();
    assert!(found.contains("`GET /` answered 200 to 203.0.113.10 at 20") && found.contains("/ecs/nginx-web"), "{found}");
    assert!(found.contains("does not show the page's text"), "the log cannot prove the body; say so: {found}");

    // The autograder formats and --role-arn grade from elsewhere without being told.
    let file = support::scratch_dir("remote-gradescope").join("results.json");
    let gs = grader(Some(&student), &["check", "step-9", "--no-wait", "--format", "gradescope", "--output", file.to_str().unwrap()]);
    assert_eq!(gs.code, 0, "{}", gs.stderr);
    let results: serde_json::Value = serde_json::from_str(&support::read(&file)).unwrap();
    let http = results["tests"].as_array().unwrap().iter().find(|t| t["name"].as_str().unwrap().contains("answers 200")).unwrap().clone();
    assert_eq!(http["score"], http["max_score"], "{results}");
    let role = format!("arn:aws:iam::{}:role/grader-audit", student.id);
    let through_role = grader(Some(&Account::root(emulator)), &["check", "step-9", "--no-wait", "--format", "json", "--role-arn", &role]);
    assert_eq!(through_role.status_of("http-200"), "pass", "{}", through_role.stdout);

    // A site that is really down is still found out from elsewhere: the service scaled to
    // zero has no task to grade, whatever the old log says.
    student.aws_ok(&["ecs", "update-service", "--cluster", "fargate-course", "--service", "web-nginx", "--desired-count", "0"]);
    let down = check(&student, &["step-9", "--no-wait", "--remote"]);
    assert_ne!(down.status_of("http-200"), "pass", "{}", down.stdout);
}

#[test]
fn cleanup_with_no_lab_checks_every_lab_and_names_the_second_labs_load_balancer() {
    let student = fresh();
    // Lab 1 cleaned up (nothing built), lab 2's load balancer forgotten.
    let vpc = student.aws_ok(&["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true", "--query", "Vpcs[0].VpcId", "--output", "text"]);
    let subnets = student.aws_ok(&["ec2", "describe-subnets", "--filters", &format!("Name=vpc-id,Values={vpc}"), "Name=default-for-az,Values=true", "--query", "Subnets[0:2].SubnetId", "--output", "text"]);
    let mut create = vec!["elbv2", "create-load-balancer", "--name", "nginx-alb", "--type", "application", "--subnets"];
    create.extend(subnets.split_whitespace());
    student.aws_ok(&create);

    // The first lab alone is clean...
    let lab1 = check(&student, &["cleanup", "--lab", "fargate-nginx", "--no-wait"]);
    assert_eq!(lab1.code, 0, "{}", lab1.stdout);
    // ...but `check cleanup` is every lab's clean-up, so the learner hears of the bill.
    let run = check(&student, &["cleanup", "--no-wait"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = run.json();
    let steps: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(steps, ["fargate-nginx:cleanup", "alb:cleanup", "ops:cleanup"]);
    let lb = run.check("alb/load-balancer-deleted");
    assert_eq!(lb["status"], "fail", "{lb}");
    assert!(lb["message"].as_str().unwrap().contains("load balancer `nginx-alb`"), "{lb}");
    // Progress is kept under each lab's own step, where `grader list` looks.
    let state = support::scratch_dir("cleanup-state");
    let env = [("GRADER_STATE_DIR", state.to_str().unwrap())];
    let _ = support::grader_in(Some(&student), &["check", "cleanup", "--no-wait"], &env);
    let list = support::grader_in(Some(&student), &["list"], &env);
    let cleanup_lines: Vec<&str> = list.stdout.lines().filter(|l| l.contains(" cleanup ")).collect();
    assert_eq!(cleanup_lines.len(), 3, "{}", list.stdout);
    let ends: Vec<&str> = cleanup_lines.iter().map(|l| l.split_whitespace().last().unwrap()).collect();
    assert_eq!(ends, ["pass", "fail", "pass"], "lab 1 clean, lab 2's load balancer left, lab 3 never built: {}", list.stdout);
    // And `hint` says which lab a step belongs to.
    let hint = grader(None, &["hint", "cleanup"]);
    assert!(hint.stdout.lines().next().unwrap().contains("(lab `fargate-nginx`"), "{}", hint.stdout);
    assert!(hint.stdout.contains("every lab's clean-up"), "{}", hint.stdout);
}

/// libfaketime, which shifts the clock of the process it is preloaded into.
fn libfaketime() -> String {
    let path = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Debian's faketime package (scripts/test installs it)");
    path.to_string()
}

#[test]
fn a_receipt_is_issued_by_aws_s_clock_so_a_slow_laptop_does_not_refuse_fresh_resources() {
    let student = fresh();
    block_on(build(&student, &LabBuild::default()));
    let file = support::scratch_dir("slow-clock").join("receipt.json");
    let file = file.to_str().unwrap();
    // The learner's machine runs five minutes slow; AWS's clock (the emulator's) does not.
    let preload = libfaketime();
    let slow = [("LD_PRELOAD", preload.as_str()), ("FAKETIME", "-5m"), ("FAKETIME_DONT_FAKE_MONOTONIC", "1")];
    let issued = support::grader_in(Some(&student), &["check", "--all", "--format", "json", "--receipt", file], &slow);
    assert_eq!(issued.code, 0, "{}\n{}", issued.stdout, issued.stderr);
    let receipt: serde_json::Value = serde_json::from_str(&support::read(file)).unwrap();
    let issued_at = receipt["issued_at"].as_str().unwrap().to_string();
    let service_created = receipt["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "ecs_service").unwrap()["created_at"].as_str().unwrap().to_string();
    assert!(issued_at >= service_created, "issued {issued_at}, before the service it lists was created ({service_created})");
    let verified = grader(Some(&student), &["verify-receipt", file]);
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);
}
