//! `listener`: the load balancer listens on the lab's port and forwards to the lab's target
//! group.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::elb::ListenerInfo;

/// A listener of `load_balancer` on `port`/`protocol` whose default action forwards to the
/// target group `target_group`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub load_balancer: String,
    pub target_group: String,
    #[serde(default = "port_80")]
    pub port: i32,
    #[serde(default = "http")]
    pub protocol: String,
}

fn port_80() -> i32 {
    80
}
fn http() -> String {
    "HTTP".into()
}

impl Kind for Listener {
    const NAME: &'static str = "listener";
    const SUMMARY: &'static str = "The load balancer has a listener on the lab's port and protocol whose default action forwards to the lab's target group.";
    const ACTIONS: &'static [&'static str] =
        &["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(lb) = ctx.aws.load_balancer(ctx.region, &self.load_balancer).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no load balancer `{}` in {}", self.load_balancer, ctx.region)).expected(format!("load balancer `{}`", self.load_balancer)).found("none"));
        };
        let group_arn = ctx.aws.target_group(ctx.region, &self.target_group).await?.as_ref().as_ref().map(|g| g.arn.clone());
        let listeners = ctx.aws.listeners(ctx.region, &lb.arn).await?;
        let verdict = self.judge(&listeners, group_arn.as_deref());
        let graded = listeners.iter().find(|l| l.port == Some(self.port)).filter(|_| verdict.status() == super::Status::Pass);
        Ok(match graded {
            Some(listener) => verdict.resource(super::graded::listener(&self.load_balancer, listener, ctx.region)),
            None => verdict,
        })
    }
}

impl Listener {
    pub fn judge(&self, listeners: &[ListenerInfo], target_group_arn: Option<&str>) -> Verdict {
        let want = format!("{}:{}", self.protocol, self.port);
        let Some(listener) = listeners.iter().find(|l| l.port == Some(self.port)) else {
            let have: Vec<String> = listeners.iter().map(|l| format!("{}:{}", l.protocol, l.port.unwrap_or_default())).collect();
            return Verdict::fail(format!("`{}` has no listener on port {}", self.load_balancer, self.port))
                .expected(format!("a {want} listener"))
                .found(if have.is_empty() { "no listeners".into() } else { have.join(", ") });
        };
        if listener.protocol != self.protocol {
            return Verdict::fail(format!("the listener on port {} speaks {}", self.port, listener.protocol)).expected(want).found(format!("{}:{}", listener.protocol, self.port));
        }
        let Some(arn) = target_group_arn else {
            return Verdict::fail(format!("no target group `{}` to forward to", self.target_group)).expected(format!("target group `{}`", self.target_group)).found("none");
        };
        if !listener.forwards_to.iter().any(|a| a == arn) {
            return Verdict::fail(format!("the {want} listener does not forward to `{}`", self.target_group))
                .expected(format!("forward to {arn}"))
                .found(if listener.forwards_to.is_empty() { "no forward action (a fixed response or redirect?)".into() } else { listener.forwards_to.join(", ") });
        }
        Verdict::pass(format!("the {want} listener of `{}` forwards to `{}`", self.load_balancer, self.target_group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nginx-targets/73e2d6bc24d8a067";

    fn lab() -> Listener {
        Listener { load_balancer: "nginx-alb".into(), target_group: "nginx-targets".into(), port: 80, protocol: "HTTP".into() }
    }

    #[test]
    fn an_http_listener_forwarding_to_the_group_passes() {
        let l = ListenerInfo { arn: String::new(), port: Some(80), protocol: "HTTP".into(), forwards_to: vec![TG.into()] };
        assert_eq!(lab().judge(&[l], Some(TG)).status(), Status::Pass);
    }

    #[test]
    fn no_listener_another_port_or_another_action_fails() {
        assert_eq!(lab().judge(&[], Some(TG)).found.as_deref(), Some("no listeners"));
        let other_port = ListenerInfo { arn: String::new(), port: Some(8080), protocol: "HTTP".into(), forwards_to: vec![TG.into()] };
        assert_eq!(lab().judge(&[other_port], Some(TG)).found.as_deref(), Some("HTTP:8080"));
        let fixed = ListenerInfo { arn: String::new(), port: Some(80), protocol: "HTTP".into(), forwards_to: vec![] };
        assert!(lab().judge(&[fixed], Some(TG)).found.unwrap().contains("fixed response"));
    }
}
