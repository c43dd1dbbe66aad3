//! What every clean-up kind shares: the scan of every enabled region (skipping, and naming,
//! the regions an account cannot use) and the verdict on what the scan found.

use futures::future::join_all;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, AwsErrorKind};
use crate::checks::{Ctx, Leftover, Verdict};
use crate::pricing;

/// Where a cleanup check looks.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Regions {
    /// Every region enabled for the account (learners often build in the wrong one).
    #[default]
    All,
    /// Only the region of the run.
    Lab,
}

async fn regions(ctx: &Ctx<'_>, scope: Regions) -> Result<Vec<String>, AwsError> {
    Ok(match scope {
        Regions::All => ctx.aws.enabled_regions().await?.as_ref().clone(),
        Regions::Lab => vec![ctx.region.to_string()],
    })
}

/// What a scan found, and the regions it had to leave out with the reason.
pub struct Scan {
    pub leftovers: Vec<Leftover>,
    pub skipped: Vec<(String, Skip)>,
}

/// Why a region was left out of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// It refuses credentials the run's own region accepted: an opt-in region the account
    /// has not enabled, where nothing can have been left.
    NotEnabled,
    /// Calls there are denied though they are allowed in the run's own region: an
    /// Organizations SCP (classroom accounts usually allow one or two regions) or a
    /// region condition in the grader's policy.
    Denied,
}

/// Runs `find` in every region concurrently and gathers the leftovers. A region that
/// refuses or denies what the run's own region allows is skipped and named, and what the
/// other regions found is still reported; in the run's own region every error counts.
pub async fn scan<'a, F, Fut>(ctx: &'a Ctx<'_>, scope: Regions, find: F) -> Result<Scan, AwsError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Vec<Leftover>, AwsError>> + 'a,
{
    let regions = regions(ctx, scope).await?;
    let found = join_all(regions.iter().cloned().map(find)).await;
    let mut scan = Scan { leftovers: Vec::new(), skipped: Vec::new() };
    for (region, f) in regions.into_iter().zip(found) {
        match f {
            Ok(l) => scan.leftovers.extend(l),
            Err(e) if region != ctx.region && e.kind == AwsErrorKind::Credentials => scan.skipped.push((region, Skip::NotEnabled)),
            Err(e) if region != ctx.region && e.kind == AwsErrorKind::AccessDenied => scan.skipped.push((region, Skip::Denied)),
            Err(e) => return Err(e),
        }
    }
    Ok(scan)
}

/// " (skipped: …)" naming the regions a scan left out and why.
fn skipped_note(skipped: &[(String, Skip)]) -> String {
    let named = |why: Skip| skipped.iter().filter(|(_, s)| *s == why).map(|(r, _)| r.as_str()).collect::<Vec<_>>();
    let mut notes = Vec::new();
    let not_enabled = named(Skip::NotEnabled);
    if !not_enabled.is_empty() {
        notes.push(format!("{} refused these credentials and were skipped as not enabled: {}", plural(not_enabled.len()), not_enabled.join(", ")));
    }
    let denied = named(Skip::Denied);
    if !denied.is_empty() {
        notes.push(format!(
            "{} denied the grader's calls and were skipped, probably by an organization policy (SCP) that limits regions: {}",
            plural(denied.len()),
            denied.join(", ")
        ));
    }
    if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) }
}

fn plural(n: usize) -> String {
    if n == 1 { "1 region".into() } else { format!("{n} regions") }
}

/// The verdict on a scan: pass when nothing is left, else a fail naming each leftover, what
/// the leftovers cost together (each billed thing once) and the commands to remove them.
pub fn verdict(what: &str, scan: Scan, regions: Regions) -> Verdict {
    let scope = match regions {
        Regions::All => "in any enabled region",
        Regions::Lab => "in this region",
    };
    let skipped = skipped_note(&scan.skipped);
    let leftovers = scan.leftovers;
    if leftovers.is_empty() {
        return Verdict::pass(format!("no {what} left {scope}{skipped}"));
    }
    let names: Vec<String> = leftovers.iter().map(|l| format!("{} `{}` in {}", l.resource.replace('_', " "), l.name, l.region)).collect();
    let commands: Vec<String> = leftovers.iter().flat_map(|l| l.teardown.clone()).collect();
    let cost = pricing::total(leftovers.iter().flat_map(|l| &l.charges));
    let mut message = format!("left behind: {}{skipped}", names.join(", "));
    if cost > 0.0 {
        let mut bases: Vec<&str> = leftovers.iter().filter_map(|l| l.price_basis.as_deref()).collect();
        bases.dedup();
        message.push_str(&format!(" (about ${cost:.4}/hour, {})", bases.join("; ")));
    }
    message.push_str(&format!("; remove with: {}", commands.join(" && ")));
    let mut v = Verdict::fail(message).expected(format!("no {what}")).found(names.join(", "));
    v.leftovers = leftovers;
    v
}

/// Whether a cluster exists in a region and so may hold services and tasks: any status but
/// INACTIVE (deleted) counts, PROVISIONING and DEPROVISIONING included.
pub async fn cluster_exists(ctx: &Ctx<'_>, region: &str, cluster: &str) -> Result<bool, AwsError> {
    Ok(ctx.aws.cluster(region, cluster).await?.as_ref().as_ref().is_some_and(|c| c.status() != Some("INACTIVE")))
}
