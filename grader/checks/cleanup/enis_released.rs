//! `enis_released`: no network interface still uses the lab's security group, in any region.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, scan, verdict};
use crate::aws::AwsError;
use crate::aws::ec2::Eni;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};
use crate::pricing::{self, Charge};

/// No network interface still uses the lab's security group (a task's ENI outlives the
/// task for a short while and blocks deleting the group).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnisReleased {
    pub group_name: String,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for EnisReleased {
    const NAME: &'static str = "enis_released";
    const SUMMARY: &'static str = "Cleanup: no network interface still uses the lab's security group in any enabled region; public IPs on them are priced.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let groups = ctx.aws.security_groups_named(&region, &self.group_name).await?;
            let mut found = Vec::new();
            for group in groups.iter() {
                found.extend(judge_enis(&region, &ctx.aws.enis_in_group(&region, &group.id).await?));
            }
            Ok(found)
        })
        .await?;
        Ok(verdict("network interface using the lab's security group", found, self.regions))
    }
}

/// Each interface still in the group. ECS releases a task's interface once the task stopped;
/// the command shows which task's attachment it is, so the learner stops that task.
pub fn judge_enis(region: &str, enis: &[Eni]) -> Vec<Leftover> {
    enis.iter()
        .map(|eni| {
            let command = format!("aws ec2 describe-network-interfaces --network-interface-ids {} --region {region} --query 'NetworkInterfaces[0].Description'", eni.id);
            Leftover::new("network_interface", eni.id.clone(), region, vec![command]).charged(eni_charges(region, eni)).identified(graded::network_interface(eni, region))
        })
        .collect()
}

/// The public address on an interface, named as the thing that holds it names it: a load
/// balancer's interface (`ELB app/NAME/ID`) by the load balancer and zone, so that the address
/// is counted once with the load balancer's own price; any other by the interface.
fn eni_charges(region: &str, eni: &Eni) -> Vec<Charge> {
    if eni.public_ip.is_none() {
        return Vec::new();
    }
    match eni.description.strip_prefix("ELB ") {
        Some(elb) => vec![pricing::load_balancer_ipv4(region, elb, &eni.zone)],
        None => vec![pricing::public_ipv4(region, &eni.id)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eni(public_ip: Option<&str>, description: &str) -> Eni {
        Eni { id: "eni-1".into(), status: "in-use".into(), public_ip: public_ip.map(str::to_string), group_ids: vec!["sg-1".into()], description: description.into(), zone: "us-east-1b".into() }
    }

    #[test]
    fn an_interface_is_named_with_how_to_find_its_owner_and_its_address_is_priced() {
        let private = judge_enis("us-east-1", &[eni(None, "")]);
        assert_eq!(private[0].usd_per_hour, None);
        assert!(!private[0].teardown[0].contains('#'));
        let public = judge_enis("us-east-1", &[eni(Some("203.0.113.7"), "arn:aws:ecs:us-east-1:111122223333:attachment/1")]);
        assert_eq!(public[0].charges, [pricing::public_ipv4("us-east-1", "eni-1")]);
    }

    #[test]
    fn a_load_balancers_interface_is_the_load_balancers_address_counted_once() {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/50dc6c495c0c9188";
        let zones = vec!["us-east-1a".to_string(), "us-east-1b".to_string()];
        let lb = pricing::load_balancer("us-east-1", arn, &zones, true);
        let on_interface = judge_enis("us-east-1", &[eni(Some("198.51.100.9"), "ELB app/nginx-alb/50dc6c495c0c9188")]);
        let all = pricing::total(lb.iter().chain(&on_interface[0].charges));
        assert!((all - pricing::total(&lb)).abs() < 1e-12, "{all}");
    }
}
