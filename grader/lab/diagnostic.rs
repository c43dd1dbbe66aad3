//! Errors in lab files that point into the file: path, line, column, the line itself with a
//! caret under the spot, and a fix.

use std::fmt;

/// One problem in a lab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (or `<embedded>/NAME` for built-in labs).
    pub file: String,
    /// 1-based line; 0 when the problem is about the file as a whole.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
    /// The offending source line, for the caret display.
    pub source_line: Option<String>,
    /// How many characters the caret underlines.
    pub width: usize,
}

impl Diagnostic {
    pub fn at(file: &str, text: &str, line: usize, column: usize, width: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line: line.checked_sub(1).and_then(|i| text.lines().nth(i)).map(str::to_string),
            width: width.max(1),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line == 0 {
            writeln!(f, "  --> {}", self.file)?;
        } else {
            writeln!(f, "  --> {}:{}:{}", self.file, self.line, self.column)?;
        }
        if let Some(source) = &self.source_line {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{number} | {source}")?;
            let indent = " ".repeat(self.column.saturating_sub(1));
            writeln!(f, "{pad} | {indent}{}", "^".repeat(self.width))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

/// All the problems found in one or more lab files.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}

/// Finds text in a lab file, so problems found after parsing still point at a line.
pub(crate) struct Locator<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl<'a> Locator<'a> {
    /// 1-based (line, column) of the first occurrence of `needle` at or after `from_line`.
    pub fn find(&self, needle: &str, from_line: usize) -> Option<(usize, usize)> {
        self.text
            .lines()
            .enumerate()
            .skip(from_line.saturating_sub(1))
            .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, l[..c].chars().count() + 1)))
    }

    /// The line of the `n`th (0-based) mapping entry `key: value` in the file, value quoted
    /// or not; used to find a step or a check by its id.
    pub fn find_entry(&self, key: &str, value: &str, n: usize) -> Option<(usize, usize)> {
        let bare = format!("{key}: {value}");
        let double = format!("{key}: \"{value}\"");
        let single = format!("{key}: '{value}'");
        self.text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let t = l.trim_start().trim_start_matches("- ").trim_end();
                if t == bare || t == double || t == single {
                    let col = l.len() - l.trim_start().trim_start_matches("- ").len() + 1;
                    Some((i + 1, col))
                } else {
                    None
                }
            })
            .nth(n)
    }

    pub fn diagnostic(&self, at: Option<(usize, usize)>, width: usize, message: impl Into<String>) -> Diagnostic {
        let (line, column) = at.unwrap_or((0, 0));
        Diagnostic::at(self.file, self.text, line, column, width, message)
    }
}
