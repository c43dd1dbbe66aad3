//! `http_get`: the service's public address answers HTTP like the Nginx welcome page.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use aws_sdk_ecs::types::{DesiredStatus, TaskDefinition};

use super::access_log::newest_answer;
use super::task_public_ip::public_ips;
use super::{Ctx, Kind, Vantage, Verdict};
use crate::aws::AwsError;
use crate::aws::ecs::arn_name;

/// An HTTP GET on each running task's public IP answers the expected status and body.
/// Graded from elsewhere (an autograder, a cohort), where the lab's security group keeps the
/// grader out, a site that does not answer passes on its access log or stays undecided.
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
    const SUMMARY: &'static str = "An HTTP GET on the public IP of each of the service's running tasks answers the expected status and text, within a short timeout; graded from elsewhere, a site that does not answer is judged on the task's access log.";
    const ACTIONS: &'static [&'static str] =
        &["ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServices", "ec2:DescribeNetworkInterfaces", "ecs:DescribeTaskDefinition", "logs:GetLogEvents"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let ips = match public_ips(ctx, &self.cluster, &self.service).await? {
            Ok(ips) => ips,
            Err(v) => return Ok(v),
        };
        let expected = expectation(self.status, self.body_contains.as_deref());
        let mut answered = Vec::new();
        for (_, ip) in ips {
            let url = format!("http://{ip}:{}{}", self.port, self.path);
            match Probe::get(&ctx.aws.http, &url).await {
                Probe::Answered { status, body } => {
                    if let Err(v) = judge_answer(&url, status, &body, self.status, self.body_contains.as_deref()) {
                        return Ok(v);
                    }
                }
                Probe::NoAnswer(why) => {
                    return Ok(match ctx.vantage {
                        Vantage::Learner => no_answer(&url, &why, expected),
                        Vantage::Elsewhere => self.access_log_evidence(ctx, &url, &why).await?,
                    });
                }
            }
            answered.push(url);
        }
        Ok(Verdict::pass(format!("{} answered HTTP {}", answered.join(", "), self.status)))
    }
}

impl HttpGet {
    /// From elsewhere, a site that did not answer `url` is judged on the access logs of the
    /// service's running tasks: a GET of the path answered with the status, sent straight to
    /// a task (by the learner, whose address the security group admits), passes; none leaves
    /// the check undecided, never failed.
    async fn access_log_evidence(&self, ctx: &Ctx<'_>, url: &str, why: &NoAnswer) -> Result<Verdict, AwsError> {
        let tasks = ctx.aws.tasks(ctx.region, &self.cluster, Some(&self.service), DesiredStatus::Running).await?;
        let mut searched = Vec::new();
        for task in tasks.iter().filter(|t| t.last_status() == Some("RUNNING")) {
            let task_id = arn_name(task.task_arn().unwrap_or_default()).to_string();
            let Some(definition) = ctx.aws.task_definition(ctx.region, task.task_definition_arn().unwrap_or_default()).await?.as_ref().clone() else { continue };
            for (group, stream) in awslogs_streams(&definition, &task_id) {
                let events = ctx.aws.newest_events(ctx.region, &group, &stream).await?;
                let lines = events.iter().flatten().map(|(at, message)| (*at, message.as_str()));
                if let Some((at, request)) = newest_answer(lines, &self.path, self.status) {
                    let unseen = if self.body_contains.is_some() { "; an access log does not show the page's text" } else { "" };
                    return Ok(Verdict::pass(format!("graded from elsewhere: task {task_id}'s access log shows `{} {}` answered {} (no answer from here: {})", request.method, self.path, self.status, why.short()))
                        .expected(expectation(self.status, self.body_contains.as_deref()))
                        .found(format!(
                            "the task's access log (`{group}`, stream `{stream}`): `{} {}` answered {} to {} at {}{unseen}",
                            request.method,
                            self.path,
                            request.status,
                            request.client,
                            crate::timestamp::of_millis(at)
                        )));
                }
                searched.push(format!("`{group}` stream `{stream}`"));
            }
        }
        let logs = if searched.is_empty() { "the running tasks keep no access log in CloudWatch Logs (no awslogs log driver)".to_string() } else { format!("no `GET {}` answered {} sent straight to a task is in {}", self.path, self.status, searched.join(", ")) };
        Ok(Verdict::error(format!(
            "could not grade from here: GET {url} got no answer ({}), which is expected when the security group admits only the learner's address, and {logs}; open {url} once from your own machine, then grade again",
            why.short()
        ))
        .expected(expectation(self.status, self.body_contains.as_deref()))
        .found("no answer from here, and no evidence in the access log"))
    }
}

/// The `(log group, stream)` of each container of `definition` that logs through awslogs,
/// for the task `task_id`: awslogs names a task's stream `PREFIX/CONTAINER/TASK_ID`.
pub fn awslogs_streams(definition: &TaskDefinition, task_id: &str) -> Vec<(String, String)> {
    definition
        .container_definitions()
        .iter()
        .filter_map(|c| {
            let config = c.log_configuration()?;
            if config.log_driver().as_str() != "awslogs" {
                return None;
            }
            let options = config.options()?;
            let group = options.get("awslogs-group")?;
            let prefix = options.get("awslogs-stream-prefix")?;
            Some((group.clone(), format!("{prefix}/{}/{task_id}", c.name().unwrap_or_default())))
        })
        .collect()
}

/// Why a GET got no HTTP answer at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
    /// Connected (or tried to) and heard nothing before the timeout: what a security group
    /// that drops the caller's packets looks like.
    Timeout,
    /// The connection was refused or could not be made.
    Refused,
    /// The host name does not resolve (yet).
    NoDns(String),
    Other(String),
}

impl NoAnswer {
    /// A few words for a message.
    pub fn short(&self) -> String {
        match self {
            NoAnswer::Timeout => "no answer before the timeout".into(),
            NoAnswer::Refused => "the connection was refused".into(),
            NoAnswer::NoDns(host) => format!("`{host}` does not resolve"),
            NoAnswer::Other(e) => e.clone(),
        }
    }
}

/// What one GET got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Answered { status: u16, body: String },
    NoAnswer(NoAnswer),
}

impl Probe {
    /// One GET with the client's short timeouts.
    pub async fn get(http: &reqwest::Client, url: &str) -> Probe {
        match http.get(url).send().await {
            // A body that stops mid-way is still an answer; what arrived is judged.
            Ok(response) => Probe::Answered { status: response.status().as_u16(), body: response.text().await.unwrap_or_default() },
            Err(e) if e.is_timeout() => Probe::NoAnswer(NoAnswer::Timeout),
            Err(e) if e.is_connect() => Probe::NoAnswer(NoAnswer::Refused),
            Err(e) => Probe::NoAnswer(NoAnswer::Other(e.to_string())),
        }
    }
}

/// `HTTP 200 with `Welcome` in the page`.
pub fn expectation(status: u16, body_contains: Option<&str>) -> String {
    format!("HTTP {status}{}", body_contains.map(|b| format!(" with `{b}` in the page")).unwrap_or_default())
}

/// The failure for a GET that got no answer, on the learner's own machine (where the lab's
/// security group admits the caller, so silence is the site's fault).
pub fn no_answer(url: &str, why: &NoAnswer, expected: String) -> Verdict {
    let why = match why {
        NoAnswer::Timeout => "no answer before the timeout: is port 80 open to your current IP in the security group?".to_string(),
        NoAnswer::Refused => "the connection was refused or could not be made: is the container listening on that port?".to_string(),
        other => other.short(),
    };
    Verdict::fail(format!("GET {url}: {why}")).expected(expected).found("no HTTP response")
}

/// Judges an answer: `Err` is the failure verdict that says why.
pub fn judge_answer(url: &str, got: u16, body: &str, status: u16, body_contains: Option<&str>) -> Result<(), Verdict> {
    let expected = expectation(status, body_contains);
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
        let url = format!("http://{addr}/");
        let got = Probe::get(&client(), &url).await;
        assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
        assert_eq!(got, Probe::NoAnswer(NoAnswer::Timeout));
        // On the learner's machine that is a fail that points at the security group.
        let v = no_answer(&url, &NoAnswer::Timeout, expectation(200, None));
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("no answer before the timeout: is port 80 open"), "{}", v.message);
        silent.abort();
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_at_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(Probe::get(&client(), &format!("http://127.0.0.1:{port}/")).await, Probe::NoAnswer(NoAnswer::Refused));
    }

    #[test]
    fn an_answer_is_judged_on_its_status_then_its_text() {
        let url = "http://192.0.2.7/";
        assert!(judge_answer(url, 200, "<h1>Welcome to nginx!</h1>", 200, Some("Welcome to nginx")).is_ok());
        assert_eq!(judge_answer(url, 403, "", 200, None).unwrap_err().found.as_deref(), Some("HTTP 403"));
        let other_page = judge_answer(url, 200, "It works!", 200, Some("Welcome to nginx")).unwrap_err();
        assert_eq!(other_page.found.as_deref(), Some("body starting `It works!`"));
    }
}
