//! EC2 questions: the default VPC, security groups, network interfaces, every page read.

use std::sync::Arc;

use aws_sdk_ec2::types::Filter;

use super::{AwsError, Lookup, partition};

/// One ingress permission of a security group, flattened to what the checks compare.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressRule {
    /// `tcp`, `udp`, `icmp` or `-1` (all traffic).
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// IPv4 and IPv6 CIDRs the rule admits.
    pub cidrs: Vec<String>,
    /// Security groups whose members the rule admits (`sg-…`, or `ACCOUNT/sg-…` across accounts).
    pub source_groups: Vec<String>,
    /// Managed prefix lists the rule admits (`pl-…`): whatever addresses the list holds.
    pub prefix_lists: Vec<String>,
}

impl IngressRule {
    /// Whether this rule lets TCP traffic in on `port` (an all-traffic rule or a covering
    /// port range does too).
    pub fn opens_tcp(&self, port: i32) -> bool {
        match self.protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => match (self.from_port, self.to_port) {
                (Some(from), Some(to)) => from <= port && port <= to,
                _ => true,
            },
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SecurityGroupInfo {
    pub id: String,
    /// `SecurityGroupArn`, or built from the owner and id where EC2 leaves it out.
    pub arn: String,
    pub name: String,
    pub vpc_id: String,
    pub ingress: Vec<IngressRule>,
}

/// A network interface and what the checks need from it.
#[derive(Debug, Clone)]
pub struct Eni {
    pub id: String,
    pub status: String,
    pub public_ip: Option<String>,
    pub group_ids: Vec<String>,
    pub description: String,
    /// Its Availability Zone (a load balancer has one interface, and one address, per zone).
    pub zone: String,
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

impl Lookup<'_> {
    /// The default VPC's id, or `None` when the region has none.
    pub async fn default_vpc(&self, region: &str) -> Result<Arc<Option<String>>, AwsError> {
        self.cached("ec2:DescribeVpcs", format!("{region} default"), || async {
            let out = self.ec2(region).describe_vpcs().filters(filter("isDefault", "true")).send().await.map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", e))?;
            Ok(out.vpcs().first().and_then(|v| v.vpc_id().map(str::to_string)))
        })
        .await
    }

    /// Subnet ids and availability zones of a VPC.
    pub async fn subnets(&self, region: &str, vpc_id: &str) -> Result<Arc<Vec<(String, String)>>, AwsError> {
        self.cached("ec2:DescribeSubnets", format!("{region} {vpc_id}"), || async {
            let mut subnets = Vec::new();
            let mut pages = self.ec2(region).describe_subnets().filters(filter("vpc-id", vpc_id)).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", e))?;
                subnets.extend(page.subnets().iter().map(|s| (s.subnet_id().unwrap_or_default().to_string(), s.availability_zone().unwrap_or_default().to_string())));
            }
            Ok(subnets)
        })
        .await
    }

    /// Security groups with this name, in any VPC of the region.
    pub async fn security_groups_named(&self, region: &str, name: &str) -> Result<Arc<Vec<SecurityGroupInfo>>, AwsError> {
        let all = self.security_groups(region).await?;
        Ok(Arc::new(all.iter().filter(|g| g.name == name).cloned().collect()))
    }

    /// Every security group of the region. One question answers all of a lab's group names
    /// (a clean-up scan asks two or three in every region): a learner's region holds a few
    /// groups, one page. A name filter would also read `*` and `?` in a name as wildcards.
    async fn security_groups(&self, region: &str) -> Result<Arc<Vec<SecurityGroupInfo>>, AwsError> {
        self.cached("ec2:DescribeSecurityGroups", region.to_string(), || async {
            let mut groups = Vec::new();
            let mut pages = self.ec2(region).describe_security_groups().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", e))?;
                groups.extend(page.security_groups().iter().map(|g| to_group(g, region)));
            }
            Ok(groups)
        })
        .await
    }

    /// Network interfaces by id; ids that no longer exist are left out. A filter, not an id
    /// list: EC2 refuses a whole id list when one id is gone.
    pub async fn enis(&self, region: &str, ids: &[String]) -> Result<Arc<Vec<Eni>>, AwsError> {
        let ids = ids.to_vec();
        self.cached("ec2:DescribeNetworkInterfaces", format!("{region} ids {}", ids.join(",")), || async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let id_filter = Filter::builder().name("network-interface-id").set_values(Some(ids)).build();
            self.network_interfaces(region, id_filter).await
        })
        .await
    }

    /// Network interfaces that use a security group.
    pub async fn enis_in_group(&self, region: &str, group_id: &str) -> Result<Arc<Vec<Eni>>, AwsError> {
        self.cached("ec2:DescribeNetworkInterfaces", format!("{region} group {group_id}"), || async {
            self.network_interfaces(region, filter("group-id", group_id)).await
        })
        .await
    }

    async fn network_interfaces(&self, region: &str, by: Filter) -> Result<Vec<Eni>, AwsError> {
        let mut enis = Vec::new();
        let mut pages = self.ec2(region).describe_network_interfaces().filters(by).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ec2:DescribeNetworkInterfaces", e))?;
            enis.extend(page.network_interfaces().iter().map(to_eni));
        }
        Ok(enis)
    }
}

fn to_group(g: &aws_sdk_ec2::types::SecurityGroup, region: &str) -> SecurityGroupInfo {
    let id = g.group_id().unwrap_or_default();
    SecurityGroupInfo {
        arn: match g.security_group_arn() {
            Some(arn) => arn.to_string(),
            None => format!("arn:{}:ec2:{region}:{}:security-group/{id}", partition(region), g.owner_id().unwrap_or_default()),
        },
        id: id.to_string(),
        name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
        ingress: g.ip_permissions().iter().map(to_rule).collect(),
    }
}

fn to_rule(p: &aws_sdk_ec2::types::IpPermission) -> IngressRule {
    IngressRule {
        protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        cidrs: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6().map(str::to_string)))
            .collect(),
        source_groups: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|pair| {
                let id = pair.group_id()?;
                Some(match pair.user_id() {
                    Some(account) if pair.vpc_peering_connection_id().is_some() => format!("{account}/{id}"),
                    _ => id.to_string(),
                })
            })
            .collect(),
        prefix_lists: p.prefix_list_ids().iter().filter_map(|l| l.prefix_list_id().map(str::to_string)).collect(),
    }
}

fn to_eni(n: &aws_sdk_ec2::types::NetworkInterface) -> Eni {
    Eni {
        id: n.network_interface_id().unwrap_or_default().to_string(),
        status: n.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        public_ip: n.association().and_then(|a| a.public_ip().map(str::to_string)),
        group_ids: n.groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
        description: n.description().unwrap_or_default().to_string(),
        zone: n.availability_zone().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: Option<i32>, to: Option<i32>) -> IngressRule {
        IngressRule { protocol: protocol.into(), from_port: from, to_port: to, cidrs: vec![], source_groups: vec![], prefix_lists: vec![] }
    }

    #[test]
    fn all_traffic_and_ranges_open_port_80() {
        assert!(rule("tcp", Some(80), Some(80)).opens_tcp(80));
        assert!(rule("-1", None, None).opens_tcp(80));
        assert!(rule("tcp", Some(0), Some(65535)).opens_tcp(80));
        assert!(!rule("tcp", Some(443), Some(443)).opens_tcp(80));
        assert!(!rule("udp", Some(80), Some(80)).opens_tcp(80));
    }
}
