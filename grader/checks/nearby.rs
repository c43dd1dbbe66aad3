//! Looking for what the learner probably meant when a resource is missing: the same name
//! in another region (a common slip), or a close name in this region.
//!
//! The search is best effort: a failure only loses the suggestion, except a missing
//! permission in the run's own region, which is named, so a policy that lacks an action the
//! search needs shows up instead of quietly giving worse advice.

use futures::future::join_all;

use super::Ctx;
use crate::aws::{AwsError, AwsErrorKind};
use crate::suggest::did_you_mean;

/// The note for a search that could not run, or `None` when only the suggestion is lost.
fn unsearchable(e: AwsError) -> Option<String> {
    (e.kind == AwsErrorKind::AccessDenied).then(|| format!("could not look for it elsewhere: {e}"))
}

/// Other enabled regions. Regions that then refuse a call (not enabled, denied by an SCP)
/// just find nothing.
async fn other_regions(ctx: &Ctx<'_>) -> Result<Vec<String>, AwsError> {
    Ok(ctx.aws.enabled_regions().await?.iter().filter(|r| r.as_str() != ctx.region).cloned().collect())
}

/// Formats "found X `name` in r1, r2; this lab uses REGION".
fn in_regions(what: &str, name: &str, regions: Vec<String>, ctx: &Ctx<'_>) -> Option<String> {
    (!regions.is_empty()).then(|| format!("found {what} `{name}` in {}; this run checks {} (use `--region {}` or recreate it here)", regions.join(", "), ctx.region, regions[0]))
}

/// "this region has X `a`, `b`; if yours has another name, pass `--var VAR=NAME`", for
/// learners who chose their own names.
fn others_here(what: &str, var: &str, names: &[String], ctx: &Ctx<'_>) -> Option<String> {
    if names.is_empty() || names.len() > 5 {
        return None;
    }
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    Some(format!("{} has {what} {}; if one of them is yours, pass `--var {var}=NAME`", ctx.region, list.join(", ")))
}

pub async fn cluster(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    let here = match ctx.aws.cluster_names(ctx.region).await {
        Ok(names) => names.as_ref().clone(),
        Err(e) => return unsearchable(e),
    };
    if let Some(close) = did_you_mean(name, here.iter().map(String::as_str)) {
        return Some(format!("found cluster `{close}` in {}; did you mean that name?", ctx.region));
    }
    let regions = match other_regions(ctx).await {
        Ok(regions) => regions,
        Err(e) => return unsearchable(e),
    };
    let found = join_all(regions.iter().map(|r| async move {
        match ctx.aws.cluster(r, name).await {
            Ok(c) if c.as_ref().as_ref().is_some_and(|c| c.status() == Some("ACTIVE")) => Some(r.clone()),
            _ => None,
        }
    }))
    .await;
    in_regions("cluster", name, found.into_iter().flatten().collect(), ctx).or_else(|| others_here("cluster(s)", "cluster", &here, ctx))
}

pub async fn security_group(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    let regions = match other_regions(ctx).await {
        Ok(regions) => regions,
        Err(e) => return unsearchable(e),
    };
    let found = join_all(regions.iter().map(|r| async move {
        match ctx.aws.security_groups_named(r, name).await {
            Ok(groups) if !groups.is_empty() => Some(r.clone()),
            _ => None,
        }
    }))
    .await;
    in_regions("security group", name, found.into_iter().flatten().collect(), ctx)
}

pub async fn log_group(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    let regions = match other_regions(ctx).await {
        Ok(regions) => regions,
        Err(e) => return unsearchable(e),
    };
    let found = join_all(regions.iter().map(|r| async move {
        match ctx.aws.log_group(r, name).await {
            Ok(Some(_)) => Some(r.clone()),
            _ => None,
        }
    }))
    .await;
    in_regions("log group", name, found.into_iter().flatten().collect(), ctx)
}

pub async fn service(ctx: &Ctx<'_>, cluster: &str, name: &str) -> Option<String> {
    let names = match ctx.aws.service_names(ctx.region, cluster).await {
        Ok(names) => names,
        Err(e) => return unsearchable(e),
    };
    match did_you_mean(name, names.iter().map(String::as_str)) {
        Some(close) => Some(format!("found service `{close}` in cluster `{cluster}`; did you mean that name?")),
        None => others_here(&format!("service(s) in cluster `{cluster}`:"), "service", &names, ctx),
    }
}
