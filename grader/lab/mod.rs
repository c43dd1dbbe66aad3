//! The lab model: what a lab file says, typed. Loading and validation live in submodules.

pub mod combined;
pub(crate) mod diagnostic;
mod duration;
mod load;
mod robustness;
pub mod template;
mod validate;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use diagnostic::{Diagnostic, Diagnostics};
pub use duration::WaitFor;
pub use load::{LabSet, UnknownLab, default_lab, load_dir, load_embedded, parse_lab};
pub(crate) use load::yaml_diagnostic;
pub use crate::suggest::did_you_mean;

use crate::checks::KindSpec;

/// The only lab file format version this grader reads.
pub const FORMAT_VERSION: u32 = 1;

/// One lab: its steps, in the order the book teaches them, and the variables its checks use.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// Format version of the lab file; must be 1.
    pub version: u32,
    /// Stable identifier, used by `--lab` and in reports (for example `fargate-nginx`).
    pub id: String,
    /// Human title of the lab.
    pub title: String,
    /// Region the lab is written for; used when neither `--region` nor the AWS
    /// configuration names one.
    pub region: String,
    /// Variables with their defaults. Checks use them as `{{name}}`; learners override
    /// them with `--var name=value`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// The steps, in teaching order.
    pub steps: Vec<Step>,
}

/// One step of a lab, matching one page of the book.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Identifier used on the command line (`grader check step-8`), e.g. `step-8` or `cleanup`.
    pub id: String,
    /// Human title, shown in reports and in the book's check widget.
    pub title: String,
    /// What the learner should have done, in one sentence (shown by `grader hint`).
    #[serde(default)]
    pub goal: Option<String>,
    /// `build` steps make the lab; `cleanup` steps check it is gone again. `grader check
    /// --all` runs the build steps, since a finished lab and a cleaned-up account cannot
    /// both be true at once.
    #[serde(default)]
    pub phase: Phase,
    /// Whether the step's page creates what its checks look for (the default). A step that
    /// checks what is already there (the default VPC, what an earlier lab left) says `false`:
    /// `grader selftest` then does not require its checks to fail before the page's commands.
    #[serde(default = "creates_by_default", skip_serializing_if = "is_true")]
    pub creates: bool,
    /// The checks of this step.
    pub checks: Vec<CheckSpec>,
}

fn creates_by_default() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// Which state of the account a step checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The step builds part of the lab.
    #[default]
    Build,
    /// The step checks that the lab was taken down.
    Cleanup,
}

/// One check: a kind with its parameters, plus what every check has.
///
/// The kind-specific keys sit beside the common ones (`kind: ecs_cluster` then
/// `cluster: ...`); each kind's parameter struct rejects keys it does not know.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct CheckSpec {
    /// Identifier, unique within the lab; used by `depends_on` and in reports.
    pub id: String,
    /// One line saying what is verified, shown in the book's widget and in reports.
    pub title: String,
    /// Help for a learner whose check failed: points in the right direction without
    /// handing over the answer.
    #[serde(default)]
    pub hint: Option<String>,
    /// Points this check is worth.
    #[serde(default = "default_points")]
    pub points: u32,
    /// Keep retrying a failing check for up to this long (`30s`, `5m`, `1m30s`), for
    /// resources that settle slowly, such as a service becoming stable.
    #[serde(default)]
    pub wait: Option<WaitFor>,
    /// Checks (by id) that must pass first; when one does not, this check is skipped
    /// with the reason.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The kind and its parameters.
    #[serde(flatten)]
    pub kind: KindSpec,
}

fn default_points() -> u32 {
    1
}

impl Lab {
    /// A short digest of the lab as loaded (FNV-1a over its JSON form), so a report or a
    /// receipt names the exact lab content it was graded against without a hashing crate.
    /// Not cryptographic: it tells versions apart, it does not guard against forgery.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("labs serialize");
        let hash = json.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3));
        format!("{hash:016x}")
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn step_ids(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.id.as_str()).collect()
    }

    /// Every check with the step it belongs to.
    pub fn checks(&self) -> impl Iterator<Item = (&Step, &CheckSpec)> {
        self.steps.iter().flat_map(|s| s.checks.iter().map(move |c| (s, c)))
    }
}
