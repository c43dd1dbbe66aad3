//! `grader cleanup --plan` / `--apply` against the emulator: the plan lists the lab's
//! leftovers and nothing else, and applying it deletes exactly those, only while each is
//! still the planned resource, never unconfirmed, never in another account, and names what
//! missing permissions kept it from deleting.

mod support;

use serde_json::Value;
use support::lab::{Clients, LabBuild, block_on, build};
use support::{Account, Emulator, GraderRun, fresh_account_id, grader};

/// Look-alikes a careless cleaner would take: another cluster, a log group whose name starts
/// with the lab's, another security group and another role.
fn add_decoys(account: &Account) {
    account.aws_ok(&["ecs", "create-cluster", "--cluster-name", "fargate-course-old"]);
    account.aws_ok(&["logs", "create-log-group", "--log-group-name", "/ecs/nginx-web-old"]);
    account.aws_ok(&["ec2", "create-security-group", "--group-name", "nginx-web-sg-2", "--description", "not the lab's"]);
    let trust = support::lab::TRUST_POLICY;
    account.aws_ok(&["iam", "create-role", "--role-name", "ecsTaskExecutionRole2", "--assume-role-policy-document", trust]);
}

/// Whether every decoy is still there.
fn decoys_remain(account: &Account) {
    let cluster = account.aws_ok(&["ecs", "describe-clusters", "--clusters", "fargate-course-old", "--query", "clusters[0].status", "--output", "text"]);
    assert_eq!(cluster, "ACTIVE");
    let logs = account.aws_ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/nginx-web-old", "--query", "length(logGroups)"]);
    assert_eq!(logs, "1");
    account.aws_ok(&["ec2", "describe-security-groups", "--group-names", "nginx-web-sg-2"]);
    account.aws_ok(&["iam", "get-role", "--role-name", "ecsTaskExecutionRole2"]);
}

fn plan_file(name: &str) -> String {
    support::scratch_dir(name).join("plan.json").to_str().unwrap().to_string()
}

fn make_plan(account: &Account, file: &str) -> (GraderRun, Value) {
    let run = grader(Some(account), &["cleanup", "--plan", file]);
    let plan = serde_json::from_str(&support::read(file)).unwrap_or_else(|e| panic!("no plan ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, plan)
}

fn kinds(plan: &Value) -> Vec<String> {
    plan["resources"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap().to_string()).collect()
}

/// The writes an account's calls made since `from` (anything but Describe/List/Get).
fn writes_since(emulator: &Emulator, account: &Account, from: usize) -> Vec<String> {
    emulator.requests(&account.id)[from..]
        .iter()
        .map(|c| format!("{}:{}", c["service"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .filter(|a| {
            let op = a.split(':').nth(1).unwrap_or("");
            !(op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"))
        })
        .collect()
}

#[test]
fn the_plan_lists_the_labs_leftovers_and_apply_deletes_exactly_those() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild::default()));
    add_decoys(&account);
    let file = plan_file("teardown-plan");
    let before = emulator.requests(&account.id).len();
    let (run, plan) = make_plan(&account, &file);
    assert_eq!(run.code, 1, "the plan holds resources: {}\n{}", run.stdout, run.stderr);
    assert!(writes_since(emulator, &account, before).is_empty(), "making a plan only reads");
    assert_eq!(plan["schema"], "grader.teardown-plan/v1");
    assert_eq!(plan["account"], account.id.as_str());
    assert_eq!(plan["labs"], serde_json::json!(["fargate-nginx", "alb", "ops"]));
    // In the order AWS lets them go; the role is optional in lab 1, so it stays.
    assert_eq!(kinds(&plan), ["ecs_service", "ecs_task", "network_interface", "security_group", "log_group", "ecs_cluster"], "{plan:#}");
    assert!((plan["usd_per_hour"].as_f64().unwrap() - 0.01734).abs() < 0.0001, "the task and its address, once: {plan}");
    assert!(run.stdout.contains("Deleting them stops about $0.0173/hour"), "{}", run.stdout);
    let text = plan.to_string();
    for decoy in ["fargate-course-old", "nginx-web-old", "nginx-web-sg-2", "ecsTaskExecutionRole2"] {
        assert!(!text.contains(decoy), "the plan must not list {decoy}: {plan:#}");
    }

    let applied = grader(Some(&account), &["cleanup", "--apply", &file, "--yes", "--format", "json"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let result: Value = serde_json::from_str(&applied.stdout).unwrap();
    for r in result["resources"].as_array().unwrap() {
        // The service's task and interface go with the service: already gone when reached.
        let expected = if ["ecs_task", "network_interface"].contains(&r["kind"].as_str().unwrap()) { ["deleted", "already_gone"].as_slice() } else { ["deleted"].as_slice() };
        assert!(expected.contains(&r["outcome"].as_str().unwrap()), "{r}");
    }
    assert!((result["usd_per_hour_stopped"].as_f64().unwrap() - 0.01734).abs() < 0.0001, "{result}");
    let check = grader(Some(&account), &["check", "cleanup", "--no-wait"]);
    assert_eq!(check.code, 0, "every lab's clean-up passes after the teardown:\n{}", check.stdout);
    decoys_remain(&account);
    // Applying again: everything is already gone, nothing is deleted twice.
    let again = grader(Some(&account), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(again.stdout.contains("0 deleted, 6 already gone"), "{}", again.stdout);
    // And now the plan is empty.
    let (empty, _) = make_plan(&account, &file);
    assert_eq!(empty.code, 0, "{}", empty.stdout);
    assert!(empty.stdout.starts_with("Nothing to delete"), "{}", empty.stdout);
}

#[test]
fn a_resource_created_again_after_the_plan_is_left_alone_and_named() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild { upto: support::lab::Upto::LogGroup, ..LabBuild::default() }));
    let file = plan_file("teardown-replaced");
    let (_, plan) = make_plan(&account, &file);
    assert!(kinds(&plan).contains(&"log_group".to_string()), "{plan:#}");
    // The learner deletes the log group and makes a new one of the same name (new creation time).
    account.aws_ok(&["logs", "delete-log-group", "--log-group-name", "/ecs/nginx-web"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    account.aws_ok(&["logs", "create-log-group", "--log-group-name", "/ecs/nginx-web"]);
    let applied = grader(Some(&account), &["cleanup", "--apply", &file, "--yes", "--format", "json"]);
    assert_eq!(applied.code, 1, "{}\n{}", applied.stdout, applied.stderr);
    let result: Value = serde_json::from_str(&applied.stdout).unwrap();
    let log = result["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "log_group").unwrap();
    assert_eq!(log["outcome"], "skipped", "{log}");
    assert!(log["why"].as_str().unwrap().contains("not the planned resource any more"), "{log}");
    let others: Vec<&Value> = result["resources"].as_array().unwrap().iter().filter(|r| r["kind"] != "log_group").collect();
    assert!(others.iter().all(|r| r["outcome"] == "deleted"), "{result:#}");
    // The new log group is still there.
    assert_eq!(account.aws_ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/nginx-web", "--query", "length(logGroups)"]), "1");
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_deleted_and_another_accounts_plan_is_refused_whole() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild { upto: support::lab::Upto::Cluster, ..LabBuild::default() }));
    let file = plan_file("teardown-unconfirmed");
    make_plan(&account, &file);
    let before = emulator.requests(&account.id).len();
    let refused = grader(Some(&account), &["cleanup", "--apply", &file]);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("refusing to delete without confirmation") && refused.stderr.contains("Nothing was deleted"), "{}", refused.stderr);
    assert!(writes_since(emulator, &account, before).is_empty());

    let other = Account::fresh(emulator);
    let before = emulator.requests(&other.id).len();
    let elsewhere = grader(Some(&other), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(elsewhere.code, 1, "{}\n{}", elsewhere.stdout, elsewhere.stderr);
    assert!(elsewhere.stderr.contains(&format!("the plan is for account {}", account.id)) && elsewhere.stderr.contains("nothing was deleted"), "{}", elsewhere.stderr);
    assert!(writes_since(emulator, &other, before).is_empty());
    // A file that is not a plan is a usage error naming it.
    let receipt = support::scratch_dir("not-a-plan").join("x.json");
    std::fs::write(&receipt, "{\"schema\": \"grader.receipt/v1\"}").unwrap();
    let wrong = grader(Some(&account), &["cleanup", "--apply", receipt.to_str().unwrap(), "--yes"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("not a teardown plan"), "{}", wrong.stderr);
}

#[test]
fn a_security_group_waits_for_its_interface_to_be_released() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild::default()));
    // As on AWS, a stopped task's interface lingers, and the group cannot go before it.
    emulator.configure(&account.id, serde_json::json!({ "eni_release_seconds": 6 }));
    let file = plan_file("teardown-eni");
    make_plan(&account, &file);
    let applied = grader(Some(&account), &["cleanup", "--apply", &file, "--yes", "--format", "json"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let result: Value = serde_json::from_str(&applied.stdout).unwrap();
    let sg = result["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "security_group").unwrap();
    assert_eq!(sg["outcome"], "deleted", "{result:#}");
}

#[test]
fn under_iam_enforcement_read_only_credentials_delete_nothing_and_the_teardown_policy_deletes_the_plan() {
    let emulator = Emulator::start(&["--enforce-iam"]);
    let account = Account::fresh(&emulator);
    block_on(build(&account, &LabBuild::default()));
    let file = plan_file("teardown-iam");
    make_plan(&account, &file);
    let user = |name: &str, policy: &str| -> Account {
        account.aws_ok(&["iam", "create-user", "--user-name", name]);
        account.aws_ok(&["iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", policy]);
        let key: Value = serde_json::from_str(&account.aws_ok(&["iam", "create-access-key", "--user-name", name, "--output", "json"])).unwrap();
        Account {
            access_key: key["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
            secret_key: key["AccessKey"]["SecretAccessKey"].as_str().unwrap().into(),
            session_token: String::new(),
            ..account.clone()
        }
    };
    // The grader's read-only policy: every deletion is refused and named, nothing goes.
    let read_only = user("reader", &grader(None, &["policy"]).stdout);
    let refused = grader(Some(&read_only), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("missing permission `ecs:UpdateService`"), "{}", refused.stdout);
    assert!(refused.stdout.contains("0 deleted"), "{}", refused.stdout);
    let still = account.aws_ok(&["ecs", "describe-services", "--cluster", "fargate-course", "--services", "web-nginx", "--query", "services[0].status", "--output", "text"]);
    assert_eq!(still, "ACTIVE");
    // `grader policy --teardown`: its action list is enough. moto's IAM matches every
    // statement's Resource against `*`, so an ARN-scoped statement never applies there: the
    // statements are given `*` here, and their ARNs are proven by the unit tests against
    // AWS's documented ARN formats (grader/teardown/policy.rs).
    let mut policy: Value = serde_json::from_str(&grader(None, &["policy", "--teardown"]).stdout).unwrap();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        statement["Resource"] = "*".into();
    }
    let teardown = user("cleaner", &policy.to_string());
    let applied = grader(Some(&teardown), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let check = grader(Some(&account), &["check", "cleanup", "--no-wait", "--lab", "fargate-nginx"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

#[test]
fn ctrl_c_stops_after_the_current_resource_and_applying_again_continues() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild::default()));
    // The task's interface lingers for a while: Ctrl-C lands while the teardown waits on it.
    emulator.configure(&account.id, serde_json::json!({ "eni_release_seconds": 8 }));
    let file = plan_file("teardown-ctrl-c");
    make_plan(&account, &file);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["cleanup", "--apply", &file, "--yes"])
        .envs(account.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("✓ deleted ecs service"), "what was done is said: {stdout}");
    assert!(stdout.contains("- not attempted: log group `/ecs/nginx-web`"), "the rest waits for the next apply: {stdout}");
    // The log group is still there; applying again finishes the plan.
    assert_eq!(account.aws_ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/nginx-web", "--query", "length(logGroups)"]), "1");
    let again = grader(Some(&account), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("ecs service `fargate-course/web-nginx` in us-east-1 was already gone"), "{}", again.stdout);
    assert!(again.stdout.contains("✓ deleted log group `/ecs/nginx-web`"), "{}", again.stdout);
}

#[test]
fn an_instructor_plans_and_applies_a_learners_teardown_through_the_learners_role() {
    let emulator = Emulator::shared();
    let student = Account::fresh(emulator);
    block_on(build(&student, &LabBuild { upto: support::lab::Upto::LogGroup, ..LabBuild::default() }));
    let instructor = Account::root(emulator);
    let role = format!("arn:aws:iam::{}:role/grader-teardown", student.id);
    let file = plan_file("teardown-role");
    let planned = grader(Some(&instructor), &["cleanup", "--plan", &file, "--role-arn", &role]);
    assert_eq!(planned.code, 1, "{}\n{}", planned.stdout, planned.stderr);
    let plan: Value = serde_json::from_str(&support::read(&file)).unwrap();
    assert_eq!(plan["account"], student.id.as_str(), "the learner's account, not the instructor's");
    // The instructor's own credentials reach another account: refused whole.
    let own = grader(Some(&instructor), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(own.code, 1, "{}", own.stderr);
    assert!(own.stderr.contains("nothing was deleted"), "{}", own.stderr);
    let applied = grader(Some(&instructor), &["cleanup", "--apply", &file, "--yes", "--role-arn", &role]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let check = grader(Some(&student), &["check", "cleanup", "--no-wait"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

/// A role in `learner`'s account that the instructor's account (the emulator's root) may assume.
async fn instructor_role(learner: &Account, name: &str) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    Clients::new(learner, "us-east-1").iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap();
}

/// The events of an `--format ndjson` run, one JSON object a line.
fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not an event line ({e}): {l}"))).collect()
}

#[test]
fn a_class_is_torn_down_account_by_account_and_one_whose_role_cannot_be_assumed_keeps_everything() {
    // Roles that do not exist cannot be assumed here, as on AWS.
    let emulator = Emulator::start(&["--strict-assume-role"]);
    let instructor = Account::root(&emulator);
    // Ana and Bo left the lab's first resources; Bo never made the teardown role; Cy is clean.
    let [ana, bo, cy] = block_on(async {
        let mut learners = Vec::new();
        for (teardown_role, leftovers) in [(true, true), (false, true), (true, false)] {
            let learner = Account::assume_with_sdk(&emulator.url, &fresh_account_id(), "OrganizationAccountAccessRole").await;
            instructor_role(&learner, "grader-audit").await;
            if teardown_role {
                instructor_role(&learner, "grader-teardown").await;
            }
            if leftovers {
                build(&learner, &LabBuild { upto: support::lab::Upto::LogGroup, ..LabBuild::default() }).await;
            }
            learners.push(learner);
        }
        learners.try_into().unwrap_or_else(|_| unreachable!())
    });
    let dir = support::scratch_dir("class-teardown");
    let roster = dir.join("roster.csv");
    let row = |label: &str, a: &Account, teardown: &str| format!("{label},{},arn:aws:iam::{}:role/grader-audit,{teardown}\n", a.id, a.id);
    let rows = row("Ana", &ana, &format!("arn:aws:iam::{}:role/grader-teardown", ana.id)) + &row("Bo", &bo, "") + &row("Cy", &cy, "");
    std::fs::write(&roster, format!("label,account_id,role_arn,teardown_role_arn\n{rows}")).unwrap();
    let file = dir.join("class-plan.json").to_str().unwrap().to_string();

    // The audit writes the class's plan, and only reads.
    let before = emulator.all_requests().len();
    let audit = grader(Some(&instructor), &["cohort", "--roster", roster.to_str().unwrap(), "--scan-regions", "us-east-1", "--teardown-plan", &file]);
    assert_eq!(audit.code, 1, "{}\n{}", audit.stdout, audit.stderr);
    emulator.assert_read_only_since(before, None);
    let plan: Value = serde_json::from_str(&support::read(&file)).unwrap_or_else(|e| panic!("no class plan ({e}): {}", audit.stderr));
    assert_eq!(plan["schema"], "grader.teardown-class-plan/v1");
    let sections: Vec<(&str, usize)> = plan["accounts"].as_array().unwrap().iter().map(|a| (a["label"].as_str().unwrap(), a["plan"]["resources"].as_array().unwrap().len())).collect();
    assert_eq!(sections.iter().map(|s| s.0).collect::<Vec<_>>(), ["Ana", "Bo", "Cy"], "{plan:#}");
    assert!(sections[0].1 >= 3 && sections[1].1 == sections[0].1 && sections[2].1 == 0, "{sections:?}");
    assert_eq!(plan["accounts"][0]["plan"]["account"], ana.id.as_str());
    assert_eq!(plan["accounts"][0]["teardown_role_arn"], format!("arn:aws:iam::{}:role/grader-teardown", ana.id));
    assert!(audit.stderr.contains("Teardown plan for a class of 3 account(s)"), "{}", audit.stderr);

    // Bo and Cy name no teardown role: refused whole until one is given.
    let before = emulator.all_requests().len();
    let no_role = grader(Some(&instructor), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(no_role.code, 2, "{}\n{}", no_role.stdout, no_role.stderr);
    assert!(no_role.stderr.contains(&format!("no teardown role for Bo ({}), Cy ({})", bo.id, cy.id)) && no_role.stderr.contains("Nothing was deleted"), "{}", no_role.stderr);
    assert_eq!(emulator.all_requests().len(), before, "nothing was asked of AWS");

    // Applied: Ana's go, Bo's role cannot be assumed and Bo keeps everything; each
    // resource is an event line as it is decided.
    let bo_before = emulator.requests(&bo.id).len();
    let applied = grader(Some(&instructor), &["cleanup", "--apply", &file, "--yes", "--teardown-role-name", "grader-teardown", "--format", "ndjson", "--concurrency", "2"]);
    assert_eq!(applied.code, 1, "{}\n{}", applied.stdout, applied.stderr);
    let lines = events(&applied.stdout);
    let actions: Vec<&Value> = lines.iter().filter(|e| e["event"] == "action_finished").collect();
    assert_eq!(actions.len(), sections[0].1, "{}", applied.stdout);
    assert!(actions.iter().all(|a| a["account"] == ana.id.as_str() && a["outcome"] == "deleted"), "{}", applied.stdout);
    let finished = |id: &str| lines.iter().find(|e| e["event"] == "account_finished" && e["account"] == id).unwrap_or_else(|| panic!("no account_finished for {id}: {}", applied.stdout));
    assert_eq!(finished(&ana.id)["deleted"], sections[0].1);
    let refused = finished(&bo.id)["error"].as_str().unwrap();
    assert!(refused.contains(&format!("role `arn:aws:iam::{}:role/grader-teardown` cannot be assumed", bo.id)), "{refused}");
    assert_eq!(finished(&cy.id)["deleted"], 0);
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "teardown_finished");
    assert_eq!(last["result"]["schema"], "grader.teardown-class-result/v1");
    assert!(writes_since(&emulator, &bo, bo_before).is_empty(), "nothing was written in Bo's account");
    assert_eq!(grader(Some(&ana), &["check", "cleanup", "--no-wait", "--region", "us-east-1"]).code, 0, "Ana's clean-up passes");
    assert_eq!(bo.aws_ok(&["ecs", "describe-clusters", "--clusters", "fargate-course", "--query", "clusters[0].status", "--output", "text"]), "ACTIVE");

    // Again, for people: a line per account and the class's summary.
    let again = grader(Some(&instructor), &["cleanup", "--apply", &file, "--yes", "--teardown-role-name", "grader-teardown"]);
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains(&format!("  ✓ Ana ({}): 0 deleted, {} already gone", ana.id, sections[0].1)), "{}", again.stdout);
    assert!(again.stdout.contains(&format!("  ! Bo ({}): nothing deleted: role", bo.id)), "{}", again.stdout);
    assert!(again.stdout.contains("3 account(s): 0 resource(s) deleted"), "{}", again.stdout);
}

#[test]
fn a_teardown_rides_out_throttling() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild::default()));
    let file = plan_file("teardown-throttled");
    let (_, plan) = make_plan(&account, &file);
    // A third of the account's calls are throttled while the teardown runs.
    emulator.configure(&account.id, serde_json::json!({ "throttle_rate": 0.3 }));
    let before = emulator.requests(&account.id).len();
    let applied = grader(Some(&account), &["cleanup", "--apply", &file, "--yes", "--format", "json"]);
    emulator.configure(&account.id, serde_json::json!({ "throttle_rate": null }));
    let throttled = emulator.requests(&account.id)[before..].iter().filter(|c| c["throttled"] == true).count();
    assert!(throttled > 0, "the emulator throttled nothing: the test proves nothing");
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let result: Value = serde_json::from_str(&applied.stdout).unwrap();
    assert_eq!(result["resources"].as_array().unwrap().len(), kinds(&plan).len());
    assert!(result["resources"].as_array().unwrap().iter().all(|r| r["outcome"] == "deleted" || r["outcome"] == "already_gone"), "{result:#}");
    assert_eq!(grader(Some(&account), &["check", "cleanup", "--no-wait"]).code, 0);
}

#[test]
fn lab_2s_tagged_revisions_are_deregistered_then_deleted_and_lab_1s_stays() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    // Lab 1's revision, then one of lab 2's (tagged as lab 2's book tags it).
    let b = LabBuild::default();
    let lab1 = block_on(async { support::lab::register(&Clients::new(&account, "us-east-1"), &account, &b, "256").await });
    let lab2 = block_on(async { support::lab::register(&Clients::new(&account, "us-east-1"), &account, &b, "512").await });
    account.aws_ok(&["ecs", "tag-resource", "--resource-arn", &lab2, "--tags", "key=course-lab,value=alb"]);
    let check = grader(Some(&account), &["check", "--lab", "alb", "cleanup", "--no-wait", "--region", "us-east-1"]);
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stdout.contains("✗ revisions-deregistered") && check.stdout.contains(":2"), "{}", check.stdout);
    let file = plan_file("teardown-revisions");
    let (_, plan) = make_plan(&account, &file);
    let revisions: Vec<&Value> = plan["resources"].as_array().unwrap().iter().filter(|r| r["kind"] == "task_definition").collect();
    assert_eq!(revisions.len(), 1, "only lab 2's tagged revision: {plan:#}");
    assert_eq!(revisions[0]["arn"], lab2.as_str());
    assert_eq!(revisions[0]["actions"], serde_json::json!(["ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"]));
    let before = emulator.requests(&account.id).len();
    let applied = grader(Some(&account), &["cleanup", "--apply", &file, "--yes"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let writes = writes_since(emulator, &account, before);
    assert_eq!(writes, ["ecs:DeregisterTaskDefinition", "ecs:DeleteTaskDefinitions"], "deregistered, then deleted");
    // Lab 1's revision is the one ACTIVE revision left (the emulator, unlike AWS, forgets a
    // deleted revision at once rather than showing it DELETE_IN_PROGRESS).
    let active = account.aws_ok(&["ecs", "list-task-definitions", "--family-prefix", "nginx-web", "--status", "ACTIVE", "--query", "taskDefinitionArns", "--output", "text"]);
    assert_eq!(active, lab1, "lab 1's revision stays, lab 2's is gone");
    assert_eq!(grader(Some(&account), &["check", "--lab", "alb", "cleanup", "--no-wait", "--region", "us-east-1"]).code, 0);
}
