//! `grader policy --teardown`: what `grader cleanup --apply` needs, and no more. Each delete
//! is scoped by ARN to the lab's own resources wherever IAM can tell them apart by name; the
//! reads the teardown uses are the grader's read-only policy.

use serde_json::{Value, json};

use crate::lab::Lab;

/// The lab variables an ARN pattern needs, and the pattern filled with their values.
type ArnPattern = (&'static [&'static str], fn(&[&str]) -> String);

/// A statement's resources, from the lab variables it names (`{{cluster}}` and so on): one
/// ARN pattern per lab that has every variable the pattern needs.
fn arns(labs: &[&Lab], patterns: &[ArnPattern]) -> Vec<String> {
    let mut out = Vec::new();
    for lab in labs {
        for (names, pattern) in patterns {
            let values: Option<Vec<&str>> = names.iter().map(|n| lab.vars.get(*n).map(String::as_str)).collect();
            if let Some(values) = values {
                let arn = pattern(&values);
                if !out.contains(&arn) {
                    out.push(arn);
                }
            }
        }
    }
    out
}

/// ECS: `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`, `task/CLUSTER/ID`,
/// `cluster/CLUSTER` (the long ARN format, the default since 2021).
fn ecs_service(v: &[&str]) -> String {
    format!("arn:*:ecs:*:*:service/{}/{}", v[0], v[1])
}
fn ecs_task(v: &[&str]) -> String {
    format!("arn:*:ecs:*:*:task/{}/*", v[0])
}
fn ecs_cluster(v: &[&str]) -> String {
    format!("arn:*:ecs:*:*:cluster/{}", v[0])
}
/// CloudWatch Logs: `arn:aws:logs:REGION:ACCOUNT:log-group:NAME` (DeleteLogGroup's resource).
fn log_group(v: &[&str]) -> String {
    format!("arn:*:logs:*:*:log-group:{}", v[0])
}
/// IAM: `arn:aws:iam::ACCOUNT:role/NAME` (roles made without a path).
fn role(v: &[&str]) -> String {
    format!("arn:*:iam::*:role/{}", v[0])
}
/// ECS task definitions: `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION`.
fn task_definition(v: &[&str]) -> String {
    format!("arn:*:ecs:*:*:task-definition/{}:*", v[0])
}
/// ELB: `arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID` and
/// `targetgroup/NAME/ID`: the name is in the ARN, the id is new for every creation.
fn load_balancer(v: &[&str]) -> String {
    format!("arn:*:elasticloadbalancing:*:*:loadbalancer/app/{}/*", v[0])
}
fn target_group(v: &[&str]) -> String {
    format!("arn:*:elasticloadbalancing:*:*:targetgroup/{}/*", v[0])
}

/// The teardown policy for these labs.
pub fn teardown_policy(labs: &[&Lab]) -> Value {
    let statement = |sid: &str, actions: &[&str], resources: Vec<String>| json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources });
    let reads = crate::policy::actions(labs);
    let mut statements = vec![
        statement("ReadLikeTheGrader", &reads.iter().map(String::as_str).chain(["iam:ListRolePolicies"]).collect::<Vec<_>>(), vec!["*".into()]),
        statement("LabServices", &["ecs:UpdateService", "ecs:DeleteService"], arns(labs, &[(&["cluster", "service"], ecs_service)])),
        statement("LabTasks", &["ecs:StopTask"], arns(labs, &[(&["cluster"], ecs_task)])),
        statement("LabClusters", &["ecs:DeleteCluster"], arns(labs, &[(&["cluster"], ecs_cluster)])),
        statement("LabLogGroups", &["logs:DeleteLogGroup"], arns(labs, &[(&["log_group"], log_group)])),
        // DeregisterTaskDefinition takes no resource-level permission (IAM's reference lists
        // no resource type for it): `*`, and the plan names the revisions.
        statement("TaskDefinitionsByPlanOnly", &["ecs:DeregisterTaskDefinition"], vec!["*".into()]),
        statement("LabTaskDefinitions", &["ecs:DeleteTaskDefinitions"], arns(labs, &[(&["family"], task_definition)])),
        statement("LabRoles", &["iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole"], arns(labs, &[(&["execution_role"], role)])),
    ];
    let balancers = arns(labs, &[(&["load_balancer"], load_balancer)]);
    if !balancers.is_empty() {
        statements.push(statement("LabLoadBalancers", &["elasticloadbalancing:DeleteLoadBalancer"], balancers));
        statements.push(statement("LabTargetGroups", &["elasticloadbalancing:DeleteTargetGroup"], arns(labs, &[(&["target_group"], target_group)])));
        // A scalable target's ARN carries a random id, not the service: IAM cannot tell the
        // lab's from another, so the teardown only deregisters what its plan names.
        statements.push(statement("ScalableTargetsByPlanOnly", &["application-autoscaling:DeregisterScalableTarget"], vec!["*".into()]));
    }
    // A security group's and an interface's ARNs carry their ids, not their names: the type is
    // as far as IAM can scope them; the plan names the ids.
    statements.push(statement(
        "SecurityGroupsAndInterfacesByPlanOnly",
        &["ec2:DeleteSecurityGroup", "ec2:DeleteNetworkInterface"],
        vec!["arn:*:ec2:*:*:security-group/*".into(), "arn:*:ec2:*:*:network-interface/*".into()],
    ));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::load_embedded;

    /// IAM's ARN matching: `*` any run of characters, `?` one, everything else itself.
    fn matches(pattern: &str, arn: &str) -> bool {
        fn go(p: &[u8], a: &[u8]) -> bool {
            match (p.first(), a.first()) {
                (None, None) => true,
                (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
                (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
                (Some(x), Some(y)) if x == y => go(&p[1..], &a[1..]),
                _ => false,
            }
        }
        go(pattern.as_bytes(), arn.as_bytes())
    }

    fn allowed(policy: &Value, action: &str, arn: &str) -> bool {
        policy["Statement"].as_array().unwrap().iter().any(|s| {
            s["Action"].as_array().unwrap().iter().any(|a| a == action) && s["Resource"].as_array().unwrap().iter().any(|r| matches(r.as_str().unwrap(), arn))
        })
    }

    #[test]
    fn each_delete_reaches_the_labs_resources_in_aws_s_documented_arn_formats_and_not_their_look_alikes() {
        let labs = load_embedded().unwrap().labs;
        let policy = teardown_policy(&labs.iter().collect::<Vec<_>>());
        // ARNs in the formats of the Service Authorization Reference, as AWS returns them.
        let lab_resources = [
            ("ecs:DeleteService", "arn:aws:ecs:us-east-1:111122223333:service/fargate-course/web-nginx"),
            ("ecs:UpdateService", "arn:aws:ecs:eu-west-1:111122223333:service/fargate-course/web-alb"),
            ("ecs:StopTask", "arn:aws:ecs:us-east-1:111122223333:task/fargate-course/0b69d5c0d7ba4f7cbd0f5c4ab1c1d2e3"),
            ("ecs:DeleteCluster", "arn:aws:ecs:us-east-1:111122223333:cluster/fargate-course"),
            ("logs:DeleteLogGroup", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/nginx-web"),
            ("iam:DeleteRole", "arn:aws:iam::111122223333:role/ecsTaskExecutionRole"),
            ("iam:DetachRolePolicy", "arn:aws:iam::111122223333:role/ecsTaskExecutionRole"),
            ("elasticloadbalancing:DeleteLoadBalancer", "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/50dc6c495c0c9188"),
            ("elasticloadbalancing:DeleteTargetGroup", "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nginx-targets/73e2d6bc24d8a067"),
            ("ec2:DeleteSecurityGroup", "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"),
            ("ecs:DeleteTaskDefinitions", "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:3"),
        ];
        for (action, arn) in lab_resources {
            assert!(allowed(&policy, action, arn), "{action} must reach {arn}");
        }
        // What a careless cleaner would take: another cluster's service, a look-alike name, a
        // log group whose name starts with the lab's, another role, another load balancer.
        let decoys = [
            ("ecs:DeleteService", "arn:aws:ecs:us-east-1:111122223333:service/fargate-course-2/web-nginx"),
            ("ecs:DeleteService", "arn:aws:ecs:us-east-1:111122223333:service/fargate-course/web-nginx-prod"),
            ("ecs:StopTask", "arn:aws:ecs:us-east-1:111122223333:task/production/0b69d5c0d7ba4f7cbd0f5c4ab1c1d2e3"),
            ("ecs:DeleteCluster", "arn:aws:ecs:us-east-1:111122223333:cluster/fargate-course-old"),
            ("logs:DeleteLogGroup", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/nginx-web-old"),
            ("iam:DeleteRole", "arn:aws:iam::111122223333:role/ecsTaskExecutionRole2"),
            ("iam:DeleteRole", "arn:aws:iam::111122223333:role/admin"),
            ("elasticloadbalancing:DeleteLoadBalancer", "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb-prod/50dc6c495c0c9188"),
            ("elasticloadbalancing:DeleteLoadBalancer", "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/nginx-alb/50dc6c495c0c9188"),
            ("elasticloadbalancing:DeleteTargetGroup", "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nginx-targets-2/73e2d6bc24d8a067"),
            ("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"),
            ("ecs:DeleteTaskDefinitions", "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web-old:3"),
        ];
        for (action, arn) in decoys {
            assert!(!allowed(&policy, action, arn), "{action} must not reach {arn}");
        }
    }

    #[test]
    fn the_matcher_reads_wildcards_as_iam_does() {
        assert!(matches("arn:aws:ecs:*:*:cluster/c", "arn:aws:ecs:us-east-1:1:cluster/c"));
        assert!(!matches("arn:aws:ecs:*:*:cluster/c", "arn:aws:ecs:us-east-1:1:cluster/cc"));
        assert!(matches("a?c*", "abcdef"));
    }

    #[test]
    fn reads_cover_what_the_teardown_looks_up_and_no_write_is_unscoped_but_those_iam_cannot_scope() {
        let labs = load_embedded().unwrap().labs;
        let policy = teardown_policy(&labs.iter().collect::<Vec<_>>());
        let statements = policy["Statement"].as_array().unwrap();
        let read = &statements[0];
        for action in ["ecs:DescribeServices", "ecs:ListTasks", "elasticloadbalancing:DescribeLoadBalancers", "iam:GetRole", "iam:ListRolePolicies"] {
            assert!(read["Action"].as_array().unwrap().iter().any(|a| a == action), "{action}");
        }
        for s in &statements[1..] {
            let unscoped = s["Resource"].as_array().unwrap().iter().any(|r| r == "*");
            assert!(!unscoped || s["Sid"] == "ScalableTargetsByPlanOnly" || s["Sid"] == "TaskDefinitionsByPlanOnly", "{s}");
            assert!(s["Action"].as_array().unwrap().iter().all(|a| !a.as_str().unwrap().contains(":Describe")), "{s}");
        }
    }
}
