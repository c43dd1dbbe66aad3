//! Elastic Load Balancing questions: the lab's load balancer, its listeners, its target
//! group and the health of the targets in it.

use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::types::Action;

use super::{AwsError, AwsErrorKind, Lookup};

/// A load balancer as the checks see it.
#[derive(Debug, Clone)]
pub struct LoadBalancerInfo {
    pub arn: String,
    pub name: String,
    pub dns_name: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    /// `application`, `network` or `gateway`.
    pub kind: String,
    /// `provisioning`, `active`, `active_impaired` or `failed`.
    pub state: String,
    pub zones: Vec<String>,
    pub security_groups: Vec<String>,
    /// `ipv4`, `dualstack` or `dualstack-without-public-ipv4`.
    pub ip_address_type: String,
    pub created_at: Option<String>,
}

/// A target group: what it routes to and how it checks health.
#[derive(Debug, Clone)]
pub struct TargetGroupInfo {
    pub arn: String,
    pub name: String,
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: String,
    pub protocol: String,
    pub port: Option<i32>,
    pub health_check_path: Option<String>,
    /// The HTTP codes a health check must answer to count as healthy (`200`, `200-299`,
    /// `200,302`); AWS's default for HTTP is `200`.
    pub matcher: Option<String>,
    pub load_balancer_arns: Vec<String>,
}

/// One target and its health (`initial`, `healthy`, `unhealthy`, `unused`, `draining`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealth {
    pub id: String,
    pub port: Option<i32>,
    pub state: String,
    pub reason: Option<String>,
}

/// A listener: its port and protocol, and the target groups its default action forwards to.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// Its ARN, new for every creation.
    pub arn: String,
    pub port: Option<i32>,
    pub protocol: String,
    pub forwards_to: Vec<String>,
}

fn to_target_group(tg: &aws_sdk_elasticloadbalancingv2::types::TargetGroup) -> TargetGroupInfo {
    TargetGroupInfo {
        arn: tg.target_group_arn().unwrap_or_default().to_string(),
        name: tg.target_group_name().unwrap_or_default().to_string(),
        target_type: tg.target_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        protocol: tg.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
        port: tg.port(),
        health_check_path: tg.health_check_path().map(str::to_string),
        matcher: tg.matcher().and_then(|m| m.http_code()).map(str::to_string),
        load_balancer_arns: tg.load_balancer_arns().to_vec(),
    }
}

/// The target groups some traffic of these actions goes to, sorted. A weighted forward
/// sends nothing to a group of weight 0, so that group is not forwarded to.
pub fn forwards_to(actions: &[Action]) -> Vec<String> {
    let mut arns = Vec::new();
    for action in actions {
        match action.forward_config() {
            // With a forward config, it (not the top-level ARN) says where traffic goes.
            Some(forward) => arns.extend(forward.target_groups().iter().filter(|t| t.weight() != Some(0)).filter_map(|t| t.target_group_arn().map(str::to_string))),
            None => arns.extend(action.target_group_arn().map(str::to_string)),
        }
    }
    arns.sort();
    arns.dedup();
    arns
}

/// Whether a health check answered with `status` counts as healthy under `matcher`
/// (`200`, `200-299`, `200,202,301-302`; none: AWS's default `200`).
pub fn matcher_admits(matcher: Option<&str>, status: u16) -> bool {
    matcher.unwrap_or("200").split(',').map(str::trim).any(|part| match part.split_once('-') {
        Some((low, high)) => matches!((low.trim().parse::<u16>(), high.trim().parse::<u16>()), (Ok(l), Ok(h)) if l <= status && status <= h),
        None => part.parse::<u16>() == Ok(status),
    })
}

fn not_found<T>(e: AwsError) -> Result<Option<T>, AwsError> {
    if e.kind == AwsErrorKind::NotFound { Ok(None) } else { Err(e) }
}

impl Lookup<'_> {
    /// The load balancer with this name, or `None`.
    pub async fn load_balancer(&self, region: &str, name: &str) -> Result<Arc<Option<LoadBalancerInfo>>, AwsError> {
        self.cached("elasticloadbalancing:DescribeLoadBalancers", format!("{region} {name}"), || async {
            let out = match self.elb(region).describe_load_balancers().names(name).send().await {
                Ok(out) => out,
                Err(e) => return not_found(AwsError::from_sdk("elasticloadbalancing:DescribeLoadBalancers", e)),
            };
            Ok(out.load_balancers().first().map(|lb| LoadBalancerInfo {
                arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
                name: lb.load_balancer_name().unwrap_or_default().to_string(),
                dns_name: lb.dns_name().unwrap_or_default().to_string(),
                scheme: lb.scheme().map(|s| s.as_str().to_string()).unwrap_or_default(),
                kind: lb.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                state: lb.state().and_then(|s| s.code()).map(|c| c.as_str().to_string()).unwrap_or_default(),
                zones: lb.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect(),
                security_groups: lb.security_groups().to_vec(),
                ip_address_type: lb.ip_address_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                created_at: lb.created_time().map(crate::timestamp::of),
            }))
        })
        .await
    }

    /// The target group with this name, or `None`.
    pub async fn target_group(&self, region: &str, name: &str) -> Result<Arc<Option<TargetGroupInfo>>, AwsError> {
        self.cached("elasticloadbalancing:DescribeTargetGroups", format!("{region} {name}"), || async {
            match self.elb(region).describe_target_groups().names(name).send().await {
                Ok(out) => Ok(out.target_groups().first().map(to_target_group)),
                Err(e) => not_found(AwsError::from_sdk("elasticloadbalancing:DescribeTargetGroups", e)),
            }
        })
        .await
    }

    /// The target group with this ARN (a listener names its groups by ARN), or `None`.
    pub async fn target_group_by_arn(&self, region: &str, arn: &str) -> Result<Arc<Option<TargetGroupInfo>>, AwsError> {
        self.cached("elasticloadbalancing:DescribeTargetGroups", format!("{region} {arn}"), || async {
            match self.elb(region).describe_target_groups().target_group_arns(arn).send().await {
                Ok(out) => Ok(out.target_groups().first().map(to_target_group)),
                Err(e) => not_found(AwsError::from_sdk("elasticloadbalancing:DescribeTargetGroups", e)),
            }
        })
        .await
    }

    /// The targets registered in a target group, with their health.
    pub async fn target_health(&self, region: &str, target_group_arn: &str) -> Result<Arc<Vec<TargetHealth>>, AwsError> {
        self.cached("elasticloadbalancing:DescribeTargetHealth", format!("{region} {target_group_arn}"), || async {
            let out = self
                .elb(region)
                .describe_target_health()
                .target_group_arn(target_group_arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeTargetHealth", e))?;
            Ok(out
                .target_health_descriptions()
                .iter()
                .map(|d| TargetHealth {
                    id: d.target().and_then(|t| t.id()).unwrap_or_default().to_string(),
                    port: d.target().and_then(|t| t.port()),
                    state: d.target_health().and_then(|h| h.state()).map(|s| s.as_str().to_string()).unwrap_or_default(),
                    reason: d.target_health().and_then(|h| h.description()).map(str::to_string),
                })
                .collect())
        })
        .await
    }

    /// A load balancer's listeners, every page of them.
    pub async fn listeners(&self, region: &str, load_balancer_arn: &str) -> Result<Arc<Vec<ListenerInfo>>, AwsError> {
        self.cached("elasticloadbalancing:DescribeListeners", format!("{region} {load_balancer_arn}"), || async {
            let mut listeners = Vec::new();
            let mut pages = self.elb(region).describe_listeners().load_balancer_arn(load_balancer_arn).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeListeners", e))?;
                listeners.extend(page.listeners().iter().map(|l| ListenerInfo {
                    arn: l.listener_arn().unwrap_or_default().to_string(),
                    port: l.port(),
                    protocol: l.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
                    forwards_to: forwards_to(l.default_actions()),
                }));
            }
            Ok(listeners)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, ForwardActionConfig, TargetGroupTuple};

    const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/blue/73e2d6bc24d8a067";
    const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/green/2453ed029918f21f";

    fn weighted(groups: &[(&str, Option<i32>)]) -> Action {
        let tuples = groups.iter().map(|(arn, weight)| TargetGroupTuple::builder().target_group_arn(*arn).set_weight(*weight).build()).collect();
        Action::builder().r#type(ActionTypeEnum::Forward).forward_config(ForwardActionConfig::builder().set_target_groups(Some(tuples)).build()).build()
    }

    #[test]
    fn a_group_of_weight_zero_gets_no_traffic() {
        assert_eq!(forwards_to(&[weighted(&[(BLUE, Some(1)), (GREEN, Some(0))])]), vec![BLUE.to_string()]);
        assert_eq!(forwards_to(&[weighted(&[(BLUE, Some(0))])]), Vec::<String>::new());
        // One group without a weight (as `--default-actions Type=forward,TargetGroupArn=…` makes).
        assert_eq!(forwards_to(&[weighted(&[(GREEN, None)])]), vec![GREEN.to_string()]);
        let plain = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(BLUE).build();
        assert_eq!(forwards_to(&[plain]), vec![BLUE.to_string()]);
        let fixed = Action::builder().r#type(ActionTypeEnum::FixedResponse).build();
        assert_eq!(forwards_to(&[fixed]), Vec::<String>::new());
    }

    #[test]
    fn matchers_read_as_aws_documents_them() {
        assert!(matcher_admits(None, 200));
        assert!(!matcher_admits(None, 204));
        assert!(matcher_admits(Some("200-299"), 204));
        assert!(matcher_admits(Some("200,302"), 302));
        assert!(!matcher_admits(Some("200,302"), 301));
        assert!(matcher_admits(Some("200, 301-302"), 301));
        assert!(!matcher_admits(Some("garbage"), 200));
    }
}
