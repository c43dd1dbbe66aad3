//! Builds the lab in an emulator account with the real AWS SDK, done right or with one of
//! the mistakes learners make, so each check kind can be tested passing and failing.

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
    PortMapping,
};

use super::Account;

pub const TRUST_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
pub const EXECUTION_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// How to build the lab; `Default` is the lab done right with its default names.
#[derive(Debug, Clone)]
pub struct LabBuild {
    pub region: String,
    pub cluster: String,
    pub service: String,
    pub family: String,
    pub log_group: String,
    pub security_group: String,
    pub role: String,
    pub ingress_cidr: String,
    pub cpu: String,
    pub memory: String,
    pub image: String,
    pub retention_days: Option<i32>,
    pub assign_public_ip: bool,
    /// The service's desired count (0: a service that waits to be scaled up).
    pub desired_count: i32,
    /// Stop after this many resources (in lab order), to build a partly done lab.
    pub upto: Upto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Upto {
    SecurityGroup,
    Cluster,
    Role,
    LogGroup,
    TaskDefinition,
    Service,
}

impl Default for LabBuild {
    fn default() -> Self {
        LabBuild {
            region: "us-east-1".into(),
            cluster: "fargate-course".into(),
            service: "web-nginx".into(),
            family: "nginx-web".into(),
            log_group: "/ecs/nginx-web".into(),
            security_group: "nginx-web-sg".into(),
            role: "ecsTaskExecutionRole".into(),
            ingress_cidr: "127.0.0.1/32".into(),
            cpu: "256".into(),
            memory: "512".into(),
            image: "public.ecr.aws/nginx/nginx:stable".into(),
            retention_days: Some(7),
            assign_public_ip: true,
            desired_count: 1,
            upto: Upto::Service,
        }
    }
}

/// SDK clients acting as one account in one region of the emulator.
pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Clients {
    /// Clients that retry up to ten times, so setup gets through an emulator that throttles
    /// on purpose.
    pub fn new(account: &Account, region: &str) -> Clients {
        Clients::with_attempts(account, region, 10)
    }

    /// Clients that make each call once, to see the emulator's raw answers.
    pub fn without_retries(account: &Account, region: &str) -> Clients {
        Clients::with_attempts(account, region, 1)
    }

    fn with_attempts(account: &Account, region: &str, attempts: u32) -> Clients {
        let creds = Credentials::new(&account.access_key, &account.secret_key, Some(account.session_token.clone()).filter(|t| !t.is_empty()), None, "test");
        let bv = BehaviorVersion::latest();
        let retry = aws_sdk_ecs::config::retry::RetryConfig::standard().with_max_attempts(attempts);
        macro_rules! client {
            ($krate:ident) => {
                $krate::Client::from_conf(
                    $krate::Config::builder()
                        .behavior_version(bv)
                        .http_client(grader::aws::http_client())
                        .region(Region::new(region.to_string()))
                        .endpoint_url(&account.endpoint)
                        .credentials_provider(creds.clone())
                        .retry_config(retry.clone())
                        .build(),
                )
            };
        }
        Clients { ecs: client!(aws_sdk_ecs), ec2: client!(aws_sdk_ec2), iam: client!(aws_sdk_iam), logs: client!(aws_sdk_cloudwatchlogs) }
    }
}

/// Names of what `build` made.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub vpc_id: String,
    pub subnet_id: String,
    pub group_id: String,
    pub task_definition_arn: String,
}

/// Builds the lab as `b` says.
pub async fn build(account: &Account, b: &LabBuild) -> Built {
    let c = Clients::new(account, &b.region);
    let mut built = Built::default();
    let vpcs = c.ec2.describe_vpcs().filters(aws_sdk_ec2::types::Filter::builder().name("isDefault").values("true").build()).send().await.unwrap();
    built.vpc_id = vpcs.vpcs()[0].vpc_id().unwrap().to_string();
    let subnets = c.ec2.describe_subnets().filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&built.vpc_id).build()).send().await.unwrap();
    built.subnet_id = subnets.subnets()[0].subnet_id().unwrap().to_string();

    let sg = c.ec2.create_security_group().group_name(&b.security_group).description("lab web access").vpc_id(&built.vpc_id).send().await.unwrap();
    built.group_id = sg.group_id().unwrap().to_string();
    c.ec2
        .authorize_security_group_ingress()
        .group_id(&built.group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(&b.ingress_cidr).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    if b.upto == Upto::SecurityGroup {
        return built;
    }
    c.ecs.create_cluster().cluster_name(&b.cluster).send().await.unwrap();
    if b.upto == Upto::Cluster {
        return built;
    }
    if c.iam.get_role().role_name(&b.role).send().await.is_err() {
        c.iam.create_role().role_name(&b.role).assume_role_policy_document(TRUST_POLICY).send().await.unwrap();
        c.iam.attach_role_policy().role_name(&b.role).policy_arn(EXECUTION_POLICY).send().await.unwrap();
    }
    if b.upto == Upto::Role {
        return built;
    }
    c.logs.create_log_group().log_group_name(&b.log_group).send().await.unwrap();
    if let Some(days) = b.retention_days {
        c.logs.put_retention_policy().log_group_name(&b.log_group).retention_in_days(days).send().await.unwrap();
    }
    if b.upto == Upto::LogGroup {
        return built;
    }
    built.task_definition_arn = register(&c, account, b, &b.cpu).await;
    if b.upto == Upto::TaskDefinition {
        return built;
    }
    c.ecs
        .create_service()
        .cluster(&b.cluster)
        .service_name(&b.service)
        .task_definition(&built.task_definition_arn)
        .desired_count(b.desired_count)
        .launch_type(LaunchType::Fargate)
        .network_configuration(network(&built, b.assign_public_ip))
        .send()
        .await
        .unwrap();
    built
}

/// The awsvpc settings of the lab's service: its subnet and security group.
pub fn network(built: &Built, public_ip: bool) -> NetworkConfiguration {
    let awsvpc = AwsVpcConfiguration::builder()
        .subnets(&built.subnet_id)
        .security_groups(&built.group_id)
        .assign_public_ip(if public_ip { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled })
        .build()
        .expect("subnets are set");
    NetworkConfiguration::builder().awsvpc_configuration(awsvpc).build()
}

/// Registers a revision of the lab's task definition with the given CPU; returns its ARN.
pub async fn register(c: &Clients, account: &Account, b: &LabBuild, cpu: &str) -> String {
    let log = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &b.log_group)
        .options("awslogs-region", &b.region)
        .options("awslogs-stream-prefix", "web")
        .build()
        .unwrap();
    let out = c
        .ecs
        .register_task_definition()
        .family(&b.family)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(cpu)
        .memory(&b.memory)
        .execution_role_arn(format!("arn:aws:iam::{}:role/{}", account.id, b.role))
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image(&b.image)
                .essential(true)
                .port_mappings(PortMapping::builder().container_port(80).protocol(aws_sdk_ecs::types::TransportProtocol::Tcp).build())
                .log_configuration(log)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.task_definition().unwrap().task_definition_arn().unwrap().to_string()
}

/// Tears the lab down the way the book's cleanup page does.
pub async fn clean_up(account: &Account, b: &LabBuild, built: &Built) {
    let c = Clients::new(account, &b.region);
    let _ = c.ecs.update_service().cluster(&b.cluster).service(&b.service).desired_count(0).send().await;
    let _ = c.ecs.delete_service().cluster(&b.cluster).service(&b.service).force(true).send().await;
    c.ecs.delete_cluster().cluster(&b.cluster).send().await.unwrap();
    c.logs.delete_log_group().log_group_name(&b.log_group).send().await.unwrap();
    c.ec2.delete_security_group().group_id(&built.group_id).send().await.unwrap();
}

pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}
