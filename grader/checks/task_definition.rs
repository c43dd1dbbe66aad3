//! `task_definition`: the latest ACTIVE revision of a family is a Fargate task as the lab
//! describes it.

use aws_sdk_ecs::types::{TaskDefinitionStatus, TaskDefinition as EcsTaskDefinition};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, graded};
use crate::aws::AwsError;

/// The latest ACTIVE revision of a task definition family matches: awsvpc, FARGATE, task
/// size, execution role, image, container port and awslogs settings. Older revisions do not
/// count: services started from the family name run the latest one.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDefinition {
    /// The family name.
    pub family: String,
    /// Task-level CPU units, as ECS reports them (`"256"` = 0.25 vCPU).
    #[serde(default)]
    pub cpu: Option<String>,
    /// Task-level memory in MiB (`"512"`).
    #[serde(default)]
    pub memory: Option<String>,
    /// Name of the execution role the task must use.
    #[serde(default)]
    pub execution_role: Option<String>,
    /// A substring the first container's image must contain (e.g. `nginx`).
    #[serde(default)]
    pub image_contains: Option<String>,
    /// A port the first container must map.
    #[serde(default)]
    pub container_port: Option<i32>,
    /// The awslogs group the first container must log to.
    #[serde(default)]
    pub log_group: Option<String>,
    /// The awslogs stream prefix.
    #[serde(default)]
    pub stream_prefix: Option<String>,
}

impl Kind for TaskDefinition {
    const NAME: &'static str = "task_definition";
    const SUMMARY: &'static str = "The latest ACTIVE revision of a task definition family is an awsvpc Fargate task with the given size, role, image, port and awslogs settings.";
    const ACTIONS: &'static [&'static str] = &["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(def) = ctx.aws.task_definition(ctx.region, &self.family).await?.as_ref().clone() else {
            let inactive = ctx.aws.task_definition_arns(ctx.region, &self.family, TaskDefinitionStatus::Inactive).await?;
            let found = if inactive.is_empty() { "no revisions".to_string() } else { format!("{} deregistered (INACTIVE) revision(s) only", inactive.len()) };
            return Ok(Verdict::fail(format!("no ACTIVE revision of task definition `{}` in {}", self.family, ctx.region))
                .expected(format!("an ACTIVE revision of `{}`", self.family))
                .found(found));
        };
        Ok(self.judge(&def).resource(graded::task_definition(&def, ctx.region)))
    }
}

impl TaskDefinition {
    /// Compares one revision with what the lab asks for; every difference is listed.
    pub fn judge(&self, def: &EcsTaskDefinition) -> Verdict {
        let name = format!("{}:{}", self.family, def.revision());
        let mut wrong: Vec<(String, String)> = Vec::new();
        fn expect(wrong: &mut Vec<(String, String)>, what: &str, want: String, have: String) {
            if want != have {
                wrong.push((format!("{what} {want}"), format!("{what} {have}")));
            }
        }
        expect(&mut wrong, "networkMode", "awsvpc".into(), def.network_mode().map(|m| m.as_str().to_string()).unwrap_or_else(|| "bridge (default)".into()));
        let fargate = def.requires_compatibilities().iter().any(|c| c.as_str() == "FARGATE");
        expect(&mut wrong, "requiresCompatibilities", "FARGATE".into(), if fargate { "FARGATE".into() } else { "no FARGATE".into() });
        if let Some(cpu) = &self.cpu {
            expect(&mut wrong, "cpu", cpu.clone(), def.cpu().unwrap_or("unset").to_string());
        }
        if let Some(memory) = &self.memory {
            expect(&mut wrong, "memory", memory.clone(), def.memory().unwrap_or("unset").to_string());
        }
        if let Some(role) = &self.execution_role {
            let have = def.execution_role_arn().unwrap_or("unset");
            let have_name = have.rsplit('/').next().unwrap_or(have);
            expect(&mut wrong, "executionRole", role.clone(), have_name.to_string());
        }
        match def.container_definitions().first() {
            None => wrong.push(("one container".into(), "no containers".into())),
            Some(c) => {
                if let Some(image) = &self.image_contains {
                    let have = c.image().unwrap_or("unset");
                    if !have.contains(image.as_str()) {
                        wrong.push((format!("an `{image}` image"), format!("image {have}")));
                    }
                }
                if let Some(port) = self.container_port {
                    let ports: Vec<i32> = c.port_mappings().iter().filter_map(|p| p.container_port()).collect();
                    if !ports.contains(&port) {
                        wrong.push((format!("containerPort {port}"), format!("containerPort {:?}", ports)));
                    }
                }
                if self.log_group.is_some() || self.stream_prefix.is_some() {
                    let log = c.log_configuration();
                    let driver = log.map(|l| l.log_driver().as_str().to_string()).unwrap_or_else(|| "none".into());
                    let option = |k: &str| log.and_then(|l| l.options()).and_then(|o| o.get(k)).cloned().unwrap_or_else(|| "unset".into());
                    expect(&mut wrong, "logDriver", "awslogs".into(), driver);
                    if let Some(group) = &self.log_group {
                        expect(&mut wrong, "awslogs-group", group.clone(), option("awslogs-group"));
                    }
                    if let Some(prefix) = &self.stream_prefix {
                        expect(&mut wrong, "awslogs-stream-prefix", prefix.clone(), option("awslogs-stream-prefix"));
                    }
                }
            }
        }
        if wrong.is_empty() {
            return Verdict::pass(format!("`{name}` is an awsvpc Fargate task as the lab describes"));
        }
        let (expected, found): (Vec<String>, Vec<String>) = wrong.into_iter().unzip();
        Verdict::fail(format!("the latest revision `{name}` differs from the lab in {} setting(s); register a new revision", expected.len()))
            .expected(expected.join("; "))
            .found(found.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, LogConfiguration, LogDriver, NetworkMode, PortMapping};

    fn lab() -> TaskDefinition {
        TaskDefinition {
            family: "nginx-web".into(),
            cpu: Some("256".into()),
            memory: Some("512".into()),
            execution_role: Some("ecsTaskExecutionRole".into()),
            image_contains: Some("nginx".into()),
            container_port: Some(80),
            log_group: Some("/ecs/nginx-web".into()),
            stream_prefix: Some("web".into()),
        }
    }

    fn recorded(cpu: &str) -> EcsTaskDefinition {
        let log = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", "/ecs/nginx-web")
            .options("awslogs-stream-prefix", "web")
            .build()
            .unwrap();
        EcsTaskDefinition::builder()
            .family("nginx-web")
            .revision(3)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu(cpu)
            .memory("512")
            .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image("public.ecr.aws/nginx/nginx:stable")
                    .port_mappings(PortMapping::builder().container_port(80).build())
                    .log_configuration(log)
                    .build(),
            )
            .build()
    }

    #[test]
    fn the_lab_task_passes() {
        let v = lab().judge(&recorded("256"));
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
    }

    #[test]
    fn a_wrong_size_fails_and_says_which() {
        let v = lab().judge(&recorded("512"));
        assert_eq!(v.status(), Status::Fail);
        assert_eq!(v.expected.as_deref(), Some("cpu 256"));
        assert_eq!(v.found.as_deref(), Some("cpu 512"));
        assert!(v.message.contains("nginx-web:3"));
    }
}
