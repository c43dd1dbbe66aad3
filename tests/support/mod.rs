//! Test support: start the moto-based emulator, give each test its own AWS account, build
//! the lab (or a broken variant of it) with the real AWS SDK, and run the `grader` binary.

#![allow(dead_code)]

pub mod alb;
pub mod browser;
pub mod lab;
pub mod server;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The project root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv's bin directory; panics with the fix when `scripts/test` has not run.
pub fn venv_bin() -> PathBuf {
    let bin = root().join(".venv/bin");
    assert!(
        bin.join("python").exists() && bin.join("aws").exists(),
        "the emulator's virtualenv is missing ({}): run scripts/test first",
        bin.display()
    );
    bin
}

/// A running emulator, stopped when dropped.
pub struct Emulator {
    child: Child,
    pub url: String,
    pub request_log: PathBuf,
}

impl Emulator {
    /// Starts `tests/emulator/server.py` on a free port with extra options and waits for
    /// its `ready` line.
    pub fn start(extra: &[&str]) -> Emulator {
        let bin = venv_bin();
        let dir = scratch_dir("emulator");
        let request_log = dir.join("requests.jsonl");
        // The emulator runs under a small bash guard that stops it when this test process
        // goes away (statics such as the shared emulator are never dropped): the guard waits
        // for EOF on stdin, which comes when our end of the pipe closes.
        let mut child = Command::new("bash")
            .args(["-c", "\"$@\" & child=$!; cat >/dev/null; kill $child 2>/dev/null; wait $child", "emulator-guard"])
            .arg(bin.join("python"))
            .arg(root().join("tests/emulator/server.py"))
            .args(["--port", "0", "--request-log"])
            .arg(&request_log)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("failed to start the emulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ready ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            drop(child.stdin.take());
            panic!("the emulator did not print `ready` within 60 s")
        });
        Emulator { child, url, request_log }
    }

    /// One emulator shared by every test in this test binary. Tests stay apart by using
    /// their own accounts.
    pub fn shared() -> &'static Emulator {
        static SHARED: OnceLock<Emulator> = OnceLock::new();
        SHARED.get_or_init(|| Emulator::start(&[]))
    }

    /// Every request log line so far.
    pub fn all_requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.request_log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Asserts that the calls logged after `from` (of one account, when given) only read:
    /// Describe*, List*, Get* and sts:AssumeRole (the cohort audit's way in).
    pub fn assert_read_only_since(&self, from: usize, account: Option<&str>) {
        let calls = self.all_requests();
        assert!(calls.len() > from, "no calls were logged");
        let ours: Vec<_> = calls[from..].iter().filter(|c| account.is_none_or(|a| c["account"] == a)).collect();
        assert!(!ours.is_empty(), "no calls of this account were logged");
        for call in ours {
            let action = call["action"].as_str().unwrap_or("");
            let read = action.starts_with("Describe") || action.starts_with("List") || action.starts_with("Get") || action == "AssumeRole";
            assert!(read, "the grader called {}:{action}", call["service"]);
        }
    }

    /// Request log lines (`{"account", "service", "action", ...}`) for one account.
    pub fn requests(&self, account: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.request_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["account"] == account)
            .collect()
    }
}

impl Emulator {
    /// Merges `settings` into one account's emulator settings (the control API of
    /// tests/emulator/README.md), e.g. `json!({"allowed_regions": ["us-east-1"]})`.
    /// Panics with the server's answer unless its status is 2xx.
    pub fn configure(&self, account: &str, settings: serde_json::Value) {
        use std::io::{Read, Write};
        // A raw HTTP/1.1 request: the tests need no HTTP client crate for this.
        let addr = self.url.trim_start_matches("http://").trim_end_matches('/');
        let body = settings.to_string();
        let request = format!(
            "POST /_emulator/accounts/{account}/settings HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot reach the emulator at {addr}: {e}"));
        stream.write_all(request.as_bytes()).expect("send settings to the emulator");
        // `Connection: close` makes the server close after its answer, so read to the end.
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the emulator's answer");
        // The status line: `HTTP/1.1 200 OK`.
        let status = answer.lines().next().and_then(|line| line.split_whitespace().nth(1)).unwrap_or("");
        assert!(status.starts_with('2'), "configuring account {account} failed:\n{answer}");
    }

    /// Stops the emulator now (to test a dead endpoint).
    pub fn stop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Closing stdin makes the guard stop the emulator.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A fresh directory under target/ for one test's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = root().join("target/test-scratch").join(format!("{name}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Credentials for one account of the emulator, reached by STS AssumeRole.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub access_key: String,
    pub secret_key: String,
    pub session_token: String,
    pub endpoint: String,
    pub region: String,
}

/// A new account id no other test uses.
pub fn fresh_account_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("{:05}{:07}", std::process::id() % 100_000, n + 1_000_000)
}

impl Account {
    /// Assumes a role in a brand-new account, so the test sees only its own resources.
    pub fn fresh(emulator: &Emulator) -> Account {
        Account::assume(emulator, &fresh_account_id(), "lab-learner")
    }

    /// The emulator's default account with its root keys (`testing`), which moto accepts
    /// even when every call is throttled or IAM is enforced.
    pub fn root(emulator: &Emulator) -> Account {
        Account {
            id: "123456789012".into(),
            access_key: "testing".into(),
            secret_key: "testing".into(),
            session_token: String::new(),
            endpoint: emulator.url.clone(),
            region: "us-east-1".into(),
        }
    }

    /// A fresh account on an emulator that throttles: the CLI retries until it gets through.
    pub fn fresh_retrying(emulator: &Emulator) -> Account {
        for _ in 0..20 {
            if let Ok(a) = std::panic::catch_unwind(|| Account::assume(emulator, &fresh_account_id(), "lab-learner")) {
                return a;
            }
        }
        panic!("AssumeRole kept failing")
    }

    pub fn assume(emulator: &Emulator, account_id: &str, role: &str) -> Account {
        let out = Command::new(venv_bin().join("aws"))
            .args(["sts", "assume-role", "--role-arn"])
            .arg(format!("arn:aws:iam::{account_id}:role/{role}"))
            .args(["--role-session-name", "test", "--output", "json"])
            .envs(base_env(&emulator.url))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .expect("aws sts assume-role");
        assert!(out.status.success(), "assume-role failed: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("assume-role JSON");
        let c = &v["Credentials"];
        Account {
            id: account_id.to_string(),
            access_key: c["AccessKeyId"].as_str().unwrap().to_string(),
            secret_key: c["SecretAccessKey"].as_str().unwrap().to_string(),
            session_token: c["SessionToken"].as_str().unwrap().to_string(),
            endpoint: emulator.url.clone(),
            region: "us-east-1".into(),
        }
    }

    /// Like `assume`, through the SDK: fast enough to set up a class of 200 accounts.
    pub async fn assume_with_sdk(endpoint: &str, account_id: &str, role: &str) -> Account {
        use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(grader::aws::http_client())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .build();
        let out = aws_sdk_sts::Client::from_conf(config)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account_id}:role/{role}"))
            .role_session_name("setup")
            .send()
            .await
            .expect("assume role for setup");
        let c = out.credentials().unwrap();
        Account {
            id: account_id.to_string(),
            access_key: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            session_token: c.session_token().to_string(),
            endpoint: endpoint.to_string(),
            region: "us-east-1".into(),
        }
    }

    /// Environment for a process (AWS CLI or grader) acting as this account.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = base_env(&self.endpoint);
        env.extend([
            ("AWS_ACCESS_KEY_ID".into(), self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), self.secret_key.clone()),
            ("AWS_SESSION_TOKEN".into(), self.session_token.clone()),
            ("AWS_REGION".into(), self.region.clone()),
            ("AWS_DEFAULT_REGION".into(), self.region.clone()),
        ]);
        env
    }

    /// An AWS CLI command acting as this account.
    pub fn aws(&self, args: &[&str]) -> Output {
        let out = Command::new(venv_bin().join("aws")).args(args).envs(self.env()).output().expect("run aws");
        out
    }

    /// An AWS CLI command that must succeed; returns its stdout.
    pub fn aws_ok(&self, args: &[&str]) -> String {
        let out = self.aws(args);
        assert!(out.status.success(), "aws {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// Environment shared by every process that talks to the emulator: no real AWS
/// configuration from the machine leaks in.
fn base_env(endpoint: &str) -> Vec<(String, String)> {
    let home = scratch_dir("home");
    vec![
        ("AWS_ENDPOINT_URL".into(), endpoint.to_string()),
        ("AWS_PAGER".into(), String::new()),
        ("AWS_CONFIG_FILE".into(), home.join("config").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), home.join("credentials").display().to_string()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("GRADER_STATE_DIR".into(), home.join("state").display().to_string()),
        ("NO_COLOR".into(), "1".into()),
    ]
}

/// What one `grader` run printed and returned.
#[derive(Debug)]
pub struct GraderRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl GraderRun {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// Status of one check in a JSON report.
    /// The check `id` of the JSON report. A run of every lab's clean-up (`check cleanup` with
    /// no `--lab`) names its checks `LAB/CHECK`; there a bare id means the first lab's check.
    pub fn check(&self, id: &str) -> serde_json::Value {
        let report = self.json();
        let checks: Vec<&serde_json::Value> = report["steps"].as_array().unwrap().iter().flat_map(|s| s["checks"].as_array().unwrap()).collect();
        let first_lab = format!("fargate-nginx/{id}");
        checks
            .iter()
            .find(|c| c["id"] == id)
            .or_else(|| checks.iter().find(|c| c["id"] == first_lab.as_str()))
            .map(|c| (*c).clone())
            .unwrap_or_else(|| panic!("no check `{id}` in report:\n{}", self.stdout))
    }

    pub fn status_of(&self, id: &str) -> String {
        self.check(id)["status"].as_str().unwrap().to_string()
    }
}

/// Runs the `grader` binary with an account's environment (or none).
pub fn grader(account: Option<&Account>, args: &[&str]) -> GraderRun {
    grader_in(account, args, &[])
}

pub fn grader_in(account: Option<&Account>, args: &[&str], extra_env: &[(&str, &str)]) -> GraderRun {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grader"));
    cmd.args(args).env_remove("AWS_ENDPOINT_URL").env_remove("AWS_PROFILE").env("NO_COLOR", "1");
    if let Some(a) = account {
        cmd.envs(a.env());
    } else {
        cmd.envs(base_env("http://127.0.0.1:9"));
        cmd.env_remove("AWS_ENDPOINT_URL");
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run grader");
    GraderRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// A file's text relative to the project root.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(root().join(path)).expect("read file")
}

/// The status of `GET path` on `host:port` as curl would send it (`User-Agent: curl/8.5.0`), or
/// `None` when nothing answered within 3 s: what a learner's browser or curl sees.
pub fn curl_status(host: &str, port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let addr: std::net::SocketAddr = format!("{host}:{port}").parse().ok()?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3)).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(3))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    String::from_utf8_lossy(&raw).split_whitespace().nth(1)?.parse().ok()
}

/// A reader user in `account` holding exactly `policy` (an IAM user `grader-reader`, whose
/// policy a test may put again); returns its credentials.
pub fn reader(account: &Account, policy: &str) -> Account {
    let _ = account.aws(&["iam", "create-user", "--user-name", "grader-reader"]);
    account.aws_ok(&["iam", "put-user-policy", "--user-name", "grader-reader", "--policy-name", "grader", "--policy-document", policy]);
    let key: serde_json::Value = serde_json::from_str(&account.aws_ok(&["iam", "create-access-key", "--user-name", "grader-reader", "--output", "json"])).unwrap();
    Account {
        access_key: key["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
        secret_key: key["AccessKey"]["SecretAccessKey"].as_str().unwrap().into(),
        session_token: String::new(),
        ..account.clone()
    }
}
