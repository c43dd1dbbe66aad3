//! The top of the cohort HTML page: where the class is. A learner × step grid (a symbol and a
//! word in every cell, so it reads without colour; sortable by progress), the funnel as an
//! inline SVG chart (labelled bars, no JavaScript, with a text description), and the checks
//! most learners fail with the finding most of them share.

use std::fmt::Write;

use super::funnel::ClassProgress;
use super::output::Sink;
use super::{AccountResult, CohortReport};
use crate::checks::Status;
use crate::report::junit::escape as xml;

/// The styles of what [`render`] writes.
pub const CSS: &str = "table.grid td.cell { white-space: nowrap; } \
td.pass-cell { background: #e8f5e9; } td.fail-cell { background: #fdecea; } td.error-cell { background: #fff4e0; } \
svg.funnel text { font: 13px system-ui, sans-serif; fill: #222; } svg.funnel rect.bar { fill: #2e6db4; } svg.funnel rect.track { fill: #e6e9ef; }";

/// The funnel, the failing checks and the grid (a row per account, as the store is read).
pub(super) fn render(out: &mut Sink<'_>, report: &CohortReport) {
    out.push_str("<h2>Where the class is</h2>\n");
    out.push_str(&funnel_svg(&report.progress, report.summary.accounts));
    out.push_str(&failing_checks(&report.progress, report.summary.accounts));
    grid(out, report);
}

/// A cell's symbol and word for a step's status.
fn cell(status: Option<Status>) -> (&'static str, &'static str, &'static str) {
    match status {
        Some(Status::Pass) => ("✓", "passed", "pass-cell"),
        Some(Status::Fail) => ("✗", "failed", "fail-cell"),
        Some(Status::Skip) => ("–", "not reached", "fail-cell"),
        Some(Status::Error) => ("!", "could not grade", "error-cell"),
        None => ("?", "not audited", "error-cell"),
    }
}

fn grid(out: &mut Sink<'_>, report: &CohortReport) {
    out.push_str("<h3>Learners by step</h3>\n<table class=\"grid sortable\" id=\"grid\"><thead><tr><th>Learner</th><th>Steps passed</th>");
    for step in &report.steps {
        let _ = write!(out, "<th title=\"{}\">{}</th>", xml(&step.title), xml(&step.id));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for account in report.accounts.iter() {
        let statuses: Vec<Option<Status>> = report.steps.iter().map(|s| step_status(&account, &s.id)).collect();
        let passed = statuses.iter().filter(|s| **s == Some(Status::Pass)).count();
        let _ = write!(out, "<tr><td>{}</td><td data-sort=\"{passed}\">{passed} of {}</td>", xml(&account.label), report.steps.len());
        for status in statuses {
            let (symbol, word, class) = cell(status);
            let _ = write!(out, "<td class=\"cell {class}\">{symbol} {word}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn step_status(account: &AccountResult, step: &str) -> Option<Status> {
    account.report.as_ref()?.steps.iter().find(|s| s.id == step).map(|s| s.status)
}

/// One labelled bar a step: how many learners passed it, of the class.
fn funnel_svg(progress: &ClassProgress, accounts: usize) -> String {
    let (label_width, bar_width, row) = (220, 360, 26);
    let height = row * progress.steps.len() + 10;
    let total = accounts.max(1);
    let mut description = Vec::new();
    let mut bars = String::new();
    for (i, step) in progress.steps.iter().enumerate() {
        let y = 5 + i * row;
        let filled = bar_width * step.passed / total;
        let words = format!("{} of {accounts} passed", step.passed);
        let mut extra = Vec::new();
        if step.failed > 0 {
            extra.push(format!("{} failed", step.failed));
        }
        if step.undecided > 0 {
            extra.push(format!("{} could not be graded", step.undecided));
        }
        if step.not_audited > 0 {
            extra.push(format!("{} not audited", step.not_audited));
        }
        let tail = if extra.is_empty() { String::new() } else { format!(" ({})", extra.join(", ")) };
        description.push(format!("{}: {words}{tail}", step.step));
        let _ = write!(
            bars,
            "<text x=\"0\" y=\"{ty}\">{step}</text><rect class=\"track\" x=\"{label_width}\" y=\"{y}\" width=\"{bar_width}\" height=\"18\"/>\
<rect class=\"bar\" x=\"{label_width}\" y=\"{y}\" width=\"{filled}\" height=\"18\"/><text x=\"{tx}\" y=\"{ty}\">{words}</text>\n",
            ty = y + 14,
            step = xml(&step.step),
            tx = label_width + bar_width + 8,
        );
    }
    format!(
        "<h3>How far the class got</h3>\n<svg class=\"funnel\" role=\"img\" aria-labelledby=\"funnel-title funnel-desc\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
<title id=\"funnel-title\">Learners who passed each step</title><desc id=\"funnel-desc\">{desc}</desc>\n{bars}</svg>\n",
        w = label_width + bar_width + 190,
        desc = xml(&description.join("; ")),
    )
}

fn failing_checks(progress: &ClassProgress, accounts: usize) -> String {
    if progress.failing_checks.is_empty() {
        return "<p>No check fails for any learner.</p>\n".into();
    }
    let mut out = String::from("<h3>Where learners are stuck</h3>\n<table class=\"sortable\" id=\"stuck\"><thead><tr><th>Learners</th><th>Step</th><th>Check</th><th>Most common finding</th></tr></thead>\n<tbody>\n");
    for f in &progress.failing_checks {
        let _ = writeln!(
            out,
            "<tr><td data-sort=\"{n}\">{n} of {accounts}</td><td>{step}</td><td>{title}</td><td>{common} of {n}: {finding}</td></tr>",
            n = f.learners,
            step = xml(&f.step),
            title = xml(&f.title),
            common = f.common_count,
            finding = xml(&f.common_finding),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::funnel::StepCount;
    use super::*;

    #[test]
    fn the_funnel_reads_without_colour_and_without_script() {
        let progress = ClassProgress {
            steps: vec![
                StepCount { step: "step-1".into(), title: String::new(), passed: 60, failed: 0, undecided: 0, not_audited: 0 },
                StepCount { step: "step-2".into(), title: String::new(), passed: 46, failed: 14, undecided: 0, not_audited: 0 },
            ],
            failing_checks: Vec::new(),
        };
        let svg = funnel_svg(&progress, 60);
        assert!(svg.contains(">46 of 60 passed</text>") && svg.contains("role=\"img\""), "{svg}");
        assert!(svg.contains("<desc id=\"funnel-desc\">step-1: 60 of 60 passed; step-2: 46 of 60 passed (14 failed)</desc>"), "{svg}");
        assert!(svg.contains("width=\"276\""), "46 of 60 of a 360-pixel bar: {svg}");
        assert!(!svg.contains("<script"));
    }
}
