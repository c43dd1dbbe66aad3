//! What leftovers cost by the hour, from AWS's published on-demand prices, and how a run's
//! costs add up: each billed thing (a task's compute, a public IPv4 address, a load
//! balancer's hour) counts once, however many checks find it.

use serde::{Deserialize, Serialize};

/// When and where the rates below were taken.
pub const RATES_AS_OF: &str = "us-east-1 on-demand Linux/x86 prices as published by AWS in 2026";
/// Fargate, per vCPU-hour.
pub const FARGATE_VCPU_HOUR: f64 = 0.04048;
/// Fargate, per GB-hour of memory.
pub const FARGATE_GB_HOUR: f64 = 0.004445;
/// A public IPv4 address, per hour (charged since February 2024).
pub const PUBLIC_IPV4_HOUR: f64 = 0.005;
/// An Application Load Balancer, per hour, before its LCUs (which an idle one barely uses).
pub const ALB_HOUR: f64 = 0.0225;

/// One region's on-demand prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub region: &'static str,
    /// When AWS published them, as the book says it.
    pub as_of: &'static str,
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
    pub public_ipv4_hour: f64,
    pub alb_hour: f64,
}

/// The regions whose prices were checked (`shared/reference/aws-facts.md`). Every other
/// region is priced with the first entry and says the figure is approximate: prices differ
/// from region to region, by a few percent to a third.
const TABLE: &[Rates] = &[Rates {
    region: "us-east-1",
    as_of: "2026",
    fargate_vcpu_hour: FARGATE_VCPU_HOUR,
    fargate_gb_hour: FARGATE_GB_HOUR,
    public_ipv4_hour: PUBLIC_IPV4_HOUR,
    alb_hour: ALB_HOUR,
}];

/// The rates for `region`, and whether they are that region's own.
pub fn rates(region: &str) -> (&'static Rates, bool) {
    match TABLE.iter().find(|r| r.region == region) {
        Some(rates) => (rates, true),
        None => (&TABLE[0], false),
    }
}

/// What a price for `region` is based on, for a message or a report.
pub fn basis(region: &str) -> String {
    match rates(region) {
        (r, true) => format!("{} on-demand prices of {}", r.region, r.as_of),
        (r, false) => format!("approximate: {} on-demand prices of {} (no price table for {region})", r.region, r.as_of),
    }
}

/// One thing AWS bills by the hour. `item` names it so that two checks finding the same
/// thing (a task's public address is on its network interface too) count it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    /// `fargate-task:ARN`, `public-ipv4:ENI-ID`, `load-balancer:ARN`,
    /// `public-ipv4:elb:app/NAME/ID:ZONE`.
    pub item: String,
    pub usd_per_hour: f64,
}

/// A public IPv4 address, known by the network interface that holds it.
pub fn public_ipv4(region: &str, eni_id: &str) -> Charge {
    Charge { item: format!("public-ipv4:{eni_id}"), usd_per_hour: rates(region).0.public_ipv4_hour }
}

/// A running Fargate task from its task-level `cpu` units and `memory` MiB, as ECS reports
/// them (strings such as `"256"` and `"512"`), with the public address on its interface.
pub fn fargate_task(region: &str, task_arn: &str, cpu_units: &str, memory_mib: &str, public_ipv4_on: Option<&str>) -> Vec<Charge> {
    let r = rates(region).0;
    let mut charges = Vec::new();
    if let (Ok(cpu), Ok(memory)) = (cpu_units.parse::<f64>(), memory_mib.parse::<f64>()) {
        charges.push(Charge { item: format!("fargate-task:{task_arn}"), usd_per_hour: cpu / 1024.0 * r.fargate_vcpu_hour + memory / 1024.0 * r.fargate_gb_hour });
    }
    charges.extend(public_ipv4_on.map(|eni| public_ipv4(region, eni)));
    charges
}

/// The part of a load balancer's ARN its network interfaces name in their description
/// (`ELB app/NAME/ID`): `app/NAME/ID`.
pub fn elb_interface_name(load_balancer_arn: &str) -> &str {
    load_balancer_arn.split_once(":loadbalancer/").map_or(load_balancer_arn, |(_, name)| name)
}

/// A public IPv4 address of a load balancer in one zone, known by the load balancer and the
/// zone, which its network interface also tells.
pub fn load_balancer_ipv4(region: &str, elb_name: &str, zone: &str) -> Charge {
    Charge { item: format!("public-ipv4:elb:{elb_name}:{zone}"), usd_per_hour: rates(region).0.public_ipv4_hour }
}

/// An Application Load Balancer while it idles: its hour, and one public IPv4 address per zone
/// when it has public addresses (internet-facing, and not dual-stack without public IPv4).
pub fn load_balancer(region: &str, arn: &str, zones: &[String], public_ipv4: bool) -> Vec<Charge> {
    let mut charges = vec![Charge { item: format!("load-balancer:{arn}"), usd_per_hour: rates(region).0.alb_hour }];
    if public_ipv4 {
        charges.extend(zones.iter().map(|zone| load_balancer_ipv4(region, elb_interface_name(arn), zone)));
    }
    charges
}

/// What `charges` cost together, each item once.
pub fn total<'a>(charges: impl IntoIterator<Item = &'a Charge>) -> f64 {
    let mut seen = std::collections::HashSet::new();
    charges.into_iter().filter(|c| seen.insert(c.item.as_str())).map(|c| c.usd_per_hour).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = "arn:aws:ecs:us-east-1:111122223333:task/fargate-course/abc";
    const ALB: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/nginx-alb/50dc6c495c0c9188";

    #[test]
    fn the_lab_task_costs_about_1_7_cents_an_hour() {
        let charges = fargate_task("us-east-1", TASK, "256", "512", Some("eni-1"));
        assert!((total(&charges) - 0.01734).abs() < 0.0001, "{charges:?}");
        assert_eq!(fargate_task("us-east-1", TASK, "x", "512", None), vec![]);
    }

    #[test]
    fn a_thing_found_twice_is_billed_once() {
        // The task's address found by tasks_stopped and again by enis_released.
        let task = fargate_task("us-east-1", TASK, "256", "512", Some("eni-1"));
        let eni = public_ipv4("us-east-1", "eni-1");
        assert!((total(task.iter().chain([&eni])) - total(&task)).abs() < 1e-12);
        // A load balancer's addresses, found again on its network interfaces.
        let zones = vec!["us-east-1a".to_string(), "us-east-1b".to_string()];
        let lb = load_balancer("us-east-1", ALB, &zones, true);
        assert!((total(&lb) - 0.0325).abs() < 1e-12);
        let on_interface = load_balancer_ipv4("us-east-1", elb_interface_name(ALB), "us-east-1b");
        assert!((total(lb.iter().chain([&on_interface])) - 0.0325).abs() < 1e-12);
        assert_eq!(elb_interface_name(ALB), "app/nginx-alb/50dc6c495c0c9188");
        // An internal load balancer has no public address.
        assert!((total(&load_balancer("us-east-1", ALB, &zones, false)) - ALB_HOUR).abs() < 1e-12);
    }

    #[test]
    fn a_region_without_a_table_entry_is_priced_approximately_and_says_so() {
        assert_eq!(basis("us-east-1"), "us-east-1 on-demand prices of 2026");
        assert!(basis("eu-west-1").starts_with("approximate: us-east-1 on-demand prices of 2026 (no price table for eu-west-1)"));
        assert!(!rates("ap-south-2").1);
    }
}
