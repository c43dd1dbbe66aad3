//! The grader as learners install it from PyPI: the wheel `scripts/wheel` builds (maturin, zig,
//! manylinux_2_28) installed into a fresh virtualenv from an empty directory, then `--version`,
//! `check --all` against the emulator and `serve`; the installed binary needs glibc 2.28 at
//! most; the release workflow passes its linter.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use support::{Account, Emulator, root, scratch_dir};

/// The newest glibc a learner's machine must have: CloudShell's Amazon Linux 2023 has 2.34,
/// and 2.28 (RHEL 8, Debian 10) is the manylinux tag the wheel claims.
const GLIBC_FLOOR: (u32, u32) = (2, 28);

/// The wheel of this checkout, built once per test binary by `scripts/wheel` (release
/// profile). Cargo rebuilds only what changed since the last build (build.rs reruns when HEAD
/// moves), so a wheel already built for this commit is reused and only repacked.
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let mut build = Command::new(root().join("scripts/wheel"));
        build.current_dir(root());
        // Without what `cargo test` adds to this process's environment: build scripts (ring's)
        // watch CARGO_PKG_* and the like, so with them every switch between a wheel built
        // here and one built from a shell would rebuild ring and all that depends on it.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let from_cargo_test = ["CARGO_PKG_", "CARGO_BIN_EXE_"].iter().any(|p| key.starts_with(p))
                || ["CARGO", "CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR", "GRADER_BUILD_COMMIT"]
                    .contains(&key.as_ref());
            if from_cargo_test {
                build.env_remove(key.as_ref());
            }
        }
        let out = build.output().expect("run scripts/wheel");
        assert!(out.status.success(), "scripts/wheel failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let name = format!("fargate_grader-{}-py3-none-manylinux_2_28_x86_64.whl", env!("CARGO_PKG_VERSION"));
        let wheel = root().join("target/wheels").join(&name);
        assert!(wheel.is_file(), "scripts/wheel did not write {}:\n{}", wheel.display(), String::from_utf8_lossy(&out.stderr));
        wheel
    })
}

/// A fresh virtualenv with the wheel installed by pip, as pipx and `uv tool install` make
/// one per tool; returns its `bin/grader`. Installed once per test binary.
fn installed_grader() -> &'static Path {
    static GRADER: OnceLock<PathBuf> = OnceLock::new();
    GRADER.get_or_init(|| {
        let wheel = wheel();
        let venv = scratch_dir("wheel-venv").join("venv");
        run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        // --no-index: the wheel has no dependencies, and nothing may come from elsewhere.
        run_ok(Command::new(venv.join("bin/pip")).args(["install", "--no-index", "--disable-pip-version-check", "--quiet"]).arg(wheel).current_dir(empty_dir()));
        let grader = venv.join("bin/grader");
        assert!(grader.is_file(), "pip did not put `grader` in {}", venv.join("bin").display());
        grader
    })
}

/// A new empty directory to run from: no book.toml or labs/ there for the binary to use
/// instead of its embedded copies (it looks in its working directory only).
fn empty_dir() -> PathBuf {
    scratch_dir("wheel-empty")
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// The installed grader, run from an empty directory as `account` (or with no AWS at all).
fn installed(args: &[&str], account: Option<&Account>) -> Command {
    let mut cmd = Command::new(installed_grader());
    cmd.args(args)
        .current_dir(empty_dir())
        .env_remove("GRADER_BOOK_DIR")
        .env_remove("GRADER_LABS_DIR")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("GRADER_STATE_DIR", scratch_dir("wheel-state"))
        .env("NO_COLOR", "1");
    if let Some(a) = account {
        cmd.envs(a.env());
    }
    cmd
}

/// The commit `grader --version` must name: HEAD's, when this is a git checkout.
fn expected_commit() -> String {
    let git = |args: &[&str]| Command::new("git").args(args).current_dir(root()).output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match git(&["rev-parse", "--show-toplevel"]) {
        Some(top) if Path::new(&top).canonicalize().ok() == root().canonicalize().ok() => format!("commit {}", git(&["rev-parse", "--short=12", "HEAD"]).unwrap()),
        _ => "unknown commit: not built from a git checkout".into(),
    }
}

#[test]
fn the_installed_wheel_names_its_version_and_commit() {
    let out = installed(&["--version"], None).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = format!("grader {} ({})\n", env!("CARGO_PKG_VERSION"), expected_commit());
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn the_installed_wheel_grades_an_account_on_the_emulator() {
    let emulator = Emulator::shared();

    // An empty account: real verdicts, exit 1. A new account already has its identity and a
    // default VPC (steps 1 and 2); every step that builds something fails. --no-wait: nothing
    // is on its way, so waiting for it would only cost time.
    let empty = Account::fresh(emulator);
    let out = installed(&["check", "--all", "--no-wait", "--format", "json"], Some(&empty)).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(report["schema"], "grader.report/v1");
    assert_eq!(report["account"], empty.id.as_str(), "the account the emulator gave this test");
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 9, "--all checks the nine build steps");
    for step in steps {
        let expected = if step["id"] == "step-1" || step["id"] == "step-2" { "pass" } else { "fail" };
        assert_eq!(step["status"], expected, "{step}");
    }
    assert_eq!(report["summary"]["error"], 0, "{report}");

    // The whole lab built with the SDK: every check passes, the page on the task's IP too,
    // and the installed grader only reads.
    let built = Account::fresh(emulator);
    support::lab::block_on(support::lab::build(&built, &support::lab::LabBuild::default()));
    let before = emulator.all_requests().len();
    let out = installed(&["check", "--all", "--format", "json"], Some(&built)).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert_eq!(report["summary"]["fail"], 0, "{report}");
    assert!(report["steps"].as_array().unwrap().iter().all(|s| s["status"] == "pass"), "{report}");
    emulator.assert_read_only_since(before, Some(&built.id));
}

/// A running `grader serve` of the installed wheel, stopped when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_installed_wheel_serves_the_book_and_its_check_api() {
    let account = Account::fresh(Emulator::shared());
    let mut child = installed(&["serve", "--port", "0"], Some(&account)).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Serving the course at ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").trim_end_matches('/').to_string());
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(120)).expect("grader serve did not say where it serves");
    let served = Served { child, base };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let home = client.get(format!("{}/", served.base)).send().await.unwrap();
        assert_eq!(home.status(), 200);
        assert!(home.text().await.unwrap().contains("Fargate"), "the book is served from the copy in the binary");
        let page = client.get(format!("{}/lab/step-1-identity.html", served.base)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-grader-step=\"step-1\""), "the step page carries its check widget");
        let marker = "name=\"grader-token\" content=\"";
        let token = page[page.find(marker).expect("served pages carry the token") + marker.len()..].split('"').next().unwrap().to_string();
        let answer = client.post(format!("{}/api/check/step-1", served.base)).header("X-Grader-Token", &token).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let report: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(report["steps"][0]["status"], "pass", "{report}");
        assert_eq!(report["account"], account.id.as_str());
    });
}

/// Every glibc symbol version the binary's dynamic symbols need, with one symbol needing it,
/// read with binutils' `readelf --dyn-syms` (`__libc_start_main@GLIBC_2.34 (3)`).
fn glibc_versions_needed(binary: &Path) -> Vec<((u32, u32), String)> {
    let out = Command::new("readelf").args(["--dyn-syms", "--wide"]).arg(binary).output().expect("readelf (binutils) is installed: scripts/test installs it");
    assert!(out.status.success(), "readelf failed on {}: {}", binary.display(), String::from_utf8_lossy(&out.stderr));
    let mut needed: Vec<((u32, u32), String)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().nth(7) else { continue };
        let Some((symbol, version)) = name.split_once("@GLIBC_") else { continue };
        let mut parts = version.trim_start_matches('@').split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if !needed.iter().any(|(v, _)| *v == version) {
            needed.push((version, symbol.to_string()));
        }
    }
    needed.sort();
    needed
}

/// The versions above the floor, as `GLIBC_2.34 (__libc_start_main)`.
fn above_floor(binary: &Path) -> Vec<String> {
    let needed = glibc_versions_needed(binary);
    assert!(!needed.is_empty(), "{} names no glibc symbol versions: is it dynamically linked against glibc?", binary.display());
    needed.into_iter().filter(|(v, _)| *v > GLIBC_FLOOR).map(|((major, minor), symbol)| format!("GLIBC_{major}.{minor} ({symbol})")).collect()
}

#[test]
fn the_installed_binary_needs_glibc_2_28_at_most() {
    let newer = above_floor(installed_grader());
    assert!(newer.is_empty(), "the wheel's binary needs a glibc newer than {}.{}: {newer:?}", GLIBC_FLOOR.0, GLIBC_FLOOR.1);
}

/// The check above can fail: a binary linked the usual way against this machine's glibc
/// (Debian 12 has 2.36) needs symbols newer than 2.28.
#[test]
fn a_binary_linked_against_this_machines_glibc_needs_newer_symbols() {
    let host = Command::new("getconf").arg("GNU_LIBC_VERSION").output().expect("getconf");
    let host = String::from_utf8_lossy(&host.stdout).trim().trim_start_matches("glibc ").to_string();
    let mut parts = host.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    // glibc 2.34 moved __libc_start_main (and libpthread) to new versions every program uses;
    // an older build machine links a binary that may well pass, so there is nothing to show.
    if (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) < (2, 34) {
        eprintln!("skipped: this machine's glibc is {host}, older than 2.34");
        return;
    }
    let newer = above_floor(Path::new(env!("CARGO_BIN_EXE_grader")));
    assert!(!newer.is_empty(), "a binary linked against glibc {host} should need newer symbols than 2.28");
}

#[test]
fn the_release_workflow_passes_zizmor() {
    // scripts/wheel installs zizmor beside maturin; offline: no GitHub API here.
    wheel();
    let zizmor = root().join("target/wheel-tools/bin/zizmor");
    let lint = |workflow: &Path| Command::new(&zizmor).arg("--offline").arg(workflow).env("NO_COLOR", "1").output().expect("run zizmor");
    let out = lint(&root().join(".github/workflows/release.yml"));
    assert!(out.status.success(), "zizmor finds problems in the release workflow:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // The same workflow with an action on a moving tag instead of a pinned commit fails.
    let workflow = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let pinned = "PyO3/maturin-action@";
    let start = workflow.find(pinned).expect("the workflow uses maturin's action") + pinned.len();
    let end = start + workflow[start..].find('\n').unwrap();
    let moving = format!("{}v1{}", &workflow[..start], &workflow[end..]);
    let dir = scratch_dir("workflow").join(".github/workflows");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("release.yml"), moving).unwrap();
    let out = lint(&dir.join("release.yml"));
    assert!(!out.status.success(), "zizmor passed an action on a moving tag");
    assert!(String::from_utf8_lossy(&out.stdout).contains("unpinned-uses"), "{}", String::from_utf8_lossy(&out.stdout));
}

/// `pip install --user` (AWS CloudShell's way) puts `grader` in the user's bin directory.
#[test]
fn pip_install_user_puts_grader_in_the_users_bin_directory() {
    let wheel = wheel();
    let home = scratch_dir("wheel-user");
    // A virtualenv that sees the system's site packages behaves like a plain Python for
    // `--user` (a bare venv refuses it), without touching this machine's own user site.
    let python = home.join("python");
    run_ok(Command::new("python3").args(["-m", "venv", "--system-site-packages"]).arg(&python));
    let userbase = home.join(".local");
    run_ok(
        Command::new(python.join("bin/python"))
            .args(["-m", "pip", "install", "--user", "--no-index", "--disable-pip-version-check", "--quiet"])
            .arg(wheel)
            .env("PYTHONUSERBASE", &userbase)
            .env("HOME", &home)
            .current_dir(empty_dir()),
    );
    let grader = userbase.join("bin/grader");
    let out = run_ok(Command::new(&grader).arg("--version").current_dir(empty_dir()));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("grader "), "{}", String::from_utf8_lossy(&out.stdout));
}
