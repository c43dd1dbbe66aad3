//! Cohort reports for instructors: a terminal table, JSON (`grader.cohort/v1`), CSV, JUnit
//! (one test case per learner × check), a self-contained HTML page with a sortable table,
//! and a gradebook CSV for an LMS to import. Each is written as the accounts are read back
//! from the audit's store, one at a time: a class's report is never whole in memory.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io;

use super::spend::{AccountSpend, ClassSpend};
use super::{AccountResult, CohortReport, needing_attention};
use crate::checks::Status;
use crate::report::undecided_checks;
use crate::report::junit::escape as xml;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CohortFormat {
    Human,
    Json,
    Csv,
    Junit,
    Html,
    /// One row per learner, one column of points per step, for an LMS gradebook import.
    Gradebook,
}

/// Writes the report in this format to `out`.
pub fn write(report: &CohortReport, format: CohortFormat, out: &mut dyn io::Write) -> io::Result<()> {
    let mut sink = Sink::new(out);
    match format {
        CohortFormat::Human => human(&mut sink, report),
        CohortFormat::Json => {
            if let Err(e) = serde_json::to_writer_pretty(&mut sink.out, report) {
                sink.error.get_or_insert(e.into());
            }
            sink.push_str("\n");
        }
        CohortFormat::Csv => csv(&mut sink, report),
        CohortFormat::Junit => junit(&mut sink, report),
        CohortFormat::Html => html(&mut sink, report),
        CohortFormat::Gradebook => gradebook(&mut sink, report),
    }
    sink.finish()
}

/// The report in this format, as text (tests).
#[cfg(test)]
pub fn render(report: &CohortReport, format: CohortFormat) -> String {
    let mut out = Vec::new();
    write(report, format, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("reports are text")
}

/// Text written through a buffer to the report's destination. `write!` into it cannot fail:
/// the first I/O error is kept (and later writes skipped) for [`Sink::finish`] to return.
pub(super) struct Sink<'a> {
    out: io::BufWriter<&'a mut dyn io::Write>,
    error: Option<io::Error>,
}

impl<'a> Sink<'a> {
    fn new(out: &'a mut dyn io::Write) -> Sink<'a> {
        Sink { out: io::BufWriter::with_capacity(64 * 1024, out), error: None }
    }

    pub(super) fn push_str(&mut self, text: &str) {
        let _ = self.write_str(text);
    }

    fn finish(mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => io::Write::flush(&mut self.out),
        }
    }
}

impl std::fmt::Write for Sink<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        if self.error.is_none() {
            if let Err(e) = io::Write::write_all(&mut self.out, text.as_bytes()) {
                self.error = Some(e);
            }
        }
        Ok(())
    }
}

/// `1 pt`, `3 pts`.
fn points(n: u32) -> String {
    if n == 1 { "1 pt".into() } else { format!("{n} pts") }
}

/// Points earned per step id; a step missing from the map could not be decided (the account
/// was not audited, or one of the step's checks has an unknown verdict).
pub fn decided_points(a: &AccountResult) -> BTreeMap<&str, u32> {
    let Some(r) = &a.report else { return BTreeMap::new() };
    let undecided = undecided_checks(&r.steps);
    r.steps.iter().filter(|s| !s.checks.iter().any(|c| undecided.contains(c.id.as_str()))).map(|s| (s.id.as_str(), s.points.earned)).collect()
}

/// The gradebook: `label`, then `email` and `sis_id` when the roster gave any, one column per
/// step headed `step-4 (1 pt)`, `total (N pts)` and `notes`. An undecided step is an empty
/// cell, never 0, so an LMS does not record a zero for what nobody could check; the total of
/// a learner with any undecided step is empty too, and `notes` says why. No comment lines:
/// LMS importers take every line for a row.
fn gradebook(sink: &mut Sink<'_>, report: &CohortReport) {
    let (mut with_email, mut with_sis_id) = (false, false);
    for a in report.accounts.iter() {
        with_email |= a.email.is_some();
        with_sis_id |= a.sis_id.is_some();
    }
    let possible: u32 = report.steps.iter().map(|s| s.possible).sum();
    let mut header = vec!["label".to_string()];
    header.extend(with_email.then(|| "email".to_string()));
    header.extend(with_sis_id.then(|| "sis_id".to_string()));
    header.extend(report.steps.iter().map(|s| format!("{} ({})", s.id, points(s.possible))));
    header.push(format!("total ({})", points(possible)));
    if let Some(spend) = &report.spend {
        header.push(format!("spent since {} (USD)", spend.period.since));
    }
    header.push("notes".into());
    let mut out = csv::Writer::from_writer(&mut sink.out);
    let mut result = out.write_record(&header);
    for a in report.accounts.iter() {
        let earned = decided_points(&a);
        let mut row = vec![a.label.clone()];
        if with_email {
            row.push(a.email.clone().unwrap_or_default());
        }
        if with_sis_id {
            row.push(a.sis_id.clone().unwrap_or_default());
        }
        let cells: Vec<Option<u32>> = report.steps.iter().map(|s| earned.get(s.id.as_str()).copied()).collect();
        row.extend(cells.iter().map(|c| c.map(|p| p.to_string()).unwrap_or_default()));
        let total: Option<u32> = cells.iter().copied().sum();
        row.push(total.map(|t| t.to_string()).unwrap_or_default());
        let mut notes: Vec<String> = a.error.iter().cloned().collect();
        if report.spend.is_some() {
            let spend = a.spend.as_ref();
            row.push(spend.and_then(|s| s.usd).map(|usd| format!("{usd:.2}")).unwrap_or_default());
            if let Some(s) = spend.filter(|s| s.usd.is_none() || s.above_alert) {
                notes.push(format!("{}spend {}", if s.above_alert { "above the alert: " } else { "" }, s.describe()));
            }
        }
        row.push(notes.join("; "));
        result = result.and_then(|()| out.write_record(&row));
    }
    if let Err(e) = result.and_then(|()| out.flush().map_err(csv::Error::from)) {
        drop(out);
        sink.error.get_or_insert(e.into());
    }
}

/// One line naming what an account left behind, e.g. `ecs_service web-nginx (us-east-1)`.
fn leftover_summary(a: &AccountResult) -> String {
    if let Some(e) = &a.error {
        return e.clone();
    }
    let mut items: Vec<String> = a.leftovers.iter().map(|l| format!("{} {} ({})", l.resource, l.name, l.region)).collect();
    items.dedup();
    if items.is_empty() {
        let failing: Vec<String> = a.report.iter().flat_map(|r| &r.steps).flat_map(|s| &s.checks).filter(|c| c.status != Status::Pass).map(|c| c.id.clone()).collect();
        return failing.join(", ");
    }
    items.join(", ")
}

fn human(out: &mut Sink<'_>, report: &CohortReport) {
    let label_width = report.accounts.iter().map(|a| a.label.chars().count()).max().unwrap_or(5).clamp(5, 24);
    // With --spend, a column of what each account was charged (`!` past the alert).
    let spent_header = if report.spend.is_some() { format!("  {:>10}", "SPENT") } else { String::new() };
    let _ = writeln!(out, "{:<12}  {:<label_width$}  {:<6}  {:>8}{spent_header}  DETAILS", "ACCOUNT", "LEARNER", "STATUS", "$/HOUR");
    for a in report.accounts.iter() {
        let label: String = a.label.chars().take(label_width).collect();
        let cost = if a.usd_per_hour > 0.0 { format!("{:.4}", a.usd_per_hour) } else { "-".into() };
        let spent = match (&report.spend, &a.spend) {
            (None, _) => String::new(),
            (Some(_), Some(AccountSpend { usd: Some(usd), above_alert, .. })) => format!("  {:>10}", format!("{}${usd:.2}", if *above_alert { "! " } else { "" })),
            (Some(_), _) => format!("  {:>10}", "?"),
        };
        let _ = writeln!(out, "{:<12}  {label:<label_width$}  {:<6}  {cost:>8}{spent}  {}", a.account_id, a.status.as_str(), leftover_summary(&a));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{} accounts: {} pass, {} fail, {} error · {} leftover resource(s) costing about ${:.4}/hour · {:.1}s",
        s.accounts,
        s.pass,
        s.fail,
        s.error,
        s.leftovers,
        s.usd_per_hour,
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "Costs use {}.", report.rates.source);
    if let Some(spend) = &report.spend {
        human_spend(out, report, spend);
    }
    let (attention, needing) = needing_attention(report, 10);
    if !attention.is_empty() {
        let _ = writeln!(out, "\nNeeds attention first:");
        for a in &attention {
            let _ = writeln!(out, "  {} ({}): {}", a.label, a.account_id, leftover_summary(a));
            for l in &a.leftovers {
                for command in &l.teardown {
                    let _ = writeln!(out, "      {command}");
                }
            }
        }
        if needing > attention.len() {
            let _ = writeln!(out, "  … and {} more (see --format json or html)", needing - attention.len());
        }
    }
}

/// The class's spend: the total and period, then the accounts past the alert and those whose
/// spend could not be read, each with why.
fn human_spend(out: &mut Sink<'_>, report: &CohortReport, spend: &ClassSpend) {
    let p = &spend.period;
    // What is listed below, in one reading of the store: (label, account, spend).
    let mut estimated = "";
    let mut above: Vec<(String, String, AccountSpend)> = Vec::new();
    let mut unknown: Vec<(String, String, AccountSpend)> = Vec::new();
    for a in report.accounts.iter() {
        let Some(s) = a.spend else { continue };
        if s.estimated {
            estimated = ", partly estimated";
        }
        if s.above_alert {
            above.push((a.label, a.account_id, s));
        } else if s.usd.is_none() {
            unknown.push((a.label, a.account_id, s));
        }
    }
    let _ = writeln!(
        out,
        "\nSpent from {} to {} ({}, before credits{estimated}): ${:.2} across the class. {} Cost Explorer request(s), ${:.2}.",
        p.since,
        p.until,
        p.metric,
        spend.total_usd,
        spend.requests,
        spend.requests_usd
    );
    if let Some(alert) = p.alert_usd {
        let _ = writeln!(out, "{} account(s) above the ${alert:.2} alert (marked !):", spend.above_alert);
        above.sort_by(|(_, _, a), (_, _, b)| spent(b).partial_cmp(&spent(a)).unwrap_or(std::cmp::Ordering::Equal));
        for (label, account_id, s) in &above {
            let _ = writeln!(out, "  {label} ({account_id}): {}", s.describe());
        }
    }
    if !unknown.is_empty() {
        let _ = writeln!(out, "Spend unknown for {} account(s):", unknown.len());
        for (label, account_id, s) in &unknown {
            let _ = writeln!(out, "  {label} ({account_id}): {}", s.describe());
        }
    }
}

/// A spend for sorting (unknown last).
fn spent(s: &AccountSpend) -> f64 {
    s.usd.unwrap_or(-1.0)
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

fn csv(out: &mut Sink<'_>, report: &CohortReport) {
    out.push_str("label,account_id,status,usd_per_hour,leftovers,teardown,error");
    // With --spend only, so the columns of an audit without it stay as they were.
    if report.spend.is_some() {
        out.push_str(",spend_usd,spend_above_alert,spend_by_service");
    }
    out.push_str("\n");
    for a in report.accounts.iter() {
        let leftovers: Vec<String> = a.leftovers.iter().map(|l| format!("{} {} ({})", l.resource, l.name, l.region)).collect();
        let teardown: Vec<String> = a.leftovers.iter().flat_map(|l| l.teardown.clone()).collect();
        let _ = write!(
            out,
            "{},{},{},{:.4},{},{},{}",
            csv_cell(&a.label),
            a.account_id,
            a.status.as_str(),
            a.usd_per_hour,
            csv_cell(&leftovers.join("; ")),
            csv_cell(&teardown.join("; ")),
            csv_cell(a.error.as_deref().unwrap_or(""))
        );
        if report.spend.is_some() {
            let (usd, above, services) = match &a.spend {
                Some(s @ AccountSpend { usd: Some(usd), .. }) => {
                    let services: Vec<String> = s.by_service.iter().map(|c| format!("{} {:.2}", c.service, c.usd)).collect();
                    (format!("{usd:.2}"), s.above_alert.to_string(), services.join("; "))
                }
                Some(s) => (String::new(), String::new(), s.describe()),
                None => Default::default(),
            };
            let _ = write!(out, ",{usd},{above},{}", csv_cell(&services));
        }
        out.push_str("\n");
    }
}

fn junit(out: &mut Sink<'_>, report: &CohortReport) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"{} cohort\" tests=\"{}\">", xml(&report.lab), report.accounts.len());
    for a in report.accounts.iter() {
        let name = xml(&format!("{} ({})", a.label, a.account_id));
        match &a.report {
            None => {
                let _ = writeln!(out, "  <testsuite name=\"{name}\" tests=\"1\" errors=\"1\">");
                let _ = writeln!(out, "    <testcase classname=\"{}\" name=\"access\"><error message=\"{}\"/></testcase>", xml(&a.account_id), xml(a.error.as_deref().unwrap_or("")));
            }
            Some(r) => {
                let checks: Vec<_> = r.steps.iter().flat_map(|s| s.checks.iter().map(move |c| (s, c))).collect();
                let _ = writeln!(out, "  <testsuite name=\"{name}\" tests=\"{}\">", checks.len());
                for (step, c) in checks {
                    let _ = write!(out, "    <testcase classname=\"{}.{}\" name=\"{}\"", xml(&a.account_id), xml(&step.id), xml(&c.id));
                    let _ = match c.status {
                        Status::Pass => writeln!(out, "/>"),
                        Status::Fail => writeln!(out, "><failure message=\"{}\"/></testcase>", xml(&c.message)),
                        Status::Error => writeln!(out, "><error message=\"{}\"/></testcase>", xml(&c.message)),
                        Status::Skip => writeln!(out, "><skipped message=\"{}\"/></testcase>", xml(&c.message)),
                    };
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
}

/// The HTML anchors of the accounts' sections, in roster order: `acct-ACCOUNT_ID`, and for a
/// roster listing an account twice `acct-ACCOUNT_ID-2` for the second, so every link lands on
/// its own row's section. The rows and the sections each count afresh, in the same order.
#[derive(Default)]
struct Anchors {
    seen: BTreeMap<String, usize>,
}

impl Anchors {
    fn next(&mut self, account_id: &str) -> String {
        let n = self.seen.entry(account_id.to_string()).or_default();
        *n += 1;
        let id: String = account_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        if *n == 1 { format!("acct-{id}") } else { format!("acct-{id}-{n}") }
    }
}

/// One account's section of the HTML report: why it could not be audited, or each check that
/// did not pass with what was expected and found.
fn account_section(out: &mut Sink<'_>, a: &AccountResult, anchor: &str) {
    let _ = writeln!(out, "<section id=\"{anchor}\"><h3>{} <small>{}</small> <span class=\"{status}\">{status}</span></h3>", xml(&a.label), xml(&a.account_id), status = a.status.as_str());
    let mut items = Vec::new();
    if let Some(e) = &a.error {
        items.push(format!("<li><strong>could not be decided:</strong> {}</li>", xml(e)));
    }
    for step in a.report.iter().flat_map(|r| &r.steps) {
        for c in step.checks.iter().filter(|c| c.status != Status::Pass) {
            let mut item = format!("<li><code>{}</code> / <code>{}</code> <em>{}</em>: {}", xml(&step.id), xml(&c.id), c.status.as_str(), xml(&c.message));
            if let (Some(expected), Some(found)) = (&c.expected, &c.found) {
                let _ = write!(item, " (expected {}, found {})", xml(expected), xml(found));
            }
            if let Some(hint) = &c.hint {
                let _ = write!(item, "<br><small>hint: {}</small>", xml(hint));
            }
            item.push_str("</li>");
            items.push(item);
        }
    }
    if items.is_empty() {
        out.push_str("<p>Nothing failed.</p>\n");
    } else {
        let _ = writeln!(out, "<ul>\n{}\n</ul>", items.join("\n"));
    }
    out.push_str("</section>\n");
}

fn html(out: &mut Sink<'_>, report: &CohortReport) {
    let s = &report.summary;
    // Costs and teardown commands mean something for clean-up steps only.
    let cleanup = report.step == "cleanup";
    let columns = if cleanup { "<th>$/hour</th><th>Details</th><th>Teardown</th>" } else { "<th>Details</th>" };
    let (spent_column, spent_summary) = match &report.spend {
        None => ("", String::new()),
        Some(spend) => {
            let p = &spend.period;
            let alert = p.alert_usd.map(|a| format!(" {} above the <strong>${a:.2}</strong> alert (⚠).", spend.above_alert)).unwrap_or_default();
            let unknown = if spend.unknown > 0 { format!(" {} unknown.", spend.unknown) } else { String::new() };
            (
                "<th>Spent</th>",
                format!(
                    "<p>Spent from <time datetime=\"{since}\">{since}</time> to <time datetime=\"{until}\">{until}</time> ({metric}, before credits): <strong>${total:.2}</strong>.{alert}{unknown} {requests} Cost Explorer request(s), ${cost:.2}.</p>\n",
                    since = xml(&p.since),
                    until = xml(&p.until),
                    metric = xml(&p.metric),
                    total = spend.total_usd,
                    requests = spend.requests,
                    cost = spend.requests_usd,
                ),
            )
        }
    };
    let _ = write!(
        out,
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{lab} · cohort audit</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.4em 0.6em; text-align: left; vertical-align: top; }}
th {{ cursor: pointer; background: #f3f5f8; user-select: none; }}
th::after {{ content: " ↕"; opacity: 0.4; }}
tr.fail td:nth-child(3) {{ color: #c0392b; font-weight: bold; }}
tr.error td:nth-child(3) {{ color: #b7791f; font-weight: bold; }}
tr.pass td:nth-child(3) {{ color: #2e7d32; }}
code {{ font-size: 0.85em; }}
.meta {{ color: #555; }}
section {{ border-top: 1px solid #ddd; padding-top: 0.3em; }}
section:target {{ background: #fffbe6; }}
.over {{ color: #a61b0f; }}
span.fail {{ color: #c0392b; }} span.error {{ color: #b7791f; }} span.pass {{ color: #2e7d32; }}
{progress_css}
</style></head><body>
<h1>Cohort audit: {lab}, step <code>{step}</code></h1>
<p class="meta">Audited <time datetime="{started_at}">{started_at}</time> (UTC) · lab <code>{lab}</code> format {lab_format}, content <code>{lab_digest}</code> · grader {grader_version}</p>
<p>{accounts} accounts: {pass} pass, {fail} fail, {error} error. {leftovers} leftover resource(s), about <strong>${cost:.4}/hour</strong>.
Costs use {rates}. Click a column to sort.</p>
{spent_summary}"##,
        lab = xml(&report.lab),
        step = xml(&report.step),
        accounts = s.accounts,
        pass = s.pass,
        fail = s.fail,
        error = s.error,
        leftovers = s.leftovers,
        cost = s.usd_per_hour,
        rates = xml(&report.rates.source),
        progress_css = super::html_progress::CSS,
        spent_summary = spent_summary,
        started_at = xml(&report.started_at),
        lab_format = report.lab_format_version,
        lab_digest = xml(&report.lab_digest),
        grader_version = xml(&report.grader_version),
    );
    super::html_progress::render(out, report);
    let _ = write!(out, r##"<h2>Accounts</h2>
<table id="cohort" class="sortable"><thead><tr><th>Learner</th><th>Account</th><th>Status</th>{spent_column}{columns}</tr></thead>
<tbody>
"##);
    let mut anchors = Anchors::default();
    for a in report.accounts.iter() {
        let anchor = anchors.next(&a.account_id);
        let teardown: Vec<String> = a.leftovers.iter().flat_map(|l| l.teardown.clone()).collect();
        let money = if cleanup {
            format!(
                "<td data-sort=\"{cost:.6}\">{cost_text}</td><td>{details}</td><td><code>{teardown}</code></td>",
                cost = a.usd_per_hour,
                cost_text = if a.usd_per_hour > 0.0 { format!("${:.4}", a.usd_per_hour) } else { "–".into() },
                details = xml(&leftover_summary(&a)),
                teardown = teardown.iter().map(|t| xml(t)).collect::<Vec<_>>().join("<br>")
            )
        } else {
            format!("<td>{}</td>", xml(&leftover_summary(&a)))
        };
        let spent = match (&report.spend, &a.spend) {
            (None, _) => String::new(),
            (Some(_), Some(s @ AccountSpend { usd: Some(usd), .. })) => {
                // Past the alert: a symbol and words as well as the colour.
                let flag = if s.above_alert { " <strong class=\"over\">⚠ above alert</strong>" } else { "" };
                format!("<td data-sort=\"{usd:.6}\" title=\"{}\">${usd:.2}{flag}</td>", xml(&s.describe()))
            }
            (Some(_), s) => format!("<td data-sort=\"-1\">unknown<br><small>{}</small></td>", xml(s.as_ref().and_then(|s| s.error.as_deref()).unwrap_or("not read"))),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{status}\"><td><a href=\"#{anchor}\">{label}</a></td><td>{account}</td><td>{status}</td>{spent}{money}</tr>",
            status = a.status.as_str(),
            label = xml(&a.label),
            account = xml(&a.account_id),
        );
    }
    out.push_str("</tbody></table>\n<h2>Per account</h2>\n");
    let mut anchors = Anchors::default();
    for a in report.accounts.iter() {
        account_section(out, &a, &anchors.next(&a.account_id));
    }
    out.push_str(HTML_SCRIPT);
}

/// The end of the HTML page: the script that sorts a table by the column clicked.
const HTML_SCRIPT: &str = r##"<script>
document.querySelectorAll("table.sortable").forEach(function (table) {
 table.querySelectorAll("th").forEach(function (th, col) {
  var asc = true;
  th.addEventListener("click", function () {
    var body = table.querySelector("tbody");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
      var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    asc = !asc;
    rows.forEach(function (r) { body.appendChild(r); });
  });
 });
});
</script>
</body></html>
"##;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::cohort::store::Accounts;

    /// A recorded `--all` report of three learners: one who finished, one with a failed step
    /// and a step the audit could not decide (an error, and a check skipped behind it), and
    /// one whose role could not be assumed.
    const RECORDED: &str = r#"{
      "schema": "grader.cohort/v1", "lab": "fargate-nginx", "lab_format_version": 1, "lab_digest": "0123456789abcdef",
      "grader_version": "0.9.0", "started_at": "2025-03-01T14:05:09Z", "step": "all",
      "steps": [{"id": "step-1", "title": "Cluster", "possible": 1}, {"id": "step-2", "title": "Service", "possible": 3}],
      "duration_ms": 1200,
      "accounts": [
        {"label": "Doe, Jane", "account_id": "111122223333", "email": "jane@example.edu", "sis_id": "S-1", "status": "pass", "leftovers": [], "usd_per_hour": 0.0,
         "report": {"schema": "grader.report/v1", "lab": "fargate-nginx", "account": "111122223333", "region": "us-east-1", "duration_ms": 5,
           "summary": {"pass": 3, "fail": 0, "error": 0, "skip": 0},
           "steps": [
             {"id": "step-1", "title": "Cluster", "status": "pass", "points": {"earned": 1, "possible": 1}, "checks": [
               {"id": "cluster", "kind": "ecs_cluster", "title": "c", "status": "pass", "message": "ok", "duration_ms": 1}]},
             {"id": "step-2", "title": "Service", "status": "pass", "points": {"earned": 3, "possible": 3}, "checks": [
               {"id": "service", "kind": "ecs_service", "title": "s", "status": "pass", "message": "ok", "duration_ms": 1},
               {"id": "web", "kind": "http", "title": "w", "status": "pass", "message": "ok", "duration_ms": 1}]}]}},
        {"label": "Bob \"B\"", "account_id": "444455556666", "email": "bob@example.edu", "status": "error", "error": "service: throttled", "leftovers": [], "usd_per_hour": 0.0,
         "report": {"schema": "grader.report/v1", "lab": "fargate-nginx", "account": "444455556666", "region": "us-east-1", "duration_ms": 5,
           "summary": {"pass": 0, "fail": 1, "error": 1, "skip": 1},
           "steps": [
             {"id": "step-1", "title": "Cluster", "status": "fail", "points": {"earned": 0, "possible": 1}, "checks": [
               {"id": "cluster", "kind": "ecs_cluster", "title": "c", "status": "fail", "message": "no cluster", "expected": "ACTIVE", "found": "none", "hint": "create it", "duration_ms": 1}]},
             {"id": "step-2", "title": "Service", "status": "error", "points": {"earned": 0, "possible": 3}, "checks": [
               {"id": "service", "kind": "ecs_service", "title": "s", "status": "error", "message": "throttled", "duration_ms": 1},
               {"id": "web", "kind": "http", "title": "w", "status": "skip", "message": "skipped: `service` did not pass (error)", "duration_ms": 0}]}]}},
        {"label": "carol", "account_id": "777788889999", "status": "error", "error": "role `arn:aws:iam::777788889999:role/audit` cannot be assumed", "leftovers": [], "usd_per_hour": 0.0}
      ],
      "summary": {"accounts": 3, "pass": 1, "fail": 0, "error": 2, "leftovers": 0, "usd_per_hour": 0.0},
      "rates": {"source": "test rates", "fargate_vcpu_hour": 0.04, "fargate_gb_hour": 0.004, "public_ipv4_hour": 0.005}
    }"#;

    fn recorded() -> CohortReport {
        serde_json::from_str(RECORDED).expect("the recorded report parses")
    }

    fn rows(text: &str) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
    }

    #[test]
    fn the_gradebook_has_a_row_per_learner_and_leaves_undecided_steps_empty() {
        let text = render(&recorded(), CohortFormat::Gradebook);
        assert!(!text.lines().any(|l| l.starts_with('#')), "no comment lines: {text}");
        let rows = rows(&text);
        assert_eq!(rows[0], ["label", "email", "sis_id", "step-1 (1 pt)", "step-2 (3 pts)", "total (4 pts)", "notes"]);
        assert_eq!(rows[1], ["Doe, Jane", "jane@example.edu", "S-1", "1", "3", "4", ""]);
        // A failed step is a decided 0; the errored step and so the total stay empty.
        assert_eq!(rows[2], ["Bob \"B\"", "bob@example.edu", "", "0", "", "", "service: throttled"]);
        assert_eq!(rows[3], ["carol", "", "", "", "", "", "role `arn:aws:iam::777788889999:role/audit` cannot be assumed"]);
        assert_eq!(rows.len(), 4);
        assert!(text.contains("\"Doe, Jane\"") && text.contains("\"Bob \"\"B\"\"\""), "quoted by the csv writer: {text}");
    }

    #[test]
    fn the_gradebook_leaves_out_roster_columns_nobody_filled_and_serves_one_step() {
        let mut report = recorded();
        let mut accounts = report.accounts.to_vec();
        for a in &mut accounts {
            a.email = None;
            a.sis_id = None;
        }
        report.accounts = Accounts::held(accounts);
        report.steps.truncate(1);
        report.step = "step-1".into();
        let rows = rows(&render(&report, CohortFormat::Gradebook));
        assert_eq!(rows[0], ["label", "step-1 (1 pt)", "total (1 pt)", "notes"]);
        assert_eq!(rows[1], ["Doe, Jane", "1", "1", ""]);
        assert_eq!(rows[2][..3], ["Bob \"B\"", "0", "0"], "step-1 was decided for Bob");
    }

    #[test]
    fn a_skip_behind_a_failure_is_decided_and_one_behind_an_error_is_not() {
        let report = recorded();
        let bob = &report.accounts.get(1).report.unwrap().steps;
        assert_eq!(undecided_checks(bob), BTreeSet::from(["service", "web"]));
        let mut steps = bob.clone();
        steps[1].checks[0].status = Status::Fail;
        steps[1].checks[1].message = "skipped: `service` did not pass (fail)".into();
        assert!(undecided_checks(&steps).is_empty());
    }

    #[test]
    fn the_html_states_when_and_what_and_links_each_row_to_its_section() {
        let mut report = recorded();
        // A roster listing an account twice still gets one section per row.
        let mut accounts = report.accounts.to_vec();
        accounts.push(accounts[2].clone());
        report.accounts = Accounts::held(accounts);
        let html = render(&report, CohortFormat::Html);
        assert!(html.contains("<time datetime=\"2025-03-01T14:05:09Z\">"), "{html}");
        assert!(html.contains("lab <code>fargate-nginx</code> format 1, content <code>0123456789abcdef</code> · grader 0.9.0"), "{html}");
        for anchor in ["acct-111122223333", "acct-444455556666", "acct-777788889999", "acct-777788889999-2"] {
            assert_eq!(html.matches(&format!("<a href=\"#{anchor}\">")).count(), 1, "{anchor}");
            assert_eq!(html.matches(&format!("<section id=\"{anchor}\">")).count(), 1, "{anchor}");
        }
        let bob = html.split("<section id=\"acct-444455556666\">").nth(1).unwrap().split("</section>").next().unwrap();
        assert!(bob.contains("<code>cluster</code> <em>fail</em>: no cluster (expected ACTIVE, found none)") && bob.contains("hint: create it"), "{bob}");
        assert!(bob.contains("<code>web</code> <em>skip</em>"), "{bob}");
        assert!(html.contains("Nothing failed."));
    }
}
