//! The grader against the awkward parts of real AWS, which the emulator reproduces per
//! account: waits that must see the account change, lists that come in pages, regions an
//! organization's SCP denies, `failures[]` reasons other than MISSING, clusters between
//! states, and sign-ins that fail before any call (expired SSO, a failing
//! `credential_process`, an endpoint that never answers).

mod support;

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::LaunchType;
use serde_json::json;
use support::lab::{Clients, LabBuild, Upto, block_on, build, network};
use support::{Account, Emulator, GraderRun, grader, grader_in};

fn fresh() -> Account {
    Account::fresh(Emulator::shared())
}

/// A lab whose steps are each one waiting check, so a test can watch one wait at a time.
const WAITS_LAB: &str = r#"
version: 1
id: waits
title: Waiting checks see the account change
region: us-east-1
vars:
  cluster: fargate-course
  service: web-nginx
  log_group: /ecs/nginx-web
  security_group: nginx-web-sg
steps:
  - id: enis
    title: ENIs released
    phase: cleanup
    checks:
      - id: enis-released
        kind: enis_released
        title: No ENI uses the group
        group_name: "{{security_group}}"
        regions: lab
        wait: 1m
  - id: service-gone
    title: Service deleted
    phase: cleanup
    checks:
      - id: service-deleted
        kind: service_absent
        title: The service is deleted
        cluster: "{{cluster}}"
        service: "{{service}}"
        regions: lab
        wait: 1m
  - id: service-up
    title: Service running
    checks:
      - id: service-stable
        kind: ecs_service
        title: The service is stable
        cluster: "{{cluster}}"
        service: "{{service}}"
        wait: 1m
  - id: logs
    title: Logs written
    checks:
      - id: log-streams
        kind: log_streams
        title: A stream has events
        log_group: "{{log_group}}"
        prefix: "web/"
        wait: 1m
"#;

/// When the account changes, counted from the grader's start: late enough that a grader
/// which backed off to long pauses (or kept its first answers) would miss it by far.
const CHANGE_AT: Duration = Duration::from_secs(15);
/// A waiting check looks again at least every 5 s; one look takes well under a second here.
const SEEN_WITHIN: Duration = Duration::from_secs(8);

/// Runs `grader check STEP` (waiting) on the waits lab while `change` alters the account at
/// `CHANGE_AT`; returns the run and how long after the change it ended.
fn check_while_changing(account: &Account, step: &str, change: impl FnOnce()) -> (GraderRun, Duration) {
    let labs = support::scratch_dir("waits-lab");
    std::fs::write(labs.join("waits.yaml"), WAITS_LAB).unwrap();
    let labs_dir = labs.display().to_string();
    let account_for_grader = account.clone();
    let step = step.to_string();
    let started = Instant::now();
    let run = std::thread::spawn(move || grader(Some(&account_for_grader), &["check", &step, "--format", "json", "--labs-dir", &labs_dir]));
    std::thread::sleep(CHANGE_AT.saturating_sub(started.elapsed()));
    let changed = Instant::now();
    change();
    let run = run.join().unwrap();
    (run, changed.elapsed())
}

fn assert_seen_in_time(run: &GraderRun, check: &str, after_change: Duration) {
    let c = run.check(check);
    assert_eq!(c["status"], "pass", "{c}\n{}", run.stderr);
    assert!(run.elapsed >= CHANGE_AT, "`{check}` passed before the change: {c}");
    assert!(after_change <= SEEN_WITHIN, "`{check}` passed {after_change:?} after the change; a wait must look again within seconds");
}

#[test]
fn an_eni_released_late_is_seen_within_seconds() {
    let emulator = Emulator::shared();
    let account = fresh();
    // Real AWS releases a stopped task's ENI a minute or so later.
    emulator.configure(&account.id, json!({ "eni_release_seconds": CHANGE_AT.as_secs() }));
    let b = LabBuild::default();
    block_on(build(&account, &b));
    let c = Clients::new(&account, "us-east-1");
    block_on(c.ecs.update_service().cluster(&b.cluster).service(&b.service).desired_count(0).send()).unwrap();
    let started = Instant::now();
    let (run, _) = check_while_changing(&account, "enis", || {});
    let c = run.check("enis-released");
    assert_eq!(c["status"], "pass", "{c}\n{}", run.stderr);
    let waited = started.elapsed();
    assert!(waited >= CHANGE_AT - Duration::from_secs(1), "the ENI should have outlived its task: {c}");
    assert!(waited <= CHANGE_AT + SEEN_WITHIN, "the released ENI was seen only after {waited:?}");
}

#[test]
fn a_service_deleted_while_waiting_is_seen_within_seconds() {
    let account = fresh();
    let b = LabBuild::default();
    block_on(build(&account, &b));
    let (run, after) = check_while_changing(&account, "service-gone", || {
        let c = Clients::new(&account, "us-east-1");
        block_on(c.ecs.delete_service().cluster(&b.cluster).service(&b.service).force(true).send()).unwrap();
    });
    assert_seen_in_time(&run, "service-deleted", after);
}

#[test]
fn a_service_scaled_from_zero_is_seen_within_seconds() {
    let account = fresh();
    let b = LabBuild { desired_count: 0, ..LabBuild::default() };
    block_on(build(&account, &b));
    let c = Clients::new(&account, "us-east-1");
    let (run, after) = check_while_changing(&account, "service-up", || {
        block_on(c.ecs.update_service().cluster(&b.cluster).service(&b.service).desired_count(1).send()).unwrap();
    });
    assert_seen_in_time(&run, "service-stable", after);
}

#[test]
fn log_streams_appearing_while_waiting_are_seen_within_seconds() {
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::LogGroup, ..LabBuild::default() }));
    let (run, after) = check_while_changing(&account, "logs", || {
        let c = Clients::new(&account, "us-east-1");
        block_on(async {
            c.logs.create_log_stream().log_group_name("/ecs/nginx-web").log_stream_name("web/web/0123").send().await.unwrap();
            let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64)
                .message("GET / HTTP/1.1 200")
                .build()
                .unwrap();
            c.logs.put_log_events().log_group_name("/ecs/nginx-web").log_stream_name("web/web/0123").log_events(event).send().await.unwrap();
        });
    });
    assert_seen_in_time(&run, "log-streams", after);
}

#[test]
fn every_page_of_every_list_is_read() {
    let emulator = Emulator::shared();
    let account = fresh();
    // Two items a page: AWS may return fewer than asked, and ListServices gives ten at most.
    emulator.configure(&account.id, json!({ "max_page_size": 2 }));
    let b = LabBuild { upto: Upto::TaskDefinition, ..LabBuild::default() };
    let built = block_on(build(&account, &b));
    let c = Clients::new(&account, "us-east-1");
    block_on(async {
        // Five idle services before the learner's, which lands on the third page; it runs
        // three tasks, which take two pages of ListTasks.
        for i in 0..5 {
            let name = format!("other-{i}");
            c.ecs.create_service().cluster(&b.cluster).service_name(&name).task_definition(&built.task_definition_arn).desired_count(0).launch_type(LaunchType::Fargate).network_configuration(network(&built, true)).send().await.unwrap();
        }
        let create = c.ecs.create_service().cluster(&b.cluster).service_name("web-nginy").task_definition(&built.task_definition_arn).desired_count(3);
        create.launch_type(LaunchType::Fargate).network_configuration(network(&built, true)).send().await.unwrap();
        // Two empty streams that sort before the tasks' ones ("-" < any hex digit).
        for stream in ["web/web/-a", "web/web/-b"] {
            c.logs.create_log_stream().log_group_name(&b.log_group).log_stream_name(stream).send().await.unwrap();
        }
    });
    let missing = grader(Some(&account), &["check", "step-8", "--no-wait", "--format", "json"]).check("service-stable");
    assert!(missing["message"].as_str().unwrap().contains("found service `web-nginy`"), "the suggestion needs the third page of ListServices: {missing}");
    let cleanup = grader(Some(&account), &["check", "cleanup", "--no-wait", "--format", "json", "--var", "service=web-nginy"]);
    let tasks = cleanup.check("tasks-stopped");
    assert_eq!(tasks["leftovers"].as_array().map(Vec::len), Some(3), "three running tasks over two pages: {tasks}");
    let streams = grader(Some(&account), &["check", "step-9", "--no-wait", "--format", "json", "--var", "service=web-nginy"]).check("log-streams");
    assert_eq!(streams["status"], "pass", "the tasks' streams come after two empty ones: {streams}");
}

#[test]
fn regions_denied_by_an_scp_are_skipped_and_leftovers_elsewhere_still_reported() {
    let emulator = Emulator::shared();
    let account = fresh();
    block_on(build(&account, &LabBuild { region: "eu-west-1".into(), upto: Upto::LogGroup, ..LabBuild::default() }));
    // The class's organization allows two regions; every other one answers AccessDenied.
    emulator.configure(&account.id, json!({ "allowed_regions": ["us-east-1", "eu-west-1"] }));
    let run = grader(Some(&account), &["check", "cleanup", "--no-wait", "--format", "json"]);
    for id in ["service-deleted", "tasks-stopped", "enis-released"] {
        let c = run.check(id);
        assert_eq!(c["status"], "pass", "{c}");
        assert!(c["message"].as_str().unwrap().contains("(SCP)"), "the skipped regions must be named: {c}");
    }
    let cluster = run.check("cluster-deleted");
    assert_eq!(cluster["status"], "fail", "{cluster}");
    assert_eq!(cluster["leftovers"][0]["region"], "eu-west-1", "{cluster}");
    assert!(cluster["message"].as_str().unwrap().contains("us-west-2"), "denied regions are listed: {cluster}");
    // A region the run itself works in is never skipped: there, a denial is an error.
    let denied_here = grader(Some(&account), &["check", "cleanup", "--no-wait", "--format", "json", "--region", "us-west-2"]);
    assert_eq!(denied_here.status_of("cluster-deleted"), "error", "{}", denied_here.stdout);
}

#[test]
fn a_describe_failure_other_than_missing_is_an_error_never_deleted() {
    let emulator = Emulator::shared();
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::Cluster, ..LabBuild::default() }));
    emulator.configure(&account.id, json!({ "describe_failures": { "clusters": { "fargate-course": "ACCESS_DENIED" } } }));
    let step = grader(Some(&account), &["check", "step-4", "--no-wait", "--format", "json"]).check("cluster-active");
    assert_eq!(step["status"], "error", "{step}");
    assert!(step["message"].as_str().unwrap().contains("ACCESS_DENIED"), "{step}");
    let cleanup = grader(Some(&account), &["check", "cleanup", "--no-wait", "--format", "json", "--region", "us-east-1"]);
    assert_eq!(cleanup.status_of("cluster-deleted"), "error", "an undescribed cluster is not a deleted one: {}", cleanup.stdout);
}

#[test]
fn clusters_between_states_are_named_for_their_state() {
    let emulator = Emulator::shared();
    let account = fresh();
    block_on(build(&account, &LabBuild { upto: Upto::Cluster, ..LabBuild::default() }));
    emulator.configure(&account.id, json!({ "cluster_status": { "fargate-course": "PROVISIONING" } }));
    let step = grader(Some(&account), &["check", "step-4", "--no-wait", "--format", "json"]).check("cluster-active");
    assert_eq!(step["status"], "fail", "{step}");
    assert!(step["message"].as_str().unwrap().contains("PROVISIONING: ECS is still creating"), "{step}");
    emulator.configure(&account.id, json!({ "cluster_status": { "fargate-course": "DEPROVISIONING" } }));
    let cleanup = grader(Some(&account), &["check", "cleanup", "--no-wait", "--format", "json"]).check("cluster-deleted");
    assert_eq!(cleanup["status"], "fail", "a cluster being deleted is not gone yet: {cleanup}");
    assert!(cleanup["message"].as_str().unwrap().contains("fargate-course (DEPROVISIONING)"), "{cleanup}");
}

#[test]
fn a_missing_service_linked_role_fails_at_create_service_and_the_grader_names_it() {
    // As for a caller without iam:CreateServiceLinkedRole in a new account: the cluster is
    // created all the same, and the service is refused.
    let emulator = Emulator::shared();
    let account = fresh();
    emulator.configure(&account.id, json!({ "creates_service_linked_role": false }));
    let b = LabBuild { upto: Upto::TaskDefinition, ..LabBuild::default() };
    let built = block_on(build(&account, &b));
    let subnet = format!("subnets={},securityGroups={},assignPublicIp=ENABLED", built.subnet_id, built.group_id);
    let create = ["ecs", "create-service", "--cluster", "fargate-course", "--service-name", "web-nginx", "--task-definition", "nginx-web", "--desired-count", "1", "--launch-type", "FARGATE", "--network-configuration", &format!("awsvpcConfiguration={{{subnet}}}")];
    let refused = account.aws(&create);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Unable to assume the service linked role"), "{}", String::from_utf8_lossy(&refused.stderr));
    let service = grader(Some(&account), &["check", "step-8", "--no-wait", "--format", "json"]).check("service-stable");
    assert_eq!(service["status"], "fail", "{service}");
    assert!(service["message"].as_str().unwrap().contains("aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"), "{service}");
    // The fix the message gives works, and the note goes once the role exists.
    let role = account.aws_ok(&["iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com", "--query", "Role.RoleName", "--output", "text"]);
    assert_eq!(role, "AWSServiceRoleForECS");
    account.aws_ok(&create);
    let service = grader(Some(&account), &["check", "step-8", "--format", "json"]).check("service-stable");
    assert_eq!(service["status"], "pass", "{service}");
    let other = fresh();
    let missing = grader(Some(&other), &["check", "step-8", "--no-wait", "--format", "json"]).check("service-stable");
    assert!(!missing["message"].as_str().unwrap().contains("service-linked"), "an account with no cluster yet is not told about the role: {missing}");
}

#[test]
fn rules_admitting_another_security_group_are_named_as_such() {
    let account = fresh();
    let built = block_on(build(&account, &LabBuild { upto: Upto::SecurityGroup, ..LabBuild::default() }));
    let c = Clients::new(&account, "us-east-1");
    block_on(async {
        let lb = c.ec2.create_security_group().group_name("load-balancer").description("lb").vpc_id(&built.vpc_id).send().await.unwrap();
        let pair = aws_sdk_ec2::types::UserIdGroupPair::builder().group_id(lb.group_id().unwrap()).build();
        let rule = aws_sdk_ec2::types::IpPermission::builder().ip_protocol("tcp").from_port(80).to_port(80).user_id_group_pairs(pair).build();
        c.ec2.authorize_security_group_ingress().group_id(&built.group_id).ip_permissions(rule).send().await.unwrap();
    });
    let sg = grader(Some(&account), &["check", "step-3", "--format", "json"]).check("security-group");
    assert_eq!(sg["status"], "fail", "{sg}");
    assert!(sg["message"].as_str().unwrap().contains("from security group sg-"), "{sg}");
}

/// Shared config files for a profile, in a fresh HOME.
fn home_with_config(config: &str) -> std::path::PathBuf {
    let home = support::scratch_dir("home");
    std::fs::create_dir_all(home.join(".aws/sso/cache")).unwrap();
    std::fs::write(home.join(".aws/config"), config).unwrap();
    home
}

fn sign_in_with(home: &std::path::Path, profile: &str) -> GraderRun {
    let config = home.join(".aws/config").display().to_string();
    let credentials = home.join(".aws/credentials").display().to_string();
    let env = [
        ("HOME", home.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
        ("AWS_PROFILE", profile),
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
    ];
    grader_in(None, &["check", "step-1", "--endpoint-url", "http://127.0.0.1:9"], &env)
}

#[test]
fn an_expired_sso_session_says_so_and_gives_the_login_command() {
    let home = home_with_config(
        "[profile learner]\nsso_session = course\nsso_account_id = 123456789012\nsso_role_name = Learner\nregion = us-east-1\n\n\
         [sso-session course]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    );
    // The SDK keeps the session's token in ~/.aws/sso/cache/<sha1 of the session name>.json;
    // sha1("course") = 4809561b34384fc017da4d2efc93d79ca3d90e22. Expired, with no refresh token.
    let token = json!({ "accessToken": "expired-token", "expiresAt": "2024-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://example.awsapps.com/start" });
    std::fs::write(home.join(".aws/sso/cache/4809561b34384fc017da4d2efc93d79ca3d90e22.json"), token.to_string()).unwrap();
    let run = sign_in_with(&home, "learner");
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("SSO session of profile `learner` has expired"), "{}", run.stderr);
    assert!(run.stderr.contains("aws sso login --profile learner"), "{}", run.stderr);
    assert!(!run.stderr.contains("network"), "an expired session is not a network problem: {}", run.stderr);
}

#[test]
fn a_failing_credential_process_is_named_with_its_command() {
    let home = home_with_config("[profile vault]\ncredential_process = sh -c 'echo vault is locked >&2; exit 3'\nregion = us-east-1\n");
    let run = sign_in_with(&home, "vault");
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the `credential_process` of profile `vault` failed"), "{}", run.stderr);
    assert!(run.stderr.contains("sh -c 'echo vault is locked >&2; exit 3'"), "{}", run.stderr);
}

/// An endpoint that accepts every connection and never answers, as a broken proxy does.
fn silent_endpoint() -> String {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    url
}

#[test]
fn an_endpoint_that_never_answers_gives_exit_4_within_half_a_minute() {
    let url = silent_endpoint();
    let env = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")];
    let run = grader_in(None, &["check", "--all", "--endpoint-url", &url], &env);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("did not answer in time"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(40), "took {:?}", run.elapsed);
}

#[test]
fn ctrl_c_before_the_sign_in_answers_still_writes_the_autograder_file() {
    let url = silent_endpoint();
    let dir = support::scratch_dir("interrupted");
    let (results, receipt) = (dir.join("results.json"), dir.join("receipt.json"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["check", "--all", "--format", "gradescope", "--endpoint-url", &url])
        .args(["--output", results.to_str().unwrap(), "--receipt", receipt.to_str().unwrap()])
        .envs([("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")])
        .env("GRADER_STATE_DIR", support::scratch_dir("state"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let document: serde_json::Value = serde_json::from_str(&support::read(&results)).expect("the autograder still gets its file");
    let tests = document["tests"].as_array().unwrap();
    assert!(!tests.is_empty() && tests.iter().all(|t| t["output"].as_str().unwrap().contains("interrupted")), "{document:#}");
    assert!(!receipt.exists(), "no receipt ties an account that was never reached");
    assert!(stderr.contains("no receipt written"), "{stderr}");
}

#[test]
fn one_stale_network_interface_does_not_hide_the_others() {
    let account = fresh();
    let b = LabBuild::default();
    block_on(build(&account, &b));
    let c = Clients::new(&account, "us-east-1");
    block_on(c.ecs.update_service().cluster(&b.cluster).service(&b.service).desired_count(2).send()).unwrap();
    let run = grader(Some(&account), &["check", "step-9", "--format", "json", "--max-wait", "20s"]);
    assert_eq!(run.status_of("public-ip"), "pass", "{}", run.stdout);
    // One task's ENI vanishes (as it does while a task stops): EC2 refuses a whole id list
    // that names it, so only a lookup by filter still finds the other task's address.
    let enis = block_on(c.ec2.describe_network_interfaces().send()).unwrap();
    let task_enis: Vec<String> = enis.network_interfaces().iter().filter(|n| n.description().unwrap_or("").contains(":attachment/")).filter_map(|n| n.network_interface_id().map(str::to_string)).collect();
    assert_eq!(task_enis.len(), 2, "{task_enis:?}");
    block_on(c.ec2.delete_network_interface().network_interface_id(&task_enis[0]).send()).unwrap();
    let ip = grader(Some(&account), &["check", "step-9", "--format", "json", "--no-wait"]).check("public-ip");
    assert_eq!(ip["status"], "pass", "{ip}");
    // Addresses counted whole: `127.0.127.252` holds "127." twice.
    let addresses = ip["message"].as_str().unwrap().split(|c: char| !c.is_ascii_digit() && c != '.').filter(|w| w.parse::<std::net::Ipv4Addr>().is_ok()).count();
    assert_eq!(addresses, 1, "one task still has its address: {ip}");
}
