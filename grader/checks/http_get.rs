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
pub(super) fn root() -> String {
    "/".into()
}
pub(super) fn ok() -> u16 {
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
            if let Err(v) = probe(&ctx.aws.http, &url, self.status, self.body_contains.as_deref()).await {
                return Ok(v);
            }
            answered.push(url);
        }
        Ok(Verdict::pass(format!("{} answered HTTP {}", answered.join(", "), self.status)))
    }
}

/// One GET with the client's short timeouts; `Err` is the failure verdict that says why.
pub async fn probe(http: &reqwest::Client, url: &str, status: u16, body_contains: Option<&str>) -> Result<(), Verdict> {
    let expected = format!("HTTP {status}{}", body_contains.map(|b| format!(" with `{b}` in the page")).unwrap_or_default());
    let response = match http.get(url).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                "no answer before the timeout: is port 80 open to your current IP in the security group?".to_string()
            } else if e.is_connect() {
                "the connection was refused or could not be made: is the container listening on that port?".to_string()
            } else {
                e.to_string()
            };
            return Err(Verdict::fail(format!("GET {url}: {why}")).expected(expected).found("no HTTP response"));
        }
    };
    let got = response.status().as_u16();
    // A body that stops mid-way is still an answer; what arrived is judged.
    let body = response.text().await.unwrap_or_default();
    if got != status {
        return Err(Verdict::fail(format!("GET {url} answered {got}")).expected(expected).found(format!("HTTP {got}")));
    }
    if let Some(text) = body_contains {
        if !body.contains(text) {
            let start: String = body.chars().take(80).collect();
            return Err(Verdict::fail(format!("GET {url} answered {got} without `{text}`")).expected(expected).found(format!("body starting `{start}`")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use std::time::{Duration, Instant};

    fn client() -> reqwest::Client {
        reqwest::Client::builder().connect_timeout(Duration::from_secs(1)).timeout(Duration::from_secs(2)).build().unwrap()
    }

    #[tokio::test]
    async fn an_address_that_never_answers_fails_within_the_timeout() {
        // Accepts connections and never says a word.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let started = Instant::now();
        let v = probe(&client(), &format!("http://{addr}/"), 200, None).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("no answer before the timeout"), "{}", v.message);
        silent.abort();
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_at_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let v = probe(&client(), &format!("http://127.0.0.1:{port}/"), 200, None).await.unwrap_err();
        assert!(v.message.contains("refused"), "{}", v.message);
    }
}
