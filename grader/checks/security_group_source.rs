//! `security_group_source`: the tasks' security group admits the port only from the load
//! balancer's security group, so nothing on the internet reaches the tasks directly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;
use crate::aws::ec2::IngressRule;

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
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeSecurityGroups"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let groups = ctx.aws.security_groups_named(ctx.region, &self.group_name).await?;
        let Some(group) = groups.first() else {
            return Ok(Verdict::fail(format!("no security group named `{}` in {}", self.group_name, ctx.region)).expected(format!("security group `{}`", self.group_name)).found("none"));
        };
        let sources = ctx.aws.security_groups_named(ctx.region, &self.source_group_name).await?;
        let Some(source) = sources.first() else {
            return Ok(Verdict::fail(format!("no security group named `{}` to admit traffic from", self.source_group_name))
                .expected(format!("security group `{}`", self.source_group_name))
                .found("none"));
        };
        Ok(self.judge(&group.id, &group.ingress, &source.id))
    }
}

impl SecurityGroupSource {
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
}
