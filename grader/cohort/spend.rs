//! `cohort --spend`: what each learner's account has actually been charged since the course
//! began, by service, from Cost Explorer through the audit role, and which accounts went past
//! the instructor's alert. Opt-in: AWS charges $0.01 for each Cost Explorer request.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::{Deserialize, Serialize};

use super::AccountResult;
use crate::aws::Aws;
use crate::aws::cost::METRIC;

/// What AWS charges for one Cost Explorer API request.
pub const USD_PER_REQUEST: f64 = 0.01;

/// The period asked about and the alert, as the instructor gave them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendPeriod {
    /// The first day counted (`YYYY-MM-DD`, UTC).
    pub since: String,
    /// The first day not counted: the day after the audit.
    pub until: String,
    /// Cost Explorer's metric: `UnblendedCost`, before credits and discounts.
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_usd: Option<f64>,
}

/// The class's spend: the period and the figures summed over its accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSpend {
    #[serde(flatten)]
    pub period: SpendPeriod,
    pub total_usd: f64,
    /// Accounts whose spend is above `alert_usd`.
    pub above_alert: usize,
    /// Accounts whose spend could not be read (Cost Explorer closed to them, no permission).
    pub unknown: usize,
    /// Cost Explorer requests made, and what AWS charges for them.
    pub requests: u32,
    pub requests_usd: f64,
}

impl ClassSpend {
    /// No account's figures yet.
    pub fn new(period: &SpendPeriod) -> ClassSpend {
        ClassSpend { period: period.clone(), total_usd: 0.0, above_alert: 0, unknown: 0, requests: 0, requests_usd: 0.0 }
    }

    /// Adds one account's figures (in roster order: see [`super::Tally::of`]).
    pub fn add(&mut self, account: &AccountResult) {
        match &account.spend {
            Some(spend) => {
                self.total_usd += spend.usd.unwrap_or(0.0);
                self.above_alert += usize::from(spend.above_alert);
                self.unknown += usize::from(spend.usd.is_none());
                self.requests += spend.requests;
                self.requests_usd = f64::from(self.requests) * USD_PER_REQUEST;
            }
            None => self.unknown += 1,
        }
    }
}

/// One service's part of an account's spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCost {
    pub service: String,
    pub usd: f64,
}

/// One account's spend, or why it is unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSpend {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd: Option<f64>,
    /// The largest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_service: Vec<ServiceCost>,
    /// Part of it is Cost Explorer's estimate (the current month's figures settle later).
    #[serde(default)]
    pub estimated: bool,
    #[serde(default)]
    pub above_alert: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub requests: u32,
}

impl AccountSpend {
    /// `$12.34`, with the three largest services: `$12.34 (Amazon Elastic Container Service
    /// $10.00, EC2 - Other $2.34)`; or why it is unknown.
    pub fn describe(&self) -> String {
        let Some(usd) = self.usd else { return format!("unknown: {}", self.error.as_deref().unwrap_or("not read")) };
        let parts: Vec<String> = self.by_service.iter().take(3).map(|s| format!("{} ${:.2}", s.service, s.usd)).collect();
        let more = if self.by_service.len() > 3 { ", …" } else { "" };
        if parts.is_empty() { format!("${usd:.2}") } else { format!("${usd:.2} ({}{more})", parts.join(", ")) }
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    crate::timestamp::now()[..10].to_string()
}

fn parse_date(text: &str) -> Option<DateTime> {
    if text.len() != 10 {
        return None;
    }
    DateTime::from_str(&format!("{text}T00:00:00Z"), Format::DateTime).ok()
}

/// The day after `date` (`YYYY-MM-DD`).
pub fn day_after(date: &str) -> String {
    let day = parse_date(date).expect("a date this module checked");
    DateTime::from_secs(day.secs() + 86_400).fmt(Format::DateTime).expect("dates format")[..10].to_string()
}

/// The period from `--since` (default: the first day of this month, as the billing console
/// counts) through today, with the alert. Refuses a date that is not a day of the calendar,
/// or one after today.
pub fn period(since: Option<&str>, today: &str, alert_usd: Option<f64>) -> Result<SpendPeriod, String> {
    let since = match since {
        Some(text) => {
            let Some(day) = parse_date(text) else {
                return Err(format!("--since `{text}` is not a date: give the day the course began as YYYY-MM-DD, e.g. 2026-09-01"));
            };
            if day.secs() > parse_date(today).expect("today is a date").secs() {
                return Err(format!("--since {text} is after today ({today}): nothing has been spent yet"));
            }
            text.to_string()
        }
        None => format!("{}-01", &today[..7]),
    };
    if let Some(alert) = alert_usd
        && !(alert.is_finite() && alert >= 0.0)
    {
        return Err(format!("--spend-alert {alert} is not an amount in USD (e.g. 25 or 12.50)"));
    }
    Ok(SpendPeriod { since, until: day_after(today), metric: METRIC.into(), alert_usd })
}

/// What this account has spent in the period.
pub async fn of_account(aws: &Aws, period: &SpendPeriod) -> AccountSpend {
    match aws.costs(&period.since, &period.until).await {
        Ok(costs) => {
            let usd = costs.total();
            AccountSpend {
                usd: Some(usd),
                by_service: costs.by_service.into_iter().map(|(service, usd)| ServiceCost { service, usd }).collect(),
                estimated: costs.estimated,
                above_alert: period.alert_usd.is_some_and(|alert| usd > alert),
                error: None,
                requests: costs.requests,
            }
        }
        // A failed request is billed too when AWS answered it; a guess either way, so none.
        Err(e) => AccountSpend { usd: None, by_service: Vec::new(), estimated: false, above_alert: false, error: Some(e.to_string()), requests: 1 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_runs_from_the_course_start_through_today() {
        let p = period(Some("2026-09-01"), "2026-12-03", Some(25.0)).unwrap();
        assert_eq!((p.since.as_str(), p.until.as_str(), p.metric.as_str(), p.alert_usd), ("2026-09-01", "2026-12-04", "UnblendedCost", Some(25.0)));
        assert_eq!(period(None, "2026-12-03", None).unwrap().since, "2026-12-01", "the month so far by default");
        assert_eq!(period(Some("2026-12-03"), "2026-12-03", None).unwrap().until, "2026-12-04");
        assert_eq!(day_after("2026-12-31"), "2027-01-01");
        assert_eq!(day_after("2028-02-28"), "2028-02-29");
    }

    #[test]
    fn a_date_that_is_not_a_day_or_is_still_to_come_is_refused() {
        for bad in ["2026-02-30", "2026-13-01", "1.9.2026", "2026-9-1", "", "2026-09-01T00:00:00Z"] {
            let e = period(Some(bad), "2026-12-03", None).unwrap_err();
            assert!(e.contains("is not a date") && e.contains("YYYY-MM-DD"), "{bad}: {e}");
        }
        assert!(period(Some("2026-12-04"), "2026-12-03", None).unwrap_err().contains("after today (2026-12-03)"));
        for alert in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(period(None, "2026-12-03", Some(alert)).unwrap_err().contains("--spend-alert"), "{alert}");
        }
    }

    #[test]
    fn an_account_reads_as_its_total_and_largest_services() {
        let service = |s: &str, usd| ServiceCost { service: s.into(), usd };
        let mut spend = AccountSpend {
            usd: Some(14.5),
            by_service: vec![service("Amazon Elastic Container Service", 10.0), service("EC2 - Other", 3.0), service("Amazon Virtual Private Cloud", 1.0), service("Tax", 0.5)],
            estimated: true,
            above_alert: false,
            error: None,
            requests: 1,
        };
        assert_eq!(spend.describe(), "$14.50 (Amazon Elastic Container Service $10.00, EC2 - Other $3.00, Amazon Virtual Private Cloud $1.00, …)");
        spend.by_service.clear();
        spend.usd = Some(0.0);
        assert_eq!(spend.describe(), "$0.00");
        spend.usd = None;
        spend.error = Some("missing permission `ce:GetCostAndUsage`".into());
        assert_eq!(spend.describe(), "unknown: missing permission `ce:GetCostAndUsage`");
    }
}
