//! `grader serve` started for a test (with an emulator account's credentials, or none), and
//! the per-process token its pages carry: shared by the serve and accessibility tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Account, root, scratch_dir};

/// A running `grader serve`, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub port: u16,
    /// The server's TMPDIR, so a test can see where it builds the book.
    pub tmp: PathBuf,
    /// The token an `--api-only` server prints.
    pub token: Option<String>,
}

fn cmd_is_api_only(cmd: &Command) -> bool {
    cmd.get_args().any(|a| a == "--api-only")
}

impl Server {
    pub fn start(account: Option<&Account>) -> Server {
        Server::start_from(std::path::Path::new(env!("CARGO_BIN_EXE_grader")), &root(), account)
    }

    /// Starts `binary serve` in `cwd`.
    pub fn start_from(binary: &std::path::Path, cwd: &std::path::Path, account: Option<&Account>) -> Server {
        let mut cmd = Command::new(binary);
        cmd.args(["serve", "--port", "0"]).current_dir(cwd);
        Server::start_with(cmd, account)
    }

    /// Starts a prepared `grader serve` command with an account's environment (or none).
    pub fn start_with(mut cmd: Command, account: Option<&Account>) -> Server {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let tmp = scratch_dir("serve-tmp");
        cmd.env("GRADER_STATE_DIR", scratch_dir("serve-state")).env("TMPDIR", &tmp).env_remove("AWS_ENDPOINT_URL");
        match account {
            Some(a) => {
                cmd.envs(a.env());
            }
            None => {
                let home = scratch_dir("no-creds");
                cmd.env_remove("AWS_ACCESS_KEY_ID")
                    .env_remove("AWS_SECRET_ACCESS_KEY")
                    .env_remove("AWS_SESSION_TOKEN")
                    .env_remove("AWS_PROFILE")
                    .env("AWS_CONFIG_FILE", home.join("config"))
                    .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
                    .env("AWS_EC2_METADATA_DISABLED", "true")
                    .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
            }
        }
        let mut child = cmd.spawn().expect("start grader serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // `Serving the course at URL …`, or with --api-only `Serving the check API at URL …`
        // and then the token to paste.
        let (mut base, mut token) = (None, None);
        while base.is_none() || (token.is_none() && cmd_is_api_only(&cmd)) {
            let line = rx.recv_timeout(Duration::from_secs(120)).expect("grader serve did not start");
            if let Some(rest) = line.strip_prefix("Serving the course at ").or_else(|| line.strip_prefix("Serving the check API at ")) {
                base = Some(rest.split_whitespace().next().unwrap_or("").trim_end_matches('/').to_string());
            } else if let Some((_, t)) = line.split_once("): ").filter(|_| line.starts_with("Token (")) {
                token = Some(t.trim().to_string());
            }
        }
        let base = base.unwrap();
        let port = base.rsplit(':').next().unwrap().parse().unwrap();
        Server { child, base, port, tmp, token }
    }
    /// Stops the server as a learner does, with Ctrl-C (SIGINT), and waits for it to exit.
    pub fn interrupt(&mut self) {
        let sent = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().expect("run kill");
        assert!(sent.success());
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(20), "grader serve did not stop on Ctrl-C");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-thread tokio runtime for a test's async part.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The token embedded in a served page.
pub async fn token(client: &reqwest::Client, server: &Server) -> String {
    let page = client.get(format!("{}/lab/step-1-identity.html", server.base)).send().await.unwrap().text().await.unwrap();
    let start = page.find("name=\"grader-token\" content=\"").expect("served pages carry the token") + "name=\"grader-token\" content=\"".len();
    page[start..].split('"').next().unwrap().to_string()
}

