//! `caller_identity`: the credentials work, and which account and region the grader sees.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ctx, Kind, Verdict};
use crate::aws::AwsError;

/// The credentials work; reports the account, principal and region in use.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerIdentity {
    /// When set, the account id the learner must be using (for classes with assigned accounts).
    #[serde(default)]
    pub account: Option<String>,
}

impl Kind for CallerIdentity {
    const NAME: &'static str = "caller_identity";
    const SUMMARY: &'static str = "The AWS credentials work; reports the account, the principal and the region the grader checks.";
    const ACTIONS: &'static [&'static str] = &["sts:GetCallerIdentity"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let identity = ctx.aws.caller_identity().await?;
        let (account, arn) = identity.as_ref();
        if let Some(expected) = &self.account {
            if expected != account {
                return Ok(Verdict::fail(format!("these credentials belong to account {account}, not the class account"))
                    .expected(format!("account {expected}"))
                    .found(format!("account {account} ({arn})")));
            }
        }
        Ok(Verdict::pass(format!("signed in to account {account} as `{arn}`, region {}", ctx.region)))
    }
}
