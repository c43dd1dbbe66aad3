//! Cohort reports for instructors: a terminal table, JSON (`grader.cohort/v1`), CSV, JUnit
//! (one test case per learner × check) and a self-contained HTML page with a sortable table.

use std::fmt::Write;

use super::{AccountResult, CohortReport, needing_attention};
use crate::checks::Status;
use crate::report::junit::escape as xml;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CohortFormat {
    Human,
    Json,
    Csv,
    Junit,
    Html,
}

pub fn render(report: &CohortReport, format: CohortFormat) -> String {
    match format {
        CohortFormat::Human => human(report),
        CohortFormat::Json => serde_json::to_string_pretty(report).expect("cohort reports serialize") + "\n",
        CohortFormat::Csv => csv(report),
        CohortFormat::Junit => junit(report),
        CohortFormat::Html => html(report),
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

fn human(report: &CohortReport) -> String {
    let mut out = String::new();
    let label_width = report.accounts.iter().map(|a| a.label.chars().count()).max().unwrap_or(5).clamp(5, 24);
    let _ = writeln!(out, "{:<12}  {:<label_width$}  {:<6}  {:>8}  DETAILS", "ACCOUNT", "LEARNER", "STATUS", "$/HOUR");
    for a in &report.accounts {
        let label: String = a.label.chars().take(label_width).collect();
        let cost = if a.usd_per_hour > 0.0 { format!("{:.4}", a.usd_per_hour) } else { "-".into() };
        let _ = writeln!(out, "{:<12}  {label:<label_width$}  {:<6}  {cost:>8}  {}", a.account_id, a.status.as_str(), leftover_summary(a));
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
    let attention = needing_attention(report);
    if !attention.is_empty() {
        let _ = writeln!(out, "\nNeeds attention first:");
        for a in attention.iter().take(10) {
            let _ = writeln!(out, "  {} ({}): {}", a.label, a.account_id, leftover_summary(a));
            for l in &a.leftovers {
                for command in &l.teardown {
                    let _ = writeln!(out, "      {command}");
                }
            }
        }
        if attention.len() > 10 {
            let _ = writeln!(out, "  … and {} more (see --format json or html)", attention.len() - 10);
        }
    }
    out
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

fn csv(report: &CohortReport) -> String {
    let mut out = String::from("label,account_id,status,usd_per_hour,leftovers,teardown,error\n");
    for a in &report.accounts {
        let leftovers: Vec<String> = a.leftovers.iter().map(|l| format!("{} {} ({})", l.resource, l.name, l.region)).collect();
        let teardown: Vec<String> = a.leftovers.iter().flat_map(|l| l.teardown.clone()).collect();
        let _ = writeln!(
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
    }
    out
}

fn junit(report: &CohortReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"{} cohort\" tests=\"{}\">", xml(&report.lab), report.accounts.len());
    for a in &report.accounts {
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
    out
}

fn html(report: &CohortReport) -> String {
    let s = &report.summary;
    let mut rows = String::new();
    for a in &report.accounts {
        let teardown: Vec<String> = a.leftovers.iter().flat_map(|l| l.teardown.clone()).collect();
        let _ = writeln!(
            rows,
            "<tr class=\"{status}\"><td>{label}</td><td>{account}</td><td>{status}</td><td data-sort=\"{cost:.6}\">{cost_text}</td><td>{details}</td><td><code>{teardown}</code></td></tr>",
            status = a.status.as_str(),
            label = xml(&a.label),
            account = xml(&a.account_id),
            cost = a.usd_per_hour,
            cost_text = if a.usd_per_hour > 0.0 { format!("${:.4}", a.usd_per_hour) } else { "–".into() },
            details = xml(&leftover_summary(a)),
            teardown = teardown.iter().map(|t| xml(t)).collect::<Vec<_>>().join("<br>")
        );
    }
    format!(
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
</style></head><body>
<h1>Cohort audit: {lab}, step <code>{step}</code></h1>
<p>{accounts} accounts: {pass} pass, {fail} fail, {error} error. {leftovers} leftover resource(s), about <strong>${cost:.4}/hour</strong>.
Costs use {rates}. Click a column to sort.</p>
<table id="cohort"><thead><tr><th>Learner</th><th>Account</th><th>Status</th><th>$/hour</th><th>Details</th><th>Teardown</th></tr></thead>
<tbody>
{rows}</tbody></table>
<script>
document.querySelectorAll("#cohort th").forEach(function (th, col) {{
  var asc = true;
  th.addEventListener("click", function () {{
    var body = document.querySelector("#cohort tbody");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {{
      var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
      var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    }});
    asc = !asc;
    rows.forEach(function (r) {{ body.appendChild(r); }});
  }});
}});
</script>
</body></html>
"##,
        lab = xml(&report.lab),
        step = xml(&report.step),
        accounts = s.accounts,
        pass = s.pass,
        fail = s.fail,
        error = s.error,
        leftovers = s.leftovers,
        cost = s.usd_per_hour,
        rates = xml(&report.rates.source),
        rows = rows
    )
}
