//! What `grader cleanup --apply` shows while it works, read off the run's event stream: for
//! one account a line per resource as it is decided, for a class a line per account under a
//! progress bar; then the summary. `--format json` prints the result document at the end and
//! `--format ndjson` every event as it happens (`events::NdjsonReporter`).

use std::io::Write;
use std::time::Instant;

use crate::events::{AccountTally, ActionEvent, Reporter, RunEvent};

/// The human lines, on stdout (the bar, in a class, on stderr when it is a terminal).
pub struct HumanApply<W: Write + Send> {
    out: W,
    /// A class teardown: how many accounts, when it started, and the tallies so far.
    class: Option<ClassLines>,
}

struct ClassLines {
    total: usize,
    started: Instant,
    bar: bool,
    tallies: Vec<AccountTally>,
}

impl<W: Write + Send> HumanApply<W> {
    /// One account: a line per resource.
    pub fn account(out: W) -> Self {
        HumanApply { out, class: None }
    }

    /// A class of `accounts`: a line per account, and the bar when `bar` (a terminal).
    pub fn class(out: W, accounts: usize, bar: bool) -> Self {
        HumanApply { out, class: Some(ClassLines { total: accounts, started: Instant::now(), bar, tallies: Vec::new() }) }
    }
}

impl<W: Write + Send> Reporter for HumanApply<W> {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        let text = match (event, &mut self.class) {
            (RunEvent::Action(action), None) => format!("{}\n", action_line(action)),
            (RunEvent::AccountFinished(tally), None) => format!("\n{}\n", super::apply::render_tally(tally)),
            (RunEvent::AccountFinished(tally), Some(class)) => {
                class.tallies.push((*tally).clone());
                if class.bar {
                    let bar = crate::bar::render(class.tallies.len(), class.total, class.started.elapsed());
                    eprint!("{}{}\n{bar}", crate::bar::CLEAR, account_line(tally));
                    String::new()
                } else {
                    format!("{}\n", account_line(tally))
                }
            }
            (RunEvent::TeardownFinished(_), Some(class)) => {
                if class.bar {
                    eprint!("{}", crate::bar::CLEAR);
                }
                class_summary(&class.tallies, class.bar)
            }
            _ => String::new(),
        };
        if text.is_empty() {
            return Ok(());
        }
        self.out.write_all(text.as_bytes()).and_then(|_| self.out.flush()).map_err(|e| format!("failed to write: {e}"))
    }
}

/// `--format json`: the result document, once the teardown is over.
pub struct ResultDocument<W: Write + Send> {
    pub out: W,
}

impl<W: Write + Send> Reporter for ResultDocument<W> {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        if let RunEvent::TeardownFinished(result) = event {
            let text = serde_json::to_string_pretty(result).expect("results serialize");
            writeln!(self.out, "{text}").map_err(|e| format!("failed to write the result: {e}"))?;
        }
        Ok(())
    }
}

/// One resource, as the teardown goes.
pub fn action_line(a: &ActionEvent) -> String {
    let what = format!("{} `{}` in {}", a.kind.replace('_', " "), a.name, a.region);
    let why = a.why.as_deref().unwrap_or("");
    match a.outcome {
        "deleted" => format!("  ✓ deleted {what}"),
        "already_gone" => format!("  ✓ {what} was already gone"),
        "skipped" => format!("  - skipped {what}: {why}"),
        "failed" => format!("  ✗ failed to delete {what}: {why}"),
        _ => format!("  - not attempted: {what} (interrupted; apply the plan again to continue)"),
    }
}

/// One account of a class: `✓ Ana (111122223333): 5 deleted, … · stopped about $0.0173/hour`.
fn account_line(t: &AccountTally) -> String {
    let who = match &t.label {
        Some(label) => format!("{label} ({})", t.account),
        None => t.account.clone(),
    };
    match &t.error {
        Some(error) => format!("  ! {who}: nothing deleted: {error}"),
        None if t.skipped + t.failed + t.not_attempted == 0 => format!("  ✓ {who}: {}", super::apply::render_tally(t)),
        None => format!("  ✗ {who}: {}", super::apply::render_tally(t)),
    }
}

/// The closing table of a class: deleted / skipped / failed per account and what it stopped.
fn class_summary(tallies: &[AccountTally], lines_were_on_stderr: bool) -> String {
    let mut out = String::new();
    if lines_were_on_stderr {
        // The per-account lines went past with the bar; stdout gets them for the record.
        for t in tallies {
            out.push_str(&account_line(t));
            out.push('\n');
        }
    }
    let sum = |f: fn(&AccountTally) -> usize| tallies.iter().map(f).sum::<usize>();
    let unreached = tallies.iter().filter(|t| t.error.is_some()).count();
    let stopped: f64 = tallies.iter().map(|t| t.usd_per_hour_stopped).sum();
    out.push_str(&format!(
        "\n{} account(s): {} resource(s) deleted, {} already gone, {} skipped, {} failed, {} not attempted; {unreached} account(s) not reached",
        tallies.len(),
        sum(|t| t.deleted),
        sum(|t| t.already_gone),
        sum(|t| t.skipped),
        sum(|t| t.failed),
        sum(|t| t.not_attempted),
    ));
    if stopped > 0.0 {
        out.push_str(&format!(" · stopped about ${stopped:.4}/hour (${:.2}/day)", stopped * 24.0));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(label: &str, deleted: usize, failed: usize, error: Option<&str>) -> AccountTally {
        AccountTally {
            account: "111122223333".into(),
            label: Some(label.into()),
            deleted,
            failed,
            usd_per_hour_stopped: 0.0173 * deleted as f64,
            error: error.map(str::to_string),
            ..AccountTally::default()
        }
    }

    #[test]
    fn a_class_gets_a_line_per_account_and_a_summary_of_what_it_stopped() {
        let mut out = Vec::new();
        {
            let mut human = HumanApply::class(&mut out, 3, false);
            for t in [tally("Ana", 2, 0, None), tally("Bo", 1, 1, None), tally("Cy", 0, 0, Some("role cannot be assumed"))] {
                human.on_event(&RunEvent::AccountFinished(&t)).unwrap();
            }
            human.on_event(&RunEvent::TeardownFinished(&serde_json::json!({}))).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  ✓ Ana (111122223333): 2 deleted, 0 already gone, 0 skipped, 0 failed, 0 not attempted · stopped about $0.0346/hour");
        assert!(lines[1].starts_with("  ✗ Bo (111122223333): 1 deleted, 0 already gone, 0 skipped, 1 failed"), "{}", lines[1]);
        assert_eq!(lines[2], "  ! Cy (111122223333): nothing deleted: role cannot be assumed");
        assert_eq!(
            lines[4],
            "3 account(s): 3 resource(s) deleted, 0 already gone, 0 skipped, 1 failed, 0 not attempted; 1 account(s) not reached · stopped about $0.0519/hour ($1.25/day)"
        );
    }
}
