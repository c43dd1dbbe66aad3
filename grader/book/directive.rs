//! The preprocessor's pure part: Markdown in, Markdown out. It finds `{{#check STEP}}`,
//! `{{#quiz NAME}}` and `{{#check-kinds}}` directives in the text (never inside code) and
//! ```mermaid blocks, and splices their HTML in by source offsets, leaving every other byte
//! untouched.

use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::{quiz, widget};
use crate::lab::Lab;

/// A directive that names something the lab does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Expands the directives and diagrams of one chapter.
pub fn expand(markdown: &str, lab: &Lab) -> Result<String, Vec<DirectiveError>> {
    expand_for(markdown, lab, None)
}

/// [`expand`], with check widgets that call the grader at `grader_url` (a hosted copy of the
/// book talking to the learner's `grader serve --api-only`).
pub fn expand_for(markdown: &str, lab: &Lab, grader_url: Option<&str>) -> Result<String, Vec<DirectiveError>> {
    expand_chapter(markdown, lab, &[], grader_url, None)
}

/// Where a chapter's quiz files are: its directory on disk, and how errors name it
/// (`book/lab/`).
#[derive(Debug, Clone, Copy)]
pub struct ChapterDir<'a> {
    pub path: &'a Path,
    pub shown: &'a str,
}

/// [`expand_for`] of a chapter in `dir`, whose `{{#quiz NAME}}` directives read
/// `NAME.quiz.yml` there. `{{#check STEP}}` names a step of `lab`; `{{#check LAB:STEP}}` one
/// of the lab `LAB` among `others`.
pub fn expand_chapter(
    markdown: &str,
    lab: &Lab,
    others: &[Lab],
    grader_url: Option<&str>,
    dir: Option<ChapterDir<'_>>,
) -> Result<String, Vec<DirectiveError>> {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut errors = Vec::new();
    let mut in_code = false;
    let mut mermaid: Option<(usize, String)> = None;
    for (event, range) in Parser::new_ext(markdown, Options::all()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code = true;
                if matches!(&kind, CodeBlockKind::Fenced(info) if info.split_whitespace().next() == Some("mermaid")) {
                    mermaid = Some((range.start, String::new()));
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                if let Some((start, source)) = mermaid.take() {
                    // mermaid.js renders `<pre class="mermaid">` in the page, from the local asset.
                    edits.push((start..range.end, format!("<pre class=\"mermaid\">{}</pre>\n", widget::escape(&source))));
                }
            }
            Event::Text(text) if in_code => {
                if let Some((_, source)) = mermaid.as_mut() {
                    source.push_str(&text);
                }
            }
            _ => {}
        }
    }
    // Directives are found in the raw source rather than in text events, because
    // pulldown-cmark may split `{{#check step-1}}` over several events; code (fenced,
    // indented or inline) is skipped by the ranges pulldown-cmark reports.
    let code_ranges = code_ranges(markdown);
    let mut search_from = 0;
    while let Some(found) = markdown[search_from..].find("{{#") {
        let start = search_from + found;
        let Some(len) = markdown[start..].find("}}") else { break };
        let end = start + len + 2;
        search_from = end;
        if code_ranges.iter().any(|r| r.contains(&start)) {
            continue;
        }
        let inner = markdown[start + 3..end - 2].trim();
        let (name, arg) = inner.split_once(char::is_whitespace).map(|(n, a)| (n, a.trim())).unwrap_or((inner, ""));
        let (line, column) = position(markdown, start);
        match name {
            "check" => {
                // `alb:step-3` names another lab's step; the widget then says `--lab alb`.
                let (named, step_id) = match arg.split_once(':') {
                    Some((id, step)) => (Some(id), step),
                    None => (None, arg),
                };
                let target = match named {
                    None => Some(lab),
                    Some(id) if id == lab.id => Some(lab),
                    Some(id) => others.iter().find(|l| l.id == id),
                };
                let Some(target) = target else {
                    let ids: Vec<&str> = std::iter::once(lab.id.as_str()).chain(others.iter().map(|l| l.id.as_str())).collect();
                    let id = named.unwrap_or_default();
                    errors.push(DirectiveError {
                        line,
                        column,
                        message: match crate::lab::did_you_mean(id, ids.iter().copied()) {
                            Some(s) => format!("`{{{{#check {arg}}}}}` names no lab `{id}`; did you mean `{s}`?"),
                            None => format!("`{{{{#check {arg}}}}}` names no lab `{id}` (labs: {})", ids.join(", ")),
                        },
                    });
                    continue;
                };
                match target.step(step_id) {
                    Some(step) => edits.push((start..end, widget::check_widget(target, step, named.is_some(), grader_url))),
                    None => errors.push(DirectiveError {
                        line,
                        column,
                        message: format!(
                            "`{{{{#check {arg}}}}}` names no step of lab `{}`{}",
                            target.id,
                            match crate::lab::did_you_mean(step_id, target.step_ids()) {
                                Some(s) => format!("; did you mean `{s}`?"),
                                None => format!(" (steps: {})", target.step_ids().join(", ")),
                            }
                        ),
                    }),
                }
            }
            "check-kinds" => edits.push((start..end, widget::kinds_reference())),
            "quiz" => match dir.map(|d| quiz::load(d.path, d.shown, arg)) {
                Some(Ok(found)) => edits.push((start..end, quiz::render(arg, &found))),
                Some(Err(problems)) => errors.extend(problems.into_iter().map(|p| DirectiveError {
                    line,
                    column,
                    message: format!(
                        "`{{{{#quiz {arg}}}}}`: {}{}: {}{}",
                        p.file,
                        if p.line > 0 { format!(":{}:{}", p.line, p.column) } else { String::new() },
                        p.message,
                        p.help.map(|h| format!(" ({h})")).unwrap_or_default()
                    ),
                })),
                None => errors.push(DirectiveError { line, column, message: format!("`{{{{#quiz {arg}}}}}` needs the chapter's directory to find `{arg}{}`", quiz::SUFFIX) }),
            },
            // `{{#include}}` and friends belong to mdBook's own preprocessors.
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(markdown.len() + edits.len() * 512);
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&markdown[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&markdown[at..]);
    Ok(out)
}

/// Byte ranges of code (blocks and inline spans), where directives are shown, not expanded.
fn code_ranges(markdown: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut block_start = None;
    for (event, range) in Parser::new_ext(markdown, Options::all()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => block_start = Some(range.start),
            Event::End(TagEnd::CodeBlock) => {
                if let Some(start) = block_start.take() {
                    ranges.push(start..range.end);
                }
            }
            Event::Code(_) => ranges.push(range),
            _ => {}
        }
    }
    ranges
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::load_embedded;

    fn lab() -> Lab {
        load_embedded().unwrap().labs.remove(0)
    }

    #[test]
    fn a_check_directive_becomes_a_widget_and_the_rest_is_untouched() {
        let md = "# Step 8\n\nSome *text* here.\n\n{{#check step-8}}\n\nAfter the widget.\n";
        let out = expand(md, &lab()).unwrap();
        assert!(out.starts_with("# Step 8\n\nSome *text* here.\n\n"), "{out}");
        assert!(out.ends_with("\n\nAfter the widget.\n"), "{out}");
        assert!(out.contains("data-grader-step=\"step-8\""), "{out}");
        assert!(out.contains("Check my progress"));
        assert!(out.contains("grader check step-8"));
        assert!(!out.contains("{{#check"));
    }

    #[test]
    fn directives_in_code_are_left_alone() {
        let md = "Write `{{#check step-1}}` in a chapter:\n\n```markdown\n{{#check step-1}}\n```\n";
        assert_eq!(expand(md, &lab()).unwrap(), md);
    }

    #[test]
    fn a_quiz_directive_reads_the_file_beside_the_chapter_and_points_at_its_problems() {
        let dir = tempfile::tempdir().unwrap();
        let answers = "    answers:\n      - text: \"A\"\n        correct: true\n        why: \"Right.\"\n      - text: \"B\"\n        why: \"Wrong.\"\n";
        let good: String = std::iter::once("questions:\n".to_string()).chain((1..=5).map(|i| format!("  - question: \"Q{i}?\"\n{answers}"))).collect();
        std::fs::write(dir.path().join("step-8-service.quiz.yml"), &good).unwrap();
        let chapter = ChapterDir { path: dir.path(), shown: "book/lab/" };
        let md = "# Step 8\n\n## Check your understanding\n\n{{#quiz step-8-service}}\n";
        let out = expand_chapter(md, &lab(), &[], None, Some(chapter)).unwrap();
        assert!(out.contains("<section class=\"quiz\" data-quiz=\"step-8-service\""), "{out}");
        assert_eq!(out.matches("class=\"quiz-question\"").count(), 5);

        // A question without a right answer: the chapter's line, and the quiz file's.
        std::fs::write(dir.path().join("step-8-service.quiz.yml"), good.replacen("        correct: true\n", "", 1)).unwrap();
        let errors = expand_chapter(md, &lab(), &[], None, Some(chapter)).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column), (5, 1));
        assert!(errors[0].message.contains("book/lab/step-8-service.quiz.yml:2:5: question 1 has no right answer"), "{}", errors[0].message);
        let missing = expand_chapter("{{#quiz nowhere}}\n", &lab(), &[], None, Some(chapter)).unwrap_err();
        assert!(missing[0].message.contains("book/lab/nowhere.quiz.yml: failed to read the quiz"), "{}", missing[0].message);
    }

    #[test]
    fn a_check_directive_may_name_another_lab() {
        let other = crate::lab::parse_lab(
            "other.yaml",
            "version: 1\nid: alb\ntitle: Second\nregion: us-east-1\nsteps:\n  - id: step-1\n    title: First\n    checks:\n      - id: who\n        title: Who\n        kind: caller_identity\n",
        )
        .unwrap();
        let out = expand_chapter("{{#check alb:step-1}}\n", &lab(), std::slice::from_ref(&other), None, None).unwrap();
        assert!(out.contains("data-grader-step=\"step-1\" data-grader-lab=\"alb\""), "{out}");
        assert!(out.contains("<code>grader check --lab alb step-1</code>"), "{out}");
        let own = expand_chapter("{{#check fargate-nginx:step-4}}\n", &lab(), std::slice::from_ref(&other), None, None).unwrap();
        assert!(own.contains("data-grader-lab=\"fargate-nginx\""), "{own}");
        let typo = expand_chapter("{{#check abl:step-1}}\n", &lab(), std::slice::from_ref(&other), None, None).unwrap_err();
        assert_eq!(typo[0].message, "`{{#check abl:step-1}}` names no lab `abl`; did you mean `alb`?");
        let missing = expand_chapter("{{#check alb:step-9}}\n", &lab(), std::slice::from_ref(&other), None, None).unwrap_err();
        assert!(missing[0].message.contains("names no step of lab `alb`"), "{}", missing[0].message);
    }

    #[test]
    fn an_unknown_step_is_an_error_with_its_location() {
        let md = "# Title\n\nText\n   {{#check step-88}}\n";
        let errors = expand(md, &lab()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (4, 4));
        assert!(errors[0].message.contains("did you mean `step-8`?"), "{}", errors[0].message);
    }

    #[test]
    fn mermaid_blocks_become_diagrams_rendered_in_the_page() {
        let md = "Before\n\n```mermaid\nflowchart LR\n  A --> B\n```\n\nAfter\n";
        let out = expand(md, &lab()).unwrap();
        assert_eq!(out, "Before\n\n<pre class=\"mermaid\">flowchart LR\n  A --&gt; B\n</pre>\n\n\nAfter\n");
    }

    #[test]
    fn the_kind_reference_lists_every_kind() {
        let out = expand("{{#check-kinds}}\n", &lab()).unwrap();
        for kind in crate::checks::KINDS {
            assert!(out.contains(&format!("`{}`", kind.name)), "reference lacks {}", kind.name);
        }
    }
}
