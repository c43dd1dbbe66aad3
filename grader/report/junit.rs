//! JUnit XML: one test suite per step, one test case per check, for CI dashboards.

use std::fmt::Write;

use super::Report;
use crate::checks::Status;

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let s = &report.summary;
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        escape(&report.lab),
        s.pass + s.fail + s.error + s.skip,
        s.fail,
        s.error,
        s.skip,
        report.duration_ms as f64 / 1000.0
    );
    for step in &report.steps {
        let count = |st: Status| step.checks.iter().filter(|c| c.status == st).count();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            escape(&format!("{}: {}", step.id, step.title)),
            step.checks.len(),
            count(Status::Fail),
            count(Status::Error),
            count(Status::Skip)
        );
        for check in &step.checks {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&report.lab),
                escape(&step.id),
                escape(&check.id),
                check.duration_ms as f64 / 1000.0
            );
            let detail = || {
                let mut d = String::new();
                for (label, value) in [("expected", &check.expected), ("found", &check.found), ("hint", &check.hint)] {
                    if let Some(v) = value {
                        d.push_str(&format!("{label}: {v}\n"));
                    }
                }
                escape(&d)
            };
            match check.status {
                Status::Pass => xml.push_str("/>\n"),
                Status::Fail => {
                    let _ = writeln!(xml, ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>", escape(&check.message), detail());
                }
                Status::Error => {
                    let _ = writeln!(xml, ">\n      <error message=\"{}\">{}</error>\n    </testcase>", escape(&check.message), detail());
                }
                Status::Skip => {
                    let _ = writeln!(xml, ">\n      <skipped message=\"{}\"/>\n    </testcase>", escape(&check.message));
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}
