//! `load_balancer`: the lab's Application Load Balancer is internet-facing, active, in
//! enough Availability Zones, and behind the security group the lab names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::elb::LoadBalancerInfo;

/// An internet-facing Application Load Balancer by name, `active`, in at least `min_zones`
/// Availability Zones, and (when named) using the security group `security_group`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    pub load_balancer: String,
    #[serde(default = "two")]
    pub min_zones: usize,
    /// The name of the security group the load balancer must use.
    #[serde(default)]
    pub security_group: Option<String>,
}

fn two() -> usize {
    2
}

impl Kind for LoadBalancer {
    const NAME: &'static str = "load_balancer";
    const SUMMARY: &'static str = "An internet-facing Application Load Balancer by name is active in at least two Availability Zones, behind the named security group.";
    const ACTIONS: &'static [&'static str] = &["elasticloadbalancing:DescribeLoadBalancers", "ec2:DescribeSecurityGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let Some(lb) = ctx.aws.load_balancer(ctx.region, &self.load_balancer).await?.as_ref().clone() else {
            return Ok(Verdict::fail(format!("no load balancer `{}` in {}", self.load_balancer, ctx.region))
                .expected(format!("load balancer `{}`", self.load_balancer))
                .found("none"));
        };
        let group_ids = match &self.security_group {
            Some(name) => Some(ctx.aws.security_groups_named(ctx.region, name).await?.iter().map(|g| g.id.clone()).collect::<Vec<_>>()),
            None => None,
        };
        let verdict = self.judge(&lb, group_ids.as_deref());
        Ok(if verdict.status() == super::Status::Pass { verdict.resource(super::graded::load_balancer(&lb, ctx.region)) } else { verdict })
    }
}

impl LoadBalancer {
    /// `group_ids`: the ids of the groups named `security_group`, when one is named.
    pub fn judge(&self, lb: &LoadBalancerInfo, group_ids: Option<&[String]>) -> Verdict {
        let name = &self.load_balancer;
        if lb.kind != "application" {
            return Verdict::fail(format!("`{name}` is a {} load balancer", lb.kind)).expected("type application").found(format!("type {}", lb.kind));
        }
        if lb.scheme != "internet-facing" {
            return Verdict::fail(format!("`{name}` is {}: the internet cannot reach it", lb.scheme)).expected("scheme internet-facing").found(format!("scheme {}", lb.scheme));
        }
        // `active_impaired` routes traffic but cannot scale (AWS's words): the site works, so a
        // warning in the message, not a fail.
        if lb.state != "active" && lb.state != "active_impaired" {
            let why = if lb.state == "provisioning" { "AWS is still creating it; check again in a minute" } else { "it does not route traffic" };
            return Verdict::fail(format!("`{name}` is {}: {why}", lb.state)).expected("state active").found(format!("state {}", lb.state));
        }
        if lb.zones.len() < self.min_zones {
            return Verdict::fail(format!("`{name}` is in {} Availability Zone(s); one zone's outage would take the site down", lb.zones.len()))
                .expected(format!("subnets in at least {} zones", self.min_zones))
                .found(lb.zones.join(", "));
        }
        if let (Some(group), Some(ids)) = (&self.security_group, group_ids) {
            if !lb.security_groups.iter().any(|g| ids.contains(g)) {
                return Verdict::fail(format!("`{name}` does not use the security group `{group}`"))
                    .expected(format!("security group `{group}`"))
                    .found(if lb.security_groups.is_empty() { "no security groups".into() } else { lb.security_groups.join(", ") });
            }
        }
        let warning = if lb.state == "active_impaired" {
            "; warning: AWS reports it active_impaired: it routes traffic but does not have what it needs to scale"
        } else {
            ""
        };
        Verdict::pass(format!("`{name}` is an active internet-facing ALB in {} zones at {}{warning}", lb.zones.len(), lb.dns_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn recorded() -> LoadBalancerInfo {
        LoadBalancerInfo {
            arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/50dc6c495c0c9188".into(),
            name: "nginx-alb".into(),
            dns_name: "nginx-alb-1234567890.us-east-1.elb.amazonaws.com".into(),
            scheme: "internet-facing".into(),
            kind: "application".into(),
            state: "active".into(),
            zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            security_groups: vec!["sg-alb".into()],
            ip_address_type: "ipv4".into(),
            created_at: None,
        }
    }

    fn lab() -> LoadBalancer {
        LoadBalancer { load_balancer: "nginx-alb".into(), min_zones: 2, security_group: Some("nginx-alb-sg".into()) }
    }

    #[test]
    fn an_active_alb_in_two_zones_behind_its_group_passes() {
        let v = lab().judge(&recorded(), Some(&["sg-alb".into()]));
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
    }

    #[test]
    fn one_zone_internal_provisioning_or_another_group_fails_and_says_why() {
        let mut one = recorded();
        one.zones.truncate(1);
        assert!(lab().judge(&one, Some(&["sg-alb".into()])).message.contains("1 Availability Zone(s)"));
        let mut internal = recorded();
        internal.scheme = "internal".into();
        assert_eq!(lab().judge(&internal, None).found.as_deref(), Some("scheme internal"));
        let mut young = recorded();
        young.state = "provisioning".into();
        assert!(lab().judge(&young, None).message.contains("still creating it"));
        let mut impaired = recorded();
        impaired.state = "active_impaired".into();
        let v = lab().judge(&impaired, Some(&["sg-alb".into()]));
        assert_eq!(v.status(), Status::Pass, "it routes traffic: {}", v.message);
        assert!(v.message.contains("warning: AWS reports it active_impaired"), "{}", v.message);
        let other = lab().judge(&recorded(), Some(&["sg-other".into()]));
        assert_eq!(other.status(), Status::Fail);
        assert_eq!(other.found.as_deref(), Some("sg-alb"));
    }
}
