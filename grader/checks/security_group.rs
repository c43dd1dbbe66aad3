//! `security_group`: the lab's security group exists in the default VPC and admits HTTP from
//! one address only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, graded, nearby};
use crate::aws::AwsError;
use crate::aws::ec2::IngressRule;

/// A security group by name in the default VPC whose only way in on `port` is TCP from a
/// single address (/32); a rule open to the whole internet fails as a security finding.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    /// The group's name (`GroupName`).
    pub group_name: String,
    /// The TCP port that must be reachable.
    #[serde(default = "port_80")]
    pub port: i32,
}

fn port_80() -> i32 {
    80
}

impl Kind for SecurityGroup {
    const NAME: &'static str = "security_group";
    const SUMMARY: &'static str = "A security group by name in the default VPC admits TCP on a port from one address (/32) and not from the whole internet.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:DescribeRegions"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let groups = ctx.aws.security_groups_named(ctx.region, &self.group_name).await?;
        if groups.is_empty() {
            return Ok(Verdict::fail(format!("no security group named `{}` in {}", self.group_name, ctx.region))
                .expected(format!("security group `{}`", self.group_name))
                .found("none")
                .also(nearby::security_group(ctx, &self.group_name).await));
        }
        let default_vpc = ctx.aws.default_vpc(ctx.region).await?;
        let group = match groups.iter().find(|g| Some(&g.vpc_id) == default_vpc.as_ref().as_ref()) {
            Some(g) => g,
            None => {
                return Ok(Verdict::fail(format!("security group `{}` is not in the default VPC", self.group_name))
                    .expected(format!("in VPC {}", default_vpc.as_ref().clone().unwrap_or_else(|| "(no default VPC)".into())))
                    .found(format!("in VPC {}", groups[0].vpc_id)));
            }
        };
        Ok(judge_ingress(&group.id, &group.ingress, self.port).resource(graded::security_group(group, ctx.region)))
    }
}

/// Whether a CIDR is one address: `/32` for IPv4, `/128` for IPv6 (an IPv6 `/32` is a
/// range of 2^96 addresses).
fn single_address(cidr: &str) -> bool {
    match cidr.rsplit_once('/') {
        Some((address, "128")) => address.contains(':'),
        Some((address, "32")) => !address.contains(':'),
        _ => false,
    }
}

/// The verdict on a group's ingress rules for one TCP port. Besides CIDRs, a rule can admit
/// another security group's members or a managed prefix list: neither is "one address",
/// and each is named for what it is.
pub fn judge_ingress(group_id: &str, rules: &[IngressRule], port: i32) -> Verdict {
    let opening: Vec<&IngressRule> = rules.iter().filter(|r| r.opens_tcp(port)).collect();
    let cidrs: Vec<&str> = opening.iter().flat_map(|r| r.cidrs.iter().map(String::as_str)).collect();
    let groups: Vec<String> = opening.iter().flat_map(|r| r.source_groups.iter().map(|g| format!("security group {g}"))).collect();
    let lists: Vec<String> = opening.iter().flat_map(|r| r.prefix_lists.iter().map(|l| format!("prefix list {l}"))).collect();
    let sources: Vec<String> = cidrs.iter().map(|c| c.to_string()).chain(groups.iter().cloned()).chain(lists.iter().cloned()).collect();
    let expected = format!("tcp/{port} from a single address (x.x.x.x/32) only");
    let found = if sources.is_empty() { format!("nothing admits tcp/{port}") } else { format!("tcp/{port} from {}", sources.join(", ")) };
    if let Some(open) = cidrs.iter().find(|c| **c == "0.0.0.0/0" || **c == "::/0") {
        return Verdict::fail(format!("security finding: `{group_id}` opens port {port} to the whole internet ({open})")).expected(expected).found(found);
    }
    if sources.is_empty() {
        return Verdict::fail(format!("`{group_id}` has no inbound rule for tcp/{port}")).expected(expected).found(found);
    }
    if let Some(wide) = cidrs.iter().find(|c| !single_address(c)) {
        return Verdict::fail(format!("`{group_id}` admits a whole range ({wide}) on port {port}")).expected(expected).found(found);
    }
    if let Some(other) = groups.first().or(lists.first()) {
        return Verdict::fail(format!("`{group_id}` also admits port {port} from {other}, not only from your address")).expected(expected).found(found);
    }
    Verdict::pass(format!("`{group_id}` admits tcp/{port} from {} only", sources.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn rule(protocol: &str, from: i32, to: i32, cidr: &str) -> IngressRule {
        IngressRule { protocol: protocol.into(), from_port: Some(from), to_port: Some(to), cidrs: vec![cidr.into()], source_groups: vec![], prefix_lists: vec![] }
    }

    #[test]
    fn one_address_passes() {
        let v = judge_ingress("sg-1", &[rule("tcp", 80, 80, "203.0.113.7/32")], 80);
        assert_eq!(v.status(), Status::Pass, "{}", v.message);
    }

    #[test]
    fn open_to_the_internet_is_a_security_finding() {
        let v = judge_ingress("sg-1", &[rule("tcp", 80, 80, "203.0.113.7/32"), rule("-1", 0, 0, "0.0.0.0/0")], 80);
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.starts_with("security finding"), "{}", v.message);
    }

    #[test]
    fn wrong_port_or_wide_range_fails() {
        assert_eq!(judge_ingress("sg-1", &[rule("tcp", 443, 443, "203.0.113.7/32")], 80).status(), Status::Fail);
        assert_eq!(judge_ingress("sg-1", &[rule("tcp", 80, 80, "203.0.113.0/24")], 80).status(), Status::Fail);
        assert_eq!(judge_ingress("sg-1", &[], 80).status(), Status::Fail);
    }

    #[test]
    fn one_ipv6_address_is_a_128_and_a_32_is_a_range() {
        assert_eq!(judge_ingress("sg-1", &[rule("tcp", 80, 80, "2001:db8::7/128")], 80).status(), Status::Pass);
        let v = judge_ingress("sg-1", &[rule("tcp", 80, 80, "2001:db8::/32")], 80);
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("whole range (2001:db8::/32)"), "{}", v.message);
    }

    #[test]
    fn source_groups_and_prefix_lists_are_named_for_what_they_are() {
        let mut by_group = rule("tcp", 80, 80, "203.0.113.7/32");
        by_group.source_groups = vec!["sg-0abc".into()];
        let v = judge_ingress("sg-1", &[by_group], 80);
        assert_eq!(v.status(), Status::Fail);
        assert!(v.message.contains("from security group sg-0abc"), "{}", v.message);
        let mut by_list = rule("tcp", 0, 65535, "203.0.113.7/32");
        by_list.cidrs.clear();
        by_list.prefix_lists = vec!["pl-63a5400a".into()];
        let v = judge_ingress("sg-1", &[by_list], 80);
        assert_eq!(v.status(), Status::Fail);
        assert_eq!(v.found.as_deref(), Some("tcp/80 from prefix list pl-63a5400a"));
    }
}
