//! What `grader selftest` prints: a table row per page as it is judged (human), or one
//! `grader.selftest/v1` document at the end (json). `ndjson` is the events module's own.

use std::io::Write;

use serde_json::{Value, json};

use crate::events::{PageVerdict, Reporter, RunEvent, SelftestEvent, Tally};

/// `grader selftest --format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SelftestFormat {
    /// A row per page as it is judged, then the verdict.
    #[default]
    Human,
    /// One `grader.selftest/v1` document at the end.
    Json,
    /// Every event as a JSON line as it happens: each check run's events (as `grader check
    /// --format ndjson`), each block, each page.
    Ndjson,
}

/// The table, a row per page.
pub struct SelftestHuman<W: Write + Send> {
    out: W,
    /// On a terminal, the block that is running shows on a line that its page's row replaces
    /// (a block may wait minutes for AWS: `aws ecs wait services-stable`).
    live: bool,
    width: usize,
    pages: Vec<String>,
    done: usize,
}

impl<W: Write + Send> SelftestHuman<W> {
    pub fn new(out: W, live: bool) -> Self {
        SelftestHuman { out, live, width: 0, pages: Vec::new(), done: 0 }
    }

    /// Clears the running block's line, if one shows.
    fn clear_live_line(&mut self) -> std::io::Result<()> {
        if self.live { write!(self.out, "\r\x1b[2K") } else { Ok(()) }
    }

    fn write(&mut self, event: &SelftestEvent) -> std::io::Result<()> {
        match event {
            SelftestEvent::SelftestStarted { labs, shell, account, region, pages } => {
                self.width = pages.iter().map(|p| p.chars().count()).max().unwrap_or(0).max(4);
                self.pages = pages.clone();
                writeln!(self.out, "Selftest of {} in {shell}: account {account}, {region}, {} pages", labs.join(" then "), pages.len())?;
                writeln!(self.out, "Before: the step's checks passing before its commands (not all may pass). After: passing after (all must).\n")?;
                writeln!(self.out, "    {:<w$}  {:<10} {:>7} {:>7} {:>7} {:>8}", "page", "step", "before", "blocks", "after", "time", w = self.width)?;
            }
            SelftestEvent::BlockStarted { page, line } if self.live => {
                self.clear_live_line()?;
                write!(self.out, "  … book/{page}:{line} running")?;
            }
            SelftestEvent::BlockStarted { .. } | SelftestEvent::BlockFinished { .. } => {}
            SelftestEvent::PageFinished(page) => {
                self.clear_live_line()?;
                self.done += 1;
                let mark = if page.passed { "✓" } else { "✗" };
                let before = match (&page.before, page.before_may_pass) {
                    (Some(t), true) => format!("({})", tally(t)),
                    (Some(t), false) => tally(t),
                    (None, _) => "-".into(),
                };
                let after = page.after.as_ref().map_or_else(|| "-".into(), tally);
                let seconds = format!("{:.1} s", page.duration_ms as f64 / 1000.0);
                let step = page.step.as_deref().unwrap_or("-");
                writeln!(self.out, "  {mark} {:<w$}  {step:<10} {before:>7} {:>7} {after:>7} {seconds:>8}", page.page, page.blocks, w = self.width)?;
                if let Some(problem) = &page.problem {
                    write!(self.out, "\n{}\n", problem.lines().map(|l| format!("    {l}\n")).collect::<String>())?;
                }
            }
            SelftestEvent::SelftestFinished { passed, pages, duration_ms } => {
                let seconds = *duration_ms as f64 / 1000.0;
                if *passed {
                    writeln!(self.out, "\nEvery page behaved: {pages} pages in {seconds:.0} s.")?;
                } else {
                    let not_run = &self.pages[self.done.min(self.pages.len())..];
                    let later = match not_run.len() {
                        1 => "1 later page did not run".to_string(),
                        n => format!("{n} later pages did not run"),
                    };
                    writeln!(self.out, "\nStopped at the page marked ✗ after {seconds:.0} s; {later}.")?;
                    writeln!(
                        self.out,
                        "What the pages built so far is still in the account: run the clean-up pages' commands by hand, or \
`grader cleanup --plan FILE` then `--apply FILE` for the resources the course's own check kinds know."
                    )?;
                }
            }
        }
        self.out.flush()
    }
}

/// `passed/total`; the before column puts it in brackets for a step whose checks may pass
/// before (`creates: false`).
fn tally(t: &Tally) -> String {
    format!("{}/{}", t.passed, t.total)
}

impl<W: Write + Send> Reporter for SelftestHuman<W> {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        match event {
            RunEvent::Selftest(e) => self.write(e).map_err(|e| format!("failed to write the selftest's table: {e}")),
            _ => Ok(()),
        }
    }
}

/// `--format json`: the `grader.selftest/v1` document, written when the selftest ends.
pub struct SelftestJson<W: Write + Send> {
    out: W,
    started: Value,
    pages: Vec<PageVerdict>,
}

impl<W: Write + Send> SelftestJson<W> {
    pub fn new(out: W) -> Self {
        SelftestJson { out, started: Value::Null, pages: Vec::new() }
    }
}

impl<W: Write + Send> Reporter for SelftestJson<W> {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        match event {
            RunEvent::Selftest(started @ SelftestEvent::SelftestStarted { .. }) => self.started = serde_json::to_value(started).unwrap_or_default(),
            RunEvent::Selftest(SelftestEvent::PageFinished(page)) => self.pages.push(page.clone()),
            RunEvent::Selftest(SelftestEvent::SelftestFinished { passed, duration_ms, .. }) => {
                let all: Vec<String> = self.started["pages"].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(String::from)).collect();
                let not_run: Vec<&String> = all.iter().skip(self.pages.len()).collect();
                let document = json!({
                    "schema": "grader.selftest/v1",
                    "labs": self.started["labs"],
                    "shell": self.started["shell"],
                    "account": self.started["account"],
                    "region": self.started["region"],
                    "passed": passed,
                    "duration_ms": duration_ms,
                    "pages": self.pages,
                    "not_run": not_run,
                });
                let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
                writeln!(self.out, "{text}").map_err(|e| format!("failed to write the selftest's document: {e}"))?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str, passed: bool) -> PageVerdict {
        PageVerdict {
            lab: "ops".into(),
            page: name.into(),
            step: Some("step-1".into()),
            before: Some(Tally { passed: 0, total: 2, not_passed: vec!["a".into(), "b".into()] }),
            before_may_pass: false,
            blocks: 3,
            failed_block: None,
            after: Some(Tally { passed: if passed { 2 } else { 1 }, total: 2, not_passed: Vec::new() }),
            duration_ms: 1500,
            passed,
            problem: (!passed).then(|| "after the page's commands, 1 of 2 checks of `step-1` did not pass".into()),
        }
    }

    fn render(live: bool) -> String {
        let mut out = Vec::new();
        let mut human = SelftestHuman::new(&mut out, live);
        let pages = vec!["ops/step-1.md".to_string(), "ops/cleanup.md".to_string()];
        let started = SelftestEvent::SelftestStarted { labs: vec!["ops".into()], shell: "zsh", account: "111122223333".into(), region: "us-east-1".into(), pages };
        human.on_event(&RunEvent::Selftest(&started)).unwrap();
        human.on_event(&RunEvent::Selftest(&SelftestEvent::BlockStarted { page: "ops/step-1.md".into(), line: 7 })).unwrap();
        human.on_event(&RunEvent::Selftest(&SelftestEvent::PageFinished(page("ops/step-1.md", false)))).unwrap();
        human.on_event(&RunEvent::Selftest(&SelftestEvent::SelftestFinished { passed: false, pages: 2, duration_ms: 1500 })).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_row_per_page_the_problem_under_it_and_what_did_not_run() {
        let text = render(false);
        assert!(text.starts_with("Selftest of ops in zsh: account 111122223333, us-east-1, 2 pages"), "{text}");
        let row = text.lines().find(|l| l.starts_with("  ✗")).expect("a row for the page");
        assert_eq!(row.split_whitespace().collect::<Vec<_>>(), ["✗", "ops/step-1.md", "step-1", "0/2", "3", "1/2", "1.5", "s"]);
        assert!(text.contains("    after the page's commands, 1 of 2 checks"), "{text}");
        assert!(text.contains("1 later page did not run"), "{text}");
        assert!(!text.contains("running"), "no live line off a terminal: {text}");
    }

    #[test]
    fn on_a_terminal_the_running_block_shows_until_its_page_s_row_replaces_it() {
        let text = render(true);
        let running = text.find("  … book/ops/step-1.md:7 running").expect("the running block shows");
        let cleared = text[running..].find("\r\x1b[2K").expect("then its line is cleared") + running;
        assert!(text[cleared..].contains("  ✗ ops/step-1.md"), "{text:?}");
    }
}
