//! The course book: the mdBook preprocessor that turns `{{#check STEP}}` into check widgets,
//! and building the book in-process for `grader book build` and `grader serve`.

pub mod commands;
mod directive;
pub mod quiz;
mod source;
pub mod widget;

use std::path::{Path, PathBuf};

use mdbook_driver::MDBook;
use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub use directive::{ChapterDir, DirectiveError, expand, expand_chapter, expand_for};
pub use source::BookSource;

use crate::lab::Lab;

/// The mdBook preprocessor, registered in book.toml as `[preprocessor.grader]`.
pub struct GraderPreprocessor {
    /// The lab of `{{#check STEP}}`.
    pub lab: Lab,
    /// Every lab, for `{{#check LAB:STEP}}`.
    pub labs: Vec<Lab>,
    /// Where hosted pages' check buttons find the learner's grader (`--grader-url`).
    pub grader_url: Option<String>,
}

impl Preprocessor for GraderPreprocessor {
    fn name(&self) -> &str {
        "grader"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook_preprocessor::errors::Result<Book> {
        let mut problems = Vec::new();
        let src = ctx.root.join(&ctx.config.book.src);
        book.for_each_chapter_mut(|chapter| {
            // Quizzes sit next to their chapter; errors name them as the author sees them.
            let relative = chapter.source_path.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf).unwrap_or_default();
            let path = src.join(&relative);
            let shown = format!("{}/{}", ctx.config.book.src.display(), if relative.as_os_str().is_empty() { String::new() } else { format!("{}/", relative.display()) });
            let dir = ChapterDir { path: &path, shown: &shown };
            match expand_chapter(&chapter.content, &self.lab, &self.labs, self.grader_url.as_deref(), Some(dir)) {
                Ok(content) => chapter.content = content,
                Err(errors) => {
                    let file = chapter.source_path.as_ref().map(|p| format!("{shown}{}", p.file_name().unwrap_or_default().to_string_lossy())).unwrap_or_else(|| chapter.name.clone());
                    for e in errors {
                        problems.push(format!("{file}:{}:{}: {} (chapter \"{}\")", e.line, e.column, e.message, chapter.name));
                    }
                }
            }
        });
        if problems.is_empty() { Ok(book) } else { Err(anyhow::anyhow!("failed to expand the book's check widgets and quizzes:\n{}", problems.join("\n"))) }
    }

    fn supports_renderer(&self, renderer: &str) -> mdbook_preprocessor::errors::Result<bool> {
        Ok(renderer == "html")
    }
}

/// `grader book preprocess`: the mdBook preprocessor protocol on stdin/stdout, so stock
/// `mdbook build` and `mdbook serve` run the same code as `grader book build`.
pub fn preprocess_stdio(lab: Lab, labs: Vec<Lab>) -> anyhow::Result<()> {
    let (ctx, book) = mdbook_preprocessor::parse_input(std::io::stdin())?;
    let book = GraderPreprocessor { lab, labs, grader_url: None }.run(&ctx, book)?;
    serde_json::to_writer(std::io::stdout(), &book)?;
    Ok(())
}

/// Builds the book in-process into `dest` (the book.toml build dir when `None`).
pub fn build(root: &Path, dest: Option<&Path>, lab: Lab, labs: Vec<Lab>) -> anyhow::Result<PathBuf> {
    build_with(root, dest, lab, labs, None)
}

/// [`build`], with check buttons that call the grader at `grader_url`.
pub fn build_with(root: &Path, dest: Option<&Path>, lab: Lab, labs: Vec<Lab>, grader_url: Option<String>) -> anyhow::Result<PathBuf> {
    let mut book = MDBook::load(root).map_err(|e| anyhow::anyhow!("failed to load the book at {}: {e:#}", root.display()))?;
    if let Some(dest) = dest {
        book.config.build.build_dir = dest.to_path_buf();
    }
    // Replaces the command-line preprocessor of the same name from book.toml.
    book.with_preprocessor(GraderPreprocessor { lab, labs, grader_url });
    book.build().map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let out = if book.config.build.build_dir.is_absolute() { book.config.build.build_dir.clone() } else { root.join(&book.config.build.build_dir) };
    Ok(out)
}
