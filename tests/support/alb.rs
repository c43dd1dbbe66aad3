//! The second lab built with the AWS CLI, as a learner types it, for tests that need an
//! Application Load Balancer in front of a service (the emulator's load balancer tests, the
//! least-privilege test of the second lab's policy).

use serde_json::Value;

use super::Account;
use super::lab::{EXECUTION_POLICY, TRUST_POLICY};

pub const CLUSTER: &str = "alb-course";
pub const SERVICE: &str = "web";
pub const FAMILY: &str = "alb-web";
pub const LOG_GROUP: &str = "/ecs/alb-web";
pub const GOOD_IMAGE: &str = "public.ecr.aws/nginx/nginx:stable";
/// The emulator's broken-image trap: an image that can never be pulled.
pub const BROKEN_IMAGE: &str = "public.ecr.aws/nginx/does-not-exist:latest";

/// An AWS CLI command that must succeed, its JSON answer parsed (`Null` when it prints nothing).
pub fn cli(account: &Account, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let out = account.aws_ok(&all);
    if out.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("aws {}: not JSON ({e}):\n{out}", args.join(" ")))
}

/// An AWS CLI command that must succeed, its answer as text.
pub fn text(account: &Account, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--output", "text"]);
    account.aws_ok(&all)
}

/// An AWS CLI command that must fail; returns its stderr.
pub fn cli_err(account: &Account, args: &[&str]) -> String {
    let out = account.aws(args);
    assert!(!out.status.success(), "aws {} should have failed:\n{}", args.join(" "), String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What `build_alb_lab` made.
pub struct AlbLab {
    pub subnets: Vec<(String, String)>,
    pub target_group: String,
    pub load_balancer: String,
    pub dns: String,
    pub good_revision: String,
}

/// Registers a revision of the lab's task definition with this image; returns its ARN.
pub fn register(account: &Account, image: &str) -> String {
    let taskdef = serde_json::json!({
        "family": FAMILY, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "executionRoleArn": format!("arn:aws:iam::{}:role/ecsTaskExecutionRole", account.id),
        "containerDefinitions": [{"name": "web", "image": image, "essential": true,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}}]
    });
    let file = super::scratch_dir("alb-taskdef").join("taskdef.json");
    std::fs::write(&file, taskdef.to_string()).unwrap();
    let input = format!("file://{}", file.display());
    text(account, &["ecs", "register-task-definition", "--cli-input-json", &input, "--query", "taskDefinition.taskDefinitionArn"])
}

/// The second lab with the AWS CLI, as a learner types it: two subnets in two zones, the ALB's
/// and the tasks' security groups, cluster, execution role, log group, task definition, target
/// group, internet-facing ALB, HTTP:80 listener, and a service of two private tasks behind it
/// with the circuit breaker's rollback.
pub fn build_alb_lab(account: &Account) -> AlbLab {
    let vpc = text(account, &["ec2", "describe-vpcs", "--filters", "Name=isDefault,Values=true", "--query", "Vpcs[0].VpcId"]);
    let vpc_filter = format!("Name=vpc-id,Values={vpc}");
    let found = cli(account, &["ec2", "describe-subnets", "--filters", &vpc_filter, "Name=default-for-az,Values=true", "--query", "Subnets[].[SubnetId,AvailabilityZone]"]);
    let mut subnets: Vec<(String, String)> =
        found.as_array().unwrap().iter().map(|s| (s[0].as_str().unwrap().to_string(), s[1].as_str().unwrap().to_string())).collect();
    subnets.sort_by(|a, b| a.1.cmp(&b.1));
    subnets.truncate(2);
    assert_eq!(subnets.len(), 2, "the default VPC has a default subnet per zone: {found}");
    assert_ne!(subnets[0].1, subnets[1].1, "two zones: {subnets:?}");

    let lb_sg = text(account, &["ec2", "create-security-group", "--group-name", "alb-web-lb", "--description", "ALB", "--vpc-id", &vpc, "--query", "GroupId"]);
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &lb_sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0"]);
    let task_sg = text(account, &["ec2", "create-security-group", "--group-name", "alb-web-tasks", "--description", "tasks", "--vpc-id", &vpc, "--query", "GroupId"]);
    account.aws_ok(&["ec2", "authorize-security-group-ingress", "--group-id", &task_sg, "--protocol", "tcp", "--port", "80", "--source-group", &lb_sg]);
    account.aws_ok(&["ecs", "create-cluster", "--cluster-name", CLUSTER]);
    account.aws_ok(&["iam", "create-role", "--role-name", "ecsTaskExecutionRole", "--assume-role-policy-document", TRUST_POLICY]);
    account.aws_ok(&["iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole", "--policy-arn", EXECUTION_POLICY]);
    account.aws_ok(&["logs", "create-log-group", "--log-group-name", LOG_GROUP]);
    let good_revision = register(account, GOOD_IMAGE);

    let target_group = text(account, &[
        "elbv2", "create-target-group", "--name", "alb-web-tg", "--protocol", "HTTP", "--port", "80", "--vpc-id", &vpc, "--target-type", "ip",
        "--health-check-path", "/", "--query", "TargetGroups[0].TargetGroupArn",
    ]);
    let created = cli(account, &[
        "elbv2", "create-load-balancer", "--name", "alb-web", "--type", "application", "--scheme", "internet-facing", "--subnets", &subnets[0].0, &subnets[1].0,
        "--security-groups", &lb_sg, "--query", "LoadBalancers[0].[LoadBalancerArn,DNSName]",
    ]);
    let load_balancer = created[0].as_str().unwrap().to_string();
    let dns = created[1].as_str().unwrap().to_string();

    let network = format!("awsvpcConfiguration={{subnets=[{},{}],securityGroups=[{task_sg}],assignPublicIp=DISABLED}}", subnets[0].0, subnets[1].0);
    let load_balancers = format!("targetGroupArn={target_group},containerName=web,containerPort=80");
    let create_service: &[&str] = &[
        "ecs", "create-service", "--cluster", CLUSTER, "--service-name", SERVICE, "--task-definition", FAMILY, "--desired-count", "2", "--launch-type", "FARGATE",
        "--network-configuration", &network, "--load-balancers", &load_balancers,
        "--deployment-configuration", "deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100",
    ];
    // As on AWS, a target group no listener sends to cannot take a service's tasks.
    let refused = cli_err(account, create_service);
    assert!(refused.contains("does not have an associated load balancer"), "{refused}");

    let forward = format!("Type=forward,TargetGroupArn={target_group}");
    account.aws_ok(&["elbv2", "create-listener", "--load-balancer-arn", &load_balancer, "--protocol", "HTTP", "--port", "80", "--default-actions", &forward]);
    account.aws_ok(create_service);
    AlbLab { subnets, target_group, load_balancer, dns, good_revision }
}

