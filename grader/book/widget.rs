//! The HTML the preprocessor puts into chapters: the check widget of a step and the
//! reference of every check kind.

use crate::checks::KINDS;
use crate::lab::{Lab, Step, template};

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Inline `code` spans in lab text (hints use backticks) as HTML.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The widget for one step: what will be verified, the command, hints behind toggles, and
/// the button that `check-widget.js` wires to `POST /api/check/<STEP>` of the grader that
/// serves the page, or of the one at `grader_url`.
/// `named_lab`: the directive named the lab, so the terminal command names it too.
pub fn check_widget(lab: &Lab, step: &Step, named_lab: bool, grader_url: Option<&str>) -> String {
    let render = |t: &str| template::render(t, &lab.vars).unwrap_or_else(|_| t.to_string());
    let url = grader_url.map(|u| format!(" data-grader-url=\"{}\"", escape(u))).unwrap_or_default();
    let mut html = format!(
        "\n\n<div class=\"grader-check\" data-grader-step=\"{step}\" data-grader-lab=\"{lab}\"{url}>\n<p class=\"grader-title\"><strong>Check your work: {title}</strong></p>\n",
        step = escape(&step.id),
        lab = escape(&lab.id),
        title = escape(&step.title)
    );
    if let Some(goal) = &step.goal {
        html.push_str(&format!("<p class=\"grader-goal\">{}</p>\n", inline(goal)));
    }
    html.push_str("<ul class=\"grader-list\">\n");
    for check in &step.checks {
        html.push_str(&format!(
            "<li class=\"grader-item\" data-check=\"{}\"><span class=\"grader-mark\" aria-hidden=\"true\">•</span> <span class=\"grader-item-title\">{}</span>",
            escape(&check.id),
            inline(&render(&check.title))
        ));
        if let Some(hint) = &check.hint {
            html.push_str(&format!("<details class=\"grader-hint\"><summary>Hint</summary>{}</details>", inline(&render(hint))));
        }
        html.push_str("<div class=\"grader-result\"></div></li>\n");
    }
    html.push_str(&format!(
        "</ul>\n<p class=\"grader-cli\">From your terminal: <code>grader check {lab}{step}</code></p>\n<button class=\"grader-button\" type=\"button\">Check my progress</button>\n<div class=\"grader-status\" role=\"status\" aria-live=\"polite\"></div>\n</div>\n\n",
        lab = if named_lab { format!("--lab {} ", escape(&lab.id)) } else { String::new() },
        step = escape(&step.id)
    ));
    html
}

/// The reference of every check kind, generated from the registry.
pub fn kinds_reference() -> String {
    let mut md = String::from("\n");
    for kind in KINDS {
        // `##`: the reference follows the page's `#` title, and a skipped level breaks the
        // page's outline (and mdBook's "on this page" list).
        md.push_str(&format!("## `{}`\n\n{}\n\n", kind.name, kind.summary));
        let schema = (kind.schema)();
        if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
            let required: Vec<&str> =
                schema.get("required").and_then(|r| r.as_array()).map(|r| r.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
            if !props.is_empty() {
                md.push_str("| parameter | required | meaning |\n|---|---|---|\n");
                for (name, prop) in props {
                    let doc = prop.get("description").and_then(|d| d.as_str()).unwrap_or("").replace('\n', " ");
                    let req = if required.contains(&name.as_str()) { "yes" } else { "no" };
                    md.push_str(&format!("| `{name}` | {req} | {doc} |\n"));
                }
                md.push('\n');
            }
        }
        md.push_str(&format!("AWS actions: {}\n\n", kind.actions.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")));
    }
    md
}
