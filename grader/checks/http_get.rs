//! `http_get`: the service's public address answers HTTP like the Nginx welcome page.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::task_public_ip::public_ips;
use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;

/// An HTTP GET on each running task's public IP answers the expected status and body.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpGet {
    pub cluster: String,
    pub service: String,
    #[serde(default = "port_80")]
    pub port: u16,
    #[serde(default = "root")]
    pub path: String,
    #[serde(default = "ok")]
    pub status: u16,
    /// Text the body must contain (for example `Welcome to nginx`).
    #[serde(default)]
    pub body_contains: Option<String>,
}

fn port_80() -> u16 {
    80
}
fn root() -> String {
    "/".into()
}
fn ok() -> u16 {
    200
}

impl Kind for HttpGet {
    const NAME: &'static str = "http_get";
    const SUMMARY: &'static str = "An HTTP GET on the public IP of each of the service's running tasks answers the expected status and text, within a short timeout.";
    const ACTIONS: &'static [&'static str] = &["ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServices", "ec2:DescribeNetworkInterfaces"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let ips = match public_ips(ctx, &self.cluster, &self.service).await? {
            Ok(ips) => ips,
            Err(v) => return Ok(v),
        };
        let mut answered = Vec::new();
        for (_, ip) in ips {
            let url = format!("http://{ip}:{}{}", self.port, self.path);
            let expected = format!("HTTP {}{}", self.status, self.body_contains.as_ref().map(|b| format!(" with `{b}` in the page")).unwrap_or_default());
            let response = match ctx.aws.http.get(&url).send().await {
                Ok(r) => r,
                Err(e) => {
                    let why = if e.is_timeout() {
                        "no answer before the timeout: is port 80 open to your current IP in the security group?".to_string()
                    } else if e.is_connect() {
                        "the connection was refused or could not be made: is the container listening on that port?".to_string()
                    } else {
                        e.to_string()
                    };
                    return Ok(Verdict::fail(format!("GET {url}: {why}")).expected(expected).found("no HTTP response"));
                }
            };
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if status != self.status {
                return Ok(Verdict::fail(format!("GET {url} answered {status}")).expected(expected).found(format!("HTTP {status}")));
            }
            if let Some(text) = &self.body_contains {
                if !body.contains(text.as_str()) {
                    let start: String = body.chars().take(80).collect();
                    return Ok(Verdict::fail(format!("GET {url} answered {status} without `{text}`")).expected(expected).found(format!("body starting `{start}`")));
                }
            }
            answered.push(url);
        }
        Ok(Verdict::pass(format!("{} answered HTTP {}", answered.join(", "), self.status)))
    }
}
