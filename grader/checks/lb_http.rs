//! `lb_http`: the site answers through the load balancer's DNS name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::http_get::{NoAnswer, Probe, expectation, judge_answer, no_answer, ok, root};
use super::{Ctx, Kind, Vantage, Verdict};
use crate::aws::AwsError;
use crate::aws::elb::{ListenerInfo, LoadBalancerInfo, TargetGroupInfo, TargetHealth, matcher_admits};

/// An HTTP GET on the load balancer's DNS name answers the expected status and text.
/// Graded from elsewhere, where the load balancer's security group keeps the grader out, a
/// load balancer that does not answer is judged on what AWS shows: a listener on port 80
/// forwarding to a target group whose health check of the same path has healthy targets.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbHttp {
    pub load_balancer: String,
    #[serde(default = "root")]
    pub path: String,
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub body_contains: Option<String>,
}

/// The port `http://DNS-NAME/` reaches.
const HTTP_PORT: i32 = 80;

impl Kind for LbHttp {
    const NAME: &'static str = "lb_http";
    const SUMMARY: &'static str = "An HTTP GET on the load balancer's DNS name answers the expected status and text, within a short timeout; graded from elsewhere, a load balancer that does not answer is judged on its listener and its targets' health.";
    const ACTIONS: &'static [&'static str] = &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    ];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(lb) = ctx.aws.load_balancer(ctx.region, &self.load_balancer).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no load balancer `{}` in {}", self.load_balancer, ctx.region)).expected(format!("load balancer `{}`", self.load_balancer)).found("none"));
        };
        let url = format!("http://{}{}", lb.dns_name, self.path);
        let probe = probe_by_name(&ctx.aws.http, &lb.dns_name, &url).await;
        let expected = expectation(self.status, self.body_contains.as_deref());
        Ok(match (probe, ctx.vantage) {
            (Probe::Answered { status, body }, _) => match judge_answer(&url, status, &body, self.status, self.body_contains.as_deref()) {
                Ok(()) => Verdict::pass(format!("{url} answered HTTP {}", self.status)),
                Err(v) => v.also(load_balancer_status(status).map(str::to_string)),
            },
            (Probe::NoAnswer(NoAnswer::NoDns(name)), Vantage::Learner) => Verdict::fail(format!("the DNS name `{name}` does not resolve yet: a new load balancer's name is public a few minutes after it is created"))
                .expected(expected)
                .found("a DNS name that is not public yet"),
            (Probe::NoAnswer(why), Vantage::Learner) => no_answer(&url, &why, expected),
            (Probe::NoAnswer(why), Vantage::Elsewhere) => {
                let listeners = ctx.aws.listeners(ctx.region, &lb.arn).await?;
                let mut groups = Vec::new();
                for listener in listeners.iter().filter(|l| l.port == Some(HTTP_PORT)) {
                    for arn in &listener.forwards_to {
                        if let Some(group) = ctx.aws.target_group_by_arn(ctx.region, arn).await?.as_ref().clone() {
                            let health = ctx.aws.target_health(ctx.region, arn).await?.as_ref().clone();
                            groups.push((group, health));
                        }
                    }
                }
                self.judge_from_elsewhere(&lb, &listeners, &groups, &url, &why)
            }
        })
    }
}

/// A GET of `url` on the load balancer's DNS name. A new load balancer's name takes a few
/// minutes to be published; until then the learner's own curl fails too, so a name that does
/// not resolve is told apart (and waited on) rather than blamed on anything.
async fn probe_by_name(http: &reqwest::Client, dns_name: &str, url: &str) -> Probe {
    match tokio::net::lookup_host((dns_name, HTTP_PORT as u16)).await {
        Ok(_) => Probe::get(http, url).await,
        Err(_) => Probe::NoAnswer(NoAnswer::NoDns(dns_name.to_string())),
    }
}

/// What a load balancer's own error answers mean, for a learner reading the failure.
fn load_balancer_status(status: u16) -> Option<&'static str> {
    match status {
        502 => Some("502 is the load balancer's: a target closed the connection or did not answer HTTP"),
        503 => Some("503 is the load balancer's: its target group has no healthy target to send the request to"),
        504 => Some("504 is the load balancer's: a target did not answer before the load balancer gave up"),
        _ => None,
    }
}

impl LbHttp {
    /// Judges, on AWS's evidence, a load balancer that did not answer this machine: the
    /// evidence holds when an internet-facing, active load balancer has a listener on port 80
    /// that forwards to a target group whose health check asks the same path, counts the
    /// expected status as healthy, and has a healthy target. Anything short of that is
    /// undecided, never a fail: the learner's own machine may well see the page.
    pub fn judge_from_elsewhere(&self, lb: &LoadBalancerInfo, listeners: &[ListenerInfo], groups: &[(TargetGroupInfo, Vec<TargetHealth>)], url: &str, why: &NoAnswer) -> Verdict {
        let expected = expectation(self.status, self.body_contains.as_deref());
        let undecided = |what: String| {
            Verdict::error(format!(
                "could not grade from here: GET {url} got no answer ({}), which is expected when the load balancer's security group admits only the learner's address, and {what}",
                why.short()
            ))
            .expected(expected.clone())
            .found(what.clone())
        };
        if lb.scheme == "internal" {
            return Verdict::fail(format!("`{}` is internal: nobody outside its VPC can reach it", lb.name)).expected("an internet-facing load balancer").found("scheme internal");
        }
        if !matches!(lb.state.as_str(), "active" | "active_impaired") {
            return undecided(format!("AWS shows `{}` in state {}", lb.name, lb.state));
        }
        let Some(listener) = listeners.iter().find(|l| l.port == Some(HTTP_PORT)) else {
            return undecided(format!("AWS shows no listener on port {HTTP_PORT} on `{}`", lb.name));
        };
        if listener.forwards_to.is_empty() {
            return undecided(format!("the listener on port {HTTP_PORT} forwards to no target group"));
        }
        let mut seen = Vec::new();
        for (group, health) in groups {
            let path = group.health_check_path.as_deref().unwrap_or("/");
            let matcher = group.matcher.as_deref().unwrap_or("200");
            let healthy = health.iter().filter(|t| t.state == "healthy").count();
            if healthy > 0 && path == self.path && matcher_admits(Some(matcher), self.status) {
                let unseen = if self.body_contains.is_some() { "; target health does not show the page's text" } else { "" };
                return Verdict::pass(format!(
                    "graded from elsewhere: `{}` forwards port {HTTP_PORT} to `{}`, whose health checks of `{path}` find {healthy} healthy target(s) (no answer from here: {})",
                    lb.name,
                    group.name,
                    why.short()
                ))
                .expected(expected)
                .found(format!("listener {}:{HTTP_PORT} → `{}`: {healthy} of {} targets healthy under GET {path} → {matcher}{unseen}", listener.protocol, group.name, health.len()));
            }
            seen.push(format!("`{}` ({healthy} of {} targets healthy, health check GET {path} → {matcher})", group.name, health.len()));
        }
        undecided(format!(
            "no target group the listener forwards to shows a healthy target checked on GET {} → {}: {}",
            self.path,
            self.status,
            if seen.is_empty() { "none found".to_string() } else { seen.join(", ") }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nginx-targets/73e2d6bc24d8a067";

    fn check() -> LbHttp {
        LbHttp { load_balancer: "nginx-alb".into(), path: "/".into(), status: 200, body_contains: Some("Welcome to nginx".into()) }
    }

    fn lb(scheme: &str, state: &str) -> LoadBalancerInfo {
        LoadBalancerInfo {
            arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/50dc6c495c0c9188".into(),
            name: "nginx-alb".into(),
            dns_name: "nginx-alb-1234567890.us-east-1.elb.amazonaws.com".into(),
            scheme: scheme.into(),
            kind: "application".into(),
            state: state.into(),
            zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            security_groups: vec!["sg-0a1b2c3d4e5f60718".into()],
            ip_address_type: "ipv4".into(),
            created_at: None,
        }
    }

    fn listener(forwards_to: &[&str]) -> ListenerInfo {
        ListenerInfo { arn: String::new(), port: Some(80), protocol: "HTTP".into(), forwards_to: forwards_to.iter().map(|s| s.to_string()).collect() }
    }

    fn group(path: &str, matcher: &str, states: &[&str]) -> (TargetGroupInfo, Vec<TargetHealth>) {
        let info = TargetGroupInfo {
            arn: TG.into(),
            name: "nginx-targets".into(),
            target_type: "ip".into(),
            protocol: "HTTP".into(),
            port: Some(80),
            health_check_path: Some(path.into()),
            matcher: Some(matcher.into()),
            load_balancer_arns: vec![],
        };
        let health = states.iter().enumerate().map(|(i, s)| TargetHealth { id: format!("172.31.0.{i}"), port: Some(80), state: s.to_string(), reason: None }).collect();
        (info, health)
    }

    fn judge(lb: &LoadBalancerInfo, listeners: &[ListenerInfo], groups: &[(TargetGroupInfo, Vec<TargetHealth>)]) -> Verdict {
        check().judge_from_elsewhere(lb, listeners, groups, "http://nginx-alb/", &NoAnswer::Timeout)
    }

    #[test]
    fn a_forwarding_listener_and_a_healthy_target_are_evidence() {
        let v = judge(&lb("internet-facing", "active"), &[listener(&[TG])], &[group("/", "200", &["healthy", "unhealthy"])]);
        assert_eq!(v.status(), Status::Pass, "{v:?}");
        assert!(v.message.starts_with("graded from elsewhere"), "{}", v.message);
        assert!(v.found.unwrap().contains("1 of 2 targets healthy under GET / → 200"));
        // An impaired load balancer still routes.
        assert_eq!(judge(&lb("internet-facing", "active_impaired"), &[listener(&[TG])], &[group("/", "200-299", &["healthy"])]).status(), Status::Pass);
    }

    #[test]
    fn short_of_evidence_the_check_is_undecided_not_failed() {
        let facing = lb("internet-facing", "active");
        for (listeners, groups) in [
            (vec![], vec![]),
            (vec![listener(&[])], vec![]),
            (vec![listener(&[TG])], vec![group("/", "200", &["unhealthy", "initial"])]),
            (vec![listener(&[TG])], vec![group("/health", "200", &["healthy"])]),
            (vec![listener(&[TG])], vec![group("/", "301", &["healthy"])]),
        ] {
            let v = judge(&facing, &listeners, &groups);
            assert_eq!(v.status(), Status::Error, "{v:?}");
            assert!(v.message.starts_with("could not grade from here"), "{}", v.message);
        }
        assert_eq!(judge(&lb("internet-facing", "provisioning"), &[listener(&[TG])], &[group("/", "200", &["healthy"])]).status(), Status::Error);
    }

    #[test]
    fn an_internal_load_balancer_fails_on_aws_evidence() {
        let v = judge(&lb("internal", "active"), &[listener(&[TG])], &[group("/", "200", &["healthy"])]);
        assert_eq!(v.status(), Status::Fail);
        assert_eq!(v.found.as_deref(), Some("scheme internal"));
    }

    #[test]
    fn the_load_balancers_own_errors_are_explained() {
        assert!(load_balancer_status(503).unwrap().contains("no healthy target"));
        assert!(load_balancer_status(502).is_some() && load_balancer_status(504).is_some());
        assert_eq!(load_balancer_status(404), None);
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_yet_is_told_apart_from_silence() {
        // `.invalid` never resolves (RFC 6761), as a load balancer's name before it is published.
        let name = "nginx-alb-1234567890.us-east-1.elb.invalid";
        let got = probe_by_name(&reqwest::Client::new(), name, &format!("http://{name}/")).await;
        assert_eq!(got, Probe::NoAnswer(NoAnswer::NoDns(name.to_string())));
    }
}
