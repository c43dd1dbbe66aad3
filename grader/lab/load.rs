//! Reading lab files: YAML to the typed model, with errors that point into the file.
//!
//! This is the only module that touches `serde_yaml`. The crate is no longer maintained, so
//! keeping it behind `parse_lab` means a successor replaces it here and nowhere else.

use std::path::Path;

use super::diagnostic::{Diagnostic, Diagnostics, Locator};
use crate::suggest::did_you_mean;
use super::validate::validate;
use super::Lab;

/// The labs built into the binary, so `grader` works from any directory.
const EMBEDDED: &[(&str, &str)] =
    &[
        ("fargate-nginx.yaml", include_str!("../../labs/fargate-nginx.yaml")),
        ("alb.yaml", include_str!("../../labs/alb.yaml")),
        ("ops.yaml", include_str!("../../labs/ops.yaml")),
    ];

/// The keys every check has, whatever its kind; serde only lists the kind's own keys when
/// it rejects an unknown one, so suggestions look here too.
const COMMON_CHECK_KEYS: &[&str] = &["id", "title", "hint", "points", "wait", "depends_on", "kind"];

/// The labs available to this run.
#[derive(Debug, Clone)]
pub struct LabSet {
    pub labs: Vec<Lab>,
}

impl LabSet {
    /// The lab named by `--lab`, or the only lab, or `fargate-nginx`.
    pub fn select(&self, id: Option<&str>) -> Result<&Lab, UnknownLab> {
        let ids: Vec<&str> = self.labs.iter().map(|l| l.id.as_str()).collect();
        let wanted = match id {
            Some(id) => id,
            None => match default_lab(&self.labs) {
                Some(lab) => return Ok(lab),
                None => "fargate-nginx",
            },
        };
        self.labs.iter().find(|l| l.id == wanted).ok_or_else(|| {
            let mut message = format!("no lab `{wanted}`; available: {}", ids.join(", "));
            if let Some(s) = did_you_mean(wanted, ids.iter().copied()) {
                message.push_str(&format!("; did you mean `{s}`?"));
            }
            UnknownLab(message)
        })
    }
}

/// The lab a command uses without `--lab`, and the one a book's bare `{{#check STEP}}` names:
/// the only lab, or `fargate-nginx` (the course's first).
pub fn default_lab(labs: &[Lab]) -> Option<&Lab> {
    match labs {
        [only] => Some(only),
        _ => labs.iter().find(|l| l.id == "fargate-nginx"),
    }
}

/// `--lab` named no lab there is; the message lists the labs and suggests one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLab(pub String);

impl std::fmt::Display for UnknownLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The labs compiled into the binary. They are validated by the test suite, so a failure
/// here is a bug in this build, reported like any invalid lab.
pub fn load_embedded() -> Result<LabSet, Diagnostics> {
    let mut labs = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in EMBEDDED {
        match parse_lab(&format!("<embedded>/labs/{name}"), text) {
            Ok(lab) => labs.push(lab),
            Err(d) => problems.extend(d.0),
        }
    }
    if problems.is_empty() { Ok(LabSet { labs }) } else { Err(Diagnostics(problems)) }
}

/// Every `*.yaml` / `*.yml` file in `dir` (or the one file, when `dir` is a file). All files
/// are read and all their problems reported together.
pub fn load_dir(dir: &Path) -> Result<LabSet, Diagnostics> {
    let one = |path: &Path, message: String| Diagnostics(vec![Diagnostic {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        message,
        help: None,
        source_line: None,
        width: 1,
    }]);
    let mut files = Vec::new();
    if dir.is_file() {
        files.push(dir.to_path_buf());
    } else {
        let entries = std::fs::read_dir(dir).map_err(|e| one(dir, format!("failed to read the labs directory: {e}")))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                files.push(path);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(one(dir, "no lab files (`*.yaml`) in this directory".into()));
        }
    }
    let mut labs = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let label = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse_lab(&label, &text) {
                Ok(lab) => labs.push(lab),
                Err(d) => problems.extend(d.0),
            },
            Err(e) => problems.extend(one(&path, format!("failed to read the lab file: {e}")).0),
        }
    }
    if problems.is_empty() { Ok(LabSet { labs }) } else { Err(Diagnostics(problems)) }
}

/// Parses and validates one lab file. `file` labels the diagnostics.
pub fn parse_lab(file: &str, text: &str) -> Result<Lab, Diagnostics> {
    let lab: Lab = serde_yaml::from_str(text).map_err(|e| Diagnostics(vec![yaml_diagnostic(file, text, &e)]))?;
    let problems = validate(&lab, &Locator { file, text });
    if problems.is_empty() { Ok(lab) } else { Err(Diagnostics(problems)) }
}

/// Turns a serde_yaml error into a diagnostic at the most precise spot we can find.
///
/// Errors inside a check come from serde's buffered (flattened, internally tagged) content
/// and carry the position of the check rather than of the key, so the key or value named
/// in the message is looked up from there.
pub(crate) fn yaml_diagnostic(file: &str, text: &str, error: &serde_yaml::Error) -> Diagnostic {
    // serde_yaml writes positions into its messages (" at line L column C"); we print the
    // position ourselves, under the message.
    let message = strip_positions(&error.to_string());
    // And it prefixes the path of the value (`steps[2].checks[0]: …`), which is useful.
    let (path, detail) = match message.split_once(": ") {
        Some((p, d)) if !p.contains(' ') => (Some(p.to_string()), d.to_string()),
        _ => (None, message.clone()),
    };
    let (mut line, mut column) = error.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
    let locator = Locator { file, text };
    let mut width = 1;
    let mut help = None;

    let quoted = first_backticked(&detail);
    let expected: Vec<&str> = match detail.split_once("expected one of ") {
        Some((_, list)) => list.split(", ").map(|s| s.trim_matches('`')).collect(),
        None => detail.split_once(", expected `").map(|(_, one)| vec![one.trim_end_matches('`')]).unwrap_or_default(),
    };
    let mut detail = detail.clone();

    if detail.starts_with("unknown field") {
        if let Some(key) = quoted {
            if let Some(at) = locator.find(&format!("{key}:"), line) {
                (line, column) = at;
                width = key.len();
            }
            let candidates = expected.iter().copied().chain(COMMON_CHECK_KEYS.iter().copied());
            help = Some(match did_you_mean(key, candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None if !expected.is_empty() => format!("remove it; the keys allowed here are {}", expected.join(", ")),
                None => "remove it".to_string(),
            });
        }
    } else if detail.starts_with("unknown variant") {
        if let Some(word) = quoted {
            // The only open-ended enum in a lab file is a check's `kind`.
            if expected.contains(&"caller_identity") {
                detail = format!("unknown check kind `{word}`");
            }
            if let Some(at) = locator.find(word, line) {
                (line, column) = at;
                width = word.len();
            }
            help = Some(match did_you_mean(word, expected.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("use one of {}", expected.join(", ")),
            });
        }
    } else if error.location().is_some() && path.is_none() && detail.contains("while ") {
        help = Some("check the quotes, colons and indentation around here".to_string());
    } else if let Some(field) = detail.strip_prefix("missing field ") {
        let field = field.trim_matches('`');
        help = Some(format!("add `{field}:` here"));
    } else if let Some(word) = quoted.filter(|_| detail.starts_with('`')) {
        // A kind's own check of a value ("`Tags[x]` is not a property path", "`Value`:
        // unknown operator …"): serde places it at the check, the text names the spot.
        if let Some(at) = locator.find(word, line) {
            (line, column) = at;
            width = word.len();
        }
    } else if detail.starts_with("invalid type") || detail.starts_with("invalid value") {
        // "invalid type: string \"abc\", expected u32": point at the value when it is quoted.
        if let Some(value) = detail.split('"').nth(1) {
            if let Some(at) = locator.find(value, line) {
                (line, column) = at;
                width = value.len();
            }
        }
    }
    let mut message = detail;
    if let Some(path) = path {
        message = format!("{message} (in `{path}`)");
    }
    let mut d = Diagnostic::at(file, text, line, column, width, message);
    d.help = help;
    d
}

/// Removes every " at line L column C" that serde_yaml and libyaml put into messages.
fn strip_positions(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let skip = after.find(" column ").map(|c| {
            let digits = after[c + " column ".len()..].chars().take_while(char::is_ascii_digit).count();
            c + " column ".len() + digits
        });
        match skip {
            Some(n) => rest = &after[n..],
            None => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn first_backticked(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let end = s[start..].find('`')? + start;
    Some(&s[start..end])
}
