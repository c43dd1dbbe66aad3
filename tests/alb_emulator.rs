//! The emulator's Application Load Balancer, for the second lab (Nginx behind an ALB in two
//! zones, auto scaling, a deployment that rolls itself back), driven by the real AWS CLI:
//! target registration and health from the tasks' responders, tasks spread over two zones, a
//! DNS name that answers on loopback and round-robins, the deployment circuit breaker rolling
//! a broken deployment back, and Application Auto Scaling's calls.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::alb::{AlbLab, BROKEN_IMAGE, CLUSTER, FAMILY, GOOD_IMAGE, LOG_GROUP, SERVICE, build_alb_lab, cli, cli_err, register, text};
use support::{Account, Emulator};

/// Polls `probe` every half second until it answers `Ok`; panics with its last `Err` after `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let started = Instant::now();
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) if started.elapsed() >= limit => panic!("{what}: not within {limit:?}; last seen: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// One HTTP answer, read whole (the emulator closes each connection after answering).
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// `GET /` on port 80 of a loopback address, as a browser would reach the ALB's DNS name.
fn http_get(host: &str) -> std::io::Result<Answer> {
    let addr: SocketAddr = format!("{host}:80").parse().map_err(|e| std::io::Error::other(format!("{host}: {e}")))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: alb-emulator-test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
    let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    Ok(Answer { status, head: head.to_string(), body: body.to_string() })
}

/// What `build_alb_lab` made.
fn describe_service(account: &Account) -> Value {
    cli(account, &["ecs", "describe-services", "--cluster", CLUSTER, "--services", SERVICE, "--query", "services[0]"])
}

/// The service's running tasks: (private IP, availability zone) of each.
fn running_tasks(account: &Account) -> Vec<(String, String)> {
    let arns = cli(account, &["ecs", "list-tasks", "--cluster", CLUSTER, "--service-name", SERVICE, "--query", "taskArns"]);
    let arns: Vec<&str> = arns.as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    if arns.is_empty() {
        return Vec::new();
    }
    let mut args = vec!["ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks"];
    args.extend(&arns);
    args.extend(["--query", "tasks[].[attachments[0].details[?name=='privateIPv4Address'].value | [0], availabilityZone]"]);
    let tasks = cli(account, &args);
    tasks.as_array().unwrap().iter().map(|t| (t[0].as_str().unwrap_or("").to_string(), t[1].as_str().unwrap_or("").to_string())).collect()
}

/// Target id -> (state, reason) of every registered target.
fn target_health(account: &Account, target_group: &str) -> Vec<(String, String, String)> {
    let health = cli(account, &["elbv2", "describe-target-health", "--target-group-arn", target_group, "--query", "TargetHealthDescriptions"]);
    health
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let state = d["TargetHealth"]["State"].as_str().unwrap_or("").to_string();
            let reason = d["TargetHealth"]["Reason"].as_str().unwrap_or("").to_string();
            (format!("{}:{}", d["Target"]["Id"].as_str().unwrap(), d["Target"]["Port"]), state, reason)
        })
        .collect()
}

/// Waits until the target group holds exactly two targets, both healthy, other than `before`;
/// returns them (`IP:80`).
fn wait_for_two_healthy_targets(account: &Account, lab: &AlbLab, before: &BTreeSet<String>) -> BTreeSet<String> {
    wait_for("two new healthy targets", Duration::from_secs(5), || {
        let health = target_health(account, &lab.target_group);
        let healthy: BTreeSet<String> = health.iter().filter(|(_, state, _)| state == "healthy").map(|(id, _, _)| id.clone()).collect();
        if health.len() == 2 && healthy.len() == 2 && healthy.is_disjoint(before) { Ok(healthy) } else { Err(format!("{health:?}")) }
    })
}

/// The PRIMARY deployment's (id, rolloutState, taskDefinition), and how many deployments there are.
fn deployments(service: &Value) -> (String, String, String, usize) {
    let all = service["deployments"].as_array().cloned().unwrap_or_default();
    let primary = all.iter().find(|d| d["status"] == "PRIMARY").cloned().unwrap_or(Value::Null);
    let field = |name: &str| primary[name].as_str().unwrap_or("").to_string();
    (field("id"), field("rolloutState"), field("taskDefinition"), all.len())
}

#[test]
fn an_alb_in_two_zones_routes_round_robin_rolls_back_a_broken_deployment_and_closes_when_deleted() {
    let account = Account::fresh(Emulator::shared());
    let lab = build_alb_lab(&account);
    assert!(lab.dns.starts_with("127.0.") && lab.dns != "127.0.0.1", "the ALB's DNS name is a loopback address here: {}", lab.dns);

    // Both tasks are registered by their private IPs and pass the health check on `/`, one
    // task in each of the two subnets' zones.
    let targets = wait_for_two_healthy_targets(&account, &lab, &BTreeSet::new());
    let tasks = running_tasks(&account);
    let task_targets: BTreeSet<String> = tasks.iter().map(|(ip, _)| format!("{ip}:80")).collect();
    assert_eq!(task_targets, targets, "the targets are the running tasks' private IPs and container port");
    let zones: BTreeSet<String> = tasks.into_iter().map(|(_, zone)| zone).collect();
    let wanted: BTreeSet<String> = lab.subnets.iter().map(|(_, zone)| zone.clone()).collect();
    assert_eq!(zones, wanted, "tasks spread over the service's two zones");

    // The DNS name serves the tasks' Nginx page, the targets taking turns.
    let mut answered_by = Vec::new();
    for _ in 0..4 {
        let answer = http_get(&lab.dns).expect("the ALB answers on its DNS name");
        assert_eq!(answer.status, 200, "{}", answer.head);
        assert!(answer.body.contains("Welcome to nginx!"), "{}", answer.body);
        assert_eq!(answer.header("Server"), Some("nginx"), "{}", answer.head);
        answered_by.push(answer.header("X-Emulator-Target").expect("the emulator names the target").to_string());
    }
    assert_eq!(answered_by.iter().cloned().collect::<BTreeSet<_>>(), targets, "both targets answer: {answered_by:?}");
    assert!(answered_by[0] != answered_by[1] && answered_by[0] == answered_by[2] && answered_by[1] == answered_by[3], "round robin: {answered_by:?}");

    // A deployment whose image cannot be pulled: the old tasks keep serving meanwhile, the
    // circuit breaker fails it after three failed tasks and rolls back to the good revision.
    let (good_deployment, state, task_definition, _) = deployments(&describe_service(&account));
    assert_eq!((state.as_str(), task_definition.as_str()), ("COMPLETED", lab.good_revision.as_str()));
    let broken = register(&account, BROKEN_IMAGE);
    let started = Instant::now();
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &broken]);
    let rolling = describe_service(&account);
    let (_, _, primary_revision, count) = deployments(&rolling);
    assert_eq!((primary_revision.as_str(), count), (broken.as_str(), 2), "the new deployment is PRIMARY, the old one still ACTIVE: {}", rolling["deployments"]);
    assert_eq!(http_get(&lab.dns).expect("the old tasks still serve").status, 200);
    // Nothing to see before the third failed task, 10 s after the update: spare the CPU.
    std::thread::sleep(Duration::from_secs(8).saturating_sub(started.elapsed()));
    let rolled_back = wait_for("the rollback to the good revision", Duration::from_secs(40), || {
        let service = describe_service(&account);
        let (id, state, task_definition, count) = deployments(&service);
        let done = service["taskDefinition"] == lab.good_revision.as_str()
            && task_definition == lab.good_revision
            && state == "COMPLETED"
            && count == 1
            && id != good_deployment
            && service["runningCount"] == 2;
        if done { Ok(service) } else { Err(format!("{}", service["deployments"])) }
    });
    assert!(started.elapsed() >= Duration::from_secs(9), "three failed tasks, at most one every 5 s, take 10 s: {:?}", started.elapsed());
    let events: Vec<&str> = rolled_back["events"].as_array().unwrap().iter().filter_map(|e| e["message"].as_str()).collect();
    assert!(events.iter().any(|e| e.contains("deployment failed: tasks failed to start.")), "{events:#?}");
    assert!(events.iter().any(|e| e.contains(&format!("rolling back to deployment {good_deployment}."))), "{events:#?}");
    let stopped = cli(&account, &["ecs", "list-tasks", "--cluster", CLUSTER, "--service-name", SERVICE, "--desired-status", "STOPPED", "--query", "taskArns"]);
    let mut args = vec!["ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks"];
    args.extend(stopped.as_array().unwrap().iter().map(|a| a.as_str().unwrap()));
    args.extend(["--query", "tasks[?stopCode=='TaskFailedToStart'] | length(@)"]);
    assert!(cli(&account, &args).as_u64().unwrap() >= 3, "the circuit breaker trips after three tasks failed to start");
    // The rollback deployment runs new tasks, registered in place of the old ones.
    let after_rollback = wait_for_two_healthy_targets(&account, &lab, &targets);
    assert_eq!(http_get(&lab.dns).expect("the ALB answers after the rollback").status, 200);

    // A good update completes: one deployment, on the new revision, its tasks healthy.
    let fixed = register(&account, GOOD_IMAGE);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &fixed]);
    wait_for("the good update to complete", Duration::from_secs(15), || {
        let service = describe_service(&account);
        let (_, state, task_definition, count) = deployments(&service);
        if task_definition == fixed && state == "COMPLETED" && count == 1 && service["runningCount"] == 2 { Ok(()) } else { Err(format!("{}", service["deployments"])) }
    });
    let after_update = wait_for_two_healthy_targets(&account, &lab, &after_rollback);

    // A health check path Nginx does not serve: both targets unhealthy with the code seen, and
    // the ALB fails open (routes to them anyway), as AWS does. Back to `/`: healthy again.
    account.aws_ok(&["elbv2", "modify-target-group", "--target-group-arn", &lab.target_group, "--health-check-path", "/health"]);
    wait_for("unhealthy targets", Duration::from_secs(5), || {
        let health = target_health(&account, &lab.target_group);
        let all_unhealthy = health.len() == 2 && health.iter().all(|(_, state, reason)| state == "unhealthy" && reason == "Target.ResponseCodeMismatch");
        if all_unhealthy { Ok(()) } else { Err(format!("{health:?}")) }
    });
    assert_eq!(http_get(&lab.dns).expect("the ALB fails open").status, 200);
    account.aws_ok(&["elbv2", "modify-target-group", "--target-group-arn", &lab.target_group, "--health-check-path", "/"]);
    let healthy_again = wait_for_two_healthy_targets(&account, &lab, &BTreeSet::new());
    assert_eq!(healthy_again, after_update, "the same targets, healthy again");

    // Deleting the listener closes the port; the load balancer's deletion closes the address.
    let listener = text(&account, &["elbv2", "describe-listeners", "--load-balancer-arn", &lab.load_balancer, "--query", "Listeners[0].ListenerArn"]);
    account.aws_ok(&["elbv2", "delete-listener", "--listener-arn", &listener]);
    assert!(http_get(&lab.dns).is_err(), "nothing listens on {} once the listener is deleted", lab.dns);
    let forward = format!("Type=forward,TargetGroupArn={}", lab.target_group);
    account.aws_ok(&["elbv2", "create-listener", "--load-balancer-arn", &lab.load_balancer, "--protocol", "HTTP", "--port", "80", "--default-actions", &forward]);
    assert_eq!(http_get(&lab.dns).expect("a new listener answers at once").status, 200);
    account.aws_ok(&["elbv2", "delete-load-balancer", "--load-balancer-arn", &lab.load_balancer]);
    assert!(http_get(&lab.dns).is_err(), "nothing listens on {} once the load balancer is deleted", lab.dns);
    let unused = target_health(&account, &lab.target_group);
    assert!(unused.iter().all(|(_, state, reason)| state == "unused" && reason == "Target.NotInUse"), "{unused:?}");
}

#[test]
fn application_auto_scaling_takes_the_service_s_desired_count_and_a_cpu_policy() {
    let account = Account::fresh(Emulator::shared());
    let vpc = text(&account, &["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true", "--query", "Vpcs[0].VpcId"]);
    let subnet = text(&account, &["ec2", "describe-subnets", "--filters", &format!("Name=vpc-id,Values={vpc}"), "--query", "Subnets[0].SubnetId"]);
    account.aws_ok(&["ecs", "create-cluster", "--cluster-name", CLUSTER]);
    account.aws_ok(&["logs", "create-log-group", "--log-group-name", LOG_GROUP]);
    register(&account, GOOD_IMAGE);
    let network = format!("awsvpcConfiguration={{subnets=[{subnet}],assignPublicIp=DISABLED}}");
    account.aws_ok(&[
        "ecs", "create-service", "--cluster", CLUSTER, "--service-name", SERVICE, "--task-definition", FAMILY, "--desired-count", "2", "--launch-type", "FARGATE",
        "--network-configuration", &network,
    ]);

    let resource = format!("service/{CLUSTER}/{SERVICE}");
    let dimension = "ecs:service:DesiredCount";
    let policy = r#"{"TargetValue":50.0,"PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"},"ScaleOutCooldown":60,"ScaleInCooldown":60}"#;
    let put_policy: &[&str] = &[
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs", "--resource-id", &resource, "--scalable-dimension", dimension,
        "--policy-name", "cpu50", "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration", policy,
    ];
    // As on AWS: no policy before the target, no target for a service that does not exist.
    let early = cli_err(&account, put_policy);
    assert!(early.contains("ObjectNotFoundException"), "{early}");
    let missing = cli_err(&account, &[
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs", "--resource-id", &format!("service/{CLUSTER}/nope"),
        "--scalable-dimension", dimension, "--min-capacity", "2", "--max-capacity", "4",
    ]);
    assert!(missing.contains("ValidationException") && missing.contains("ECS service doesn't exist"), "{missing}");

    account.aws_ok(&[
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs", "--resource-id", &resource, "--scalable-dimension", dimension,
        "--min-capacity", "2", "--max-capacity", "4",
    ]);
    let targets = cli(&account, &["application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs", "--resource-ids", &resource, "--query", "ScalableTargets"]);
    assert_eq!(targets.as_array().map(Vec::len), Some(1), "{targets}");
    let target = &targets[0];
    assert_eq!((target["MinCapacity"].as_u64(), target["MaxCapacity"].as_u64()), (Some(2), Some(4)), "{target}");
    assert_eq!(target["ScalableDimension"], dimension);
    assert!(target["RoleARN"].as_str().unwrap_or("").ends_with("/AWSServiceRoleForApplicationAutoScaling_ECSService"), "{target}");
    assert_eq!(target["SuspendedState"]["DynamicScalingInSuspended"], false, "{target}");

    let created = cli(&account, put_policy);
    assert!(created["PolicyARN"].as_str().unwrap_or("").ends_with(&format!("resource/ecs/{resource}:policyName/cpu50")), "{created}");
    assert_eq!(created["Alarms"].as_array().map(Vec::len), Some(2), "target tracking makes a high and a low alarm: {created}");
    let policies = cli(&account, &[
        "application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs", "--resource-id", &resource, "--query", "ScalingPolicies",
    ]);
    assert_eq!(policies.as_array().map(Vec::len), Some(1), "{policies}");
    let config = &policies[0]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(policies[0]["PolicyType"], "TargetTrackingScaling");
    assert_eq!(config["PredefinedMetricSpecification"]["PredefinedMetricType"], "ECSServiceAverageCPUUtilization", "{config}");
    assert_eq!(config["TargetValue"].as_f64(), Some(50.0), "{config}");
    let other = cli(&account, &["application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs", "--policy-names", "other", "--query", "ScalingPolicies"]);
    assert_eq!(other.as_array().map(Vec::len), Some(0), "PolicyNames filters: {other}");

    // Nothing scales: the service keeps the desired count it was given.
    let desired = text(&account, &["ecs", "describe-services", "--cluster", CLUSTER, "--services", SERVICE, "--query", "services[0].desiredCount"]);
    assert_eq!(desired, "2");
}

/// The load-balancer check kinds, in a lab file of their own, against the lab built above.
const ALB_KINDS_LAB: &str = r#"
version: 1
id: alb-kinds
title: The load balancer's check kinds
region: us-east-1
vars:
  cluster: alb-course
  service: web
steps:
  - id: network
    title: Security groups
    checks:
      - id: tasks-from-lb-only
        title: The tasks admit port 80 only from the load balancer
        kind: security_group_source
        group_name: alb-web-tasks
        source_group_name: alb-web-lb
  - id: balancer
    title: Load balancer
    checks:
      - id: alb
        title: The ALB is active in two zones
        kind: load_balancer
        load_balancer: alb-web
        security_group: alb-web-lb
      - id: targets
        title: Two healthy targets
        kind: target_group
        target_group: alb-web-tg
        healthy_targets: 2
      - id: forward
        title: HTTP:80 forwards to the target group
        kind: listener
        load_balancer: alb-web
        target_group: alb-web-tg
      - id: site
        title: The site answers through the ALB
        kind: lb_http
        load_balancer: alb-web
        body_contains: Welcome to nginx
  - id: scaling
    title: Auto scaling
    checks:
      - id: bounds
        title: The service scales between 2 and 4 tasks
        kind: scalable_target
        cluster: "{{cluster}}"
        service: "{{service}}"
        min_capacity: 2
        max_capacity: 4
      - id: cpu
        title: Average CPU drives it
        kind: scaling_policy
        cluster: "{{cluster}}"
        service: "{{service}}"
  - id: deploy
    title: The service behind the load balancer
    checks:
      - id: attached
        title: Two private tasks in two zones, in the target group, with the circuit breaker
        kind: ecs_service
        cluster: "{{cluster}}"
        service: "{{service}}"
        assign_public_ip: DISABLED
        target_group: alb-web-tg
        circuit_breaker: true
        min_zones: 2
  - id: rollback
    title: A broken deployment rolled back
    checks:
      - id: rolled-back
        title: The circuit breaker rolled it back
        kind: deployment
        cluster: "{{cluster}}"
        service: "{{service}}"
        outcome: rolled_back
  - id: update
    title: A good update completed
    checks:
      - id: completed
        title: The newest revision runs
        kind: deployment
        cluster: "{{cluster}}"
        service: "{{service}}"
        outcome: completed
        task_family: alb-web
  - id: cleanup
    title: Clean up
    phase: cleanup
    checks:
      - id: lb-gone
        title: The load balancer is deleted
        kind: load_balancer_absent
        load_balancer: alb-web
        regions: lab
      - id: tg-gone
        title: The target group is deleted
        kind: target_group_absent
        target_group: alb-web-tg
        regions: lab
      - id: scaling-gone
        title: The scalable target is deregistered
        kind: scalable_target_absent
        cluster: "{{cluster}}"
        service: "{{service}}"
        regions: lab
"#;

/// A fresh account with the second lab built and its two targets healthy, and a directory
/// holding `ALB_KINDS_LAB`.
fn alb_lab_with_kinds(scratch: &str) -> (Account, std::path::PathBuf, AlbLab) {
    let account = Account::fresh(Emulator::shared());
    let labs = support::scratch_dir(scratch);
    std::fs::write(labs.join("alb-kinds.yaml"), ALB_KINDS_LAB).unwrap();
    let lab = build_alb_lab(&account);
    wait_for_two_healthy_targets(&account, &lab, &BTreeSet::new());
    (account, labs, lab)
}

fn check_alb_kinds(account: &Account, labs: &std::path::Path, steps: &[&str]) -> std::collections::BTreeMap<String, (String, String)> {
    check_alb_kinds_with(account, labs, steps, &[])
}

/// `check_alb_kinds` with more flags (`--remote`).
fn check_alb_kinds_with(account: &Account, labs: &std::path::Path, steps: &[&str], extra: &[&str]) -> std::collections::BTreeMap<String, (String, String)> {
    let mut args = vec!["check", "--labs-dir", labs.to_str().unwrap(), "--lab", "alb-kinds", "--format", "json", "--no-wait"];
    args.extend_from_slice(extra);
    args.extend_from_slice(steps);
    let run = support::grader(Some(account), &args);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap().clone())
        .map(|c| (c["id"].as_str().unwrap().to_string(), (c["status"].as_str().unwrap().to_string(), c["message"].as_str().unwrap().to_string())))
        .collect()
}

#[test]
fn the_load_balancer_check_kinds_pass_on_a_built_lab_and_name_what_is_missing_or_left() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    let labs = support::scratch_dir("alb-kinds-lab");
    std::fs::write(labs.join("alb-kinds.yaml"), ALB_KINDS_LAB).unwrap();
    let build_steps = ["network", "balancer", "scaling", "deploy"];

    // Nothing built: every building check fails, and clean-up has nothing to find.
    let empty = check_alb_kinds(&account, &labs, &build_steps);
    assert!(empty.values().all(|(status, _)| status == "fail"), "{empty:#?}");
    assert!(empty["alb"].1.contains("no load balancer `alb-web`"), "{empty:#?}");
    let clean = check_alb_kinds(&account, &labs, &["cleanup"]);
    assert!(clean.values().all(|(status, _)| status == "pass"), "{clean:#?}");

    let lab = build_alb_lab(&account);
    wait_for_two_healthy_targets(&account, &lab, &BTreeSet::new());
    let resource = format!("service/{CLUSTER}/{SERVICE}");
    let scaling = ["--service-namespace", "ecs", "--resource-id", resource.as_str(), "--scalable-dimension", "ecs:service:DesiredCount"];
    let register_target: Vec<&str> = ["application-autoscaling", "register-scalable-target"].into_iter().chain(scaling).chain(["--min-capacity", "2", "--max-capacity", "4"]).collect();
    account.aws_ok(&register_target);
    let policy = r#"{"TargetValue":50.0,"PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}}"#;
    let put: Vec<&str> = ["application-autoscaling", "put-scaling-policy"]
        .into_iter()
        .chain(scaling)
        .chain(["--policy-name", "cpu-50", "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration", policy])
        .collect();
    account.aws_ok(&put);

    // Built: every check passes, and the grader only read.
    let from = emulator.all_requests().len();
    let built = check_alb_kinds(&account, &labs, &build_steps);
    assert!(built.values().all(|(status, _)| status == "pass"), "{built:#?}");
    assert!(built["site"].1.contains(&format!("http://{}/ answered HTTP 200", lab.dns)), "{built:#?}");
    emulator.assert_read_only_since(from, Some(&account.id));

    // Deployments: none rolled back yet; a broken one is, by the circuit breaker; then a good
    // update completes on the newest revision.
    let before = check_alb_kinds(&account, &labs, &["rollback"]);
    assert!(before["rolled-back"].1.contains("no deployment of it was rolled back"), "{before:#?}");
    let broken = register(&account, BROKEN_IMAGE);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &broken]);
    let during = check_alb_kinds(&account, &labs, &["rollback"]);
    assert!(during["rolled-back"].1.contains("still deploying"), "{during:#?}");
    wait_for("the rollback", Duration::from_secs(40), || {
        let service = describe_service(&account);
        let (_, state, revision, count) = deployments(&service);
        if (state.as_str(), revision.as_str(), count) == ("COMPLETED", lab.good_revision.as_str(), 1) { Ok(()) } else { Err(format!("{state} {revision} {count}")) }
    });
    let rolled = check_alb_kinds(&account, &labs, &["rollback"]);
    assert_eq!(rolled["rolled-back"].0, "pass", "{rolled:#?}");
    let stale = check_alb_kinds(&account, &labs, &["update"]);
    assert!(stale["completed"].1.contains("not the newest revision"), "the broken revision is the newest ACTIVE one: {stale:#?}");
    let newer = register(&account, GOOD_IMAGE);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &newer]);
    account.aws_ok(&["ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", SERVICE]);
    let updated = check_alb_kinds(&account, &labs, &["update"]);
    assert_eq!(updated["completed"].0, "pass", "{updated:#?}");

    // Left behind: each resource named, the load balancer with its hourly price.
    let left = check_alb_kinds(&account, &labs, &["cleanup"]);
    assert_eq!(left["lb-gone"].0, "fail", "{left:#?}");
    assert!(left["lb-gone"].1.contains("load balancer `alb-web` in us-east-1 (about $0.0325/hour, us-east-1 on-demand prices of 2026)"), "{left:#?}");
    assert!(left["lb-gone"].1.contains("aws elbv2 delete-load-balancer --load-balancer-arn arn:aws:elasticloadbalancing:"), "{left:#?}");
    assert!(left["scaling-gone"].1.contains("deregister-scalable-target"), "{left:#?}");

    // A rule that lets the internet reach the tasks directly is a failure.
    let task_sg = text(&account, &["ec2", "describe-security-groups", "--group-names", "alb-web-tasks", "--query", "SecurityGroups[0].GroupId"]);
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &task_sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0"]);
    let open = check_alb_kinds(&account, &labs, &["network"]);
    assert!(open["tasks-from-lb-only"].1.contains("also admits tcp/80 from 0.0.0.0/0"), "{open:#?}");

    // Cleaned up in dependency order: clean-up passes.
    let deregister: Vec<&str> = ["application-autoscaling", "deregister-scalable-target"].into_iter().chain(scaling).collect();
    account.aws_ok(&deregister);
    account.aws_ok(&["ecs", "delete-service", "--cluster", CLUSTER, "--service", SERVICE, "--force"]);
    account.aws_ok(&["elbv2", "delete-load-balancer", "--load-balancer-arn", &lab.load_balancer]);
    account.aws_ok(&["elbv2", "delete-target-group", "--target-group-arn", &lab.target_group]);
    let gone = check_alb_kinds(&account, &labs, &["cleanup"]);
    assert!(gone.values().all(|(status, _)| status == "pass"), "{gone:#?}");
}

#[test]
fn graded_from_elsewhere_the_site_behind_the_load_balancer_passes_on_target_health_and_is_never_failed_for_silence() {
    let emulator = Emulator::shared();
    let (account, labs, lab) = alb_lab_with_kinds("alb-remote-lab");
    // The lab as taught: the load balancer admits the learner's own address only.
    let lb_sg = text(&account, &["ec2", "describe-security-groups", "--group-names", "alb-web-lb", "--query", "SecurityGroups[0].GroupId"]);
    account.aws_ok(&["ec2", "revoke-security-group-ingress", "--group-id", &lb_sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0"]);
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &lb_sg, "--protocol", "tcp", "--port", "80", "--cidr", "203.0.113.10/32"]);

    emulator.configure(&account.id, serde_json::json!({ "client_address": "203.0.113.10" }));
    assert_eq!(check_alb_kinds(&account, &labs, &["balancer"])["site"].0, "pass", "the learner reaches the site");

    // From elsewhere, nothing answers. As the learner's own check that is a fail...
    emulator.configure(&account.id, serde_json::json!({ "client_address": "198.51.100.20" }));
    assert!(http_get(&lab.dns).is_err(), "the group must drop the autograder's request");
    let local = check_alb_kinds(&account, &labs, &["balancer"]);
    assert_eq!(local["site"].0, "fail", "{local:#?}");
    // ...graded from elsewhere, AWS's own view decides: a listener forwarding to healthy
    // targets checked on the same path.
    let remote = check_alb_kinds_with(&account, &labs, &["balancer"], &["--remote"]);
    assert_eq!(remote["site"].0, "pass", "{remote:#?}");
    assert!(remote["site"].1.contains("graded from elsewhere: `alb-web` forwards port 80 to `alb-web-tg`, whose health checks of `/` find 2 healthy target(s)"), "{remote:#?}");

    // No healthy target behind the listener: undecided from elsewhere, not a fail and not a pass.
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--desired-count", "0"]);
    wait_for("the targets to go", Duration::from_secs(30), || {
        let health = target_health(&account, &lab.target_group);
        if health.iter().any(|(_, state, _)| state == "healthy") { Err(format!("{health:?}")) } else { Ok(()) }
    });
    let empty = check_alb_kinds_with(&account, &labs, &["balancer"], &["--remote"]);
    assert_eq!(empty["site"].0, "error", "{empty:#?}");
    assert!(empty["site"].1.starts_with("could not grade from here"), "{empty:#?}");
    // The learner, meanwhile, sees the load balancer's own 503, explained.
    emulator.configure(&account.id, serde_json::json!({ "client_address": "203.0.113.10" }));
    let at_home = check_alb_kinds(&account, &labs, &["balancer"]);
    assert_eq!(at_home["site"].0, "fail", "{at_home:#?}");
    assert!(at_home["site"].1.contains("answered 503; 503 is the load balancer's: its target group has no healthy target"), "{at_home:#?}");
}

#[test]
fn a_receipt_records_the_load_balancer_and_is_refused_once_it_is_created_again() {
    let (account, labs, lab) = alb_lab_with_kinds("alb-receipt-lab");
    let resource = format!("service/{CLUSTER}/{SERVICE}");
    account.aws_ok(&[
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs", "--resource-id", &resource, "--scalable-dimension", "ecs:service:DesiredCount",
        "--min-capacity", "2", "--max-capacity", "4",
    ]);
    let file = support::scratch_dir("alb-receipt").join("receipt.json");
    let file = file.to_str().unwrap();
    let issued = support::grader(Some(&account), &["check", "--labs-dir", labs.to_str().unwrap(), "--lab", "alb-kinds", "balancer", "scaling", "--no-wait", "--receipt", file]);
    // Exit 1: no CPU policy was made here; the receipt lists what the passing checks graded.
    assert_eq!(issued.code, 1, "{}\n{}", issued.stdout, issued.stderr);
    let receipt: Value = serde_json::from_str(&support::read(file)).unwrap();
    let kinds: BTreeSet<&str> = receipt["resources"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    for kind in ["load_balancer", "target_group", "listener", "scalable_target"] {
        assert!(kinds.contains(kind), "{kind} missing from {receipt:#}");
    }
    let lb = receipt["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "load_balancer").unwrap();
    assert_eq!(lb["arn"], lab.load_balancer.as_str());
    assert!(lb["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "ELB gives its creation time: {lb}");
    let verified = support::grader(Some(&account), &["verify-receipt", file]);
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);

    // The load balancer deleted and created again under the same name: another one.
    account.aws_ok(&["elbv2", "delete-load-balancer", "--load-balancer-arn", &lab.load_balancer]);
    account.aws_ok(&["elbv2", "create-load-balancer", "--name", "alb-web", "--type", "application", "--subnets", &lab.subnets[0].0, &lab.subnets[1].0]);
    let refused = support::grader(Some(&account), &["verify-receipt", file, "--format", "json"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    let verification: Value = serde_json::from_str(&refused.stdout).unwrap();
    let lb = verification["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "load_balancer").unwrap();
    assert_eq!(lb["finding"], "replaced", "{verification:#}");
}

#[test]
fn lab_two_s_checks_read_aws_as_it_answers_weights_impaired_state_and_groups_of_another_vpc() {
    let emulator = Emulator::shared();
    let (account, labs, lab) = alb_lab_with_kinds("alb-weight-lab");
    assert_eq!(check_alb_kinds(&account, &labs, &["balancer"])["forward"].0, "pass");
    // All the traffic to another group, none to the lab's: as AWS routes it, the listener no
    // longer forwards to the lab's group, though its ARN is still in the action.
    let vpc = text(&account, &["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true", "--query", "Vpcs[0].VpcId"]);
    let other = text(&account, &["elbv2", "create-target-group", "--name", "alb-web-other", "--protocol", "HTTP", "--port", "80", "--vpc-id", &vpc, "--target-type", "ip", "--query", "TargetGroups[0].TargetGroupArn"]);
    let listener = text(&account, &["elbv2", "describe-listeners", "--load-balancer-arn", &lab.load_balancer, "--query", "Listeners[0].ListenerArn"]);
    let actions = serde_json::json!([{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": lab.target_group, "Weight": 0}, {"TargetGroupArn": other, "Weight": 1}]}}]).to_string();
    account.aws_ok(&["elbv2", "modify-listener", "--listener-arn", &listener, "--default-actions", &actions]);
    let weighted = check_alb_kinds(&account, &labs, &["balancer"]);
    assert_eq!(weighted["forward"].0, "fail", "{weighted:#?}");
    assert!(weighted["forward"].1.contains("does not forward to `alb-web-tg`"), "{weighted:#?}");

    // active_impaired routes traffic but cannot scale: a pass that warns.
    emulator.configure(&account.id, serde_json::json!({ "load_balancer_state": { "alb-web": "active_impaired" } }));
    let impaired = check_alb_kinds(&account, &labs, &["balancer"]);
    assert_eq!(impaired["alb"].0, "pass", "{impaired:#?}");
    assert!(impaired["alb"].1.contains("warning: AWS reports it active_impaired"), "{impaired:#?}");
    emulator.configure(&account.id, serde_json::json!({ "load_balancer_state": null }));

    // Group names are unique per VPC only: a tidy copy of both groups in another VPC must not
    // hide that the default VPC's tasks group is open to the internet.
    let other_vpc = text(&account, &["ec2", "create-vpc", "--cidr-block", "10.77.0.0/16", "--query", "Vpc.VpcId"]);
    let copy_lb = text(&account, &["ec2", "create-security-group", "--group-name", "alb-web-lb", "--description", "copy", "--vpc-id", &other_vpc, "--query", "GroupId"]);
    let copy_tasks = text(&account, &["ec2", "create-security-group", "--group-name", "alb-web-tasks", "--description", "copy", "--vpc-id", &other_vpc, "--query", "GroupId"]);
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &copy_tasks, "--protocol", "tcp", "--port", "80", "--source-group", &copy_lb]);
    let task_sg = text(&account, &["ec2", "describe-security-groups", "--filters", &format!("Name=vpc-id,Values={vpc}"), "Name=group-name,Values=alb-web-tasks", "--query", "SecurityGroups[0].GroupId"]);
    assert_eq!(check_alb_kinds(&account, &labs, &["network"])["tasks-from-lb-only"].0, "pass");
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &task_sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0"]);
    let open = check_alb_kinds(&account, &labs, &["network"]);
    assert_eq!(open["tasks-from-lb-only"].0, "fail", "{open:#?}");
    assert!(open["tasks-from-lb-only"].1.contains(&format!("`{task_sg}` also admits tcp/80 from 0.0.0.0/0")), "{open:#?}");
}

/// `grader check --lab alb STEP…` on the names `build_alb_lab` uses, with more flags.
fn check_alb_lab(account: &Account, args: &[&str]) -> support::GraderRun {
    let mut all = vec!["check", "--lab", "alb", "--var", "cluster=alb-course", "--var", "service=web", "--var", "family=alb-web"];
    all.extend_from_slice(args);
    support::grader(Some(account), &all)
}

/// The `deployment` check's verdict (`rolled-back` or `update-completed`) in a JSON run.
fn deployment_verdict(account: &Account, step: &str, id: &str) -> (String, String) {
    let run = check_alb_lab(account, &[step, "--no-wait", "--format", "json"]);
    let c = run.check(id);
    (c["status"].as_str().unwrap().to_string(), c["message"].as_str().unwrap().to_string())
}

#[test]
fn deployments_are_judged_as_ecs_records_them_rolled_back_updated_or_failed_for_good() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    let lab = build_alb_lab(&account);
    wait_for_two_healthy_targets(&account, &lab, &BTreeSet::new());

    // A broken revision, rolled back by the circuit breaker: ListServiceDeployments says so.
    let broken = register(&account, BROKEN_IMAGE);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &broken]);
    wait_for("the rollback", Duration::from_secs(40), || {
        let (_, state, revision, count) = deployments(&describe_service(&account));
        if (state.as_str(), revision.as_str(), count) == ("COMPLETED", lab.good_revision.as_str(), 1) { Ok(()) } else { Err(format!("{state} {revision} {count}")) }
    });
    let (status, message) = deployment_verdict(&account, "step-7", "rolled-back");
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains("ROLLBACK_SUCCESSFUL"), "decided from the service deployments API: {message}");
    // Where that API is not offered, the service's events decide, and the message says so.
    emulator.configure(&account.id, serde_json::json!({ "service_deployments_api": false }));
    let (status, message) = deployment_verdict(&account, "step-7", "rolled-back");
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains("judged from the service's events: this endpoint offers no ListServiceDeployments"), "{message}");
    emulator.configure(&account.id, serde_json::json!({ "service_deployments_api": null }));

    // Deregistering the broken revision makes the good one the newest ACTIVE again: that is
    // not a rolling update.
    account.aws_ok(&["ecs", "deregister-task-definition", "--task-definition", &broken]);
    let (status, message) = deployment_verdict(&account, "step-8", "update-completed");
    assert_eq!(status, "fail", "{message}");
    assert!(message.contains("was registered after it (and deregistered since)"), "{message}");

    // A good update to a new revision completes.
    let newer = register(&account, GOOD_IMAGE);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &newer]);
    account.aws_ok(&["ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", SERVICE]);
    let (status, message) = deployment_verdict(&account, "step-8", "update-completed");
    assert_eq!(status, "pass", "{message}");

    // With rollback off, the circuit breaker fails the next broken deployment for good: the
    // check says so at once instead of waiting its five minutes.
    let breaker = "deploymentCircuitBreaker={enable=true,rollback=false},maximumPercent=200,minimumHealthyPercent=100";
    let broken = register(&account, BROKEN_IMAGE);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--task-definition", &broken, "--deployment-configuration", breaker]);
    wait_for("the circuit breaker", Duration::from_secs(40), || {
        let (_, state, _, _) = deployments(&describe_service(&account));
        if state == "FAILED" { Ok(()) } else { Err(state) }
    });
    let run = check_alb_lab(&account, &["step-8", "--format", "ndjson"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.lines().any(|l| l.contains("\"check_waiting\"")), "a failed deployment is not waited on:\n{}", run.stdout);
    assert!(run.stdout.contains("did not roll it back (rollback is off)"), "{}", run.stdout);
}

/// The scalable target's bounds for `service/alb-course/web` (`aws application-autoscaling
/// register-scalable-target`).
fn register_bounds(account: &Account, min: &str, max: &str) {
    let resource = format!("service/{CLUSTER}/{SERVICE}");
    account.aws_ok(&[
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs", "--resource-id", &resource, "--scalable-dimension", "ecs:service:DesiredCount",
        "--min-capacity", min, "--max-capacity", max,
    ]);
}

/// The service's scaling activities, newest first: (description, cause, status).
fn scaling_activities(account: &Account) -> Vec<(String, String, String)> {
    let resource = format!("service/{CLUSTER}/{SERVICE}");
    let listed = cli(account, &["application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs", "--resource-id", &resource, "--query", "ScalingActivities"]);
    let field = |a: &Value, name: &str| a[name].as_str().unwrap_or("").to_string();
    listed.as_array().unwrap().iter().map(|a| (field(a, "Description"), field(a, "Cause"), field(a, "StatusCode"))).collect()
}

/// Waits until the target group has `count` healthy targets and no others.
fn wait_for_healthy_targets(account: &Account, lab: &AlbLab, count: usize) {
    wait_for(&format!("{count} healthy targets"), Duration::from_secs(10), || {
        let health = target_health(account, &lab.target_group);
        if health.len() == count && health.iter().all(|(_, state, _)| state == "healthy") { Ok(()) } else { Err(format!("{health:?}")) }
    });
}

#[test]
fn raising_the_minimum_scales_out_as_a_recorded_activity_which_grades_step_6_after_the_count_is_back() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    let lab = build_alb_lab(&account);
    wait_for_healthy_targets(&account, &lab, 2);
    let step_6 = |account: &Account| check_alb_lab(account, &["step-6", "--no-wait", "--format", "json"]);
    let resource = format!("service/{CLUSTER}/{SERVICE}");
    let policy = r#"{"TargetValue":50.0,"PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}}"#;

    // Registered within the service's count, with the policy: nothing scaled yet, and the
    // scale-out check says so.
    register_bounds(&account, "2", "4");
    account.aws_ok(&[
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs", "--resource-id", &resource, "--scalable-dimension", "ecs:service:DesiredCount",
        "--policy-name", "cpu-50", "--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration", policy,
    ]);
    assert!(scaling_activities(&account).is_empty());
    let before = step_6(&account);
    assert_eq!(before.status_of("scalable-target"), "pass", "{}", before.stdout);
    assert_eq!(before.status_of("scaled-out"), "fail", "{}", before.stdout);
    assert!(before.check("scaled-out")["found"].as_str().unwrap().starts_with("no scaling activity since the scalable target was registered"), "{}", before.stdout);

    // A minimum of 3: the desired count follows at once, as one successful activity, and ECS
    // starts a third task and registers it.
    register_bounds(&account, "3", "4");
    assert_eq!(describe_service(&account)["desiredCount"], 3);
    wait_for_healthy_targets(&account, &lab, 3);
    let raised = ("Setting desired count to 3.".to_string(), "minimum capacity was set to 3".to_string(), "Successful".to_string());
    assert_eq!(scaling_activities(&account), vec![raised.clone()]);
    let scaled = step_6(&account);
    assert_eq!(scaled.status_of("scaled-out"), "pass", "{}", scaled.stdout);
    assert_eq!(scaled.status_of("scalable-target"), "fail", "the minimum is still 3: {}", scaled.stdout);

    // The minimum back to 2 removes nothing (a floor, not a count) and records nothing; the
    // desired count set back by hand ends the third task. The activity still grades the step.
    register_bounds(&account, "2", "4");
    assert_eq!(describe_service(&account)["desiredCount"], 3, "a lowered minimum leaves the count");
    assert_eq!(scaling_activities(&account).len(), 1);
    account.aws_ok(&["ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE, "--desired-count", "2"]);
    wait_for_healthy_targets(&account, &lab, 2);
    let from = emulator.all_requests().len();
    let back = step_6(&account);
    assert_eq!(back.code, 0, "{}", back.stdout);
    assert!(back.check("scaled-out")["message"].as_str().unwrap().contains("set `service/alb-course/web`'s desired count to 3"), "{}", back.stdout);
    emulator.assert_read_only_since(from, Some(&account.id));

    // A maximum below the count lowers it, as an activity of its own, newest first.
    register_bounds(&account, "1", "1");
    assert_eq!(describe_service(&account)["desiredCount"], 1);
    let activities = scaling_activities(&account);
    assert_eq!(activities[0], ("Setting desired count to 1.".to_string(), "maximum capacity was set to 1".to_string(), "Successful".to_string()));
    assert_eq!(activities[1], raised);

    // Deregistered and registered again: AWS keeps the activities, but those of the earlier
    // registration do not grade this one. (Activities and the target's creation are compared
    // to the second, so the new registration waits for the next one.)
    account.aws_ok(&["application-autoscaling", "deregister-scalable-target", "--service-namespace", "ecs", "--resource-id", &resource, "--scalable-dimension", "ecs:service:DesiredCount"]);
    std::thread::sleep(Duration::from_millis(1100));
    register_bounds(&account, "1", "4");
    assert_eq!(scaling_activities(&account).len(), 2, "activities outlive the target");
    let again = step_6(&account);
    assert_eq!(again.status_of("scaled-out"), "fail", "{}", again.stdout);
    assert!(again.check("scaled-out")["found"].as_str().unwrap().contains("2 older one(s) belong to an earlier registration"), "{}", again.stdout);
}
