//! `load_balancer_absent`: the lab's load balancer is deleted in every region.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::aws::elb::LoadBalancerInfo;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};
use crate::pricing;

/// The lab's load balancer is deleted in every region: it costs by the hour, idle or not.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerAbsent {
    pub load_balancer: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for LoadBalancerAbsent {
    const NAME: &'static str = "load_balancer_absent";
    const SUMMARY: &'static str = "Cleanup: the load balancer is deleted in every enabled region; one left behind is priced by the hour with its public addresses.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "elasticloadbalancing:DescribeLoadBalancers"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let lb = ctx.aws.load_balancer(&region, &self.load_balancer).await?;
            Ok(judge_load_balancer(&region, lb.as_ref().as_ref()))
        })
        .await?;
        Ok(verdict("load balancer", found, self.regions))
    }
}

/// A load balancer left behind, billed for its hour and, when it has public IPv4 addresses
/// (internet-facing, and not dual-stack without public IPv4), one per zone.
pub fn judge_load_balancer(region: &str, lb: Option<&LoadBalancerInfo>) -> Vec<Leftover> {
    lb.map(|lb| {
        // A scheme left out when it was created is internet-facing, AWS's default.
        let public_ipv4 = lb.scheme != "internal" && lb.ip_address_type != "dualstack-without-public-ipv4";
        let command = format!("aws elbv2 delete-load-balancer --load-balancer-arn {} --region {region}", lb.arn);
        Leftover::new("load_balancer", lb.name.clone(), region, vec![command])
            .charged(pricing::load_balancer(region, &lb.arn, &lb.zones, public_ipv4))
            .identified(graded::load_balancer(lb, region))
    })
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(scheme: &str, ip_address_type: &str) -> LoadBalancerInfo {
        LoadBalancerInfo {
            arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/1".into(),
            name: "nginx-alb".into(),
            dns_name: String::new(),
            scheme: scheme.into(),
            kind: "application".into(),
            state: "active".into(),
            zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            security_groups: vec![],
            ip_address_type: ip_address_type.into(),
            created_at: None,
        }
    }

    #[test]
    fn a_load_balancer_left_behind_is_priced_with_its_public_addresses() {
        let facing = lb("internet-facing", "ipv4");
        let left = judge_load_balancer("us-east-1", Some(&facing));
        assert!((left[0].usd_per_hour.unwrap() - 0.0325).abs() < 1e-9, "{:?}", left[0].usd_per_hour);
        assert_eq!(left[0].teardown, [format!("aws elbv2 delete-load-balancer --load-balancer-arn {} --region us-east-1", facing.arn)]);
        assert!(judge_load_balancer("us-east-1", None).is_empty());
    }

    #[test]
    fn an_internal_or_ipv6_only_load_balancer_has_no_public_ipv4_to_pay_for() {
        for (scheme, kind) in [("internal", "ipv4"), ("internet-facing", "dualstack-without-public-ipv4")] {
            let left = judge_load_balancer("us-east-1", Some(&lb(scheme, kind)));
            assert!((left[0].usd_per_hour.unwrap() - pricing::ALB_HOUR).abs() < 1e-9, "{scheme} {kind}: {:?}", left[0].usd_per_hour);
        }
        // Outside the price table the figure is approximate, and says so.
        let elsewhere = judge_load_balancer("eu-west-3", Some(&lb("internet-facing", "ipv4")));
        assert!(elsewhere[0].price_basis.as_deref().unwrap().starts_with("approximate"), "{:?}", elsewhere[0].price_basis);
    }
}
