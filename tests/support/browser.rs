//! A minimal WebDriver client for Debian's chromedriver and headless Chromium: the browser
//! tests (tests/serve.rs) and the accessibility test (tests/a11y.rs) drive the served book with it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::scratch_dir;

/// A minimal WebDriver client (chromedriver speaks JSON over HTTP).
pub struct Browser {
    client: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
}

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new("/usr/bin/chromium").exists() && std::path::Path::new("/usr/bin/chromedriver").exists(),
            "Chromium and ChromeDriver are missing: run scripts/test first (it installs Debian's chromium and chromium-driver)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("/usr/bin/chromedriver").arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while client.get(format!("{base}/status")).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = scratch_dir("chromium-profile");
        // WebDriver's default script timeout is 30 s; axe-core on the print page (the whole book
        // as one document) takes longer than that on a slow 2-core machine running other tests.
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "timeouts": {"script": 300_000, "pageLoad": 300_000, "implicit": 0},
            "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                     format!("--user-data-dir={}", profile.display())]
        }}}});
        let session: serde_json::Value = client.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let id = session["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {session}")).to_string();
        Browser { client, base: format!("{base}/session/{id}"), session: id, driver }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: serde_json::Value) -> serde_json::Value {
        let request = self.client.request(method, format!("{}{path}", self.base));
        let request = if body.is_null() { request } else { request.json(&body) };
        request.send().await.unwrap().json::<serde_json::Value>().await.unwrap()["value"].clone()
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self.call(reqwest::Method::POST, "/element", serde_json::json!({"using": "css selector", "value": css})).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element `{css}`: {v}")).to_string()
    }

    /// The first element under `parent` that matches `css`.
    pub async fn find_in(&self, parent: &str, css: &str) -> String {
        let v = self.call(reqwest::Method::POST, &format!("/element/{parent}/element"), serde_json::json!({"using": "css selector", "value": css})).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element `{css}` under {parent}: {v}")).to_string()
    }

    pub async fn click(&self, element: &str) {
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), serde_json::json!({})).await;
    }

    pub async fn text(&self, element: &str) -> String {
        self.call(reqwest::Method::GET, &format!("/element/{element}/text"), serde_json::Value::Null).await.as_str().unwrap_or("").to_string()
    }

    /// Opens `url` in the session's tab and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", serde_json::json!({ "url": url })).await;
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`) and returns its value.
    pub async fn execute(&self, script: &str, args: serde_json::Value) -> serde_json::Value {
        self.call(reqwest::Method::POST, "/execute/sync", serde_json::json!({ "script": script, "args": args })).await
    }

    /// Like `execute`, for a script that calls its last argument (the callback) when done.
    pub async fn execute_async(&self, script: &str, args: serde_json::Value) -> serde_json::Value {
        self.call(reqwest::Method::POST, "/execute/async", serde_json::json!({ "script": script, "args": args })).await
    }

    /// Presses and releases each key in turn as a keyboard does (WebDriver key codes:
    /// `\u{E004}` Tab, `\u{E007}` Enter, `\u{E015}` Down), to whatever has the focus.
    pub async fn press(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for key in keys {
            actions.push(serde_json::json!({ "type": "keyDown", "value": key }));
            actions.push(serde_json::json!({ "type": "keyUp", "value": key }));
        }
        let body = serde_json::json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.call(reqwest::Method::POST, "/actions", body).await;
    }

    /// Presses `key` while holding `modifier` down (e.g. Shift+Tab: `\u{E008}`, `\u{E004}`).
    pub async fn chord(&self, modifier: &str, key: &str) {
        let actions = serde_json::json!([
            { "type": "keyDown", "value": modifier }, { "type": "keyDown", "value": key },
            { "type": "keyUp", "value": key }, { "type": "keyUp", "value": modifier }
        ]);
        let body = serde_json::json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.call(reqwest::Method::POST, "/actions", body).await;
        // Release the keys' state, so a later press starts with no modifier held.
        self.call(reqwest::Method::DELETE, "/actions", serde_json::Value::Null).await;
    }

    /// A WebDriver reference to an element, for `execute`'s arguments.
    pub fn reference(element: &str) -> serde_json::Value {
        serde_json::json!({ ELEMENT: element })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.session.len();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

