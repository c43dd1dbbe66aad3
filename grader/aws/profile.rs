//! What the learner's AWS profile says about how they sign in, so a failed sign-in comes
//! with the one command that fixes it.

use std::borrow::Cow;

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

/// How a profile gets its credentials, as far as fixing a failed sign-in goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// IAM Identity Center (SSO): `sso_session` or the older `sso_start_url`.
    Sso,
    /// An external command (`credential_process`).
    Process(String),
    /// Keys, a role to assume, or a profile the files do not have.
    Other,
}

/// The profile in use: `--profile`, else `AWS_PROFILE`, else `default`.
pub fn profile_name(flag: Option<&str>) -> String {
    flag.map(str::to_string).or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty())).unwrap_or_else(|| "default".into())
}

/// How `profile` signs in, read from the shared config and credentials files (the same files
/// and variables the SDK reads). Unreadable files are `Other`: this only shapes advice.
pub async fn sign_in_of(profile: &str) -> SignIn {
    let sso = setting(profile, "sso_session").await.or(setting(profile, "sso_start_url").await);
    if sso.is_some() {
        return SignIn::Sso;
    }
    match setting(profile, "credential_process").await {
        Some(command) => SignIn::Process(command),
        None => SignIn::Other,
    }
}

/// One setting of a profile (`None` when the files, the profile or the key are missing).
pub async fn setting(profile: &str, key: &str) -> Option<String> {
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), Some(Cow::Owned(profile.to_string()))).await.ok()?;
    set.get_profile(profile)?.get(key).map(str::to_string)
}
