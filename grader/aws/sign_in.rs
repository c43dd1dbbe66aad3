//! Sign-in problems, explained: why AWS could not be reached before any check ran, and what
//! the learner (or the instructor, through a role) can do about it.

use super::profile::{SignIn, profile_name, sign_in_of};
use super::{AwsError, AwsErrorKind, AwsOptions, KNOWN_REGIONS};

/// AWS could not be reached before any check ran: no credentials, a refused role, an unknown
/// region, an endpoint that does not answer. The message says what to do; `exit` maps it to
/// exit code 4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// What a learner can do about a failed sign-in (`explain` for the whole rule).
async fn explain_chain(e: AwsError, args: &AwsOptions, region: &str) -> SetupError {
    let profile = profile_name(args.profile.as_deref());
    let endpoint = args.endpoint_url.as_ref().map(|u| format!(" at {u}")).unwrap_or_default();
    SetupError(match e.kind {
        AwsErrorKind::NoCredentials => format!(
            "failed to sign in to AWS: {}\n\nConfigure credentials with `aws configure` (or `aws configure sso`), set AWS_PROFILE, or pass `--profile NAME`.",
            e.message
        ),
        AwsErrorKind::CredentialSource => match sign_in_of(&profile).await {
            SignIn::Sso => format!(
                "failed to sign in to AWS: the SSO session of profile `{profile}` has expired or was never started ({}).\n\nSign in again, then run the grader again:\n\n    aws sso login --profile {profile}",
                e.message
            ),
            SignIn::Process(command) => format!(
                "failed to sign in to AWS: the `credential_process` of profile `{profile}` failed: {}\n\nRun it yourself to see why: {command}",
                e.message
            ),
            // Often the last source of the chain (instance metadata) failing on a machine
            // that has no credentials at all: the fix is the same as for none.
            SignIn::Other => format!(
                "failed to sign in to AWS with profile `{profile}`: {}\n\nConfigure credentials with `aws configure` (or `aws configure sso`), set AWS_PROFILE, or pass `--profile NAME`.",
                e.message
            ),
        },
        AwsErrorKind::Credentials if args.profile.is_none() && std::env::var_os("AWS_ACCESS_KEY_ID").is_some() => format!(
            "AWS refused the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: {}\n\nThey may have expired (temporary keys also need AWS_SESSION_TOKEN): get new ones, or unset them to use a profile.",
            e.message
        ),
        AwsErrorKind::Credentials => format!(
            "AWS refused the credentials of profile `{profile}`: {}\n\nThey may have expired: sign in again (`aws sso login --profile {profile}`, or new keys with `aws configure`).",
            e.message
        ),
        AwsErrorKind::Timeout => format!(
            "AWS{endpoint} did not answer in time: {}\n\nCheck your network connection{}; a proxy or firewall that swallows HTTPS looks like this.",
            e.message,
            if args.endpoint_url.is_some() { " and that the endpoint is running" } else { "" }
        ),
        AwsErrorKind::Unreachable => format!(
            "failed to reach AWS{endpoint}: {}\n\nCheck your network connection{}.",
            e.message,
            match (&args.endpoint_url, KNOWN_REGIONS.contains(&region)) {
                (Some(_), _) => " and that the endpoint is running".to_string(),
                (None, true) => String::new(),
                (None, false) => format!(" and the region name: `{region}` is not a region this grader knows (new regions are let through)"),
            }
        ),
        _ => format!("failed to verify the AWS credentials: {e}"),
    })
}

/// A failed sign-in, explained: through `--role-arn`, a failed credentials source is the
/// role refusing us (or not existing), which is the instructor's to fix; otherwise what the
/// learner's own credentials chain needs.
pub async fn explain(e: AwsError, opts: &AwsOptions, region: &str) -> SetupError {
    match (&opts.role_arn, e.kind) {
        (Some(arn), AwsErrorKind::CredentialSource) => SetupError(format!(
            "failed to assume `{arn}`: {}\n\nThe role must exist in the student's account and trust your account{}; `grader policy --trust` prints that trust policy.",
            e.message,
            if opts.external_id.is_some() { " with this external id" } else { "" }
        )),
        _ => explain_chain(e, opts, region).await,
    }
}
