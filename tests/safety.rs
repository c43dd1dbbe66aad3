//! Least privilege and safety: the generated policy is enough and every action in it is
//! needed, the grader only reads, faults never turn into false verdicts, Ctrl-C is prompt,
//! and no output carries a credential.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::lab::{LabBuild, block_on, build};
use support::{Account, Emulator, GraderRun, grader, grader_in, reader};

/// Every check's status in a run, by check id.
fn verdicts(run: &GraderRun) -> BTreeMap<String, String> {
    let report = run.json();
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap().clone())
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string()))
        .collect()
}

/// `check --all` and `check cleanup` on one account, as one map of verdicts; with `remote`,
/// also step 9 graded from elsewhere (ids `remote/CHECK`), where the page's evidence is read.
fn all_verdicts(account: &Account, env: &[(&str, &str)], remote: bool) -> (BTreeMap<String, String>, Vec<GraderRun>) {
    let mut all = BTreeMap::new();
    let mut runs = Vec::new();
    let local: [&[&str]; 2] = [&["check", "--all", "--format", "json", "--no-wait"], &["check", "cleanup", "--lab", "fargate-nginx", "--format", "json", "--no-wait"]];
    for args in local {
        let run = grader_in(Some(account), args, env);
        all.extend(verdicts(&run));
        runs.push(run);
    }
    if remote {
        let run = grader_in(Some(account), &["check", "step-9", "--remote", "--format", "json", "--no-wait"], env);
        all.extend(verdicts(&run).into_iter().map(|(id, status)| (format!("remote/{id}"), status)));
        runs.push(run);
    }
    (all, runs)
}

#[test]
fn the_generated_policy_is_enough_and_each_action_in_it_is_needed() {
    let emulator = Emulator::start(&["--enforce-iam"]);
    // Under enforcement, a session in a fresh account acts as that account's root. Two
    // accounts between them take every path: a finished lab (every check passes) and an
    // empty one (every search for what the learner meant runs).
    let finished = Account::fresh(&emulator);
    block_on(build(&finished, &LabBuild::default()));
    let empty = Account::fresh(&emulator);
    // The grader's address is not the learner's: graded from elsewhere, step 9 reads the
    // task's access log, and the actions that takes are proven too.
    emulator.configure(&finished.id, serde_json::json!({ "client_address": "198.51.100.20" }));
    let policy_run = grader(None, &["policy", "--lab", "fargate-nginx"]);
    let policy: serde_json::Value = serde_json::from_str(&policy_run.stdout).unwrap();
    let actions: Vec<String> = policy["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();

    let admins = [&finished, &empty];
    let baselines: Vec<_> = admins.iter().map(|a| all_verdicts(a, &[], true).0).collect();
    let users: Vec<Account> = admins.iter().map(|a| reader(a, &policy_run.stdout)).collect();
    for (user, baseline) in users.iter().zip(&baselines) {
        let (with_policy, runs) = all_verdicts(user, &[], true);
        let messages: Vec<String> = runs.iter().flat_map(|r| r.json()["steps"].as_array().unwrap().clone()).flat_map(|s| s["checks"].as_array().unwrap().clone()).filter(|c| c["status"] != "pass").map(|c| format!("{}: {}", c["id"], c["message"])).collect();
        assert_eq!(&with_policy, baseline, "the policy's holder must get the admin's verdicts:\n{}", messages.join("\n"));
        // The reader sees the same regions as the admin: none is skipped as refusing it.
        assert!(!runs[1].stdout.contains("refused these credentials"), "{}", runs[1].stdout);
        assert!(!messages.iter().any(|m| m.contains("missing permission")), "{messages:?}");
    }
    assert!(baselines[0].values().filter(|s| *s == "pass").count() >= 12, "{:?}", baselines[0]);

    for action in &actions {
        // AWS answers GetCallerIdentity whatever the policies say, and so does the emulator.
        if action == "sts:GetCallerIdentity" {
            continue;
        }
        let mut reduced = policy.clone();
        let kept: Vec<&String> = actions.iter().filter(|a| *a != action).collect();
        reduced["Statement"][0]["Action"] = serde_json::json!(kept);
        for admin in admins {
            admin.aws_ok(&["iam", "put-user-policy", "--user-name", "grader-reader", "--policy-name", "grader", "--policy-document", &reduced.to_string()]);
        }
        // Each blocked probe waits out its timeout, so the remote run comes only where it can
        // matter: the actions of the kind that reads the evidence.
        let remote = grader::checks::kind_info("http_get").unwrap().actions.contains(&action.as_str());
        let results: Vec<(BTreeMap<String, String>, Vec<GraderRun>)> =
            std::thread::scope(|s| users.iter().map(|u| s.spawn(move || all_verdicts(u, &[], remote))).collect::<Vec<_>>().into_iter().map(|h| h.join().unwrap()).collect());
        let mut named = false;
        for ((verdicts, runs), baseline) in results.iter().zip(&baselines) {
            for (id, status) in verdicts {
                let before = &baseline[id];
                if status != before {
                    // Never a false verdict: what cannot be decided is `error` (or skipped after one).
                    assert!(status == "error" || status == "skip", "without `{action}`, `{id}` went from {before} to {status}");
                }
            }
            named |= runs.iter().any(|r| r.stdout.contains(&format!("missing permission `{action}`")));
        }
        assert!(named, "`{action}` is in the policy, so some run without it must report \"missing permission `{action}`\"");
    }
}

/// The second lab's names as `support::alb` builds it, as `--var`s.
const ALB_VARS: &[&str] = &[
    "cluster=alb-course",
    "service=web",
    "family=alb-web",
    "log_group=/ecs/alb-web",
    "lb_group=alb-web-lb",
    "task_group=alb-web-tasks",
    "load_balancer=alb-web",
    "target_group=alb-web-tg",
];

/// Every check of the second lab, build steps and clean-up, as one map of verdicts.
fn alb_verdicts(account: &Account) -> (BTreeMap<String, String>, Vec<GraderRun>) {
    let mut all = BTreeMap::new();
    let mut runs = Vec::new();
    for steps in [&["--all"][..], &["cleanup"][..]] {
        let mut args = vec!["check", "--lab", "alb", "--format", "json", "--no-wait"];
        args.extend_from_slice(steps);
        for var in ALB_VARS {
            args.extend(["--var", var]);
        }
        let run = grader(Some(account), &args);
        all.extend(verdicts(&run));
        runs.push(run);
    }
    (all, runs)
}

#[test]
fn the_second_labs_policy_is_enough_under_iam_enforcement() {
    let emulator = Emulator::start(&["--enforce-iam"]);
    let built = Account::fresh(&emulator);
    support::alb::build_alb_lab(&built);
    // Scaled out by its minimum, so that step 6's scale-out check reads the scaling activities.
    built.aws_ok(&[
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs", "--resource-id", "service/alb-course/web",
        "--scalable-dimension", "ecs:service:DesiredCount", "--min-capacity", "3", "--max-capacity", "4",
    ]);
    let empty = Account::fresh(&emulator);
    let policy = grader(None, &["policy", "--lab", "alb"]);
    assert!(policy.stdout.contains("elasticloadbalancing:DescribeTargetHealth") && policy.stdout.contains("application-autoscaling:DescribeScalingPolicies"), "{}", policy.stdout);
    for admin in [&built, &empty] {
        let (baseline, _) = alb_verdicts(admin);
        if std::ptr::eq(admin, &built) {
            // The built lab takes the checks past their first question, into target health,
            // listeners and scaling policies.
            let passing = baseline.values().filter(|s| *s == "pass").count();
            assert!(passing >= 10, "{baseline:?}");
            assert_eq!(baseline.get("scaled-out").map(String::as_str), Some("pass"), "{baseline:?}");
        }
        let (with_policy, runs) = alb_verdicts(&reader(admin, &policy.stdout));
        let messages: Vec<String> = runs.iter().flat_map(|r| r.json()["steps"].as_array().unwrap().clone()).flat_map(|s| s["checks"].as_array().unwrap().clone()).filter(|c| c["status"] != "pass").map(|c| format!("{}: {}", c["id"], c["message"])).collect();
        assert_eq!(with_policy, baseline, "the policy's holder must get the admin's verdicts:\n{}", messages.join("\n"));
        assert!(!messages.iter().any(|m| m.contains("missing permission")), "{messages:?}");
    }
    // And the enforcement is real: without the policy, the same user decides nothing.
    let denied = reader(&empty, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#);
    let (verdicts, _) = alb_verdicts(&denied);
    assert!(verdicts.values().filter(|s| *s == "error").count() >= 10, "{verdicts:?}");
}

#[test]
fn every_call_a_check_makes_is_an_action_its_kind_declares() {
    let emulator = Emulator::shared();
    let labs = grader::lab::load_embedded().expect("the embedded lab loads");
    let steps: Vec<(String, Vec<&'static str>)> = labs.labs[0].steps.iter().map(|s| (s.id.clone(), s.checks.iter().map(|c| c.kind.name()).collect())).collect();
    let declared = |kind: &str| -> Vec<String> { grader::checks::kind_info(kind).expect("a registered kind").actions.iter().map(|a| a.to_string()).collect() };
    // Three accounts take every path: the finished lab, an empty account (the searches for
    // what the learner meant) and a lab built in another region (leftovers found elsewhere).
    let finished = Account::fresh(emulator);
    block_on(build(&finished, &LabBuild::default()));
    let empty = Account::fresh(emulator);
    let elsewhere = Account::fresh(emulator);
    block_on(build(&elsewhere, &LabBuild { region: "eu-west-1".into(), ..LabBuild::default() }));
    std::thread::scope(|s| {
        for account in [&finished, &empty, &elsewhere] {
            let (steps, declared) = (&steps, &declared);
            s.spawn(move || {
                for (step, kinds_used) in steps {
                    let mut allowed: Vec<String> = kinds_used.iter().flat_map(|k| declared(k)).collect();
                    // Signing in is the CLI's own call, before any check.
                    allowed.push("sts:GetCallerIdentity".into());
                    let before = emulator.requests(&account.id).len();
                    let _ = grader(Some(account), &["check", "--lab", "fargate-nginx", step, "--no-wait"]);
                    for call in &emulator.requests(&account.id)[before..] {
                        let action = format!("{}:{}", call["service"].as_str().unwrap(), call["action"].as_str().unwrap());
                        assert!(allowed.contains(&action), "`{step}` ({kinds_used:?}) called `{action}`, which its kinds do not declare, so `grader policy` would miss it");
                    }
                }
            });
        }
    });
}

#[test]
fn the_grader_only_reads() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild::default()));
    let before = emulator.requests(&account.id).len();
    let _ = grader(Some(&account), &["check", "--all", "--no-wait"]);
    let _ = grader(Some(&account), &["check", "cleanup", "--no-wait"]);
    let _ = grader(Some(&account), &["check", "step-4", "--no-wait", "--region", "eu-west-1"]);
    let calls: Vec<String> = emulator.requests(&account.id)[before..].iter().map(|r| format!("{}:{}", r["service"].as_str().unwrap(), r["action"].as_str().unwrap())).collect();
    assert!(calls.len() > 20, "{calls:?}");
    for call in calls {
        let op = call.split(':').nth(1).unwrap();
        assert!(op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"), "the grader called `{call}`");
    }
}

#[test]
fn throttling_and_latency_never_change_a_verdict() {
    let clean = Emulator::shared();
    let faulty = Emulator::start(&["--throttle-rate", "0.3", "--latency-ms", "20"]);
    let mut results = Vec::new();
    for emulator in [clean, &faulty] {
        let account = Account::fresh_retrying(emulator);
        block_on(build(&account, &LabBuild { ingress_cidr: "0.0.0.0/0".into(), ..LabBuild::default() }));
        results.push(all_verdicts(&account, &[], false).0);
    }
    assert_eq!(results[0], results[1], "verdicts under throttling differ from the clean run");
    assert!(results[0].values().any(|s| s == "fail") && results[0].values().any(|s| s == "pass"));
}

#[test]
fn an_endpoint_that_dies_mid_run_gives_errors_not_verdicts() {
    let mut emulator = Emulator::start(&["--latency-ms", "400"]);
    let account = Account::fresh(&emulator);
    let started = Instant::now();
    let child = spawn_grader(&account, &["check", "--all", "--format", "json", "--no-wait"]);
    // Kill the endpoint once the grader has signed in (its first call is logged) and its
    // checks are under way, each call taking 400 ms.
    let waiting = Instant::now();
    while !emulator.requests(&account.id).iter().any(|r| r["action"] == "GetCallerIdentity") {
        assert!(waiting.elapsed() < Duration::from_secs(30), "the grader never signed in");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    emulator.stop();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let run = GraderRun { code: 1, stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: stderr.into(), elapsed: started.elapsed() };
    let verdicts = verdicts(&run);
    assert!(verdicts.values().any(|s| s == "error"), "{verdicts:?}");
    // What could not be asked is `error` and says why; checks decided before the endpoint
    // died keep their (true) verdicts on this empty account.
    let errors: Vec<_> = run.json()["steps"].as_array().unwrap().iter().flat_map(|s| s["checks"].as_array().unwrap().clone()).filter(|c| c["status"] == "error").map(|c| c["message"].as_str().unwrap().to_string()).collect();
    assert!(errors.iter().all(|m| m.contains("failed to reach AWS")), "{errors:?}");
}

#[test]
fn ctrl_c_during_a_wait_exits_promptly_with_what_was_decided() {
    let account = Account::fresh(Emulator::shared());
    block_on(build(&account, &LabBuild { image: "public.ecr.aws/nginx/does-not-exist:1".into(), ..LabBuild::default() }));
    let child = spawn_grader(&account, &["check", "step-4", "step-8"]);
    std::thread::sleep(Duration::from_secs(4));
    let interrupted = Instant::now();
    sigint(child.id());
    let out = child.wait_with_output().unwrap();
    assert!(interrupted.elapsed() < Duration::from_secs(3), "exit took {:?}", interrupted.elapsed());
    assert_eq!(out.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("✓ cluster-active"), "the decided check is printed:\n{stdout}");
    assert!(stdout.contains("interrupted, 1 check(s) not decided"), "{stdout}");
}

/// A grader running in the background, to be interrupted or cut off.
fn spawn_grader(account: &Account, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .envs(account.env())
        // Three attempts are enough to see retries fail against a dead endpoint, without
        // the default eight's backoff.
        .env("AWS_MAX_ATTEMPTS", "3")
        .env("GRADER_STATE_DIR", support::scratch_dir("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends SIGINT the way a terminal's Ctrl-C does.
fn sigint(pid: u32) {
    let status = Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn no_output_or_file_carries_a_credential() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild { upto: support::lab::Upto::Cluster, ..LabBuild::default() }));
    let state = support::scratch_dir("state");
    let env = [("GRADER_STATE_DIR", state.to_str().unwrap())];
    let mut texts = Vec::new();
    for format in ["human", "json", "junit"] {
        let run = grader_in(Some(&account), &["check", "--all", "--no-wait", "-v", "--format", format], &env);
        assert!(run.stderr.contains("aws: ecs:DescribeClusters"), "-v logs each call:\n{}", run.stderr);
        texts.push(run.stdout);
        texts.push(run.stderr);
    }
    texts.push(std::fs::read_to_string(state.join("progress.json")).unwrap());
    for text in &texts {
        for secret in [&account.secret_key, &account.session_token, &account.access_key] {
            assert!(!text.contains(secret.as_str()), "a credential leaked into:\n{text}");
        }
    }
}
