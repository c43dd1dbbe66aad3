//! What an account has spent, by service, from Cost Explorer's GetCostAndUsage. Not a check:
//! the class audit asks it only with `--spend`, because AWS charges $0.01 for every request.

use aws_config::Region;
use aws_sdk_costexplorer::types::{DateInterval, Granularity, GroupDefinition, GroupDefinitionType};

use super::{Aws, AwsError, AwsErrorKind, partition};

/// The metric asked for: what was charged before credits and discounts, so a class on credits
/// still sees what each learner consumed (Cost Explorer's own default view).
pub const METRIC: &str = "UnblendedCost";

/// An account's costs over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    /// Each service's cost in USD, the largest first; services that cost nothing are left out.
    pub by_service: Vec<(String, f64)>,
    /// Whether Cost Explorer marked any of it as an estimate (the current month is).
    pub estimated: bool,
    /// How many requests it took (AWS bills each one).
    pub requests: u32,
}

impl Costs {
    pub fn total(&self) -> f64 {
        self.by_service.iter().map(|(_, usd)| usd).sum()
    }
}

/// Cost Explorer's one endpoint per partition.
fn endpoint_region(region: &str) -> &'static str {
    match partition(region) {
        "aws-cn" => "cn-northwest-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

impl Aws {
    /// The account's costs by service from `since` up to `until` (dates `YYYY-MM-DD`, `until`
    /// excluded), one MONTHLY request per page of months.
    pub async fn costs(&self, since: &str, until: &str) -> Result<Costs, AwsError> {
        const ACTION: &str = "ce:GetCostAndUsage";
        let config = aws_sdk_costexplorer::config::Builder::from(&self.config).region(Region::new(endpoint_region(&self.region))).build();
        let client = aws_sdk_costexplorer::Client::from_conf(config);
        let period = DateInterval::builder().start(since).end(until).build().map_err(|e| AwsError::other(ACTION, e.to_string()))?;
        let by_service = GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("SERVICE").build();
        let mut totals: Vec<(String, f64)> = Vec::new();
        let mut estimated = false;
        let mut requests = 0;
        let mut token: Option<String> = None;
        loop {
            let started = std::time::Instant::now();
            let answer = client
                .get_cost_and_usage()
                .time_period(period.clone())
                .granularity(Granularity::Monthly)
                .metrics(METRIC)
                .group_by(by_service.clone())
                .set_next_page_token(token.clone())
                .send()
                .await;
            requests += 1;
            if self.verbose {
                let outcome = match &answer {
                    Ok(_) => "ok".to_string(),
                    Err(e) => aws_smithy_types::error::metadata::ProvideErrorMetadata::code(e).unwrap_or("error").to_string(),
                };
                eprintln!("aws: {ACTION} {since}..{until} -> {outcome} in {} ms", started.elapsed().as_millis());
            }
            let out = answer.map_err(|e| not_enabled(AwsError::from_sdk(ACTION, e)))?;
            for result in out.results_by_time() {
                estimated |= result.estimated();
                for group in result.groups() {
                    let service = group.keys().first().cloned().unwrap_or_else(|| "(no service)".into());
                    let amount = group.metrics().and_then(|m| m.get(METRIC)).and_then(|m| m.amount()).unwrap_or("0");
                    let usd: f64 = amount.parse().map_err(|_| AwsError::other(ACTION, format!("Cost Explorer gave `{amount}` as an amount")))?;
                    match totals.iter_mut().find(|(s, _)| *s == service) {
                        Some((_, sum)) => *sum += usd,
                        None => totals.push((service, usd)),
                    }
                }
            }
            token = out.next_page_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        // Amounts below half a cent are rounding noise (Cost Explorer reports tax and free
        // tier usage as tiny figures).
        totals.retain(|(_, usd)| *usd >= 0.005);
        totals.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
        Ok(Costs { by_service: totals, estimated, requests })
    }
}

/// Cost Explorer answers AccessDenied both for a missing permission and for an account it is
/// not open to; the second needs the management account, not a policy, so it says so.
fn not_enabled(error: AwsError) -> AwsError {
    if error.kind == AwsErrorKind::AccessDenied && error.message.to_lowercase().contains("not enabled for cost explorer") {
        return AwsError::other(
            error.action,
            "Cost Explorer is not enabled for this account: in AWS Organizations the management account opens it to member accounts (Billing and Cost Management, Cost Management preferences)",
        );
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_partition_has_its_one_endpoint() {
        assert_eq!(endpoint_region("eu-west-1"), "us-east-1");
        assert_eq!(endpoint_region("cn-north-1"), "cn-northwest-1");
        assert_eq!(endpoint_region("us-gov-east-1"), "us-gov-west-1");
    }

    #[test]
    fn an_account_cost_explorer_is_not_open_to_is_not_called_a_missing_permission() {
        let denied = |message: &str| AwsError { kind: AwsErrorKind::AccessDenied, action: "ce:GetCostAndUsage", code: Some("AccessDeniedException".into()), message: message.into() };
        let closed = not_enabled(denied("User not enabled for cost explorer access"));
        assert_eq!(closed.kind, AwsErrorKind::Other);
        assert!(closed.to_string().contains("management account opens it"), "{closed}");
        let missing = not_enabled(denied("User: arn:aws:sts::1:assumed-role/a/b is not authorized to perform: ce:GetCostAndUsage"));
        assert!(missing.to_string().starts_with("missing permission `ce:GetCostAndUsage`"), "{missing}");
    }
}
