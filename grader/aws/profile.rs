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
    let Some(set) = load(profile).await else { return SignIn::Other };
    let Some(section) = set.get_profile(profile) else { return SignIn::Other };
    if section.get("sso_session").is_some() || section.get("sso_start_url").is_some() {
        return SignIn::Sso;
    }
    match section.get("credential_process") {
        Some(command) => SignIn::Process(command.to_string()),
        None => SignIn::Other,
    }
}

/// One setting of a profile (`None` when the files, the profile or the key are missing).
pub async fn setting(profile: &str, key: &str) -> Option<String> {
    load(profile).await?.get_profile(profile)?.get(key).map(str::to_string)
}

async fn load(profile: &str) -> Option<aws_config::profile::ProfileSet> {
    aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), Some(Cow::Owned(profile.to_string()))).await.ok()
}
