//! `security_group`: the lab's security group exists in the default VPC and admits HTTP from
//! one address only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict, nearby};
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
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"];

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
        Ok(judge_ingress(&group.id, &group.ingress, self.port))
    }
}

/// The verdict on a group's ingress rules for one TCP port.
pub fn judge_ingress(group_id: &str, rules: &[IngressRule], port: i32) -> Verdict {
    let sources: Vec<&str> = rules.iter().filter(|r| r.opens_tcp(port)).flat_map(|r| r.cidrs.iter().map(String::as_str)).collect();
    let expected = format!("tcp/{port} from a single address (x.x.x.x/32) only");
    let found = if sources.is_empty() { format!("nothing admits tcp/{port}") } else { format!("tcp/{port} from {}", sources.join(", ")) };
    if let Some(open) = sources.iter().find(|c| **c == "0.0.0.0/0" || **c == "::/0") {
        return Verdict::fail(format!("security finding: `{group_id}` opens port {port} to the whole internet ({open})")).expected(expected).found(found);
    }
    if sources.is_empty() {
        return Verdict::fail(format!("`{group_id}` has no inbound rule for tcp/{port}")).expected(expected).found(found);
    }
    if let Some(wide) = sources.iter().find(|c| !c.ends_with("/32") && !c.ends_with("/128")) {
        return Verdict::fail(format!("`{group_id}` admits a whole range ({wide}) on port {port}")).expected(expected).found(found);
    }
    Verdict::pass(format!("`{group_id}` admits tcp/{port} from {} only", sources.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn rule(protocol: &str, from: i32, to: i32, cidr: &str) -> IngressRule {
        IngressRule { protocol: protocol.into(), from_port: Some(from), to_port: Some(to), cidrs: vec![cidr.into()] }
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
}
