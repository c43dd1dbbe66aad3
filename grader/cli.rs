//! The command line: argument definitions and what each command does.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::aws::{AwsOptions, load_config};
use crate::book::quiz;
use crate::checks::{KINDS, Status, Vantage};
use crate::events::{Dispatch, NdjsonReporter, Reporter};
use crate::exit::{Exit, Failure};
use crate::grading::{self, Plan};
use crate::lab::{Diagnostics, Lab, LabSet, WaitFor, load_dir, load_embedded};
use crate::progress::{self, ProgressReporter};
use crate::receipt::{Receipt, ReceiptReporter};
use crate::report::Format;
use crate::report::document::{DocumentReporter, unreachable_document, write_output};
use crate::report::human::{HumanReporter, use_colour};
use crate::runner::{self, RunOptions};

const AFTER_HELP: &str = "\
Examples:
  grader check step-4                 check one step of the lab
  grader check --all --format json    every step, as a JSON report
  grader check step-8 --var service=my-svc --region eu-west-1
  grader hint step-8                  what step-8 expects, with hints
  grader list                         steps and their last result
  grader validate labs/               lint lab files
  grader cohort --roster class.csv    cleanup audit of a whole class
  grader verify-receipt receipt.json --role-arn ARN
                                      a learner's receipt against their account
  grader serve                        the course at http://127.0.0.1:3000 with check buttons
  grader selftest --lab ops           an author's test: the lab's pages, then its checks

Exit codes: 0 all passed · 1 a check failed · 2 usage error · 3 invalid lab file ·
4 AWS could not be reached (credentials, region, endpoint) · 130 interrupted.
The grader only reads your account; it never creates, changes or deletes anything, except
`grader cleanup --apply`, which deletes exactly the plan `grader cleanup --plan` showed you,
and `grader selftest` (for authors), which runs the book's own commands in a shell.";

/// What `grader --version` prints after the name: the version and the commit it was built
/// from (grader/build.rs), so a learner's bug report says exactly which build they ran.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("GRADER_BUILD_COMMIT"), ")");

/// Checks your AWS account against the labs of the Fargate course, read-only.
#[derive(Debug, Parser)]
#[command(name = "grader", version = VERSION, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Read lab files from this directory instead of the ones built into the binary.
    #[arg(long, global = true, env = "GRADER_LABS_DIR", value_name = "DIR")]
    pub labs_dir: Option<PathBuf>,
    /// Build the book from this directory (the one with book.toml) instead of the copy built
    /// into the binary; the default inside a checkout is the checkout's own files.
    #[arg(long, global = true, env = "GRADER_BOOK_DIR", value_name = "DIR")]
    pub book_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check one or more steps of a lab against your AWS account.
    Check(CheckArgs),
    /// List the lab's steps with their last known result.
    List(LabArg),
    /// Show what a step expects and the hints for its checks.
    Hint {
        /// The step, e.g. `step-8`.
        step: String,
        #[command(flatten)]
        lab: LabArg,
    },
    /// Lint lab files and the book's quizzes; report every problem with file, line and column.
    Validate {
        /// A lab file, a directory of them (default: the labs in use), or one `NAME.quiz.yml`.
        path: Option<PathBuf>,
        /// Print the JSON schema of lab files instead.
        #[arg(long)]
        schema: bool,
    },
    /// Print the IAM policy the grader needs for every lab, or one with --lab (read-only), as JSON.
    Policy {
        #[command(flatten)]
        lab: LabArg,
        /// Print the trust policy of the cohort audit role instead.
        #[arg(long, conflicts_with = "teardown")]
        trust: bool,
        /// Print the policy `grader cleanup --apply` needs instead: each delete scoped to the
        /// lab's resources by ARN wherever IAM allows, plus the reads it uses.
        #[arg(long)]
        teardown: bool,
        /// Add `ce:GetCostAndUsage` for `grader cohort --spend` (the audit role's policy).
        #[arg(long, conflicts_with_all = ["trust", "teardown"])]
        spend: bool,
        #[command(flatten)]
        vars: VarsArg,
        /// With --trust: the instructor's AWS account id.
        #[arg(long, value_name = "ACCOUNT_ID", default_value = "111122223333")]
        instructor_account: String,
        /// With --trust: the external id the class shares.
        #[arg(long, value_name = "ID", default_value = "fargate-course")]
        external_id: String,
    },
    /// Audit a whole class: one step (default `cleanup`) in every account of a roster.
    Cohort(CohortArgs),
    /// Delete what the clean-up checks found, exactly: `--plan FILE` (read-only), then `--apply FILE`.
    Cleanup(CleanupArgs),
    /// Check a learner's receipt against their account (through --role-arn).
    VerifyReceipt(VerifyReceiptArgs),
    /// For authors: run a lab's book pages in a shell on an empty account and check that each
    /// step fails before its page's commands and passes after (an emulator unless told).
    Selftest(SelftestArgs),
    /// Serve the course book on 127.0.0.1 with working check buttons.
    Serve(ServeArgs),
    /// Build the book, or act as its mdBook preprocessor.
    #[command(subcommand)]
    Book(BookCommand),
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "The roster is a CSV file with the header `label,account_id,role_arn` and optional columns \
`external_id,region,profile,email,sis_id`. Each learner account needs an audit role that trusts your account \
(see `grader policy --trust`) with the permissions of `grader policy`. `--lab all` audits every lab's step \
(steps named `LAB:STEP`). Exit code: 0 when every account passes, 1 otherwise.")]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CohortArgs {
    #[command(subcommand)]
    pub command: Option<CohortCommand>,
    /// The class roster (CSV).
    #[arg(long, value_name = "FILE", required = true)]
    pub roster: Option<PathBuf>,
    /// Audit one of N disjoint parts of the class: `K/N` (K from 1), or `auto/N` inside an
    /// AWS Batch array job or a Kubernetes indexed job (AWS_BATCH_JOB_ARRAY_INDEX or
    /// JOB_COMPLETION_INDEX, from 0). Accounts go to shards by a stable hash of their id;
    /// `grader cohort merge` joins the shards' JSON documents.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// The step to audit in every account.
    #[arg(long, value_name = "STEP", default_value = "cleanup", conflicts_with = "all")]
    pub step: String,
    /// Audit every build step instead (who has finished what).
    #[arg(long)]
    pub all: bool,
    /// How many accounts to audit at once, at most: the audit halves it while AWS times out,
    /// throttles or answers far slower than for the first accounts, and raises it again as
    /// accounts go well. Accounts AWS was too busy to decide are asked once more at the end.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// At most N AssumeRole calls a second, across the class (STS allows 600 a second per
    /// account by default; other work in your account shares that).
    #[arg(long, value_name = "N", default_value_t = crate::aws::assume::DEFAULT_ASSUME_RATE, value_parser = parse_rate)]
    pub assume_rate: f64,
    #[arg(long, value_enum, default_value = "human")]
    pub format: crate::cohort::CohortFormat,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Scan only these regions for leftovers (comma-separated), not every enabled region.
    #[arg(long, value_name = "REGIONS", value_delimiter = ',')]
    pub scan_regions: Vec<String>,
    /// Also read what each account has been charged, by service, from Cost Explorer
    /// (GetCostAndUsage through the audit role, which then needs `ce:GetCostAndUsage`: see
    /// `grader policy --spend`). AWS charges $0.01 per request, one or more per account, so
    /// it is off unless asked for.
    #[arg(long)]
    pub spend: bool,
    /// With --spend: the day the course began, YYYY-MM-DD (default: the first of this month).
    #[arg(long, value_name = "DATE", requires = "spend")]
    pub since: Option<String>,
    /// With --spend: flag every account that has spent more than this many USD.
    #[arg(long, value_name = "USD", requires = "spend")]
    pub spend_alert: Option<f64>,
    /// Also write every account's leftovers as one teardown plan for the class
    /// (grader.teardown-class-plan/v1), for `grader cleanup --apply FILE`. Read-only.
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    pub teardown_plan: Option<PathBuf>,
    #[command(flatten)]
    pub lab: LabArg,
    #[command(flatten)]
    pub vars: VarsArg,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CohortCommand {
    /// Join the JSON documents of a sharded audit (`--shard K/N --format json`) into one report.
    Merge(MergeArgs),
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "Every shard must be given once, from the same lab (same version) and step. The report is \
the unsharded audit's, accounts in roster order, apart from timings. Exit code: 0 when every account passes, 1 \
otherwise, 2 when the documents cannot be merged (the message names the files).")]
pub struct MergeArgs {
    /// The shards' documents.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: crate::cohort::CohortFormat,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(
    group(clap::ArgGroup::new("mode").required(true).args(["plan", "apply"])),
    after_help = "The plan is read-only: it runs every lab's clean-up checks (or one lab's with --lab) in every \
enabled region and writes each leftover with its ARN, its creation time and id, what it costs and how it is \
deleted (grader.teardown-plan/v1). --apply looks each one up again and deletes it only if it is still that \
resource: one created since under the same name is skipped and named, one already gone is fine. It asks \
first; with no terminal and no --yes it deletes nothing. A plan for another account is refused whole. \
Ctrl-C stops after the current resource; --apply again continues. The permissions: `grader policy --teardown`. \
A class's plan (`grader cohort --teardown-plan FILE`) is applied account by account through each account's \
teardown role (the roster's `teardown_role_arn`, else --teardown-role-name), --concurrency accounts at a time; \
an account that cannot be reached keeps everything, and the others go on.
Exit code: 0 nothing (left) to delete, 1 the plan holds resources / something was skipped or failed, \
2 not confirmed or not a plan, 4 AWS could not be reached, 130 interrupted."
)]
pub struct CleanupArgs {
    /// Find every leftover, read-only, and write the teardown plan to FILE.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Delete exactly what the plan FILE lists.
    #[arg(long, value_name = "FILE")]
    pub apply: Option<PathBuf>,
    /// With --apply: do not ask first (for scripts that reviewed the plan).
    #[arg(long, requires = "apply")]
    pub yes: bool,
    /// With --apply: `human` (a line per resource as it goes; a class: a line per account),
    /// `json` (grader.teardown-result/v1, a class's grader.teardown-class-result/v1) or `ndjson`
    /// (each resource as an event line as it is decided).
    #[arg(long, value_enum, default_value = "human", requires = "apply")]
    pub format: ApplyFormat,
    /// With a class plan (`grader cohort --teardown-plan`): the teardown role's name in every
    /// account whose roster row gave no `teardown_role_arn`.
    #[arg(long, value_name = "NAME", requires = "apply")]
    pub teardown_role_name: Option<String>,
    /// With a class plan: how many accounts to tear down at once.
    #[arg(long, value_name = "N", default_value_t = 4, requires = "apply")]
    pub concurrency: usize,
    #[command(flatten)]
    pub lab: LabArg,
    #[command(flatten)]
    pub vars: VarsArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "For each page of the lab, in the book's order: the step's checks must not all pass before \
the page's commands (a step that creates nothing says `creates: false` in the lab file), the page's ```bash blocks \
run in one shell session with `set -e -o pipefail` and must succeed, and the step's checks must pass after. Then \
the clean-up pages, whose checks must pass. Pages without a check widget in the lab's folder (its overview) run \
too. It stops at the first page that goes wrong; what was built stays.
The commands are the book's and they create real resources: the account must be empty, and anything but an \
emulator on this machine (AWS_ENDPOINT_URL=http://127.0.0.1:…) needs --creates-resources. The shell's `aws` \
must act on the account the checks read (asked first with `aws sts get-caller-identity`).
Examples:
  grader selftest --lab ops                               lab `ops` in bash, against the emulator
  grader selftest --lab fargate-nginx --lab alb --shell zsh   lab 2 on top of lab 1, as on a Mac
  grader selftest --lab ops --creates-resources --profile sandbox
Exit code: 0 every page behaved, 1 one did not, 2 usage, 3 invalid lab, 4 AWS could not be reached.")]
pub struct SelftestArgs {
    /// The lab to test; repeat it for a lab built on another (`--lab fargate-nginx --lab alb`):
    /// their pages run in that order, the clean-up pages last, in reverse.
    #[arg(long = "lab", value_name = "ID", required = true)]
    pub labs: Vec<String>,
    /// The shell the pages' commands run in.
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: crate::selftest::Shell,
    #[arg(long, value_enum, default_value = "human")]
    pub format: crate::selftest::SelftestFormat,
    /// Decide each step's checks right after its page, without the lab's waits: proves the
    /// page's own waits (`aws ecs wait …`) are enough.
    #[arg(long)]
    pub no_wait: bool,
    /// How long one block may run before the selftest gives up on it (e.g. `10m`).
    #[arg(long, value_name = "DURATION", value_parser = parse_wait, default_value = "15m")]
    pub block_timeout: WaitFor,
    /// Run against an account that is not an emulator on this machine: the pages' commands
    /// create real resources, which cost money until the clean-up pages delete them. Use an
    /// empty sandbox account.
    #[arg(long)]
    pub creates_resources: bool,
    #[command(flatten)]
    pub vars: VarsArg,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Serve only the check API, for a copy of the course hosted elsewhere (built with
    /// `grader book build --grader-url http://127.0.0.1:PORT`); prints the token to paste.
    #[arg(long, requires = "allow_origin")]
    pub api_only: bool,
    /// The site whose pages may call the API, e.g. `https://course.example` (with --api-only).
    #[arg(long, value_name = "ORIGIN", value_parser = parse_origin, requires = "api_only")]
    pub allow_origin: Option<String>,
    #[command(flatten)]
    pub lab: LabArg,
    #[command(flatten)]
    pub vars: VarsArg,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Subcommand)]
pub enum BookCommand {
    /// Build the book to HTML, check widgets included.
    Build {
        /// Output directory (default: book-out/, from book.toml).
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Check buttons call the learner's own `grader serve --api-only` at this address
        /// (e.g. `http://127.0.0.1:3000`); without it, hosted pages explain the terminal command.
        #[arg(long, value_name = "URL", value_parser = parse_origin)]
        grader_url: Option<String>,
        #[command(flatten)]
        lab: LabArg,
    },
    /// The mdBook preprocessor protocol (book.toml runs this; authors need not).
    Preprocess {
        #[command(flatten)]
        lab: LabArg,
    },
    /// Tells mdBook which renderers the preprocessor supports (`html` only).
    Supports { renderer: String },
}

#[derive(Debug, Clone, Args)]
pub struct LabArg {
    /// The lab to use (default: the only lab, or `fargate-nginx`).
    #[arg(long, value_name = "ID")]
    pub lab: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct VarsArg {
    /// Override a lab variable, e.g. `--var cluster=my-cluster` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION, the profile's region, then the lab's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send AWS calls to this endpoint (an emulator, for practice and tests).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Log each AWS call on stderr (service, action, time; never credentials).
    #[arg(short, long)]
    pub verbose: bool,
}

impl AwsArgs {
    /// The SDK options these flags ask for; the lab's region is the last fallback.
    pub fn options(&self, lab: &Lab) -> AwsOptions {
        AwsOptions { fallback_region: lab.region.clone(), ..self.options_without_lab() }
    }

    /// The options with no fallback region yet.
    fn options_without_lab(&self) -> AwsOptions {
        AwsOptions {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            verbose: self.verbose,
            fallback_region: String::new(),
            role_arn: None,
            external_id: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct AssumeArgs {
    /// Grade another account by assuming this role, e.g. a student's audit role from an
    /// autograder (`grader policy --trust` prints the trust policy it needs).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for (with --role-arn).
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Steps to check, e.g. `step-4 step-5` or `cleanup`.
    #[arg(value_name = "STEP", required_unless_present = "all", conflicts_with = "all")]
    pub steps: Vec<String>,
    /// Check every step that builds the lab (everything but cleanup).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub lab: LabArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to this file instead of stdout (Gradescope reads
    /// /autograder/results/results.json).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarsArg,
    /// Decide at once instead of waiting for slow resources (a new service, say).
    #[arg(long)]
    pub no_wait: bool,
    /// Wait at most this long for any check (e.g. `30s`), however long the lab allows.
    #[arg(long, value_name = "DURATION", value_parser = parse_wait)]
    pub max_wait: Option<WaitFor>,
    /// Also write a receipt: the account, the lab's version and the ARNs and creation times
    /// of what the passing checks graded, for `grader verify-receipt`.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// Grade from somewhere other than the learner's machine (a CI job, a shared server). The
    /// lab's security groups admit only the learner's address, so a site that does not answer
    /// here is judged on AWS's evidence instead (the task's access log, the load balancer's
    /// target health), or left undecided: never failed for that alone. Implied by --role-arn
    /// and by the gradescope, prairielearn and github-classroom formats.
    #[arg(long)]
    pub remote: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
}

impl CheckArgs {
    /// Where this run looks from: the learner's machine unless something says otherwise.
    pub fn vantage(&self) -> Vantage {
        if self.remote || self.assume.role_arn.is_some() || self.format.is_classroom() { Vantage::Elsewhere } else { Vantage::Learner }
    }
}

#[derive(Debug, Clone, Args)]
#[command(after_help = "A receipt proves that the account it names holds (or held, then deleted) the resources \
it lists, created before it was issued; one copied from another account, or naming resources that were \
deleted and created again, is refused. It does not prove its step results: the learner can edit those. \
Exit code: 0 verified, 1 refused, 2 unreadable receipt, 4 AWS could not be reached.")]
pub struct VerifyReceiptArgs {
    /// The receipt `grader check --receipt FILE` wrote.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// `human`, or `json` (`grader.receipt-verification/v1`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: VerifyFormat,
    #[command(flatten)]
    pub lab: LabArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub assume: AssumeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    Human,
    Json,
    Ndjson,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= MIN_RATE => Ok(rate),
        _ => Err(format!("`{text}` is not a rate: give calls per second, at least {MIN_RATE} (e.g. 20 or 0.5)")),
    }
}

/// The slowest `--assume-rate`: one AssumeRole call every 100 seconds (a class of 36 an hour).
/// Anything slower is a typo, and a gap of years would not fit in a timer.
const MIN_RATE: f64 = 0.01;

fn parse_wait(text: &str) -> Result<WaitFor, String> {
    WaitFor::parse(text)
}

/// A web origin: scheme, host and optional port, nothing after (that is what browsers send).
fn parse_origin(text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(text.to_string()),
        _ => Err(format!("`{text}` is not an origin; give the site's scheme and host, like `https://course.example` (no path, no trailing /)")),
    }
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    Ok((name.trim().to_string(), value.to_string()))
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Exit, Failure> {
    match cli.command {
        Command::Check(args) => check(&labs(&cli.labs_dir)?, args).await,
        Command::Selftest(args) => selftest(&labs(&cli.labs_dir)?, cli.book_dir.as_deref(), args).await,
        Command::List(lab) => list(&labs(&cli.labs_dir)?, &lab),
        Command::Hint { step, lab } => hint(&labs(&cli.labs_dir)?, &lab, &step),
        Command::Validate { path, schema } => validate(path.or(cli.labs_dir), schema, cli.book_dir.as_deref()),
        Command::Policy { lab, trust, teardown, spend, vars, instructor_account, external_id } => {
            let document = if trust {
                crate::policy::trust_policy(&instructor_account, &external_id)
            } else {
                // One lab with `--lab`; without it, every lab the grader has.
                let labs = labs(&cli.labs_dir)?;
                let mut chosen: Vec<Lab> = match &lab.lab {
                    Some(id) => vec![labs.select(Some(id))?.clone()],
                    None => labs.labs.clone(),
                };
                if teardown {
                    // The learner's own names, where they used --var while building.
                    if let Some((name, _)) = vars.vars.iter().find(|(name, _)| !chosen.iter().any(|l| l.vars.contains_key(name))) {
                        return Err(Failure::usage(format!("unknown variable `{name}` in `--var`: no lab has it")));
                    }
                    for lab in &mut chosen {
                        for (name, value) in &vars.vars {
                            if let Some(v) = lab.vars.get_mut(name) {
                                *v = value.clone();
                            }
                        }
                    }
                    crate::teardown::policy::teardown_policy(&chosen.iter().collect::<Vec<_>>())
                } else {
                    crate::policy::permissions_policy(&chosen.iter().collect::<Vec<_>>(), spend)
                }
            };
            println!("{}", serde_json::to_string_pretty(&document).expect("policies serialize"));
            Ok(Exit::Ok)
        }
        Command::Cohort(args) => cohort(&labs(&cli.labs_dir)?, args).await,
        Command::Cleanup(args) => {
            let aws = AwsOptions { role_arn: args.assume.role_arn.clone(), external_id: args.assume.external_id.clone(), ..args.aws.options_without_lab() };
            match (&args.plan, &args.apply) {
                (Some(file), _) => {
                    let labs = labs(&cli.labs_dir)?;
                    crate::teardown::command::plan(crate::teardown::command::PlanRequest { labs: &labs, lab: args.lab.lab.as_deref(), vars: &args.vars.vars, aws, file }).await
                }
                (None, Some(file)) => {
                    use crate::teardown::command::ApplyOutput;
                    let output = match args.format {
                        ApplyFormat::Human => ApplyOutput::Human,
                        ApplyFormat::Json => ApplyOutput::Json,
                        ApplyFormat::Ndjson => ApplyOutput::Ndjson,
                    };
                    let request = crate::teardown::command::ApplyRequest {
                        file,
                        yes: args.yes,
                        output,
                        aws,
                        teardown_role_name: args.teardown_role_name.as_deref(),
                        concurrency: args.concurrency,
                    };
                    crate::teardown::command::apply_plan(request).await
                }
                (None, None) => Err(Failure::usage("give --plan FILE or --apply FILE")),
            }
        }
        Command::VerifyReceipt(args) => verify_receipt(&labs(&cli.labs_dir)?, args).await,
        Command::Serve(args) => {
            let labs = labs(&cli.labs_dir)?;
            let lab = labs.select(args.lab.lab.as_deref())?.clone();
            let vars = runner::merge_vars(&lab, &args.vars.vars).map_err(Failure::usage)?;
            let book = if args.api_only { None } else { Some(crate::book::BookSource::find(cli.book_dir.as_deref()).map_err(Failure::usage)?) };
            let aws = args.aws.options(&lab);
            let serving = crate::serve::Serving { lab, vars, labs: labs.labs.clone(), book, aws, port: args.port, allow_origin: args.allow_origin };
            crate::serve::serve(serving, |_| {}).await
        }
        Command::Book(command) => book(&labs(&cli.labs_dir)?, cli.book_dir.as_deref(), command),
    }
}

async fn cohort(labs: &LabSet, args: CohortArgs) -> Result<Exit, Failure> {
    if let Some(CohortCommand::Merge(merge)) = &args.command {
        return cohort_merge(merge);
    }
    let shard = match &args.shard {
        Some(text) => Some(crate::cohort::shard::Shard::parse(text, |name| std::env::var(name).ok()).map_err(Failure::usage)?),
        None => None,
    };
    let mut combined = None;
    // `--all` grades the build steps: the default `--step cleanup` is not asked for then.
    let named = if args.all { Vec::new() } else { vec![args.step.clone()] };
    let (lab, steps, vars) = grading::lab_and_steps(labs, args.lab.lab.as_deref(), &named, &args.vars.vars, &mut combined)?;
    let plan = Plan::new(lab, &steps, args.all, &vars)?;
    let roster_path = args.roster.as_ref().expect("clap requires --roster without a subcommand");
    let file = roster_path.display().to_string();
    let text = std::fs::read_to_string(roster_path).map_err(|e| Failure::usage(format!("failed to read the roster {file}: {e}")))?;
    let roster = crate::cohort::parse_roster(&file, &text)?;
    let (roster, positions) = match shard {
        Some(shard) => shard.select(roster),
        None => (0..roster.len()).map(|i| (roster[i].clone(), i)).unzip(),
    };
    if args.teardown_plan.is_some() && !steps_are_cleanup(&plan) {
        return Err(Failure::usage("--teardown-plan needs the clean-up audit (the default `--step cleanup`): only clean-up checks find leftovers"));
    }
    let spend = match args.spend {
        true => Some(crate::cohort::spend::period(args.since.as_deref(), &crate::cohort::spend::today(), args.spend_alert).map_err(Failure::usage)?),
        false => None,
    };
    let base = load_config(&args.aws.options(lab)).await?;
    let run = crate::cohort::CohortRun {
        spend,
        plan,
        base,
        concurrency: args.concurrency,
        scan_regions: (!args.scan_regions.is_empty()).then(|| args.scan_regions.clone()),
        verbose: args.aws.verbose,
        assume_pace: std::sync::Arc::new(crate::aws::assume::Pace::per_second(args.assume_rate)),
    };
    let mut report = crate::cohort::audit(&run, roster.clone()).await;
    if let Some(shard) = shard {
        report.shard = Some(crate::cohort::shard::ShardInfo { index: shard.index, count: shard.count, roster_positions: positions });
    }
    if let Some(path) = &args.teardown_plan {
        let class = class_teardown_plan(&run.plan, &roster, &report, &run.base);
        let text = serde_json::to_string_pretty(&class).expect("plans serialize") + "\n";
        std::fs::write(path, text).map_err(|e| Failure::usage(format!("failed to write the teardown plan to {}: {e}", path.display())))?;
        eprint!("{}", class.render_human(&path.display().to_string()));
    }
    write_cohort_report(&report, args.format, args.output.as_deref())
}

/// `grader cohort merge`: one report from a sharded audit's documents.
fn cohort_merge(args: &MergeArgs) -> Result<Exit, Failure> {
    let report = crate::cohort::merge::merge(&args.files).map_err(Failure::usage)?;
    write_cohort_report(&report, args.format, args.output.as_deref())
}

/// Writes a class report to `output` (with a line on stderr) or stdout. Exit 0 when every
/// account passed.
fn write_cohort_report(report: &crate::cohort::CohortReport, format: crate::cohort::CohortFormat, output: Option<&std::path::Path>) -> Result<Exit, Failure> {
    match output {
        Some(path) => {
            let failed = |e: std::io::Error| Failure::usage(format!("failed to write {}: {e}", path.display()));
            let mut file = std::fs::File::create(path).map_err(failed)?;
            crate::cohort::write(report, format, &mut file).map_err(failed)?;
            eprintln!("{} accounts: {} pass, {} fail, {} error; report written to {}", report.summary.accounts, report.summary.pass, report.summary.fail, report.summary.error, path.display());
        }
        // A closed pipe (`| head`) ends the output quietly, as it ends any command's.
        None => match crate::cohort::write(report, format, &mut std::io::stdout().lock()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(Failure::usage(format!("failed to write the report: {e}"))),
            _ => {}
        },
    }
    Ok(if report.summary.pass == report.summary.accounts { Exit::Ok } else { Exit::CheckFailed })
}

/// Whether every audited step is a clean-up step (the only ones that find leftovers).
fn steps_are_cleanup(plan: &Plan<'_>) -> bool {
    plan.steps.iter().all(|s| s.phase == crate::lab::Phase::Cleanup)
}

/// The class's teardown plan from its audit: a section per account the audit reached (with
/// the roster's way in), the others named as not planned.
fn class_teardown_plan(plan: &Plan<'_>, roster: &[crate::cohort::RosterEntry], report: &crate::cohort::CohortReport, base: &aws_config::SdkConfig) -> crate::teardown::class::ClassPlan {
    use crate::teardown::class::{AccountPlan, ClassPlan, NotPlanned};
    // The audit ended just now: every resource it found was created before this.
    let created_at = crate::timestamp::now();
    let labs = crate::grading::labs_of(plan);
    let base_region = base.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let mut accounts = Vec::new();
    let mut not_planned = Vec::new();
    for (entry, result) in roster.iter().zip(report.accounts.iter()) {
        let Some(audit) = &result.report else {
            let why = result.error.clone().unwrap_or_else(|| "the audit could not reach the account".into());
            not_planned.push(NotPlanned { label: entry.label.clone(), account_id: entry.account_id.clone(), why });
            continue;
        };
        let region = entry.region.clone().unwrap_or_else(|| base_region.clone());
        let account_plan = crate::teardown::plan::TeardownPlan::from_leftovers(&entry.account_id, &region, created_at.clone(), labs.clone(), &result.leftovers);
        let incomplete = (audit.summary.error > 0).then(|| result.error.clone().unwrap_or_else(|| "a clean-up check could not decide".into()));
        accounts.push(AccountPlan {
            label: entry.label.clone(),
            teardown_role_arn: entry.teardown_role_arn.clone(),
            external_id: entry.external_id.clone(),
            profile: entry.profile.clone(),
            incomplete,
            plan: account_plan,
        });
    }
    ClassPlan::new(created_at, labs, accounts, not_planned)
}

fn book(labs: &LabSet, book_dir: Option<&std::path::Path>, command: BookCommand) -> Result<Exit, Failure> {
    match command {
        BookCommand::Build { dest, grader_url, lab } => {
            let lab = labs.select(lab.lab.as_deref())?.clone();
            let source = crate::book::BookSource::find(book_dir).map_err(Failure::usage)?;
            let scratch = tempfile::tempdir().map_err(|e| Failure::usage(format!("failed to create a temporary directory: {e}")))?;
            let root = source.root(scratch.path()).map_err(|e| Failure::usage(format!("failed to write out the book's sources: {e}")))?;
            // The built-in copy is written to a temporary directory: its output goes where the
            // user is, not in there.
            let dest = match (dest, &source) {
                (Some(dest), _) => Some(dest),
                (None, crate::book::BookSource::Embedded) => Some(PathBuf::from("book-out")),
                (None, crate::book::BookSource::Disk(_)) => None,
            };
            let dest = dest.map(|d| std::path::absolute(&d).unwrap_or(d));
            eprintln!("Building the course book from {} …", source.describe());
            let out = crate::book::build_with(&root, dest.as_deref(), lab, labs.labs.clone(), grader_url).map_err(|e| Failure::usage(format!("failed to build the book from {}: {e:#}", source.describe())))?;
            println!("The book is in {}", out.display());
            Ok(Exit::Ok)
        }
        BookCommand::Preprocess { lab } => {
            let lab = labs.select(lab.lab.as_deref())?.clone();
            crate::book::preprocess_stdio(lab, labs.labs.clone()).map_err(|e| Failure::usage(format!("{e:#}")))?;
            Ok(Exit::Ok)
        }
        BookCommand::Supports { renderer } => Ok(if renderer == "html" { Exit::Ok } else { Exit::CheckFailed }),
    }
}

/// The labs in use: from `--labs-dir` when given, else the embedded ones.
pub fn labs(dir: &Option<PathBuf>) -> Result<LabSet, Failure> {
    let loaded = match dir {
        Some(dir) => load_dir(dir),
        None => load_embedded(),
    };
    loaded.map_err(|d| Failure::invalid_lab(d.to_string()))
}

async fn check(labs: &LabSet, args: CheckArgs) -> Result<Exit, Failure> {
    let mut combined = None;
    let (lab, steps, vars) = grading::lab_and_steps(labs, args.lab.lab.as_deref(), &args.steps, &args.vars.vars, &mut combined)?;
    let plan = Plan::new(lab, &steps, args.all, &vars)?;
    let options = AwsOptions { role_arn: args.assume.role_arn.clone(), external_id: args.assume.external_id.clone(), ..args.aws.options(lab) };
    let run_options = RunOptions { no_wait: args.no_wait, max_wait: args.max_wait.map(|w| w.0), vantage: args.vantage() };

    // Human lines go to stdout (or the --output file); with another format on stdout, to
    // stderr only when someone is watching it.
    let stdout_tty = std::io::stdout().is_terminal();
    let titles: HashMap<String, String> = lab.steps.iter().map(|s| (s.id.clone(), s.title.clone())).collect();
    let mut human: Option<HumanReporter<Box<dyn std::io::Write + Send>>> = match (args.format, &args.output) {
        (Format::Human, Some(path)) => Some(HumanReporter::new(Box::new(create(path)?), false, false, &plan.checks, titles)),
        (Format::Human, None) => Some(HumanReporter::new(Box::new(std::io::stdout()), use_colour(stdout_tty), stdout_tty, &plan.checks, titles)),
        _ if std::io::stderr().is_terminal() => Some(HumanReporter::new(Box::new(std::io::stderr()), use_colour(true), true, &plan.checks, titles)),
        _ => None,
    };
    let mut ndjson = match (args.format, &args.output) {
        (Format::Ndjson, Some(path)) => Some(NdjsonReporter::new(Box::new(create(path)?) as Box<dyn std::io::Write + Send>)),
        (Format::Ndjson, None) => Some(NdjsonReporter::new(Box::new(std::io::stdout()) as Box<dyn std::io::Write + Send>)),
        _ => None,
    };
    let mut document = args.format.is_document().then(|| DocumentReporter::new(args.format, args.output.clone()));
    let mut receipt = args.receipt.clone().map(ReceiptReporter::new);
    let mut progress = ProgressReporter::default();
    let mut reporters: Vec<&mut dyn Reporter> = Vec::new();
    if let Some(r) = human.as_mut() {
        reporters.push(r);
    }
    if let Some(r) = ndjson.as_mut() {
        reporters.push(r);
    }
    if let Some(r) = document.as_mut() {
        reporters.push(r);
    }
    if let Some(r) = receipt.as_mut() {
        reporters.push(r);
    }
    reporters.push(&mut progress);
    let mut dispatch = Dispatch::new(reporters);

    let ran = match grading::connect(&options).await {
        Ok(aws) => grading::run(&aws, grading::sign_in(&aws, &options), &plan, run_options, &mut dispatch, ctrl_c()).await,
        Err(e) => Err(e),
    };
    let end = match ran {
        Ok(end) => end,
        // An autograder that finds no result file records a crash, or nothing; it gets one
        // that says the submission could not be graded and why. The exit code stays 4.
        Err(setup) if args.format.is_classroom() => {
            let region = args.aws.region.clone().unwrap_or_else(|| lab.region.clone());
            let text = unreachable_document(args.format, lab, &plan.step_ids(), &plan.checks, &region, &setup.0);
            write_output(&text, args.output.as_deref()).map_err(Failure::usage)?;
            return Err(setup.into());
        }
        Err(setup) => return Err(setup.into()),
    };
    if let Some(error) = dispatch.into_error() {
        return Err(Failure::usage(error));
    }
    if let Some(path) = &args.output {
        let s = &end.report.summary;
        eprintln!("{} passed, {} failed, {} error, {} skipped; report written to {}", s.pass, s.fail, s.error, s.skip, path.display());
    }
    if end.interrupted {
        return Ok(Exit::Interrupted);
    }
    Ok(if end.report.summary.all_passed() { Exit::Ok } else { Exit::CheckFailed })
}

async fn selftest(labs: &LabSet, book_dir: Option<&std::path::Path>, args: SelftestArgs) -> Result<Exit, Failure> {
    let first = labs.select(Some(&args.labs[0]))?;
    let aws = args.aws.options(first);
    let endpoint = aws.endpoint_url.clone().unwrap_or_default();
    if !args.creates_resources && !crate::selftest::is_local_endpoint(&endpoint) {
        let target = if endpoint.is_empty() { "AWS itself (no AWS_ENDPOINT_URL or --endpoint-url)".to_string() } else { endpoint };
        return Err(Failure::usage(format!(
            "grader selftest runs the book's commands, which create resources, and this would run them against {target}. \
Point it at the emulator on this machine (see the appendix \"Practise locally without AWS\"), or, for an empty sandbox \
account that may be billed, add --creates-resources."
        )));
    }
    let source = crate::book::BookSource::find(book_dir).map_err(Failure::usage)?;
    let scratch = tempfile::tempdir().map_err(|e| Failure::usage(format!("failed to create a temporary directory: {e}")))?;
    let root = source.root(scratch.path()).map_err(|e| Failure::usage(format!("failed to write out the book's sources: {e}")))?;
    let options = crate::selftest::Options {
        labs: args.labs.clone(),
        shell: args.shell,
        vars: args.vars.vars.clone(),
        no_wait: args.no_wait,
        block_timeout: args.block_timeout.0,
        aws,
    };
    let mut reporter: Box<dyn Reporter> = match args.format {
        crate::selftest::SelftestFormat::Human => Box::new(crate::selftest::SelftestHuman::new(std::io::stdout(), std::io::stdout().is_terminal())),
        crate::selftest::SelftestFormat::Json => Box::new(crate::selftest::SelftestJson::new(std::io::stdout())),
        crate::selftest::SelftestFormat::Ndjson => Box::new(NdjsonReporter::new(std::io::stdout())),
    };
    let mut dispatch = Dispatch::new(vec![reporter.as_mut()]);
    let exit = crate::selftest::run(labs, &root.join("book"), &options, &mut dispatch).await?;
    if let Some(error) = dispatch.into_error() {
        return Err(Failure::usage(error));
    }
    Ok(exit)
}

/// Resolves on Ctrl-C; never, where the signal cannot be watched.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn create(path: &std::path::Path) -> Result<std::fs::File, Failure> {
    std::fs::File::create(path).map_err(|e| Failure::usage(format!("failed to create {}: {e}", path.display())))
}

async fn verify_receipt(labs: &LabSet, args: VerifyReceiptArgs) -> Result<Exit, Failure> {
    let shown = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).map_err(|e| Failure::usage(format!("failed to read the receipt {shown}: {e}")))?;
    let receipt = Receipt::parse(&text, &shown).map_err(Failure::usage)?;
    let lab = labs.labs.iter().find(|l| l.id == args.lab.lab.as_deref().unwrap_or(&receipt.lab));
    let options = AwsOptions {
        role_arn: args.assume.role_arn.clone(),
        external_id: args.assume.external_id.clone(),
        fallback_region: receipt.region.clone(),
        ..args.aws.options_without_lab()
    };
    let aws = grading::connect(&options).await?;
    let account = grading::sign_in(&aws, &options).await?;
    let verification = crate::receipt::verify(&aws, &account, &receipt, lab).await;
    match args.format {
        VerifyFormat::Human => print!("{}", crate::receipt::render_human(&receipt, &verification)),
        VerifyFormat::Json => println!("{}", serde_json::to_string_pretty(&verification).expect("verifications serialize")),
    }
    Ok(if verification.verified { Exit::Ok } else { Exit::CheckFailed })
}

/// Every lab's steps with their last result, or one lab's with `--lab`.
fn list(labs: &LabSet, lab: &LabArg) -> Result<Exit, Failure> {
    let chosen: Vec<&Lab> = match &lab.lab {
        Some(id) => vec![labs.select(Some(id))?],
        None => labs.labs.iter().collect(),
    };
    let progress = progress::load(&progress::progress_path());
    for (i, lab) in chosen.iter().enumerate() {
        if i > 0 {
            println!();
        }
        list_lab(lab, &progress);
    }
    if chosen.len() > 1 {
        println!("\nCheck a step of another lab than the first with `grader check --lab ID STEP`.");
    }
    Ok(Exit::Ok)
}

fn list_lab(lab: &Lab, progress: &progress::Progress) {
    let known = progress.labs.get(&lab.id);
    println!("{} · {}", lab.id, lab.title);
    for step in &lab.steps {
        let last = known.and_then(|k| k.get(&step.id));
        let status = last.map(|p| p.status.as_str()).unwrap_or("not checked");
        let mark = match last.map(|p| p.status) {
            Some(Status::Pass) => "✓",
            Some(Status::Fail) => "✗",
            Some(Status::Error) => "!",
            _ => " ",
        };
        println!("  {mark} {:<8} {:<28} {status}", step.id, step.title);
    }
}

fn hint(labs: &LabSet, lab: &LabArg, step: &str) -> Result<Exit, Failure> {
    let lab = labs.select(lab.lab.as_deref())?;
    let plan = Plan::with_vars(lab, &[step.to_string()], false, &lab.vars)?;
    let (step, planned) = (plan.steps[0], plan.checks);
    println!("{} · {}   (lab `{}`: {})", step.id, step.title, lab.id, lab.title);
    if let Some(goal) = &step.goal {
        println!("{goal}");
    }
    println!();
    for check in planned {
        println!("  • {}", check.title);
        if let Some(hint) = check.hint {
            println!("    hint: {hint}");
        }
    }
    let lab_flag = if labs.select(None).is_ok_and(|first| first.id == lab.id) { String::new() } else { format!("--lab {} ", lab.id) };
    if step.phase == crate::lab::Phase::Cleanup && lab_flag.is_empty() && labs.labs.len() > 1 {
        println!("\nCheck it with: grader check {}   (every lab's clean-up; one lab's with --lab ID)", step.id);
    } else {
        println!("\nCheck it with: grader check {lab_flag}{}", step.id);
    }
    Ok(Exit::Ok)
}

fn validate(path: Option<PathBuf>, schema: bool, book_dir: Option<&std::path::Path>) -> Result<Exit, Failure> {
    if schema {
        println!("{}", lab_schema());
        return Ok(Exit::Ok);
    }
    // A quiz file on its own: just that file.
    if let Some(file) = path.as_ref().filter(|p| p.to_string_lossy().ends_with(quiz::SUFFIX)) {
        let text = std::fs::read_to_string(file).map_err(|e| Failure::usage(format!("failed to read {}: {e}", file.display())))?;
        let parsed = quiz::parse(&file.display().to_string(), &text).map_err(|problems| Failure::invalid_lab(Diagnostics(problems).to_string()))?;
        println!("ok: {} questions", parsed.questions.len());
        return Ok(Exit::Ok);
    }
    let labs = labs(&path)?;
    let steps: usize = labs.labs.iter().map(|l| l.steps.len()).sum();
    let checks: usize = labs.labs.iter().map(|l| l.checks().count()).sum();
    // And the book's knowledge checks, wherever the book comes from.
    let book = crate::book::BookSource::find(book_dir).map_err(Failure::usage)?;
    let files = book.files_ending(quiz::SUFFIX).map_err(|e| Failure::usage(format!("failed to read the quizzes of {}: {e}", book.describe())))?;
    let mut problems = Vec::new();
    let mut questions = 0;
    for (file, text) in &files {
        match quiz::parse(file, text) {
            Ok(q) => questions += q.questions.len(),
            Err(found) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::invalid_lab(Diagnostics(problems).to_string()));
    }
    println!(
        "ok: {} lab(s), {steps} steps, {checks} checks; {} check kinds known; {} quizzes, {questions} questions",
        labs.labs.len(),
        KINDS.len(),
        files.len()
    );
    Ok(Exit::Ok)
}

/// The JSON schema of lab files, as committed in `labs/lab.schema.json`.
pub fn lab_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Lab)).expect("schemas serialize")
}

/// The runtime a command runs on: a class audit on one thread, everything else on several.
/// An audit is thousands of small AWS calls whose futures are polled on the main thread; on a
/// multi-threaded runtime each answer arrives on a worker thread and wakes the main one across
/// threads, which cost more CPU than the audit's own work.
pub fn runtime_for(command: &Command) -> tokio::runtime::Runtime {
    let mut builder = match command {
        Command::Cohort(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().expect("failed to start the async runtime")
}
