//! `grader selftest`: proves that a lab's book pages and its checks agree, the way an author
//! would by hand. On an empty account, page by page in SUMMARY order: the step's checks must
//! not all pass before the page's commands (else they do not look at what the page creates),
//! the page's ```bash blocks run in one shell session (bash or zsh) and must succeed, and the
//! step's checks must pass after. Then the clean-up pages, whose checks must pass once they ran.
//!
//! The grader's own code still only reads: the commands that build and delete are the book's,
//! run by the shell. That is why the selftest runs only against an emulator on this machine
//! unless told, with `--creates-resources`, that the account is a sandbox.

pub mod pages;
mod report;
pub mod shell;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use crate::aws::{Aws, AwsOptions};
use crate::book::commands::LabPage;
use crate::checks::{Status, Vantage};
use crate::events::{Dispatch, PageVerdict, RunEvent, SelftestEvent, Tally};
use crate::exit::{Exit, Failure};
use crate::grading::{self, Plan};
use crate::lab::{Lab, LabSet};
use crate::runner::RunOptions;

pub use report::{SelftestFormat, SelftestHuman, SelftestJson};
pub use shell::Shell;

/// What a selftest runs and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The labs, each built on the ones before it (`--lab fargate-nginx --lab alb`).
    pub labs: Vec<String>,
    pub shell: Shell,
    /// `--var`s for the checks (the pages run as written).
    pub vars: Vec<(String, String)>,
    /// Decide the checks after each page at once: the page's own waits must be enough.
    pub no_wait: bool,
    /// How long one block may run before the selftest gives up on it.
    pub block_timeout: Duration,
    /// The account and region, as for `grader check`.
    pub aws: AwsOptions,
}

/// Runs the selftest; every event goes to `reporters`. `Exit::Ok` when every page behaved,
/// `Exit::CheckFailed` at the first page that did not (the selftest stops there: later pages
/// build on it).
pub async fn run(labs: &LabSet, book_src: &Path, options: &Options, reporters: &mut Dispatch<'_>) -> Result<Exit, Failure> {
    let started = Instant::now();
    let chosen: Vec<&Lab> = options.labs.iter().map(|id| labs.select(Some(id))).collect::<Result<_, _>>()?;
    let default_lab = labs.select(None)?.id.clone();
    let pages = pages::pages_for(book_src, &chosen, &default_lab).map_err(Failure::usage)?;

    let config = crate::aws::load_config(&options.aws).await?;
    let aws = Aws::new(config.clone(), options.aws.verbose);
    let account = grading::sign_in(&aws, &options.aws).await?;
    let dir = tempfile::tempdir().map_err(|e| Failure::usage(format!("failed to create a working directory for the shell: {e}")))?;
    let mut session = shell::Session::start(options.shell, dir.path(), &shell_env(&options.aws, &aws.region), true).map_err(|e| Failure::usage(e.to_string()))?;
    same_account_in_the_shell(&mut session, &account)?;
    let page_names: Vec<String> = pages.iter().map(|(_, p)| p.path.display().to_string()).collect();
    reporters.emit(&RunEvent::Selftest(&SelftestEvent::SelftestStarted {
        labs: options.labs.clone(),
        shell: options.shell.name(),
        account: account.clone(),
        region: aws.region.clone(),
        pages: page_names,
    }));

    let mut passed = 0;
    for (lab_id, page) in &pages {
        let lab = chosen.iter().find(|l| &l.id == lab_id).expect("pages come from the chosen labs");
        let verdict = run_page(lab, page, &mut session, options, &Target { config: &config, account: &account }, reporters).await?;
        let ok = verdict.passed;
        reporters.emit(&RunEvent::Selftest(&SelftestEvent::PageFinished(verdict)));
        if !ok {
            break;
        }
        passed += 1;
    }
    let all = passed == pages.len();
    reporters.emit(&RunEvent::Selftest(&SelftestEvent::SelftestFinished { passed: all, pages: pages.len(), duration_ms: started.elapsed().as_millis() as u64 }));
    Ok(if all { Exit::Ok } else { Exit::CheckFailed })
}

/// What the shell needs so that the book's commands reach what the checks read: the flags
/// given to the grader (`--endpoint-url`, `--profile`, `--region`) as the AWS CLI's variables.
fn shell_env(aws: &AwsOptions, region: &str) -> Vec<(String, String)> {
    let mut env = vec![("AWS_REGION".to_string(), region.to_string()), ("AWS_DEFAULT_REGION".to_string(), region.to_string()), ("AWS_PAGER".to_string(), String::new())];
    if let Some(endpoint) = &aws.endpoint_url {
        env.push(("AWS_ENDPOINT_URL".into(), endpoint.clone()));
    }
    if let Some(profile) = &aws.profile {
        env.push(("AWS_PROFILE".into(), profile.clone()));
    }
    env
}

/// The shell's `aws` must act on the account the checks read: an AWS CLI that ignores
/// `AWS_ENDPOINT_URL` (version 2 before 2.13) would otherwise build a real account while the
/// checks read the emulator.
fn same_account_in_the_shell(session: &mut shell::Session, account: &str) -> Result<(), Failure> {
    let probe = "aws sts get-caller-identity --query Account --output text\n";
    match session.run(probe, Duration::from_secs(120)) {
        Ok(out) if out.trim() == account => Ok(()),
        Ok(out) => Err(Failure::usage(format!(
            "the shell's `aws` acts on account {}, but the grader reads account {account}: the pages would build where the checks do not look. \
Give the AWS CLI the same endpoint and credentials (an AWS CLI v2 older than 2.13 ignores AWS_ENDPOINT_URL: put a wrapper named `aws` that adds `--endpoint-url` first on PATH)",
            out.trim()
        ))),
        Err(e) => Err(Failure::usage(format!(
            "the shell could not run `aws sts get-caller-identity` ({}); the pages need the AWS CLI on PATH, signed in to account {account}\n{}",
            e.status(),
            last_lines(e.stderr(), 5)
        ))),
    }
}

/// The account every check run of the selftest reads, signed in to once.
struct Target<'a> {
    config: &'a SdkConfig,
    account: &'a str,
}

/// One page: its step's checks before, its blocks, its step's checks after.
async fn run_page(lab: &Lab, page: &LabPage, session: &mut shell::Session, options: &Options, target: &Target<'_>, reporters: &mut Dispatch<'_>) -> Result<PageVerdict, Failure> {
    let started = Instant::now();
    let shown = page.path.display().to_string();
    let step = page.step.as_deref().and_then(|s| lab.step(s));
    let mut verdict = PageVerdict {
        lab: lab.id.clone(),
        page: shown.clone(),
        step: step.map(|s| s.id.clone()),
        before: None,
        before_may_pass: step.is_none_or(|s| !s.creates),
        blocks: page.blocks.len(),
        failed_block: None,
        after: None,
        duration_ms: 0,
        passed: false,
        problem: None,
    };
    let mut problems = Vec::new();
    if let Some(step) = step {
        // Nothing is there yet, so there is nothing to wait for.
        let (before, _) = check_step(lab, &step.id, options, target, true, reporters).await?;
        if !verdict.before_may_pass && before.total > 0 && before.passed == before.total {
            problems.push(format!(
                "all {} checks of `{}` passed before the page's commands ran: the account is not empty, or the checks do not look at what the page creates (a step that creates nothing says `creates: false` in the lab file)",
                before.total, step.id
            ));
        }
        verdict.before = Some(before);
    }
    for block in &page.blocks {
        let block_started = Instant::now();
        reporters.emit(&RunEvent::Selftest(&SelftestEvent::BlockStarted { page: shown.clone(), line: block.line }));
        let ran = session.run(&block.code, options.block_timeout);
        let status = match &ran {
            Ok(_) => "0".to_string(),
            Err(e) => e.status(),
        };
        reporters.emit(&RunEvent::Selftest(&SelftestEvent::BlockFinished {
            page: shown.clone(),
            line: block.line,
            status: status.clone(),
            duration_ms: block_started.elapsed().as_millis() as u64,
        }));
        if let Err(e) = ran {
            let at = format!("{shown}:{}", block.line);
            let stderr = last_lines(e.stderr(), 12);
            problems.push(format!("the block at book/{at} failed ({status}):\n{}{}", indent(&block.code), if stderr.is_empty() { String::new() } else { format!("  stderr:\n{}", indent(&stderr)) }));
            verdict.failed_block = Some(at);
            break;
        }
    }
    if let (Some(step), None) = (step, &verdict.failed_block) {
        let (after, messages) = check_step(lab, &step.id, options, target, options.no_wait, reporters).await?;
        if after.passed < after.total {
            problems.push(format!("after the page's commands, {} of {} checks of `{}` did not pass:\n{}", after.total - after.passed, after.total, step.id, messages.join("\n")));
        }
        verdict.after = Some(after);
    }
    verdict.duration_ms = started.elapsed().as_millis() as u64;
    verdict.passed = problems.is_empty();
    verdict.problem = (!problems.is_empty()).then(|| problems.join("\n"));
    Ok(verdict)
}

/// One step's checks, as `grader check STEP` runs them: the tally, and a line per check that
/// did not pass with what it found.
async fn check_step(lab: &Lab, step: &str, options: &Options, target: &Target<'_>, no_wait: bool, reporters: &mut Dispatch<'_>) -> Result<(Tally, Vec<String>), Failure> {
    let plan = Plan::new(lab, &[step.to_string()], false, &options.vars)?;
    // A fresh response cache for every run, which must see the account as it is now; the
    // configuration is loaded and the account signed in to once.
    let aws = Aws::new(target.config.clone(), options.aws.verbose);
    let run_options = RunOptions { no_wait, max_wait: None, vantage: Vantage::Learner };
    let signed_in = async { Ok(target.account.to_string()) };
    let end = grading::run(&aws, signed_in, &plan, run_options, reporters, std::future::pending()).await?;
    let mut tally = Tally { passed: 0, total: end.outcomes.len(), not_passed: Vec::new() };
    let mut messages = Vec::new();
    for outcome in &end.outcomes {
        if outcome.status == Status::Pass {
            tally.passed += 1;
        } else {
            tally.not_passed.push(outcome.id.clone());
            messages.push(format!("  - {} ({}): {}", outcome.id, outcome.status.as_str(), outcome.message));
        }
    }
    Ok((tally, messages))
}

/// Whether `endpoint` is on this machine (an emulator): `http://127.0.0.1:5000`, `localhost`,
/// `[::1]`. A selftest anywhere else creates real resources.
pub fn is_local_endpoint(endpoint: &str) -> bool {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = lines[lines.len().saturating_sub(n)..].join("\n");
    kept.push('\n');
    if kept.trim().is_empty() { String::new() } else { kept }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_local() {
        for local in ["http://127.0.0.1:5000", "http://localhost:4566/", "https://[::1]:8443", "http://127.1.2.3"] {
            assert!(is_local_endpoint(local), "{local}");
        }
        for remote in ["https://ecs.us-east-1.amazonaws.com", "http://10.0.0.5:5000", "http://localhost.example.com", "http://127.0.0.1.nip.io"] {
            assert!(!is_local_endpoint(remote), "{remote}");
        }
    }
}
