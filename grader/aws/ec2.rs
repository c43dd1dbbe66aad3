//! EC2 questions: the default VPC, security groups, network interfaces.

use std::sync::Arc;

use aws_sdk_ec2::types::Filter;

use super::{Aws, AwsError, AwsErrorKind};

/// One ingress permission of a security group, flattened to what the checks compare.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressRule {
    /// `tcp`, `udp`, `icmp` or `-1` (all traffic).
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// IPv4 and IPv6 CIDRs the rule admits.
    pub cidrs: Vec<String>,
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
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

impl Aws {
    /// The default VPC's id, or `None` when the region has none.
    pub async fn default_vpc(&self, region: &str) -> Result<Arc<Option<String>>, AwsError> {
        self.cached(false, "ec2:DescribeVpcs", format!("{region} default"), || async {
            let out = self.ec2(region).describe_vpcs().filters(filter("isDefault", "true")).send().await.map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", e))?;
            Ok(out.vpcs().first().and_then(|v| v.vpc_id().map(str::to_string)))
        })
        .await
    }

    /// Subnet ids and availability zones of a VPC.
    pub async fn subnets(&self, region: &str, vpc_id: &str) -> Result<Arc<Vec<(String, String)>>, AwsError> {
        self.cached(false, "ec2:DescribeSubnets", format!("{region} {vpc_id}"), || async {
            let out = self.ec2(region).describe_subnets().filters(filter("vpc-id", vpc_id)).send().await.map_err(|e| AwsError::from_sdk("ec2:DescribeSubnets", e))?;
            Ok(out
                .subnets()
                .iter()
                .map(|s| (s.subnet_id().unwrap_or_default().to_string(), s.availability_zone().unwrap_or_default().to_string()))
                .collect())
        })
        .await
    }

    /// Security groups with this name, in any VPC of the region.
    pub async fn security_groups_named(&self, region: &str, name: &str) -> Result<Arc<Vec<SecurityGroupInfo>>, AwsError> {
        self.cached(false, "ec2:DescribeSecurityGroups", format!("{region} {name}"), || async {
            let out = self
                .ec2(region)
                .describe_security_groups()
                .filters(filter("group-name", name))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", e))?;
            Ok(out
                .security_groups()
                .iter()
                .map(|g| SecurityGroupInfo {
                    id: g.group_id().unwrap_or_default().to_string(),
                    name: g.group_name().unwrap_or_default().to_string(),
                    vpc_id: g.vpc_id().unwrap_or_default().to_string(),
                    ingress: g
                        .ip_permissions()
                        .iter()
                        .map(|p| IngressRule {
                            protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                            from_port: p.from_port(),
                            to_port: p.to_port(),
                            cidrs: p
                                .ip_ranges()
                                .iter()
                                .filter_map(|r| r.cidr_ip().map(str::to_string))
                                .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6().map(str::to_string)))
                                .collect(),
                        })
                        .collect(),
                })
                .collect())
        })
        .await
    }

    /// Network interfaces by id; ids that no longer exist are left out.
    pub async fn enis(&self, region: &str, ids: &[String], fresh: bool) -> Result<Arc<Vec<Eni>>, AwsError> {
        let ids = ids.to_vec();
        self.cached(fresh, "ec2:DescribeNetworkInterfaces", format!("{region} ids {}", ids.join(",")), || async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            match self.ec2(region).describe_network_interfaces().set_network_interface_ids(Some(ids)).send().await {
                Ok(out) => Ok(out.network_interfaces().iter().map(to_eni).collect()),
                Err(e) => {
                    let e = AwsError::from_sdk("ec2:DescribeNetworkInterfaces", e);
                    if e.kind == AwsErrorKind::NotFound { Ok(Vec::new()) } else { Err(e) }
                }
            }
        })
        .await
    }

    /// Network interfaces that use a security group.
    pub async fn enis_in_group(&self, region: &str, group_id: &str) -> Result<Arc<Vec<Eni>>, AwsError> {
        self.cached(false, "ec2:DescribeNetworkInterfaces", format!("{region} group {group_id}"), || async {
            let out = self
                .ec2(region)
                .describe_network_interfaces()
                .filters(filter("group-id", group_id))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeNetworkInterfaces", e))?;
            Ok(out.network_interfaces().iter().map(to_eni).collect())
        })
        .await
    }
}

fn to_eni(n: &aws_sdk_ec2::types::NetworkInterface) -> Eni {
    Eni {
        id: n.network_interface_id().unwrap_or_default().to_string(),
        status: n.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        public_ip: n.association().and_then(|a| a.public_ip().map(str::to_string)),
        group_ids: n.groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
        description: n.description().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: Option<i32>, to: Option<i32>) -> IngressRule {
        IngressRule { protocol: protocol.into(), from_port: from, to_port: to, cidrs: vec![] }
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
