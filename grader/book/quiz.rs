//! Knowledge checks: `{{#quiz NAME}}` renders the questions of `NAME.quiz.yml`, next to the
//! chapter, as a form that `quiz.js` marks in the browser (no server, progress kept in the
//! browser's storage). The same loader serves `grader validate`, so a question without a
//! right answer or an explanation is an error with file, line and column, never a page.

use std::path::Path;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use serde::Deserialize;

use super::widget::escape;
use crate::lab::Diagnostic;
use crate::lab::diagnostic::Locator;

/// The file a quiz's questions live in: `NAME.quiz.yml` beside the chapter.
pub const SUFFIX: &str = ".quiz.yml";

/// The fewest questions a quiz may have (the course asks for five per chapter).
pub const MIN_QUESTIONS: usize = 5;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub question: String,
    /// Several answers may be right ("choose all that apply").
    #[serde(default)]
    pub multiple: bool,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub text: String,
    #[serde(default)]
    pub correct: bool,
    /// Why this answer is right or wrong, shown once the learner has answered.
    pub why: String,
}

/// Parses and validates one quiz file; `file` is how errors name it.
pub fn parse(file: &str, text: &str) -> Result<Quiz, Vec<Diagnostic>> {
    let quiz: Quiz = serde_yaml::from_str(text).map_err(|e| vec![crate::lab::yaml_diagnostic(file, text, &e)])?;
    let problems = validate(&quiz, &Locator { file, text });
    if problems.is_empty() { Ok(quiz) } else { Err(problems) }
}

/// Reads `NAME.quiz.yml` from `dir`; errors name the file as `shown_dir/NAME.quiz.yml`.
pub fn load(dir: &Path, shown_dir: &str, name: &str) -> Result<Quiz, Vec<Diagnostic>> {
    let file = format!("{shown_dir}{name}{SUFFIX}");
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(vec![Diagnostic::at(&file, "", 0, 0, 1, format!("`{name}` is not a quiz name")).with_help("name the quiz file's stem: letters, digits, `-` and `_`")]);
    }
    match std::fs::read_to_string(dir.join(format!("{name}{SUFFIX}"))) {
        Ok(text) => parse(&file, &text),
        Err(e) => Err(vec![
            Diagnostic::at(&file, "", 0, 0, 1, format!("failed to read the quiz: {e}")).with_help(format!("create `{name}{SUFFIX}` next to the chapter")),
        ]),
    }
}

fn validate(quiz: &Quiz, at: &Locator<'_>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if quiz.questions.len() < MIN_QUESTIONS {
        problems.push(
            at.diagnostic(at.find("questions:", 1), 10, format!("the quiz has {} question(s)", quiz.questions.len()))
                .with_help(format!("write at least {MIN_QUESTIONS}, so a learner can tell whether the chapter stuck")),
        );
    }
    let mut line = 1;
    for (i, q) in quiz.questions.iter().enumerate() {
        // Each question's and answer's line, found in order, so problems point at them.
        let q_at = key_line(at, "question", line);
        line = q_at.map_or(line, |(l, _)| l + 1);
        let n = i + 1;
        if q.question.trim().is_empty() {
            problems.push(at.diagnostic(q_at, 8, format!("question {n} is empty")).with_help("write the question"));
        }
        if let Err(why) = inline_html(&q.question) {
            problems.push(at.diagnostic(q_at, 8, format!("question {n}: {why}")).with_help(INLINE_HELP));
        }
        if !(2..=6).contains(&q.answers.len()) {
            problems.push(at.diagnostic(q_at, 8, format!("question {n} has {} answer(s)", q.answers.len())).with_help("give 2 to 6 answers"));
        }
        let right = q.answers.iter().filter(|a| a.correct).count();
        match (q.multiple, right) {
            (_, 0) => problems.push(at.diagnostic(q_at, 8, format!("question {n} has no right answer")).with_help("mark the right answer(s) with `correct: true`")),
            (false, r) if r > 1 => problems.push(
                at.diagnostic(q_at, 8, format!("question {n} has {r} right answers but is single choice"))
                    .with_help("add `multiple: true` (choose all that apply), or keep one `correct: true`"),
            ),
            _ => {}
        }
        for (j, a) in q.answers.iter().enumerate() {
            let a_at = key_line(at, "text", line);
            line = a_at.map_or(line, |(l, _)| l + 1);
            let what = format!("question {n}, answer {}", j + 1);
            if a.text.trim().is_empty() {
                problems.push(at.diagnostic(a_at, 4, format!("{what} is empty")).with_help("write the answer's text"));
            }
            if a.why.trim().is_empty() {
                problems.push(at.diagnostic(a_at, 4, format!("{what} has no explanation")).with_help("say in `why:` why this answer is right or wrong"));
            }
            for (field, value) in [("text", &a.text), ("why", &a.why)] {
                if let Err(why) = inline_html(value) {
                    problems.push(at.diagnostic(a_at, 4, format!("{what}, `{field}`: {why}")).with_help(INLINE_HELP));
                }
            }
        }
    }
    problems
}

const INLINE_HELP: &str = "use plain text with inline Markdown only: `code`, **bold**, *emphasis*, links";

/// The first line at or after `from` whose entry is `key:` (as a list item or not).
fn key_line(at: &Locator<'_>, key: &str, from: usize) -> Option<(usize, usize)> {
    let wanted = format!("{key}:");
    at.text.lines().enumerate().skip(from.saturating_sub(1)).find_map(|(i, l)| {
        let t = l.trim_start().trim_start_matches("- ");
        t.starts_with(&wanted).then(|| (i + 1, l.len() - t.len() + 1))
    })
}

/// Inline Markdown as HTML; refuses raw HTML and blocks (lists, headings, paragraphs).
fn inline_html(text: &str) -> Result<String, String> {
    let mut html = String::new();
    let mut paragraphs = 0;
    let mut events = Vec::new();
    for event in Parser::new(text) {
        match &event {
            Event::Start(Tag::Paragraph) => paragraphs += 1,
            Event::End(TagEnd::Paragraph) => {}
            Event::Html(_) | Event::InlineHtml(_) => return Err("contains HTML".into()),
            Event::Start(Tag::Emphasis | Tag::Strong | Tag::Link { .. }) | Event::End(TagEnd::Emphasis | TagEnd::Strong | TagEnd::Link) => events.push(event),
            Event::Text(_) | Event::Code(_) | Event::SoftBreak => events.push(event),
            Event::Start(_) | Event::End(_) | _ => return Err("contains block Markdown (a list, heading, quote or code block)".into()),
        }
    }
    if paragraphs > 1 {
        return Err("has more than one paragraph".into());
    }
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Ok(html)
}

/// The quiz as HTML for the page, one form per question, answers kept in data attributes.
pub fn render(name: &str, quiz: &Quiz) -> String {
    let inline = |t: &str| inline_html(t).unwrap_or_else(|_| escape(t));
    let mut html = format!(
        "\n\n<section class=\"quiz\" data-quiz=\"{name}\" aria-label=\"Check your understanding\">\n<p class=\"quiz-score\" aria-live=\"polite\">{} questions. Your answers stay in this browser.</p>\n",
        quiz.questions.len(),
        name = escape(name)
    );
    for (i, q) in quiz.questions.iter().enumerate() {
        let kind = if q.multiple { "checkbox" } else { "radio" };
        html.push_str(&format!(
            "<form class=\"quiz-question\" data-question=\"{i}\" data-multiple=\"{}\">\n<fieldset>\n<legend><span class=\"quiz-number\">{}.</span> {}</legend>\n<p class=\"quiz-instruction\">{}</p>\n",
            q.multiple,
            i + 1,
            inline(&q.question),
            if q.multiple { "Choose all that apply." } else { "Choose one." }
        ));
        for (j, a) in q.answers.iter().enumerate() {
            html.push_str(&format!(
                "<div class=\"quiz-answer\" data-answer=\"{j}\" data-correct=\"{}\"><label><input type=\"{kind}\" name=\"{}-{i}\" value=\"{j}\"> <span>{}</span></label>\n<p class=\"quiz-why\" hidden>{}</p></div>\n",
                a.correct,
                escape(name),
                inline(&a.text),
                inline(&a.why)
            ));
        }
        html.push_str("</fieldset>\n<button type=\"submit\" class=\"quiz-submit\">Check answer</button>\n<p class=\"quiz-feedback\" aria-live=\"polite\"></p>\n</form>\n");
    }
    html.push_str("</section>\n\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"# a comment
questions:
  - question: "Who patches the host of a `Fargate` task?"
    answers:
      - text: "AWS"
        correct: true
        why: "It is **AWS's** side."
      - text: "You"
        why: "There is no host of yours."
  - question: "Pick the task definition's settings."
    multiple: true
    answers:
      - text: "The image"
        correct: true
        why: "Yes."
      - text: "CPU"
        correct: true
        why: "Yes."
      - text: "Desired count"
        why: "That is the service's."
"#;

    /// GOOD with three more copies of its first question: five in all.
    fn five() -> String {
        let first = &GOOD[GOOD.find("  - question").unwrap()..GOOD.find("  - question: \"Pick").unwrap()];
        format!("{GOOD}{first}{first}{first}")
    }

    #[test]
    fn a_good_quiz_renders_radios_checkboxes_and_hidden_explanations() {
        let quiz = parse("q.quiz.yml", &five()).unwrap();
        let html = render("what-is-fargate", &quiz);
        assert!(html.contains("data-quiz=\"what-is-fargate\""));
        assert_eq!(html.matches("<form class=\"quiz-question\"").count(), 5);
        assert!(html.contains("<input type=\"radio\" name=\"what-is-fargate-0\" value=\"0\">"), "{html}");
        assert!(html.contains("<input type=\"checkbox\" name=\"what-is-fargate-1\" value=\"2\">"), "{html}");
        assert!(html.contains("Who patches the host of a <code>Fargate</code> task?"), "{html}");
        assert!(html.contains("<p class=\"quiz-why\" hidden>It is <strong>AWS's</strong> side.</p>"), "{html}");
        assert!(html.contains("data-answer=\"0\" data-correct=\"true\"") && html.contains("data-answer=\"1\" data-correct=\"false\""));
        // One HTML block: a blank line inside would end it and Markdown would take over.
        assert!(!html.trim().contains("\n\n"), "{html}");
    }

    fn problems(text: &str) -> Vec<String> {
        parse("book/x.quiz.yml", text).err().unwrap_or_default().iter().map(|d| format!("{}:{}: {}", d.line, d.column, d.message)).collect()
    }

    #[test]
    fn every_problem_points_at_its_line() {
        let text = five()
            .replacen("        correct: true\n        why: \"It is **AWS's** side.\"\n", "        why: \"It is **AWS's** side.\"\n", 1)
            .replacen("      - text: \"Desired count\"\n        why: \"That is the service's.\"", "      - text: \"Desired count\"\n        why: \"\"", 1);
        let found = problems(&text);
        assert_eq!(found, ["3:5: question 1 has no right answer", "18:9: question 2, answer 3 has no explanation"], "{text}");
        let single = five().replacen("        why: \"There is no host of yours.\"", "        correct: true\n        why: \"There is no host of yours.\"", 1);
        assert_eq!(problems(&single), ["3:5: question 1 has 2 right answers but is single choice"]);
    }

    #[test]
    fn too_few_questions_html_blocks_and_unknown_keys_are_refused() {
        assert_eq!(problems(GOOD), ["2:1: the quiz has 2 question(s)"]);
        let html = five().replacen("\"AWS\"", "\"<b>AWS</b>\"", 1);
        assert_eq!(problems(&html), ["5:9: question 1, answer 1, `text`: contains HTML"]);
        let list = five().replacen("\"You\"", "\"- You\"", 1);
        assert_eq!(problems(&list), ["8:9: question 1, answer 2, `text`: contains block Markdown (a list, heading, quote or code block)"]);
        let typo = five().replacen("    multiple: true", "    mutliple: true", 1);
        let found = problems(&typo);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("11:5: unknown field `mutliple`"), "{found:?}");
    }

    #[test]
    fn a_missing_file_or_a_bad_name_says_what_to_create() {
        let dir = tempfile::tempdir().unwrap();
        let missing = load(dir.path(), "book/lab/", "step-8-service").unwrap_err();
        assert_eq!(missing[0].file, "book/lab/step-8-service.quiz.yml");
        assert!(missing[0].help.as_deref().unwrap().contains("create `step-8-service.quiz.yml` next to the chapter"));
        let bad = load(dir.path(), "book/", "../secrets").unwrap_err();
        assert!(bad[0].message.contains("is not a quiz name"), "{bad:?}");
    }
}
