//! The learner's commands in the lab chapters, in reading order, for the tutorial
//! end-to-end test. Convention for authors: a ```bash block is a command the learner runs
//! (and the test runs); ```text, ```console and ```json blocks are output or file contents
//! shown, never run.

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// One runnable code block and where it is.
#[derive(Debug, Clone)]
pub struct CommandBlock {
    /// 1-based line of the opening fence.
    pub line: usize,
    pub code: String,
}

/// One lab chapter: its file, the step its check widget names, and its commands.
#[derive(Debug, Clone)]
pub struct LabPage {
    /// Path relative to the book's source directory (`lab/step-4-cluster.md`).
    pub path: PathBuf,
    /// The lab its widget names (`{{#check alb:step-3}}`), or `None` for the first lab.
    pub lab: Option<String>,
    pub step: Option<String>,
    pub blocks: Vec<CommandBlock>,
}

/// The chapters SUMMARY.md lists under `lab/`, in order, with their bash blocks.
pub fn lab_pages(book_src: &Path) -> std::io::Result<Vec<LabPage>> {
    lab_pages_under(book_src, "lab/")
}

/// The chapters SUMMARY.md lists under `folder` (`alb/` for the second lab), in order.
pub fn lab_pages_under(book_src: &Path, folder: &str) -> std::io::Result<Vec<LabPage>> {
    let summary = std::fs::read_to_string(book_src.join("SUMMARY.md"))?;
    let mut pages = Vec::new();
    for event in Parser::new(&summary) {
        if let Event::Start(Tag::Link { dest_url, .. }) = event {
            if dest_url.starts_with(folder) && dest_url.ends_with(".md") {
                let path = PathBuf::from(dest_url.as_ref());
                let markdown = std::fs::read_to_string(book_src.join(&path))?;
                let (lab, step) = match checked_step(&markdown) {
                    Some(named) => match named.split_once(':') {
                        Some((lab, step)) => (Some(lab.to_string()), Some(step.to_string())),
                        None => (None, Some(named)),
                    },
                    None => (None, None),
                };
                pages.push(LabPage { lab, step, blocks: bash_blocks(&markdown), path });
            }
        }
    }
    Ok(pages)
}

/// The ```bash blocks of a chapter.
pub fn bash_blocks(markdown: &str) -> Vec<CommandBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<CommandBlock> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if info.split_whitespace().next() == Some("bash") => {
                let line = markdown[..range.start].matches('\n').count() + 1;
                current = Some(CommandBlock { line, code: String::new() });
            }
            Event::Text(text) => {
                if let Some(block) = current.as_mut() {
                    block.code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// The step named by the chapter's `{{#check STEP}}` directive.
fn checked_step(markdown: &str) -> Option<String> {
    markdown.lines().find_map(|l| l.trim().strip_prefix("{{#check ")?.strip_suffix("}}").map(|s| s.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bash_blocks_are_commands() {
        let md = "# T\n\n```bash\naws ecs list-clusters\n```\n\n```text\noutput\n```\n\n```console\n$ x\n```\n\n{{#check step-4}}\n";
        let blocks = bash_blocks(md);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].line, 3);
        assert_eq!(blocks[0].code, "aws ecs list-clusters\n");
        assert_eq!(checked_step(md).as_deref(), Some("step-4"));
    }
}
