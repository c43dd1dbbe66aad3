//! The human reporter: one line per check in lab order, with expected / found / hint under
//! failures, a live line while a check waits, colour only when asked for.

use std::collections::HashMap;
use std::io::Write;

use crate::checks::Status;
use crate::events::{Reporter, RunEvent};
use crate::runner::{CheckOutcome, Event, PlannedCheck};

use super::Summary;

/// Whether to colour output: only on a terminal, and never when NO_COLOR is set.
pub fn use_colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
}

pub struct HumanReporter<W: Write> {
    out: W,
    colour: bool,
    /// Rewrite the waiting line in place (terminal) instead of printing a line per retry.
    live: bool,
    order: Vec<(String, String)>,
    step_titles: HashMap<String, String>,
    done: HashMap<String, CheckOutcome>,
    next: usize,
    current_step: Option<String>,
    live_line_shown: bool,
    summary: Summary,
    points: (u32, u32),
    /// What the leftovers found so far are billed for, to add up once at the end.
    charges: Vec<crate::pricing::Charge>,
    price_bases: Vec<String>,
}

impl<W: Write> HumanReporter<W> {
    pub fn new(out: W, colour: bool, live: bool, checks: &[PlannedCheck], step_titles: HashMap<String, String>) -> Self {
        HumanReporter {
            out,
            colour,
            live,
            order: checks.iter().map(|c| (c.step_id.clone(), c.id.clone())).collect(),
            step_titles,
            done: HashMap::new(),
            next: 0,
            current_step: None,
            live_line_shown: false,
            summary: Summary::default(),
            points: (0, 0),
            charges: Vec::new(),
            price_bases: Vec::new(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    fn clear_live_line(&mut self) {
        if self.live_line_shown {
            let _ = write!(self.out, "\r\x1b[2K");
            self.live_line_shown = false;
        }
    }

    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::Waiting { check_id, message, elapsed, limit, .. } => {
                let text = format!("  … {check_id}: {message}, waiting {}s of {}s", elapsed.as_secs(), limit.as_secs());
                if self.live {
                    self.clear_live_line();
                    let line = self.paint("2", &text);
                    let _ = write!(self.out, "{line}");
                    self.live_line_shown = true;
                } else {
                    let _ = writeln!(self.out, "{text}");
                }
            }
            Event::Finished(outcome) => {
                self.done.insert(outcome.id.clone(), (**outcome).clone());
                self.flush_in_order();
            }
            Event::Started { .. } => {}
        }
        let _ = self.out.flush();
    }

    /// Prints every finished check whose predecessors have all been printed, so output keeps
    /// the lab's order although checks finish in any order.
    fn flush_in_order(&mut self) {
        while let Some((step_id, check_id)) = self.order.get(self.next).cloned() {
            let Some(outcome) = self.done.remove(&check_id) else { break };
            self.clear_live_line();
            if self.current_step.as_deref() != Some(step_id.as_str()) {
                let title = self.step_titles.get(&step_id).cloned().unwrap_or_default();
                let header = self.paint("1", &format!("{step_id} · {title}"));
                let gap = if self.current_step.is_some() { "\n" } else { "" };
                let _ = writeln!(self.out, "{gap}{header}");
                self.current_step = Some(step_id.clone());
            }
            self.print_outcome(&outcome);
            self.next += 1;
        }
    }

    fn print_outcome(&mut self, o: &CheckOutcome) {
        self.summary.add(o.status);
        self.points.1 += o.points;
        if o.status == Status::Pass {
            self.points.0 += o.points;
        }
        for leftover in &o.leftovers {
            self.charges.extend(leftover.charges.iter().cloned());
            if let Some(basis) = leftover.price_basis.as_ref().filter(|b| !self.price_bases.contains(b)) {
                self.price_bases.push(basis.clone());
            }
        }
        let mark = match o.status {
            Status::Pass => self.paint("32", "✓"),
            Status::Fail => self.paint("31", "✗"),
            Status::Error => self.paint("33", "!"),
            Status::Skip => self.paint("2", "-"),
        };
        let _ = writeln!(self.out, "  {mark} {}  {}", o.id, o.message);
        if matches!(o.status, Status::Fail | Status::Error) {
            for (label, value) in [("expected", &o.expected), ("found", &o.found), ("hint", &o.hint)] {
                if let Some(v) = value {
                    let label = self.paint("2", &format!("{label}:"));
                    let _ = writeln!(self.out, "      {label:<width$} {v}", width = if self.colour { 9 + 8 } else { 9 });
                }
            }
        }
    }

    /// The closing line; `interrupted` when Ctrl-C stopped the run before every check decided.
    pub fn finish(&mut self, duration_ms: Option<u64>, interrupted: bool) {
        self.clear_live_line();
        if interrupted {
            // Print what was decided, even behind a check that never finished.
            let rest: Vec<(String, String)> = self.order[self.next..].to_vec();
            for (step_id, check_id) in rest {
                if let Some(outcome) = self.done.remove(&check_id) {
                    if self.current_step.as_deref() != Some(step_id.as_str()) {
                        let _ = writeln!(self.out, "\n{step_id}");
                        self.current_step = Some(step_id);
                    }
                    self.print_outcome(&outcome);
                }
            }
        }
        let decided = self.summary.pass + self.summary.fail + self.summary.error + self.summary.skip;
        let s = self.summary;
        let mut line = format!(
            "{} passed, {} failed, {} error{}, {} skipped · {}/{} points",
            s.pass,
            s.fail,
            s.error,
            if s.error == 1 { "" } else { "s" },
            s.skip,
            self.points.0,
            self.points.1
        );
        if let Some(ms) = duration_ms {
            line.push_str(&format!(" · {:.1}s", ms as f64 / 1000.0));
        }
        if interrupted {
            let undecided = self.order.len() - decided;
            line.push_str(&format!(" · interrupted, {undecided} check(s) not decided"));
        }
        let code = if s.all_passed() && !interrupted { "32;1" } else { "31;1" };
        let line = self.paint(code, &line);
        let _ = writeln!(self.out, "\n{line}");
        // Several checks may find the same billed thing (a task, and its address on its
        // interface): the total counts each once.
        let cost = crate::pricing::total(&self.charges);
        if cost > 0.0 {
            let _ = writeln!(self.out, "What is left costs about ${cost:.4}/hour in all (${:.2}/day; {}).", cost * 24.0, self.price_bases.join("; "));
        }
        let _ = self.out.flush();
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for HumanReporter<W> {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        match event {
            RunEvent::Started { .. } | RunEvent::Action(_) | RunEvent::AccountFinished(_) | RunEvent::TeardownFinished(_) | RunEvent::Selftest(_) => {}
            RunEvent::Check(e) => HumanReporter::on_event(self, e),
            RunEvent::Finished(end) => self.finish(Some(end.duration_ms), end.interrupted),
        }
        Ok(())
    }
}
