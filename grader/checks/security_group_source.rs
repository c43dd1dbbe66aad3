//! `security_group_source`: the tasks' security group admits the port only from the load
//! balancer's security group, so nothing on the internet reaches the tasks directly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::ec2::{IngressRule, SecurityGroupInfo};

/// The security group `group_name` admits TCP `port` from the members of `source_group_name`
/// and from nothing else (no CIDR, no prefix list, no other group).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupSource {
    pub group_name: String,
    pub source_group_name: String,
    #[serde(default = "port_80")]
    pub port: i32,
}

fn port_80() -> i32 {
    80
}

impl Kind for SecurityGroupSource {
    const NAME: &'static str = "security_group_source";
    const SUMMARY: &'static str = "A security group admits a TCP port only from another security group's members (a source-group rule), never from an address range.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let groups = ctx.aws.security_groups_named(ctx.region, &self.group_name).await?;
        let sources = ctx.aws.security_groups_named(ctx.region, &self.source_group_name).await?;
        let default_vpc = ctx.aws.default_vpc(ctx.region).await?;
        Ok(self.judge_groups(&groups, &sources, default_vpc.as_ref().as_deref()))
    }
}

impl SecurityGroupSource {
    /// Picks the groups as `security_group` does, in the default VPC, since a name is unique
    /// only within a VPC: another VPC's group of the same name (a copy of the lab, an old
    /// attempt) must not decide the verdict. The source group is looked for in the same VPC.
    pub fn judge_groups(&self, groups: &[SecurityGroupInfo], sources: &[SecurityGroupInfo], default_vpc: Option<&str>) -> Verdict {
        let Some(first) = groups.first() else {
            return Verdict::fail(format!("no security group named `{}`", self.group_name)).expected(format!("security group `{}`", self.group_name)).found("none");
        };
        let Some(group) = groups.iter().find(|g| default_vpc.is_none_or(|vpc| g.vpc_id == vpc)) else {
            return Verdict::fail(format!("security group `{}` is not in the default VPC", self.group_name))
                .expected(format!("in VPC {}", default_vpc.unwrap_or("(no default VPC)")))
                .found(format!("in VPC {}", first.vpc_id));
        };
        let Some(source) = sources.iter().find(|s| s.vpc_id == group.vpc_id) else {
            let elsewhere = sources.first().map(|s| format!("only in VPC {}", s.vpc_id)).unwrap_or_else(|| "none".into());
            return Verdict::fail(format!("no security group named `{}` in VPC {} to admit traffic from", self.source_group_name, group.vpc_id))
                .expected(format!("security group `{}` in VPC {}", self.source_group_name, group.vpc_id))
                .found(elsewhere);
        };
        self.judge(&group.id, &group.ingress, &source.id)
    }
    pub fn judge(&self, group_id: &str, rules: &[IngressRule], source_id: &str) -> Verdict {
        let port = self.port;
        let opening: Vec<&IngressRule> = rules.iter().filter(|r| r.opens_tcp(port)).collect();
        // A cross-account reference reads `ACCOUNT/sg-…`.
        let from_source = opening.iter().any(|r| r.source_groups.iter().any(|g| g == source_id || g.ends_with(&format!("/{source_id}"))));
        let others: Vec<String> = opening
            .iter()
            .flat_map(|r| {
                r.cidrs
                    .iter()
                    .cloned()
                    .chain(r.prefix_lists.iter().map(|l| format!("prefix list {l}")))
                    .chain(r.source_groups.iter().filter(|g| !g.ends_with(source_id)).map(|g| format!("security group {g}")))
            })
            .collect();
        let expected = format!("tcp/{port} from security group {source_id} (`{}`) only", self.source_group_name);
        if let Some(first) = others.first() {
            return Verdict::fail(format!("`{group_id}` also admits tcp/{port} from {first}: the tasks are reachable without the load balancer"))
                .expected(expected)
                .found(format!("tcp/{port} from {}", others.join(", ")));
        }
        if !from_source {
            return Verdict::fail(format!("`{group_id}` does not admit tcp/{port} from `{}`: the load balancer cannot reach the tasks", self.source_group_name))
                .expected(expected)
                .found(format!("nothing admits tcp/{port}"));
        }
        Verdict::pass(format!("`{group_id}` admits tcp/{port} only from `{}` ({source_id})", self.source_group_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn rule(cidrs: &[&str], groups: &[&str]) -> IngressRule {
        IngressRule {
            protocol: "tcp".into(),
            from_port: Some(80),
            to_port: Some(80),
            cidrs: cidrs.iter().map(|c| c.to_string()).collect(),
            source_groups: groups.iter().map(|g| g.to_string()).collect(),
            prefix_lists: vec![],
        }
    }

    fn lab() -> SecurityGroupSource {
        SecurityGroupSource { group_name: "nginx-tasks-sg".into(), source_group_name: "nginx-alb-sg".into(), port: 80 }
    }

    #[test]
    fn only_the_load_balancers_group_passes() {
        assert_eq!(lab().judge("sg-tasks", &[rule(&[], &["sg-alb"])], "sg-alb").status(), Status::Pass);
    }

    #[test]
    fn an_address_range_beside_it_or_no_rule_fails() {
        let open = lab().judge("sg-tasks", &[rule(&[], &["sg-alb"]), rule(&["0.0.0.0/0"], &[])], "sg-alb");
        assert_eq!(open.status(), Status::Fail);
        assert!(open.message.contains("reachable without the load balancer"), "{}", open.message);
        let cidr_only = lab().judge("sg-tasks", &[rule(&["203.0.113.7/32"], &[])], "sg-alb");
        assert_eq!(cidr_only.status(), Status::Fail);
        let none = lab().judge("sg-tasks", &[], "sg-alb");
        assert!(none.message.contains("cannot reach the tasks"), "{}", none.message);
    }

    fn group(id: &str, vpc: &str, rules: Vec<IngressRule>) -> SecurityGroupInfo {
        SecurityGroupInfo { id: id.into(), arn: String::new(), name: String::new(), vpc_id: vpc.into(), ingress: rules }
    }

    #[test]
    fn the_default_vpcs_groups_decide_whatever_another_vpc_holds() {
        // Another VPC holds a tidy copy of both groups; the default VPC's tasks group is open.
        let tasks = [group("sg-copy", "vpc-other", vec![rule(&[], &["sg-alb-copy"])]), group("sg-tasks", "vpc-default", vec![rule(&["0.0.0.0/0"], &["sg-alb"])])];
        let lbs = [group("sg-alb-copy", "vpc-other", vec![]), group("sg-alb", "vpc-default", vec![])];
        let v = lab().judge_groups(&tasks, &lbs, Some("vpc-default"));
        assert_eq!(v.status(), Status::Fail, "{}", v.message);
        assert!(v.message.starts_with("`sg-tasks` also admits tcp/80 from 0.0.0.0/0"), "{}", v.message);
        // The source group must be the one in the same VPC.
        let tidy = [group("sg-tasks", "vpc-default", vec![rule(&[], &["sg-alb"])])];
        assert_eq!(lab().judge_groups(&tidy, &lbs, Some("vpc-default")).status(), Status::Pass);
        let v = lab().judge_groups(&tidy, &lbs[..1], Some("vpc-default"));
        assert_eq!(v.found.as_deref(), Some("only in VPC vpc-other"), "{}", v.message);
        // Only in another VPC: said so.
        let v = lab().judge_groups(&tasks[..1], &lbs, Some("vpc-default"));
        assert!(v.message.contains("is not in the default VPC"), "{}", v.message);
    }
}
