//! The tutorial end-to-end: the book's own ```bash blocks, in SUMMARY order, run in one shell
//! session (bash, and zsh as on macOS) with the real AWS CLI (version 1 from PyPI, and Debian's
//! version 2, which the book targets) against the emulator, with the step's checks before and
//! after every page. The full walks are `grader selftest --lab fargate-nginx --lab alb`, the
//! authors' own tool; the variants below (a learner's own names, a forgetful learner's
//! clean-up) walk the pages here, in the same shell session (`grader::selftest::shell`).
//!
//! The one override: the emulator cannot tell the learner's public IP, so the session starts
//! with `MY_IP=127.0.0.1`, which step 3 keeps (`MY_IP="${MY_IP:-$(curl …)}"`). Nothing in
//! the book's commands is edited, except in the variants below, which drop the cleanup
//! blocks a forgetful learner would skip.
//!
//! Where the time goes: nearly all of it is AWS CLI processes (over half a second of CPU each,
//! well over a hundred per walk of both labs), not the emulator or the grader. So the walks that are about lab 1's clean-up
//! page share the set-up other tests use (`support::lab::build`, the SDK in-process) instead
//! of walking lab 1's build pages again; the full walks run those pages in every shell and
//! CLI.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use grader::book::commands::{LabPage, lab_pages, lab_pages_under};
use grader::selftest::shell::{BlockError, Session, Shell};
use support::lab::{LabBuild, block_on, build};
use support::{Account, Emulator, GraderRun, grader_in, root, scratch_dir, venv_bin};

/// Steps whose page creates what the step checks, so their checks must fail before it.
const CREATING_STEPS: &[&str] = &["step-3", "step-4", "step-5", "step-6", "step-7", "step-8"];

/// How long one block may take in these walks (the emulator answers in seconds).
const BLOCK_LIMIT: Duration = Duration::from_secs(180);

/// The AWS CLI a learner has. Version 2 parses some parameters differently from version 1
/// (blob parameters, timestamps, the pager), and the book is written for version 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum AwsCli {
    /// Version 1 from PyPI, in the emulator's virtualenv; it reads `AWS_ENDPOINT_URL`.
    #[default]
    V1,
    /// Debian's `awscli` package (2.9), which `scripts/test` installs. It predates
    /// `AWS_ENDPOINT_URL`, so the session reaches it through a wrapper that adds
    /// `--endpoint-url` (see `aws_v2_wrapper`).
    V2,
}

/// Where Debian's package puts AWS CLI v2.
const AWS_V2: &str = "/usr/bin/aws";

/// A directory holding an `aws` that runs AWS CLI v2 against the emulator, for the front of the
/// session's PATH. A script on PATH rather than a shell function: the book pipes task ARNs to
/// `xargs aws ecs describe-tasks`, and xargs runs `aws` from PATH, where a function of the
/// shell is not seen (its calls would go to the real AWS endpoints).
fn aws_v2_wrapper(dir: &Path) -> PathBuf {
    let version = Command::new(AWS_V2).arg("--version").output();
    let version = version.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    assert!(version.starts_with("aws-cli/2."), "AWS CLI v2 is missing at {AWS_V2} (found {version:?}): run scripts/test, which installs Debian's awscli");
    let bin = dir.join(".aws-cli-v2");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("aws");
    std::fs::write(&wrapper, format!("#!/bin/sh\n# AWS CLI v2 pointed at the test emulator (it ignores AWS_ENDPOINT_URL).\nexec {AWS_V2} --endpoint-url \"$AWS_ENDPOINT_URL\" \"$@\"\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// What a learner's terminal has besides the account: the CLI first on PATH, then the
/// grader, a home of its own, and the address the security groups admit.
fn terminal_env(dir: &Path, cli: AwsCli) -> Vec<(String, String)> {
    let grader_dir = Path::new(env!("CARGO_BIN_EXE_grader")).parent().unwrap().to_path_buf();
    let aws_dir = match cli {
        AwsCli::V1 => venv_bin(),
        AwsCli::V2 => aws_v2_wrapper(dir),
    };
    let path = format!("{}:{}:{}", aws_dir.display(), grader_dir.display(), std::env::var("PATH").unwrap_or_default());
    vec![("PATH".into(), path), ("HOME".into(), dir.display().to_string()), ("MY_IP".into(), "127.0.0.1".into())]
}

/// The session's `aws` is the CLI asked for (v1 writes its version to stderr).
fn assert_cli(env: &[(String, String)], cli: AwsCli) {
    let path = &env.iter().find(|(k, _)| k == "PATH").unwrap().1;
    let out = Command::new("sh").args(["-c", "aws --version 2>&1"]).env("PATH", path).output().expect("run aws --version");
    let version = String::from_utf8_lossy(&out.stdout);
    let major = match cli {
        AwsCli::V1 => "aws-cli/1.",
        AwsCli::V2 => "aws-cli/2.",
    };
    assert!(version.starts_with(major), "the {cli:?} session runs {version}");
}

/// `grader selftest` of `labs` (each built on the ones before) in `shell` with `cli`, every
/// check decided at once after its page (`--no-wait`: the pages' own waits must be enough).
/// Returns the pages in the order they ran.
fn selftest(labs: &[&str], shell: &str, cli: AwsCli) -> Vec<String> {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    // As on AWS, a stopped task's network interface lingers (there about a minute): the
    // book's clean-up must wait for it before deleting the security group.
    emulator.configure(&account.id, serde_json::json!({ "eni_release_seconds": 5 }));
    let env = terminal_env(&scratch_dir("tutorial"), cli);
    assert_cli(&env, cli);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut args = vec!["selftest", "--shell", shell, "--no-wait", "--block-timeout", "180s", "--format", "json"];
    for lab in labs {
        args.extend(["--lab", lab]);
    }
    let run = grader_in(Some(&account), &args, &env);
    let document = run.json();
    eprintln!("selftest of {labs:?} ({shell}, {cli:?}): {:.0} s", run.elapsed.as_secs_f64());
    let problems: Vec<String> = document["pages"].as_array().unwrap().iter().filter_map(|p| p["problem"].as_str().map(|why| format!("{}: {why}", p["page"]))).collect();
    assert!(problems.is_empty() && run.code == 0, "the book as written should pass every step of {labs:?} in {shell} with {cli:?}:\n{}\n{}", problems.join("\n"), run.stderr);
    assert_eq!(document["passed"], true, "{}", run.stdout);
    document["pages"].as_array().unwrap().iter().map(|p| p["page"].as_str().unwrap().to_string()).collect()
}

/// Both labs, lab 2 on top of lab 1: lab 2's clean-up runs before lab 1's.
fn selftest_both_labs(shell: &str, cli: AwsCli) {
    let pages = selftest(&["fargate-nginx", "alb"], shell, cli);
    assert!(pages.len() >= 21, "both labs' pages ran: {pages:?}");
    assert_eq!(pages[pages.len() - 2..], ["alb/cleanup.md", "lab/cleanup.md"]);
}

/// One learner's terminal for the variant walks.
fn start_session(account: &Account, strict: bool, shell: Shell) -> Session {
    let dir = scratch_dir("tutorial");
    let mut env = account.env();
    env.extend(terminal_env(&dir, AwsCli::V1));
    Session::start(shell, &dir, &env, strict).expect("start the shell")
}

fn check_lab(account: &Account, lab: Option<&str>, step: &str, vars: &[String]) -> GraderRun {
    let mut args = vec!["check", step, "--format", "json", "--no-wait"];
    if let Some(lab) = lab {
        args.extend(["--lab", lab]);
    }
    for v in vars {
        args.extend(["--var", v.as_str()]);
    }
    grader_in(Some(account), &args, &[])
}

/// Every check of a run with its status. `grader check cleanup` is every lab's clean-up, its
/// checks named `LAB/CHECK`; lab 1's are named as in its own lab file here.
fn statuses(run: &GraderRun) -> Vec<(String, String)> {
    let report = run.json();
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap().clone())
        .map(|c| {
            let id = c["id"].as_str().unwrap();
            (id.strip_prefix("fargate-nginx/").unwrap_or(id).to_string(), c["status"].as_str().unwrap().to_string())
        })
        .collect()
}

fn pages() -> Vec<LabPage> {
    let pages = lab_pages(&root().join("book")).expect("read the lab chapters");
    assert!(pages.len() >= 10, "SUMMARY.md lists the lab chapters");
    pages
}

/// How a learner deviates from the book.
#[derive(Default)]
struct Variant {
    /// Cleanup blocks containing any of these texts are skipped (a deletion, and the wait
    /// for it, which would otherwise wait ten minutes for something that never happens).
    skip_cleanup_with: &'static [&'static str],
    /// The learner's own names: (book default, theirs, grader variable).
    rename: Vec<(&'static str, &'static str, &'static str)>,
    /// Lab 1 built as its pages build it, but by the SDK (`support::lab::build`), and only
    /// the clean-up page walked: for the variants about the clean-up.
    prebuilt: bool,
}

/// Runs the lab chapters; returns the cleanup report. Panics with the chapter, block,
/// stderr and grader report on any divergence.
fn walk_the_book(variant: &Variant) -> GraderRun {
    let emulator = Emulator::shared();
    let account = Account::fresh(emulator);
    // As on AWS, a stopped task's network interface lingers (there about a minute): the
    // book's clean-up must wait for it before deleting the security group.
    emulator.configure(&account.id, serde_json::json!({ "eni_release_seconds": 5 }));
    let strict = variant.skip_cleanup_with.is_empty();
    let mut session = start_session(&account, strict, Shell::Bash);
    let vars: Vec<String> = variant.rename.iter().map(|(_, theirs, var)| format!("{var}={theirs}")).collect();
    let mut last = None;
    // Where the time goes (shown with `--nocapture`): the blocks, slowest first, and the checks.
    let started = std::time::Instant::now();
    let mut block_times: Vec<(Duration, String)> = Vec::new();
    let mut grading = Duration::ZERO;
    let mut walk = pages();
    if variant.prebuilt {
        assert!(variant.rename.is_empty(), "a prebuilt walk is lab 1's clean-up under the book's names");
        block_on(build(&account, &LabBuild::default()));
        // Step 5 tags the role it creates; the clean-up page deletes only a tagged role.
        account.aws_ok(&["iam", "tag-role", "--role-name", "ecsTaskExecutionRole", "--tags", "Key=created-by,Value=fargate-course"]);
        walk.retain(|p| p.step.as_deref() == Some("cleanup"));
    }
    for page in walk {
        let chapter = format!("book/{}", page.path.display());
        let is_cleanup = page.step.as_deref() == Some("cleanup");
        let lab = page.lab.as_deref();
        if let Some(step) = &page.step {
            if CREATING_STEPS.contains(&step.as_str()) || is_cleanup {
                let before = check_lab(&account, lab, step, &vars);
                grading += before.elapsed;
                let passing: Vec<_> = statuses(&before).into_iter().filter(|(_, s)| s == "pass" && !is_cleanup).collect();
                assert!(passing.is_empty(), "{chapter}: before its commands ran, these checks of {step} already passed: {passing:?}\n{}", before.stdout);
                assert_eq!(before.code, 1, "{chapter}: {step} should fail before its commands run:\n{}", before.stdout);
            }
        }
        for block in &page.blocks {
            let mut code = block.code.clone();
            if is_cleanup && variant.skip_cleanup_with.iter().any(|s| code.contains(s)) {
                continue;
            }
            for (default, theirs, _) in &variant.rename {
                code = code.replace(default, theirs);
            }
            let block_started = std::time::Instant::now();
            let ran = session.run(&code, BLOCK_LIMIT);
            block_times.push((block_started.elapsed(), format!("{chapter}:{}", block.line)));
            if let Err(e) = ran {
                // A forgetful learner's commands may fail; none may hang.
                let (status, stderr, hung) = match e {
                    BlockError::Failed { status, stderr } => (status, stderr, false),
                    e @ BlockError::TimedOut(_) => (e.status(), String::new(), true),
                };
                if strict || hung {
                    let report = page.step.as_ref().map(|s| check_lab(&account, lab, s, &vars).stdout).unwrap_or_default();
                    panic!(
                        "{chapter}:{}: a command block failed ({status})\n--- block\n{}--- stderr\n{stderr}--- grader report for this step\n{report}",
                        block.line, block.code
                    );
                }
            }
        }
        if let Some(step) = &page.step {
            let after = check_lab(&account, lab, step, &vars);
            grading += after.elapsed;
            if is_cleanup && lab.is_none() {
                last = Some(after);
                continue;
            }
            assert_eq!(after.code, 0, "{chapter}: after its commands, `grader check {step}` should pass:\n{}\n{}", after.stdout, after.stderr);
        }
    }
    block_times.sort_by_key(|b| std::cmp::Reverse(b.0));
    let in_blocks: Duration = block_times.iter().map(|(d, _)| *d).sum();
    let slowest: Vec<String> = block_times.iter().take(8).map(|(d, at)| format!("  {:>5.1}s {at}", d.as_secs_f64())).collect();
    eprintln!(
        "walk: {:.0}s in all, {:.0}s in {} blocks, {:.0}s in grader checks; slowest blocks:\n{}",
        started.elapsed().as_secs_f64(),
        in_blocks.as_secs_f64(),
        block_times.len(),
        grading.as_secs_f64(),
        slowest.join("\n")
    );
    last.expect("the book has a cleanup page with {{#check cleanup}}")
}

#[test]
fn the_book_as_written_passes_every_step_of_both_labs_and_cleans_up() {
    selftest_both_labs("bash", AwsCli::V1);
}

#[test]
fn the_book_as_written_passes_in_zsh_too() {
    selftest_both_labs("zsh", AwsCli::V1);
}

#[test]
fn the_book_as_written_passes_with_aws_cli_v2() {
    selftest_both_labs("bash", AwsCli::V2);
}

#[test]
fn the_book_as_written_passes_in_zsh_with_aws_cli_v2() {
    selftest_both_labs("zsh", AwsCli::V2);
}

/// Lab 3 stands alone and is written in YAML alone (`resource` checks through Cloud Control).
#[test]
fn the_third_lab_passes_its_selftest_in_bash_and_in_zsh_with_aws_cli_v2() {
    let pages = selftest(&["ops"], "bash", AwsCli::V1);
    assert_eq!(pages, ["ops/index.md", "ops/step-1-parameter.md", "ops/step-2-repository.md", "ops/step-3-alarm.md", "ops/cleanup.md"]);
    selftest(&["ops"], "zsh", AwsCli::V2);
}

/// Interactive zsh (a Mac's Terminal) takes `#` as a command unless `interactivecomments` is
/// set, so a pasted block must hold no comments; the test sessions cannot show it, because
/// zsh reading a script accepts comments.
#[test]
fn lab_blocks_hold_no_shell_comments() {
    let mut found = Vec::new();
    // Every page SUMMARY lists: the labs' pages, and the appendices' commands too.
    for page in lab_pages_under(&root().join("book"), "").expect("read the chapters") {
        for block in &page.blocks {
            for (i, line) in block.code.lines().enumerate() {
                // A block that starts with `#!` is a script file's contents, not a paste.
                if has_comment(line) && !(i == 0 && line.starts_with("#!")) {
                    found.push(format!("book/{}:{}: {line}", page.path.display(), block.line + 1 + i));
                }
            }
        }
    }
    assert!(found.is_empty(), "move these comments into the prose around the block:\n{}", found.join("\n"));
}

/// A `#` that starts a word outside quotes (`$#`, `${#x}` and `a#b` are not comments).
fn has_comment(line: &str) -> bool {
    let (mut single, mut double, mut previous) = (false, false, ' ');
    for c in line.chars() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && previous.is_whitespace() => return true,
            _ => {}
        }
        previous = c;
    }
    false
}

#[test]
fn the_comment_finder_tells_comments_from_hashes() {
    assert!(has_comment("# a comment"));
    assert!(has_comment("  aws ecs list-tasks  # trailing"));
    assert!(!has_comment("echo \"${#TASKS} tasks\" '#not' $#"));
    assert!(!has_comment("curl http://host/#anchor"));
}

#[test]
fn own_names_pass_with_var() {
    let cleanup = walk_the_book(&Variant {
        rename: vec![("fargate-course", "my-class-cluster", "cluster"), ("web-nginx", "my-nginx", "service")],
        ..Variant::default()
    });
    assert_eq!(cleanup.code, 0, "{}", cleanup.stdout);
}

/// Skips the cleanup blocks that delete one resource; the cleanup check must fail on that
/// resource, name it, and give the command that removes it.
fn forgotten(skip: &'static [&'static str], check_id: &str, command: &str, only_this: bool) {
    let cleanup = walk_the_book(&Variant { skip_cleanup_with: skip, prebuilt: true, ..Variant::default() });
    assert_eq!(cleanup.code, 1, "{}", cleanup.stdout);
    let c = cleanup.check(check_id);
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["message"].as_str().unwrap().contains(command), "{check_id} should say `{command}`: {c}");
    if only_this {
        let failing: Vec<_> = statuses(&cleanup).into_iter().filter(|(_, s)| s != "pass").map(|(id, _)| id).collect();
        assert_eq!(failing, vec![check_id.to_string()], "{}", cleanup.stdout);
    }
}

#[test]
fn a_forgotten_service_is_named_with_its_teardown() {
    // The cluster and the security group cannot go while the service runs, so they fail too.
    // The clean-up page waits for the group's interfaces to go before deleting it, which never
    // happens while the task runs: this learner stops there (Ctrl-C), as the page says.
    let skip = &["delete-service", "services-inactive", "delete-security-group"];
    forgotten(skip, "service-deleted", "aws ecs delete-service --cluster fargate-course --service web-nginx --force", false);
}

#[test]
fn a_forgotten_cluster_is_named_with_its_teardown() {
    forgotten(&["delete-cluster"], "cluster-deleted", "aws ecs delete-cluster --cluster fargate-course", true);
}

#[test]
fn a_forgotten_log_group_is_named_with_its_teardown() {
    forgotten(&["delete-log-group"], "log-group-deleted", "aws logs delete-log-group --log-group-name /ecs/nginx-web", true);
}

#[test]
fn a_forgotten_security_group_is_named_with_its_teardown() {
    // The skipped block is also the one that waits for ECS to release the task's interface,
    // so right after the page that interface may still use the group: only the group's own
    // check is asserted.
    forgotten(&["delete-security-group"], "security-group-deleted", "aws ec2 delete-security-group --group-id sg-", false);
}
