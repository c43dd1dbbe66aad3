//! The test emulator itself, driven by the real AWS CLI and the Rust SDK: the ECS scheduler,
//! public IPs with an Nginx responder, awslogs, throttling, the request log, IAM enforcement
//! and account isolation.

mod support;

use std::time::Duration;

use support::lab::{Clients, LabBuild, block_on, build};
use support::{Account, Emulator};

/// The lab from the security group to the service with the AWS CLI, as a learner types it.
fn build_with_cli(account: &Account) -> (String, String) {
    let vpc = account.aws_ok(&["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true", "--query", "Vpcs[0].VpcId", "--output", "text"]);
    let subnet = account.aws_ok(&["ec2", "describe-subnets", "--filters", &format!("Name=vpc-id,Values={vpc}"), "--query", "Subnets[0].SubnetId", "--output", "text"]);
    let sg = account.aws_ok(&["ec2", "create-security-group", "--group-name", "nginx-web-sg", "--description", "web", "--vpc-id", &vpc, "--query", "GroupId", "--output", "text"]);
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &sg, "--protocol", "tcp", "--port", "80", "--cidr", "127.0.0.1/32"]);
    account.aws_ok(&["ecs", "create-cluster", "--cluster-name", "fargate-course"]);
    account.aws_ok(&["logs", "create-log-group", "--log-group-name", "/ecs/nginx-web"]);
    let taskdef = serde_json::json!({
        "family": "nginx-web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "executionRoleArn": format!("arn:aws:iam::{}:role/ecsTaskExecutionRole", account.id),
        "containerDefinitions": [{"name": "web", "image": "public.ecr.aws/nginx/nginx:stable", "essential": true,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/nginx-web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}}]
    });
    let file = support::scratch_dir("taskdef").join("taskdef.json");
    std::fs::write(&file, taskdef.to_string()).unwrap();
    account.aws_ok(&["ecs", "register-task-definition", "--cli-input-json", &format!("file://{}", file.display())]);
    account.aws_ok(&[
        "ecs", "create-service", "--cluster", "fargate-course", "--service-name", "web-nginx", "--task-definition", "nginx-web", "--desired-count", "1",
        "--launch-type", "FARGATE", "--network-configuration", &format!("awsvpcConfiguration={{subnets=[{subnet}],securityGroups=[{sg}],assignPublicIp=ENABLED}}"),
    ]);
    (sg, subnet)
}

fn http_get(ip: &str) -> Result<(u16, String), String> {
    let out = std::process::Command::new("curl").args(["-s", "--max-time", "3", "-w", "\n%{http_code}", &format!("http://{ip}/")]).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("curl exit {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap();
    Ok((code.parse().unwrap(), body.to_string()))
}

#[test]
fn the_lab_runs_nginx_reachable_on_a_public_ip_with_logs_and_tears_down() {
    let account = Account::fresh(Emulator::shared());
    let (sg, _) = build_with_cli(&account);
    // The CLI's waiter sleeps 15 s between polls; the first poll must already succeed.
    let started = std::time::Instant::now();
    account.aws_ok(&["ecs", "wait", "services-stable", "--cluster", "fargate-course", "--services", "web-nginx"]);
    assert!(started.elapsed() < Duration::from_secs(10), "services-stable took {:?}", started.elapsed());
    let task = account.aws_ok(&["ecs", "list-tasks", "--cluster", "fargate-course", "--service-name", "web-nginx", "--query", "taskArns[0]", "--output", "text"]);
    assert!(task.contains(":task/"), "{task}");
    let eni = account.aws_ok(&[
        "ecs", "describe-tasks", "--cluster", "fargate-course", "--tasks", &task, "--query",
        "tasks[0].attachments[0].details[?name=='networkInterfaceId'].value | [0]", "--output", "text",
    ]);
    let ip = account.aws_ok(&["ec2", "describe-network-interfaces", "--network-interface-ids", &eni, "--query", "NetworkInterfaces[0].Association.PublicIp", "--output", "text"]);
    assert!(ip.starts_with("127.0.") && ip != "127.0.0.1", "{ip}");
    let (code, body) = http_get(&ip).expect("nginx answers");
    assert_eq!(code, 200);
    assert!(body.contains("Welcome to nginx!"));
    let streams = account.aws_ok(&["logs", "describe-log-streams", "--log-group-name", "/ecs/nginx-web", "--query", "logStreams[].logStreamName", "--output", "text"]);
    let task_id = task.rsplit('/').next().unwrap();
    assert!(streams.contains(&format!("web/web/{task_id}")), "{streams}");
    let events = account.aws_ok(&["logs", "get-log-events", "--log-group-name", "/ecs/nginx-web", "--log-stream-name", &format!("web/web/{task_id}"), "--query", "length(events)", "--output", "text"]);
    assert!(events.parse::<u32>().unwrap() > 0);

    // Scale to 0 and delete: the task stops, Nginx goes away, and the cluster can be deleted.
    account.aws_ok(&["ecs", "update-service", "--cluster", "fargate-course", "--service", "web-nginx", "--desired-count", "0"]);
    account.aws_ok(&["ecs", "delete-service", "--cluster", "fargate-course", "--service", "web-nginx", "--force"]);
    account.aws_ok(&["ecs", "wait", "tasks-stopped", "--cluster", "fargate-course", "--tasks", &task]);
    let status = account.aws_ok(&["ecs", "describe-tasks", "--cluster", "fargate-course", "--tasks", &task, "--query", "tasks[0].lastStatus", "--output", "text"]);
    assert_eq!(status, "STOPPED");
    assert!(http_get(&ip).is_err(), "nginx still answers on {ip} after its task stopped");
    account.aws_ok(&["ecs", "delete-cluster", "--cluster", "fargate-course"]);
    account.aws_ok(&["ec2", "delete-security-group", "--group-id", &sg]);
}

#[test]
fn tasks_do_not_drift_to_stopped_when_described() {
    let account = Account::fresh(Emulator::shared());
    block_on(build(&account, &LabBuild::default()));
    for _ in 0..5 {
        let status = account.aws_ok(&["ecs", "describe-tasks", "--cluster", "fargate-course", "--tasks",
            &account.aws_ok(&["ecs", "list-tasks", "--cluster", "fargate-course", "--query", "taskArns[0]", "--output", "text"]),
            "--query", "tasks[0].lastStatus", "--output", "text"]);
        assert_eq!(status, "RUNNING");
    }
}

#[test]
fn throttling_is_answered_in_each_service_s_real_shape() {
    let emulator = Emulator::start(&["--throttle-rate", "1"]);
    // With every call throttled, even AssumeRole is; the default root credentials work.
    let account = Account::root(&emulator);
    let c = Clients::without_retries(&account, "us-east-1");
    block_on(async {
        use aws_sdk_ecs::error::ProvideErrorMetadata;
        let ecs = c.ecs.list_clusters().send().await.unwrap_err();
        assert_eq!(ecs.code(), Some("ThrottlingException"), "{ecs:?}");
        let ec2 = c.ec2.describe_vpcs().send().await.unwrap_err();
        assert_eq!(ec2.code(), Some("RequestLimitExceeded"), "{ec2:?}");
        let iam = c.iam.list_roles().send().await.unwrap_err();
        assert_eq!(iam.code(), Some("Throttling"), "{iam:?}");
        let logs = c.logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(logs.code(), Some("ThrottlingException"), "{logs:?}");
    });
    // And the grader sorts them as throttling, reporting `error`, never `fail`.
    let run = support::grader_in(
        None,
        &["check", "step-4", "--format", "json", "--no-wait", "--endpoint-url", &emulator.url],
        // Two attempts, not the default eight with backoff: every call is throttled here.
        &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_MAX_ATTEMPTS", "2")],
    );
    assert_eq!(run.code, 4, "identity itself is throttled: {}", run.stderr);
    assert!(run.stderr.contains("throttled"), "{}", run.stderr);
}

#[test]
fn the_request_log_lists_service_and_action_of_every_call() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    account.aws_ok(&["ecs", "list-clusters"]);
    account.aws_ok(&["ec2", "describe-vpcs"]);
    account.aws_ok(&["logs", "describe-log-groups"]);
    let calls: Vec<(String, String)> = emulator
        .requests(&account.id)
        .iter()
        .map(|r| (r["service"].as_str().unwrap().to_string(), r["action"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        calls,
        vec![("ecs".into(), "ListClusters".into()), ("ec2".into(), "DescribeVpcs".into()), ("logs".into(), "DescribeLogGroups".into())]
    );
}

#[test]
fn iam_enforcement_denies_what_the_policy_does_not_allow() {
    let emulator = Emulator::start(&["--enforce-iam"]);
    let root = Account::root(&emulator);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;
    root.aws_ok(&["iam", "create-user", "--user-name", "reader"]);
    root.aws_ok(&["iam", "put-user-policy", "--user-name", "reader", "--policy-name", "ecs-read", "--policy-document", policy]);
    let key: serde_json::Value = serde_json::from_str(&root.aws_ok(&["iam", "create-access-key", "--user-name", "reader", "--output", "json"])).unwrap();
    let reader = Account {
        access_key: key["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
        secret_key: key["AccessKey"]["SecretAccessKey"].as_str().unwrap().into(),
        ..root.clone()
    };
    let allowed = reader.aws(&["ecs", "describe-clusters", "--clusters", "x"]);
    assert!(allowed.status.success(), "{}", String::from_utf8_lossy(&allowed.stderr));
    let denied = reader.aws(&["ec2", "describe-vpcs"]);
    assert!(!denied.status.success());
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("UnauthorizedOperation") || stderr.contains("AccessDenied"), "{stderr}");
}

#[test]
fn accounts_reached_by_assume_role_do_not_see_each_other() {
    let emulator = Emulator::shared();
    let (a, b) = (Account::fresh(emulator), Account::fresh(emulator));
    a.aws_ok(&["ecs", "create-cluster", "--cluster-name", "only-in-a"]);
    let in_a = a.aws_ok(&["ecs", "list-clusters", "--query", "clusterArns", "--output", "text"]);
    let in_b = b.aws_ok(&["ecs", "list-clusters", "--query", "clusterArns", "--output", "text"]);
    assert!(in_a.contains(&format!("{}:cluster/only-in-a", a.id)), "{in_a}");
    assert!(!in_b.contains("only-in-a"), "{in_b}");
    assert_eq!(b.aws_ok(&["sts", "get-caller-identity", "--query", "Account", "--output", "text"]), b.id);
}
