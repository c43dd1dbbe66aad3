//! What leftovers cost by the hour, from AWS's published on-demand prices.

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

/// An internet-facing ALB's hourly cost while it idles: its hour and one public IPv4
/// address per Availability Zone it is in.
pub fn alb_per_hour(zones: usize) -> f64 {
    ALB_HOUR + zones as f64 * PUBLIC_IPV4_HOUR
}

/// The hourly cost of a Fargate task from its task-level `cpu` units and `memory` MiB, as
/// ECS reports them (strings such as `"256"` and `"512"`).
pub fn fargate_task_per_hour(cpu_units: &str, memory_mib: &str, public_ip: bool) -> Option<f64> {
    let vcpu = cpu_units.parse::<f64>().ok()? / 1024.0;
    let gb = memory_mib.parse::<f64>().ok()? / 1024.0;
    Some(vcpu * FARGATE_VCPU_HOUR + gb * FARGATE_GB_HOUR + if public_ip { PUBLIC_IPV4_HOUR } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_task_costs_about_1_7_cents_an_hour() {
        let cost = fargate_task_per_hour("256", "512", true).unwrap();
        assert!((cost - 0.01734).abs() < 0.0001, "{cost}");
        assert!(fargate_task_per_hour("x", "512", false).is_none());
    }
}
