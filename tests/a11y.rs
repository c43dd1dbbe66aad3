//! Accessibility of the served course: every page of the book, and the check widgets and
//! quizzes in each of their states (produced for real against the emulator), have no serious
//! or critical WCAG 2.2 A/AA violation under axe-core in headless Chromium; a keyboard alone
//! reaches every check button, its Cancel and every quiz answer in reading order with a
//! visible focus; verdicts are announced and told apart by text and icon; diagrams have a
//! text alternative. axe-core is pinned in tests/a11y/package-lock.json (`scripts/test`
//! installs it with `npm ci`).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::browser::Browser;
use support::lab::{Clients, LabBuild, block_on, build};
use support::server::Server;
use support::{Account, Emulator, root};

/// The axe-core rule tags of WCAG 2.0, 2.1 and 2.2, levels A and AA.
const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// WebDriver's key codes.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";
const DOWN: &str = "\u{E015}";
const SHIFT: &str = "\u{E008}";

/// axe-core's browser bundle, from `npm ci` in tests/a11y.
fn axe_source() -> String {
    let path = root().join("tests/a11y/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("axe-core is missing ({}: {e}): run scripts/test first (it runs `npm ci` in tests/a11y)", path.display()))
}

/// Waits until the page has loaded and every Mermaid diagram has rendered (or 15 s passed), so
/// axe sees the diagrams as a learner does.
async fn settle(browser: &Browser) {
    let script = "var done = arguments[arguments.length - 1]; var started = Date.now();
        (function poll() {
          var pending = Array.prototype.filter.call(document.querySelectorAll('pre.mermaid'), function (p) { return !p.querySelector('svg'); });
          if ((document.readyState === 'complete' && pending.length === 0) || Date.now() - started > 15000) done(pending.length);
          else setTimeout(poll, 50);
        })();";
    let pending = browser.execute_async(script, json!([])).await;
    assert_eq!(pending, json!(0), "{} diagram(s) of {} did not render", pending, browser.execute("return location.href", json!([])).await);
}

/// The serious and critical WCAG 2.2 A/AA violations axe-core finds in the page as it is now,
/// one line each: where, the rule, the element and the rule's help page.
async fn violations(browser: &Browser, axe: &str, what: &str) -> Vec<String> {
    // Injected once per document: a reload or another page drops it.
    if browser.execute("return typeof window.axe", json!([])).await != "object" {
        browser.execute(&format!("{axe}\n;return true;"), json!([])).await;
    }
    let script = "var done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] }).then(function (r) {
          done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; }).map(function (v) {
            return { id: v.id, impact: v.impact, help: v.help, url: v.helpUrl, nodes: v.nodes.map(function (n) {
              return { target: n.target.join(' '), html: n.html.slice(0, 160), why: n.failureSummary }; }) };
          }));
        }, function (e) { done({ error: String(e) }); });";
    let found = browser.execute_async(script, json!([WCAG_TAGS])).await;
    let list = found.as_array().unwrap_or_else(|| panic!("axe-core did not run on {what}: {found}"));
    let mut lines = Vec::new();
    for v in list {
        for node in v["nodes"].as_array().unwrap() {
            lines.push(format!(
                "{what}: {} ({}) at `{}`: {} ({})\n    {}\n    {}",
                v["id"].as_str().unwrap(),
                v["impact"].as_str().unwrap(),
                node["target"].as_str().unwrap(),
                v["help"].as_str().unwrap(),
                v["url"].as_str().unwrap(),
                node["html"].as_str().unwrap(),
                node["why"].as_str().unwrap_or("").replace('\n', " ")
            ));
        }
    }
    lines
}

/// What is wrong with the text alternatives of the page's diagrams: each rendered SVG needs an
/// accessible name (Chromium's own computation, as a screen reader gets it) and a description.
async fn diagram_problems(browser: &Browser, what: &str) -> Vec<String> {
    let count = browser.execute("return document.querySelectorAll('pre.mermaid svg').length", json!([])).await.as_u64().unwrap();
    let mut problems = Vec::new();
    for i in 0..count {
        let svg = browser.execute("return document.querySelectorAll('pre.mermaid svg')[arguments[0]]", json!([i])).await;
        let element = svg[support::browser::ELEMENT].as_str().unwrap().to_string();
        let label = browser.call(reqwest::Method::GET, &format!("/element/{element}/computedlabel"), Value::Null).await;
        let description = browser
            .execute(
                "var ids = (arguments[0].getAttribute('aria-describedby') || '').split(/\\s+/);
                 return ids.map(function (id) { var e = id && document.getElementById(id); return e ? e.textContent : ''; }).join(' ').trim();",
                json!([Browser::reference(&element)]),
            )
            .await;
        if label.as_str().unwrap_or("").trim().is_empty() {
            problems.push(format!("{what}: diagram {} has no accessible name (give it an `accTitle:` line)", i + 1));
        }
        if description.as_str().unwrap_or("").len() < 20 {
            problems.push(format!("{what}: diagram {} has no text description (give it an `accDescr:` line saying what it shows)", i + 1));
        }
    }
    problems
}

/// Every page the book's table of contents links to, and the print page: absolute URLs.
async fn every_page(browser: &Browser, server: &Server) -> Vec<String> {
    browser.goto(&format!("{}/", server.base)).await;
    let links = browser
        .execute(
            "var seen = {}; var out = [location.origin + '/', location.origin + '/print.html'];
             document.querySelectorAll('.sidebar a[href]').forEach(function (a) {
               if (a.origin !== location.origin) return;
               var url = a.href.split('#')[0];
               if (!seen[url] && out.indexOf(url) === -1) { seen[url] = true; out.push(url); }
             });
             return out;",
            json!([]),
        )
        .await;
    let pages: Vec<String> = links.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    // The sidebar must not come up short: every chapter of SUMMARY.md is a page.
    let chapters = support::read("book/SUMMARY.md").matches(".md)").count();
    assert!(pages.len() > chapters, "the sidebar links {} pages, SUMMARY.md lists {chapters} chapters: {pages:?}", pages.len());
    pages
}

#[test]
fn every_page_of_the_book_has_no_serious_wcag_violation_and_its_diagrams_have_text() {
    let axe = axe_source();
    let server = Server::start(None);
    block_on(async {
        let browser = Browser::start().await;
        let started = Instant::now();
        let pages = every_page(&browser, &server).await;
        let (mut problems, mut diagrams, mut slowest) = (Vec::new(), 0, Vec::new());
        for page in &pages {
            let page_started = Instant::now();
            browser.goto(page).await;
            settle(&browser).await;
            let loaded = page_started.elapsed();
            let what = page.trim_start_matches(&server.base);
            problems.extend(violations(&browser, &axe, what).await);
            problems.extend(diagram_problems(&browser, what).await);
            diagrams += browser.execute("return document.querySelectorAll('pre.mermaid svg').length", json!([])).await.as_u64().unwrap();
            slowest.push((page_started.elapsed(), loaded, what.to_string()));
        }
        slowest.sort();
        let slow: Vec<String> = slowest.iter().rev().take(3).map(|(all, load, p)| format!("{p} {:.1} s (load {:.1} s)", all.as_secs_f64(), load.as_secs_f64())).collect();
        eprintln!("axe-core checked {} pages ({diagrams} diagrams) in {:.1} s; slowest: {}", pages.len(), started.elapsed().as_secs_f64(), slow.join(", "));
        assert!(diagrams >= 8, "the book's diagrams were not found: {diagrams}");
        assert!(problems.is_empty(), "{} accessibility problem(s):\n{}", problems.len(), problems.join("\n"));
        browser.call(reqwest::Method::DELETE, "", Value::Null).await;
    });
}

#[test]
fn axe_reports_a_deliberately_unlabelled_button_on_a_served_page() {
    // The control of the test above: the same check, on a served page with one button more
    // that has an icon and no name, must report it (and nothing else).
    let axe = axe_source();
    let server = Server::start(None);
    block_on(async {
        let browser = Browser::start().await;
        browser.goto(&format!("{}/lab/step-4-cluster.html", server.base)).await;
        settle(&browser).await;
        assert_eq!(violations(&browser, &axe, "before").await, Vec::<String>::new());
        browser
            .execute(
                "var b = document.createElement('button'); b.id = 'unlabelled'; b.innerHTML = '<svg width=\"16\" height=\"16\" aria-hidden=\"true\"><circle cx=\"8\" cy=\"8\" r=\"6\"/></svg>';
                 document.querySelector('.grader-check').appendChild(b); return true;",
                json!([]),
            )
            .await;
        let found = violations(&browser, &axe, "/lab/step-4-cluster.html").await;
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("/lab/step-4-cluster.html: button-name (critical) at `#unlabelled`: Buttons must have discernible text (https://dequeuniversity.com/rules/axe/"),
            "{}",
            found[0]
        );
        browser.call(reqwest::Method::DELETE, "", Value::Null).await;
    });
}

/// The text of `css` in the page (empty when absent).
async fn text_of(browser: &Browser, css: &str) -> String {
    browser.execute("var e = document.querySelector(arguments[0]); return e ? e.innerText : '';", json!([css])).await.as_str().unwrap_or("").to_string()
}

/// Waits until the text of `css` contains `what`; returns it.
async fn wait_for_text(browser: &Browser, css: &str, what: &str) -> String {
    let started = Instant::now();
    loop {
        let text = text_of(browser, css).await;
        if text.contains(what) {
            return text;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "waited for {what:?} in `{css}`; it says {text:?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// An account with the lab built up to a service at 0 tasks (step 8 waits for it), a log
/// group that keeps events 30 days instead of 7 (step 6 fails), and a cluster that AWS
/// refuses to describe (step 4 cannot decide). Step 7 passes.
fn account_with_every_verdict(emulator: &Emulator) -> (Account, Clients, LabBuild) {
    let account = Account::fresh(emulator);
    let lab = LabBuild { desired_count: 0, retention_days: Some(30), ..LabBuild::default() };
    block_on(build(&account, &lab));
    emulator.configure(&account.id, json!({ "describe_failures": { "clusters": { "fargate-course": "ACCESS_DENIED" } } }));
    let clients = Clients::new(&account, "us-east-1");
    (account, clients, lab)
}

/// A widget's selector; `step` as in `data-grader-step`.
fn widget(step: &str) -> String {
    format!(".grader-check[data-grader-step='{step}']")
}

/// Clicks a widget's check button and waits for its run to end with `summary` in the status.
async fn check_until(browser: &Browser, step: &str, summary: &str) -> String {
    browser.execute("document.querySelector(arguments[0] + ' .grader-button').click(); return true;", json!([widget(step)])).await;
    wait_for_text(browser, &format!("{} .grader-status", widget(step)), summary).await
}

/// The verdict a widget's check line gives, as a reader gets it: its mark (the icon) and its
/// whole text, screen-reader text included.
async fn check_line(browser: &Browser, step: &str, check: &str) -> (String, String) {
    let css = format!("{} li[data-check='{check}']", widget(step));
    let mark = text_of(browser, &format!("{css} .grader-mark")).await;
    let text = browser.execute("return document.querySelector(arguments[0]).textContent", json!([css])).await.as_str().unwrap().to_string();
    (mark, text)
}

#[test]
fn widgets_and_quizzes_have_no_serious_wcag_violation_in_any_state() {
    let axe = axe_source();
    let emulator = Emulator::shared();
    let (account, _clients, _lab) = account_with_every_verdict(emulator);
    let server = Server::start(Some(&account));
    block_on(async {
        let browser = Browser::start().await;
        let mut problems = Vec::new();
        let page = |p: &str| format!("{}/lab/{p}.html", server.base);

        // Idle: nothing checked yet.
        browser.goto(&page("step-8-service")).await;
        settle(&browser).await;
        problems.extend(violations(&browser, &axe, "step 8, idle").await);

        // Running: the service has no task yet, so the check waits (up to 45 s), looking again.
        browser.execute("document.querySelector(arguments[0] + ' .grader-button').click(); return true;", json!([widget("step-8")])).await;
        wait_for_text(&browser, &format!("{} .grader-status", widget("step-8")), "looking again in").await;
        problems.extend(violations(&browser, &axe, "step 8, running (waiting for the service)").await);
        let mut lines = vec![("waiting", check_line(&browser, "step-8", "service-stable").await)];
        browser.execute("document.querySelector(arguments[0] + ' .grader-cancel').click(); return true;", json!([widget("step-8")])).await;
        wait_for_text(&browser, &format!("{} .grader-status", widget("step-8")), "Check cancelled").await;
        problems.extend(violations(&browser, &axe, "step 8, cancelled").await);

        // Passed, failed, could not decide.
        browser.goto(&page("step-7-task-definition")).await;
        let passed = check_until(&browser, "step-7", "All 1 check(s) pass").await;
        problems.extend(violations(&browser, &axe, "step 7, passed").await);
        lines.push(("pass", check_line(&browser, "step-7", "task-definition").await));
        browser.goto(&page("step-6-log-group")).await;
        let failed = check_until(&browser, "step-6", "1 failed").await;
        problems.extend(violations(&browser, &axe, "step 6, failed").await);
        lines.push(("fail", check_line(&browser, "step-6", "log-group").await));
        browser.goto(&page("step-4-cluster")).await;
        let undecided = check_until(&browser, "step-4", "1 could not be decided").await;
        problems.extend(violations(&browser, &axe, "step 4, could not decide").await);
        lines.push(("error", check_line(&browser, "step-4", "cluster-active").await));
        // The last verdicts, shown on reload and in the sidebar.
        browser.goto(&page("step-6-log-group")).await;
        wait_for_text(&browser, &format!("{} .grader-status", widget("step-6")), "Last check").await;
        problems.extend(violations(&browser, &axe, "step 6, last verdict shown again").await);

        // A quiz answered wrong, then right.
        browser.goto(&format!("{}/what-is-fargate.html", server.base)).await;
        settle(&browser).await;
        let question = "section.quiz form.quiz-question[data-multiple='false']";
        let answer = |correct: bool| format!("{question} .quiz-answer[data-correct='{correct}'] input");
        let mut quiz_marks = Vec::new();
        for (correct, expected) in [(false, "Not quite"), (true, "Correct.")] {
            browser
                .execute(
                    "document.querySelector(arguments[0]).click(); document.querySelector(arguments[1] + ' .quiz-submit').click(); return true;",
                    json!([answer(correct), question]),
                )
                .await;
            wait_for_text(&browser, &format!("{question} .quiz-feedback"), expected).await;
            problems.extend(violations(&browser, &axe, &format!("quiz answered {}", if correct { "right" } else { "wrong" })).await);
            // The icon before the verdict and before the chosen answer's explanation, and the
            // words a screen reader gets for the latter (CSS alternative text).
            let marks = browser
                .execute(
                    "var f = document.querySelector(arguments[0] + ' .quiz-feedback');
                     var why = document.querySelector(arguments[1]).closest('.quiz-answer').querySelector('.quiz-why');
                     return [getComputedStyle(f, '::before').content, getComputedStyle(why, '::before').content];",
                    json!([question, answer(correct)]),
                )
                .await;
            quiz_marks.push(marks);
        }
        assert!(problems.is_empty(), "{} accessibility problem(s):\n{}", problems.len(), problems.join("\n"));

        // The verdicts themselves are told apart by words and by icon, never by colour alone:
        // the status line starts with its own icon and says it in words, and each check's
        // line has its own icon and, for screen readers (the icon is hidden from them), words.
        for (status, icon, words) in [(&passed, "✓", "pass"), (&failed, "✗", "failed"), (&undecided, "!", "could not be decided")] {
            assert!(status.starts_with(icon) && status.contains(words), "{status:?}");
        }
        let expected = [("waiting", "…", "Waiting: "), ("pass", "✓", "Passed: "), ("fail", "✗", "Failed: "), ("error", "!", "Could not decide: ")];
        for ((state, (mark, text)), (_, icon, words)) in lines.iter().zip(expected) {
            assert_eq!(mark, icon, "the {state} line's icon");
            assert!(text.contains(words), "the {state} line says {words:?} in words: {text:?}");
        }
        assert_eq!(quiz_marks, [json!(["\"✗ \" / \"\"", "\"✗ \" / \"Wrong: \""]), json!(["\"✓ \" / \"\"", "\"✓ \" / \"Right: \""])], "the quiz's icons and their words");
        browser.call(reqwest::Method::DELETE, "", Value::Null).await;
    });
}

/// Starts recording every focus change in the page: which element (its position in document
/// order) and how its outline and box shadow look while it has the focus.
const RECORD_FOCUS: &str = "window.__focus = [];
    document.addEventListener('focusin', function (e) {
      var s = getComputedStyle(e.target);
      window.__focus.push({ index: Array.prototype.indexOf.call(document.querySelectorAll('*'), e.target),
        what: e.target.tagName.toLowerCase() + '.' + e.target.className + (e.target.name ? '[name=' + e.target.name + ']' : ''),
        look: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor + ' / ' + s.boxShadow });
    }, true);
    return true;";

/// The focus changes recorded since the last call.
async fn focus_log(browser: &Browser) -> Vec<Value> {
    let log = browser.execute("var log = window.__focus; window.__focus = []; return log;", json!([])).await;
    log.as_array().cloned().unwrap_or_default()
}

/// How `element_index`'s outline and box shadow look without the focus.
async fn unfocused_look(browser: &Browser, element_index: u64) -> String {
    let script = "if (document.activeElement) document.activeElement.blur();
        var e = document.querySelectorAll('*')[arguments[0]]; var s = getComputedStyle(e);
        return s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor + ' / ' + s.boxShadow;";
    browser.execute(script, json!([element_index])).await.as_str().unwrap().to_string()
}

/// The element that has the focus: its classes.
async fn focused_class(browser: &Browser) -> String {
    browser.execute("return document.activeElement ? document.activeElement.className : ''", json!([])).await.as_str().unwrap_or("").to_string()
}

#[test]
fn keyboard_alone_reaches_every_check_button_cancel_and_quiz_answer_in_reading_order_with_a_visible_focus() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    block_on(build(&account, &LabBuild { desired_count: 0, ..LabBuild::default() }));
    let server = Server::start(Some(&account));
    block_on(async {
        let browser = Browser::start().await;
        // A lab page with a check widget (whose check waits: the service has no task) and a quiz.
        browser.goto(&format!("{}/lab/step-8-service.html", server.base)).await;
        settle(&browser).await;
        browser.execute(RECORD_FOCUS, json!([])).await;

        // What a keyboard must reach, in document order: check buttons, the quiz's answers
        // (a group of radio buttons is one Tab stop, its first answer; the arrows move within
        // it, below) and its submit buttons.
        let targets = browser
            .execute(
                "var all = document.querySelectorAll('*'); var out = [];
                 document.querySelectorAll('.grader-button, .quiz-answer input, .quiz-submit').forEach(function (e) {
                   var firstOfGroup = e.type !== 'radio' || e.closest('.quiz-question').querySelector('input') === e;
                   if (firstOfGroup) out.push(Array.prototype.indexOf.call(all, e));
                 });
                 return { targets: out, stops: document.querySelectorAll('a[href], button, input, summary, [tabindex]').length };",
                json!([]),
            )
            .await;
        let wanted: Vec<u64> = targets["targets"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert!(wanted.len() >= 7, "a check button, a quiz and its answers: {wanted:?}");

        // Tab from the top of the page through all of it.
        let presses = targets["stops"].as_u64().unwrap() as usize + 5;
        browser.press(&vec![TAB; presses]).await;
        let sweep = focus_log(&browser).await;
        let reached: Vec<u64> = sweep.iter().map(|f| f["index"].as_u64().unwrap()).filter(|i| wanted.contains(i)).collect();
        let mut first_visits = reached.clone();
        first_visits.dedup();
        first_visits.truncate(wanted.len());
        assert_eq!(first_visits, wanted, "Tab reaches each check button and quiz answer once, in reading order; the page's Tab order was {:#?}", sweep);

        // Every one shows where the focus is: its outline or shadow differs from its look
        // without the focus.
        let mut invisible = Vec::new();
        for focus in sweep.iter().filter(|f| wanted.contains(&f["index"].as_u64().unwrap())) {
            let unfocused = unfocused_look(&browser, focus["index"].as_u64().unwrap()).await;
            if focus["look"] == unfocused.as_str() || focus["look"].as_str().unwrap().starts_with("none") && focus["look"].as_str().unwrap().ends_with("/ none") {
                invisible.push(format!("{}: focused {} / unfocused {unfocused}", focus["what"], focus["look"]));
            }
        }
        assert!(invisible.is_empty(), "no visible focus indicator:\n{}", invisible.join("\n"));

        // Within a group of radio buttons the arrow keys reach each answer in turn.
        let groups = browser
            .execute(
                "var all = document.querySelectorAll('*');
                 return Array.prototype.map.call(document.querySelectorAll(\"form.quiz-question[data-multiple='false']\"), function (form) {
                   return Array.prototype.map.call(form.querySelectorAll('input'), function (e) { return Array.prototype.indexOf.call(all, e); });
                 });",
                json!([]),
            )
            .await;
        for group in groups.as_array().unwrap() {
            let answers: Vec<u64> = group.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            browser.execute("document.querySelectorAll('*')[arguments[0]].focus(); return true;", json!([answers[0]])).await;
            focus_log(&browser).await;
            browser.press(&vec![DOWN; answers.len() - 1]).await;
            let moved: Vec<u64> = focus_log(&browser).await.iter().map(|f| f["index"].as_u64().unwrap()).collect();
            assert_eq!(moved, answers[1..], "the arrows move through a question's answers in order");
        }

        // A quiz answered by keyboard: choose, Tab to its button, Enter; the verdict is
        // announced (a live region) and says it in words.
        let question = "form.quiz-question[data-multiple='false']";
        browser.execute("document.querySelector(arguments[0] + ' input').focus(); return true;", json!([question])).await;
        browser.press(&[SPACE, TAB]).await;
        assert_eq!(focused_class(&browser).await, "quiz-submit");
        browser.press(&[ENTER]).await;
        let feedback = wait_for_text(&browser, &format!("{question} .quiz-feedback"), ".").await;
        assert!(feedback.starts_with("Correct.") || feedback.starts_with("Not quite"), "{feedback}");
        let live = browser.execute("return document.querySelector(arguments[0] + ' .quiz-feedback').getAttribute('aria-live')", json!([question])).await;
        assert_eq!(live, "polite");

        // The check by keyboard: Enter starts it, the focus moves to Cancel (the check button
        // is disabled while it runs), Tab goes on from Cancel in reading order and Shift+Tab
        // comes back to it; Enter on Cancel stops the run and gives the focus back.
        let widget = widget("step-8");
        let status = format!("{widget} .grader-status");
        let status_element = browser.find(&status).await;
        let role = browser.call(reqwest::Method::GET, &format!("/element/{status_element}/computedrole"), Value::Null).await;
        assert_eq!(role, "status", "the widget's verdict line is a live region");
        browser.execute("document.querySelector(arguments[0] + ' .grader-button').focus(); return true;", json!([widget])).await;
        browser.press(&[ENTER]).await;
        wait_for_text(&browser, &status, "looking again in").await;
        assert_eq!(focused_class(&browser).await, "grader-cancel", "the focus is on Cancel while the check runs");
        let cancel_focus = focus_log(&browser).await.last().cloned().expect("Cancel took the focus");
        browser.press(&[TAB]).await;
        let after = browser
            .execute(
                "var cancel = document.querySelector(arguments[0] + ' .grader-cancel');
                 return !!(cancel.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING);",
                json!([widget]),
            )
            .await;
        assert_eq!(after, true, "Tab from Cancel goes on to what follows it");
        browser.chord(SHIFT, TAB).await;
        assert_eq!(focused_class(&browser).await, "grader-cancel", "Shift+Tab comes back to Cancel");
        let cancel_unfocused = unfocused_look(&browser, cancel_focus["index"].as_u64().unwrap()).await;
        assert_ne!(cancel_focus["look"], cancel_unfocused.as_str(), "Cancel shows the focus");
        browser.execute("document.querySelector(arguments[0] + ' .grader-cancel').focus(); return true;", json!([widget])).await;
        browser.press(&[ENTER]).await;
        wait_for_text(&browser, &status, "Check cancelled").await;
        assert_eq!(focused_class(&browser).await, "grader-button", "the focus is back on the check button");
        browser.call(reqwest::Method::DELETE, "", Value::Null).await;
    });
}
