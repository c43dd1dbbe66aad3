//! What `grader cohort` shows on a terminal while it works: a line per account as it
//! finishes, under a bar with accounts done / total and an estimate of the time left.

use std::time::Instant;

use super::AccountResult;
use crate::checks::Status;

pub struct Progress {
    total: usize,
    done: usize,
    started: Instant,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        Progress { total, done: 0, started: Instant::now() }
    }

    /// The account's line, then the bar again under it.
    pub fn account_done(&mut self, result: &AccountResult) -> String {
        self.done += 1;
        format!("{}{}\n{}", crate::bar::CLEAR, account_line(result), crate::bar::render(self.done, self.total, self.started.elapsed()))
    }

    /// Clears the bar once every account is done.
    pub fn finish(self) -> String {
        crate::bar::CLEAR.to_string()
    }
}

/// One finished account, e.g. `✗ Ana (111122223333): 2 leftovers, $0.05/h`, and with
/// `--spend` what it was charged, flagged past the alert.
fn account_line(r: &AccountResult) -> String {
    let spend = match &r.spend {
        Some(s) if s.above_alert => format!(" · spent {} ⚠ above the alert", s.describe()),
        Some(s) => format!(" · spent {}", s.describe()),
        None => String::new(),
    };
    verdict_line(r) + &spend
}

fn verdict_line(r: &AccountResult) -> String {
    let who = format!("{} ({})", r.label, r.account_id);
    match r.status {
        Status::Pass => format!("  ✓ {who}"),
        Status::Error => format!("  ! {who}: {}", r.error.as_deref().unwrap_or("could not be audited")),
        _ if !r.leftovers.is_empty() => format!("  ✗ {who}: {} leftover(s), ${:.3}/h", r.leftovers.len(), r.usd_per_hour),
        _ => {
            let failed = r.report.as_ref().map(|rep| rep.summary.fail + rep.summary.skip).unwrap_or(0);
            format!("  ✗ {who}: {failed} check(s) not passed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Leftover;

    fn result(status: Status) -> AccountResult {
        AccountResult {
            label: "Ana".into(),
            account_id: "111122223333".into(),
            email: None,
            sis_id: None,
            status,
            error: None,
            report: None,
            leftovers: Vec::new(),
            usd_per_hour: 0.0,
            retried: false,
            spend: None,
        }
    }

    #[test]
    fn each_account_line_says_what_an_instructor_acts_on() {
        assert_eq!(account_line(&result(Status::Pass)), "  ✓ Ana (111122223333)");
        let mut broken = result(Status::Error);
        broken.error = Some("failed to assume `arn:aws:iam::111122223333:role/audit`: AccessDenied".into());
        assert_eq!(account_line(&broken), "  ! Ana (111122223333): failed to assume `arn:aws:iam::111122223333:role/audit`: AccessDenied");
        let mut messy = result(Status::Fail);
        messy.leftovers = vec![Leftover { usd_per_hour: Some(0.0173), ..Leftover::new("ecs_service", "web", "us-east-1", vec![]) }; 2];
        messy.usd_per_hour = 0.0346;
        assert_eq!(account_line(&messy), "  ✗ Ana (111122223333): 2 leftover(s), $0.035/h");
        let service = super::super::spend::ServiceCost { service: "Amazon Elastic Container Service".into(), usd: 31.0 };
        let mut spender = result(Status::Pass);
        spender.spend = Some(super::super::spend::AccountSpend { usd: Some(31.0), by_service: vec![service], estimated: false, above_alert: true, error: None, requests: 1 });
        assert_eq!(account_line(&spender), "  ✓ Ana (111122223333) · spent $31.00 (Amazon Elastic Container Service $31.00) ⚠ above the alert");
    }

    #[test]
    fn each_finished_account_prints_its_line_above_the_redrawn_bar() {
        let mut p = Progress::new(2);
        let out = p.account_done(&result(Status::Pass));
        assert!(out.starts_with("\r\x1b[2K  ✓ Ana (111122223333)\n["), "{out:?}");
        assert!(out.ends_with("1/2 accounts") || out.contains("1/2 accounts · about"), "{out:?}");
    }
}
