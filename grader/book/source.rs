//! Where the book's sources come from: files on disk for authors, or the copy built into the
//! binary, so an installed `grader` serves and builds the course from any directory.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

/// The chapters (Markdown) and the assets book.toml names, as they were at build time.
static CHAPTERS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/book");
static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/grader/assets");
const BOOK_TOML: &str = include_str!("../../book.toml");

/// The book a command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookSource {
    /// A directory with book.toml: `--book-dir`, or the current directory of an author.
    Disk(PathBuf),
    /// The copy inside the binary.
    Embedded,
}

impl BookSource {
    /// `--book-dir` when given (it must hold book.toml), else the current directory when it
    /// holds one (an author in a checkout sees their edits), else the built-in copy.
    pub fn find(flag: Option<&Path>) -> Result<BookSource, String> {
        if let Some(dir) = flag {
            return if dir.join("book.toml").is_file() {
                Ok(BookSource::Disk(dir.to_path_buf()))
            } else {
                Err(format!("{} has no book.toml; `--book-dir` takes the directory that holds book.toml and book/", dir.display()))
            };
        }
        match std::env::current_dir() {
            Ok(here) if here.join("book.toml").is_file() && here.join("book").is_dir() => Ok(BookSource::Disk(here)),
            _ => Ok(BookSource::Embedded),
        }
    }

    /// For messages: where the book comes from.
    pub fn describe(&self) -> String {
        match self {
            BookSource::Disk(dir) => dir.display().to_string(),
            BookSource::Embedded => "the copy built into this grader".into(),
        }
    }

    /// A directory holding book.toml, book/ and grader/assets/: the directory on disk, or the
    /// built-in copy written out under `scratch`.
    pub fn root(&self, scratch: &Path) -> std::io::Result<PathBuf> {
        match self {
            BookSource::Disk(dir) => Ok(dir.clone()),
            BookSource::Embedded => {
                for (dir, files) in [("book", &CHAPTERS), ("grader/assets", &ASSETS)] {
                    std::fs::create_dir_all(scratch.join(dir))?;
                    files.extract(scratch.join(dir))?;
                }
                std::fs::write(scratch.join("book.toml"), BOOK_TOML)?;
                Ok(scratch.to_path_buf())
            }
        }
    }

    /// Every file of book/ whose name ends with `suffix`, as (`book/…` path, text), sorted.
    pub fn files_ending(&self, suffix: &str) -> std::io::Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        match self {
            BookSource::Disk(dir) => disk_files(&dir.join("book"), "book", suffix, &mut found)?,
            BookSource::Embedded => embedded_files(&CHAPTERS, suffix, &mut found),
        }
        found.sort();
        Ok(found)
    }
}

fn disk_files(dir: &Path, shown: &str, suffix: &str, found: &mut Vec<(String, String)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if path.is_dir() {
            disk_files(&path, &format!("{shown}/{name}"), suffix, found)?;
        } else if name.ends_with(suffix) {
            found.push((format!("{shown}/{name}"), std::fs::read_to_string(&path)?));
        }
    }
    Ok(())
}

fn embedded_files(dir: &Dir<'static>, suffix: &str, found: &mut Vec<(String, String)>) {
    for file in dir.files() {
        if file.path().to_string_lossy().ends_with(suffix) {
            found.push((format!("book/{}", file.path().display()), file.contents_utf8().unwrap_or_default().to_string()));
        }
    }
    for sub in dir.dirs() {
        embedded_files(sub, suffix, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_copy_has_the_summary_and_the_assets_book_toml_names() {
        let scratch = tempfile::tempdir().unwrap();
        let root = BookSource::Embedded.root(scratch.path()).unwrap();
        assert!(root.join("book/SUMMARY.md").is_file());
        let toml = std::fs::read_to_string(root.join("book.toml")).unwrap();
        for asset in ["grader/assets/mermaid.min.js", "grader/assets/check-widget.js", "grader/assets/check-widget.css", "grader/assets/quiz.js", "grader/assets/quiz.css"] {
            assert!(toml.contains(asset), "book.toml no longer names {asset}");
            assert!(root.join(asset).is_file(), "{asset} is not in the built-in copy");
        }
    }

    #[test]
    fn a_book_dir_without_book_toml_is_refused_with_the_fix() {
        let empty = tempfile::tempdir().unwrap();
        let e = BookSource::find(Some(empty.path())).unwrap_err();
        assert!(e.contains("has no book.toml"), "{e}");
    }
}
