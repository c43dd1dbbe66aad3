//! `grader serve`: the check API against the emulator, its refusals (token, Host, Origin),
//! its hardening (loopback only, security headers, a private build directory), and a real
//! headless Chromium clicking a step's check button.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::browser::{Browser, ELEMENT};
use support::server::{Server, runtime, token};
use support::{Account, Emulator, root, scratch_dir};

#[test]
fn the_check_api_runs_a_step_and_refuses_foreign_requests() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    let before = emulator.all_requests().len();
    let server = Server::start(Some(&account));
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let home = client.get(format!("{}/", server.base)).send().await.unwrap();
        assert_eq!(home.status(), 200);
        let token = token(&client, &server).await;
        let url = format!("{}/api/check/step-1", server.base);

        let ok = client.post(&url).header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        let report: serde_json::Value = ok.json().await.unwrap();
        assert_eq!(report["schema"], "grader.report/v1");
        assert_eq!(report["steps"][0]["status"], "pass", "{report}");
        assert_eq!(report["account"], account.id.as_str());

        let failing: serde_json::Value =
            client.post(format!("{}/api/check/step-4", server.base)).header("X-Grader-Token", &token).send().await.unwrap().json().await.unwrap();
        assert_eq!(failing["steps"][0]["status"], "fail", "{failing}");

        let no_token = client.post(&url).send().await.unwrap();
        assert_eq!(no_token.status(), 403);
        let wrong_token = client.post(&url).header("X-Grader-Token", "0".repeat(32)).send().await.unwrap();
        assert_eq!(wrong_token.status(), 403);
        // DNS rebinding: a foreign name that resolves to 127.0.0.1 still carries its own Host.
        let rebound = client.post(&url).header("Host", format!("evil.example:{}", server.port)).header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(rebound.status(), 403);
        let cross_site = client.post(&url).header("Origin", "https://evil.example").header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(cross_site.status(), 403);
        let unknown = client.post(format!("{}/api/check/step-42", server.base)).header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(unknown.status(), 404);
        // A widget of the second lab names it: `?lab=alb`.
        let second: serde_json::Value =
            client.post(format!("{}/api/check/step-2?lab=alb", server.base)).header("X-Grader-Token", &token).send().await.unwrap().json().await.unwrap();
        assert_eq!(second["lab"], "alb", "{second}");
        assert_eq!(second["steps"][0]["title"], "Security groups", "{second}");
        let no_lab = client.post(format!("{}/api/check/step-2?lab=nope", server.base)).header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(no_lab.status(), 404);

        let progress: serde_json::Value =
            client.get(format!("{}/api/progress", server.base)).header("X-Grader-Token", &token).send().await.unwrap().json().await.unwrap();
        assert_eq!(progress["steps"]["step-1"]["status"], "pass", "{progress}");
        assert_eq!(progress["steps"]["step-4"]["status"], "fail", "{progress}");
        assert_eq!(progress["labs"]["alb"]["step-2"]["status"], "fail", "{progress}");
    });
    emulator.assert_read_only_since(before, Some(&account.id));
}

#[test]
fn an_installed_binary_works_from_an_empty_directory() {
    // What `cargo install` gives a learner: the binary alone, far from any checkout.
    let install = tempfile::tempdir().unwrap();
    let binary = install.path().join("grader");
    std::fs::copy(env!("CARGO_BIN_EXE_grader"), &binary).unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = |args: &[&str], account: Option<&Account>| {
        let mut cmd = Command::new(&binary);
        cmd.args(args).current_dir(work.path()).env("GRADER_STATE_DIR", scratch_dir("install-state")).env_remove("GRADER_BOOK_DIR").env_remove("GRADER_LABS_DIR");
        if let Some(a) = account {
            cmd.envs(a.env());
        }
        cmd.output().unwrap()
    };

    let built = run(&["book", "build"], None);
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    // From the copy inside the binary, not from the checkout it was built in (which exists
    // on this machine, so finding it would hide the problem).
    assert!(String::from_utf8_lossy(&built.stderr).contains("from the copy built into this grader"), "{}", String::from_utf8_lossy(&built.stderr));
    let site = work.path().join("book-out");
    let step8 = std::fs::read_to_string(site.join("lab/step-8-service.html")).expect("the lab pages are built");
    assert!(step8.contains("data-grader-step=\"step-8\""), "the page has its check widget");
    assert!(site.join("index.html").is_file());
    // mdBook adds a content hash to asset names: mermaid-<hash>.min.js.
    let assets: Vec<String> = std::fs::read_dir(site.join("grader/assets")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(assets.iter().any(|a| a.starts_with("mermaid-") && a.ends_with(".min.js")), "{assets:?}");
    // Publishable as is: no page points into this machine's directories.
    for page in ["index.html", "lab/step-8-service.html"] {
        let html = std::fs::read_to_string(site.join(page)).unwrap();
        for local in [work.path().to_str().unwrap(), "/tmp/", root().to_str().unwrap()] {
            assert!(!html.contains(local), "{page} names the local path {local}");
        }
    }

    for args in [&["list"][..], &["hint", "step-8"], &["policy"], &["validate"]] {
        let out = run(args, None);
        assert!(out.status.success(), "`grader {}` from an empty directory: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }

    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    support::lab::block_on(support::lab::build(&account, &support::lab::LabBuild::default()));
    let checked = run(&["check", "--all", "--format", "json"], Some(&account));
    let report: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&checked.stderr)));
    assert_eq!(report["summary"]["fail"], 0, "{report}");
    assert_eq!(checked.status.code(), Some(0));

    let server = Server::start_from(&binary, work.path(), Some(&account));
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let home = client.get(format!("{}/", server.base)).send().await.unwrap().text().await.unwrap();
        assert!(home.contains("Fargate"), "the book is served");
        let token = token(&client, &server).await;
        let report: serde_json::Value = client.post(format!("{}/api/check/step-8", server.base)).header("X-Grader-Token", &token).send().await.unwrap().json().await.unwrap();
        assert_eq!(report["steps"][0]["status"], "pass", "{report}");
    });
}

#[test]
fn an_authors_edit_shows_on_reload() {
    // An author's copy of the book, served with --book-dir.
    let author = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(author.path().join("grader")).unwrap();
    for (from, to) in [("book", "book"), ("book.toml", "book.toml"), ("grader/assets", "grader/assets")] {
        let copied = Command::new("cp").arg("-r").arg(root().join(from)).arg(author.path().join(to)).status().unwrap();
        assert!(copied.success());
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grader"));
    cmd.args(["serve", "--port", "0", "--book-dir"]).arg(author.path()).current_dir(author.path());
    let server = Server::start_with(cmd, None);
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let page = format!("{}/introduction.html", server.base);
        let before = client.get(&page).send().await.unwrap().text().await.unwrap();
        assert!(!before.contains("An edit made while serving"));
        let chapter = author.path().join("book/introduction.md");
        let text = std::fs::read_to_string(&chapter).unwrap();
        std::fs::write(&chapter, format!("{text}\n\nAn edit made while serving.\n")).unwrap();
        let after = client.get(&page).send().await.unwrap().text().await.unwrap();
        assert!(after.contains("An edit made while serving"), "the edit did not show on reload");
    });
}

/// The text of a widget's status line once it shows a verdict (or after a minute).
async fn verdict(browser: &Browser, widget: &str) -> String {
    let status = browser.find(&format!("{widget} .grader-status")).await;
    let started = Instant::now();
    loop {
        let text = browser.text(&status).await;
        if text.contains("pass") || text.contains("failed") || started.elapsed() > Duration::from_secs(60) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn a_hosted_copy_checks_through_the_learners_own_grader() {
    let account = Account::fresh(Emulator::shared());
    // The hosted copy: plain files from a static host on another port.
    let site = scratch_dir("hosted-book");
    let mut host = Command::new(support::venv_bin().join("python"))
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
        .arg(&site)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(host.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let host_port = first.split(" port ").nth(1).and_then(|r| r.split_whitespace().next()).expect("http.server's port").to_string();
    let origin = format!("http://127.0.0.1:{host_port}");
    // The learner's grader: the API only, for pages of that site.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grader"));
    cmd.args(["serve", "--port", "0", "--api-only", "--allow-origin", &origin]).current_dir(scratch_dir("api-only"));
    let api = Server::start_with(cmd, Some(&account));
    let token = api.token.clone().expect("--api-only prints its token");
    let built = support::grader(None, &["book", "build", "--dest", site.to_str().unwrap(), "--grader-url", &api.base]);
    assert_eq!(built.code, 0, "{}", built.stderr);

    runtime().block_on(async {
        let client = reqwest::Client::new();
        let url = format!("{}/api/check/step-1", api.base);
        // Only the configured site gets CORS answers; another site's page can neither call
        // the API nor read it.
        let preflight = client.request(reqwest::Method::OPTIONS, &url).header("Origin", &origin).header("Access-Control-Request-Method", "POST").send().await.unwrap();
        assert_eq!(preflight.status(), 204);
        assert_eq!(preflight.headers()["access-control-allow-origin"], origin.as_str());
        let foreign = client.request(reqwest::Method::OPTIONS, &url).header("Origin", "https://evil.example").send().await.unwrap();
        assert_eq!(foreign.status(), 403);
        assert!(foreign.headers().get("access-control-allow-origin").is_none());
        let forged = client.post(&url).header("Origin", "https://evil.example").header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(forged.status(), 403);
        let pages = client.get(format!("{}/", api.base)).send().await.unwrap();
        assert_eq!(pages.status(), 404, "an API-only grader serves no pages");

        let browser = Browser::start().await;
        let page = format!("{origin}/lab/step-1-identity.html");
        browser.call(reqwest::Method::POST, "/url", serde_json::json!({ "url": page })).await;
        let widget = ".grader-check[data-grader-step='step-1']";
        let button = browser.find(&format!("{widget} .grader-button")).await;
        browser.call(reqwest::Method::POST, &format!("/element/{button}/click"), serde_json::json!({})).await;
        // The first time, the page asks for the token; then it checks.
        let input = browser.find(&format!("{widget} .grader-token-input")).await;
        browser.call(reqwest::Method::POST, &format!("/element/{input}/value"), serde_json::json!({ "text": token })).await;
        let save = browser.find(&format!("{widget} .grader-token-save")).await;
        browser.call(reqwest::Method::POST, &format!("/element/{save}/click"), serde_json::json!({})).await;
        let text = verdict(&browser, widget).await;
        assert!(text.contains("All 1 check(s) pass"), "the hosted page shows the learner's verdict: {text:?}");
        // Pasted once: after a reload the button checks at once.
        browser.call(reqwest::Method::POST, "/url", serde_json::json!({ "url": page })).await;
        let button = browser.find(&format!("{widget} .grader-button")).await;
        browser.call(reqwest::Method::POST, &format!("/element/{button}/click"), serde_json::json!({})).await;
        let again = verdict(&browser, widget).await;
        assert!(again.contains("All 1 check(s) pass"), "the token is kept: {again:?}");
        browser.call(reqwest::Method::DELETE, "", serde_json::Value::Null).await;
    });
    let _ = host.kill();
    let _ = host.wait();
}

#[test]
fn without_credentials_the_api_explains_how_to_configure_them() {
    let server = Server::start(None);
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let token = token(&client, &server).await;
        let response = client.post(format!("{}/api/check/step-1", server.base)).header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(response.status(), 503);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "aws_setup");
        assert!(body["message"].as_str().unwrap().contains("aws configure"), "{body}");
    });
}

/// Fails if `grader serve` binds anything wider than 127.0.0.1. Linux routes all of
/// 127.0.0.0/8 to the loopback interface, so a server bound to 0.0.0.0 (or [::]) answers on
/// 127.0.0.2 even on a machine with no other address, while one bound to 127.0.0.1 refuses
/// it; a wildcard control listener proves that probe is live here, so the test cannot pass
/// vacuously. The machine's own addresses (`hostname -I`) are probed too.
#[test]
fn it_listens_on_loopback_only() {
    let server = Server::start(None);
    let control = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let control_port = control.local_addr().unwrap().port();
    assert!(
        std::net::TcpStream::connect_timeout(&(std::net::Ipv4Addr::new(127, 0, 0, 2), control_port).into(), Duration::from_secs(2)).is_ok(),
        "127.0.0.2 does not reach a wildcard listener here, so it cannot tell a wildcard bind apart"
    );
    let mut probes = vec![std::net::IpAddr::from([127, 0, 0, 2])];
    let out = Command::new("hostname").arg("-I").output();
    let addresses = out.map(|o| String::from_utf8_lossy(&o.stdout).to_string()).unwrap_or_default();
    // Link-local IPv6 addresses need a scope id to be reached; the others suffice.
    let own = addresses.split_whitespace().filter_map(|a| a.parse::<std::net::IpAddr>().ok());
    probes.extend(own.filter(|a| !a.is_loopback() && !a.to_string().starts_with("fe80:")));
    for address in probes {
        let reached = std::net::TcpStream::connect_timeout(&(address, server.port).into(), Duration::from_millis(500));
        assert!(reached.is_err(), "grader serve answered on {address}");
    }
    assert!(std::net::TcpStream::connect(("127.0.0.1", server.port)).is_ok());
}

#[test]
fn pages_refuse_foreign_hosts_and_every_response_is_hardened() {
    let server = Server::start(None);
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let page = format!("{}/lab/step-1-identity.html", server.base);
        // DNS rebinding: a foreign page must not read ours, whose token would open the API.
        let rebound = client.get(&page).header("Host", format!("evil.example:{}", server.port)).send().await.unwrap();
        assert_eq!(rebound.status(), 403);
        assert!(!rebound.text().await.unwrap().contains("grader-token"));
        let by_name = client.get(&page).header("Host", format!("localhost:{}", server.port)).send().await.unwrap();
        assert_eq!(by_name.status(), 200);

        let responses = [
            ("a page", client.get(&page).send().await.unwrap()),
            ("a missing page", client.get(format!("{}/no-such-page.html", server.base)).send().await.unwrap()),
            ("a refused page", client.get(&page).header("Host", "evil.example").send().await.unwrap()),
            ("a refused API call", client.post(format!("{}/api/check/step-1", server.base)).send().await.unwrap()),
        ];
        for (what, response) in responses {
            let headers = response.headers();
            assert_eq!(headers.get("content-security-policy").map(|v| v.to_str().unwrap()), Some("frame-ancestors 'none'"), "{what}: {headers:?}");
            assert_eq!(headers.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{what}: {headers:?}");
        }
    });
}

#[test]
fn the_book_is_built_in_a_private_directory_removed_on_ctrl_c() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = Server::start(None);
    let sites: Vec<PathBuf> = std::fs::read_dir(&server.tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("fargate-grader-book"))
        .collect();
    assert_eq!(sites.len(), 1, "{sites:?}");
    let site = &sites[0];
    // Another local user can neither predict the name nor plant or read files in it.
    assert_ne!(site.file_name().unwrap().to_string_lossy(), format!("fargate-grader-book-{}", server.child.id()));
    let mode = std::fs::metadata(site).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the build directory is open to others: {mode:o}");
    server.interrupt();
    assert!(!site.exists(), "{} outlived the server", site.display());
}

#[test]
fn a_learner_clicks_check_and_sees_the_verdict() {
    let account = Account::fresh(Emulator::shared());
    let server = Server::start(Some(&account));
    runtime().block_on(async {
        let browser = Browser::start().await;
        browser.call(reqwest::Method::POST, "/url", serde_json::json!({"url": format!("{}/lab/step-4-cluster.html", server.base)})).await;
        let widget = ".grader-check[data-grader-step='step-4']";
        let button = browser.find(&format!("{widget} .grader-button")).await;
        assert_eq!(browser.text(&button).await, "Check my progress");
        browser.call(reqwest::Method::POST, &format!("/element/{button}/click"), serde_json::json!({})).await;
        let status = browser.find(&format!("{widget} .grader-status")).await;
        let started = Instant::now();
        let mut text = String::new();
        while started.elapsed() < Duration::from_secs(60) {
            text = browser.text(&status).await;
            if text.contains("failed") || text.contains("pass") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(text.contains("1 failed"), "the widget shows the verdict: {text:?}");
        let item = browser.find(&format!("{widget} li[data-check='cluster-active'] .grader-result")).await;
        let detail = browser.text(&item).await;
        assert!(detail.contains("no cluster fargate-course in us-east-1"), "{detail}");

        // The artifact a person can look at, with the widget in view.
        let widget_element = browser.find(widget).await;
        browser
            .call(reqwest::Method::POST, "/execute/sync", serde_json::json!({"script": "arguments[0].scrollIntoView();", "args": [{ELEMENT: widget_element}]}))
            .await;
        let png = browser.call(reqwest::Method::GET, "/screenshot", serde_json::Value::Null).await;
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        let artifacts = root().join("target/test-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        std::fs::write(artifacts.join("step-4-check.png"), &bytes).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));

        // The same page hosted as plain files: no grader behind it, so the button says what
        // to run instead of failing.
        let site = scratch_dir("static-book");
        let built = support::grader(None, &["book", "build", "--dest", site.to_str().unwrap()]);
        assert_eq!(built.code, 0, "{}", built.stderr);
        let page = format!("file://{}", site.join("lab/step-4-cluster.html").display());
        browser.call(reqwest::Method::POST, "/url", serde_json::json!({"url": page})).await;
        let button = browser.find(&format!("{widget} .grader-button")).await;
        browser.call(reqwest::Method::POST, &format!("/element/{button}/click"), serde_json::json!({})).await;
        let status = browser.find(&format!("{widget} .grader-status")).await;
        let offline = browser.text(&status).await;
        assert!(offline.contains("not connected to a grader") && offline.contains("grader check step-4"), "{offline:?}");
        browser.call(reqwest::Method::DELETE, "", serde_json::Value::Null).await;
    });
}

#[test]
fn a_learner_answers_a_quiz_question_and_sees_why() {
    // A plain-files copy of the book: quizzes need no grader behind them.
    let site = scratch_dir("quiz-book");
    let built = support::grader(None, &["book", "build", "--dest", site.to_str().unwrap()]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let page = format!("file://{}", site.join("what-is-fargate.html").display());
    runtime().block_on(async {
        let browser = Browser::start().await;
        browser.call(reqwest::Method::POST, "/url", serde_json::json!({"url": page})).await;
        let quiz = browser.find("section.quiz[data-quiz='what-is-fargate']").await;
        let score = browser.find_in(&quiz, ".quiz-score").await;
        let total = browser.text(&score).await.split(' ').next().unwrap().parse::<usize>().expect("the score line starts with the number of questions");
        assert!(total >= 5, "at least five questions");

        // A wrong answer: marked, its explanation shown, the right one's still hidden.
        let question = browser.find_in(&quiz, "form.quiz-question[data-multiple='false']").await;
        let wrong = browser.find_in(&question, ".quiz-answer[data-correct='false']").await;
        let right = browser.find_in(&question, ".quiz-answer[data-correct='true']").await;
        browser.click(&browser.find_in(&wrong, "input").await).await;
        browser.click(&browser.find_in(&question, ".quiz-submit").await).await;
        let feedback = browser.find_in(&question, ".quiz-feedback").await;
        assert!(browser.text(&feedback).await.starts_with("Not quite"), "{}", browser.text(&feedback).await);
        assert!(!browser.text(&browser.find_in(&wrong, ".quiz-why").await).await.is_empty(), "the wrong answer's explanation shows");
        assert!(browser.text(&browser.find_in(&right, ".quiz-why").await).await.is_empty(), "the right answer is not given away");
        assert!(browser.text(&score).await.starts_with(&format!("0 of {total} answered correctly (1 to try again)")), "{}", browser.text(&score).await);

        // Then the right one.
        browser.click(&browser.find_in(&right, "input").await).await;
        browser.click(&browser.find_in(&question, ".quiz-submit").await).await;
        assert_eq!(browser.text(&feedback).await, "Correct.");
        assert!(!browser.text(&browser.find_in(&right, ".quiz-why").await).await.is_empty());
        assert_eq!(browser.text(&score).await, format!("1 of {total} answered correctly."));

        // Kept in the browser: a reload shows the same answer and score.
        browser.call(reqwest::Method::POST, "/refresh", serde_json::json!({})).await;
        let quiz = browser.find("section.quiz[data-quiz='what-is-fargate']").await;
        let question = browser.find_in(&quiz, "form.quiz-question[data-multiple='false']").await;
        assert_eq!(browser.text(&browser.find_in(&question, ".quiz-feedback").await).await, "Correct.");
        assert_eq!(browser.text(&browser.find_in(&quiz, ".quiz-score").await).await, format!("1 of {total} answered correctly."));
        browser.call(reqwest::Method::DELETE, "", serde_json::Value::Null).await;
    });
}

/// A lab built up to its task definition, with the service at 0 tasks: step 8 waits until
/// someone scales it up.
fn service_at_zero(account: &Account) -> (support::lab::Clients, support::lab::LabBuild) {
    use support::lab::{Clients, LabBuild, build};
    let b = LabBuild { desired_count: 0, ..LabBuild::default() };
    support::lab::block_on(build(account, &b));
    (Clients::new(account, "us-east-1"), b)
}

async fn scale(c: &support::lab::Clients, b: &support::lab::LabBuild, count: i32) {
    c.ecs.update_service().cluster(&b.cluster).service(&b.service).desired_count(count).send().await.unwrap();
}

/// Reads JSON lines from a streamed response until `until` says stop; returns them all.
async fn read_events(response: &mut reqwest::Response, buffer: &mut String, until: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let started = Instant::now();
    loop {
        while let Some(newline) = buffer.find('\n') {
            let line: String = buffer.drain(..=newline).collect();
            let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line: {line:?}: {e}"));
            let done = until(&event);
            events.push(event);
            if done {
                return events;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the stream stalled after {events:?}");
        match tokio::time::timeout(Duration::from_secs(60), response.chunk()).await.expect("no event for a minute").unwrap() {
            Some(bytes) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            None => panic!("the stream ended after {events:?}"),
        }
    }
}

#[test]
fn a_streamed_check_shows_each_event_and_stops_when_the_client_goes_away() {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    let (c, b) = service_at_zero(&account);
    let server = Server::start(Some(&account));
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let token = token(&client, &server).await;
        let url = format!("{}/api/check/step-8", server.base);
        let ask = || client.post(&url).header("X-Grader-Token", &token).header("Accept", "application/x-ndjson").send();
        let waiting = |e: &serde_json::Value| e["event"] == "check_waiting" && e["check"] == "service-stable";

        // The events as they happen: started, the check at work, then waiting with what it saw.
        let mut response = ask().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/x-ndjson");
        let mut buffer = String::new();
        let events = read_events(&mut response, &mut buffer, waiting).await;
        assert_eq!(events[0]["event"], "run_started", "{events:?}");
        assert_eq!(events[0]["account"], account.id.as_str());
        assert!(events.iter().any(|e| e["event"] == "check_started" && e["check"] == "service-stable"), "{events:?}");
        let wait = events.last().unwrap();
        assert!(wait["message"].as_str().unwrap().contains("0/0 running"), "{wait}");
        assert!(wait["retry_in_ms"].as_u64().unwrap() >= 1000 && wait["limit_ms"].as_u64().unwrap() == 45_000, "{wait}");

        // The learner goes away: the run stops, and with it the calls to AWS.
        drop(response);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let settled = emulator.requests(&account.id).len();
        tokio::time::sleep(Duration::from_secs(7)).await;
        assert_eq!(emulator.requests(&account.id).len(), settled, "a run nobody listens to still calls AWS");

        // Scaled up while the check waits: the pass arrives on the same stream.
        let mut response = ask().await.unwrap();
        let mut buffer = String::new();
        read_events(&mut response, &mut buffer, waiting).await;
        scale(&c, &b, 1).await;
        let events = read_events(&mut response, &mut buffer, |e| e["event"] == "run_finished").await;
        let decided = events.iter().find(|e| e["event"] == "check_finished" && e["check"]["id"] == "service-stable").expect("the check's verdict");
        assert_eq!(decided["check"]["status"], "pass", "{decided}");
        let finished = events.last().unwrap();
        assert_eq!(finished["report"]["schema"], "grader.report/v1");
        assert_eq!(finished["report"]["steps"][0]["status"], "pass", "{finished}");
        assert_eq!(finished["interrupted"], false);
    });
}

#[test]
fn the_check_button_shows_the_wait_then_the_pass_and_can_cancel() {
    let account = Account::fresh(Emulator::shared());
    let (c, b) = service_at_zero(&account);
    let server = Server::start(Some(&account));
    runtime().block_on(async {
        let browser = Browser::start().await;
        browser.call(reqwest::Method::POST, "/url", serde_json::json!({"url": format!("{}/lab/step-8-service.html", server.base)})).await;
        let widget = browser.find(".grader-check[data-grader-step='step-8']").await;
        let button = browser.find_in(&widget, ".grader-button").await;
        let status = browser.find_in(&widget, ".grader-status").await;
        let wait_for = |what: &'static str| {
            let (browser, status) = (&browser, &status);
            async move {
                let started = Instant::now();
                loop {
                    let text = browser.text(status).await;
                    if text.contains(what) {
                        return text;
                    }
                    assert!(started.elapsed() < Duration::from_secs(40), "waited for {what:?}; the status says {text:?}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };

        // Cancel while the check waits.
        browser.click(&button).await;
        let waiting = wait_for("looking again in").await;
        assert!(waiting.contains("service-stable") && waiting.contains("0/0 running"), "{waiting}");
        let cancel = browser.find_in(&widget, ".grader-cancel").await;
        browser.click(&cancel).await;
        wait_for("Check cancelled").await;

        // Again; the service comes up while the button waits, and the pass shows.
        browser.click(&button).await;
        wait_for("looking again in").await;
        let item = browser.find_in(&widget, "li[data-check='service-stable'] .grader-result").await;
        assert!(browser.text(&item).await.contains("waiting"), "the waiting check's own line says so");
        scale(&c, &b, 1).await;
        let done = wait_for("pass").await;
        assert!(done.contains("All 1 check(s) pass"), "{done}");
        assert!(browser.text(&item).await.contains("stable: 1/1 tasks running"), "{}", browser.text(&item).await);
        browser.call(reqwest::Method::DELETE, "", serde_json::Value::Null).await;
    });
}
