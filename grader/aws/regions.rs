//! Region names, so a typo fails fast with a suggestion instead of a DNS error.

use crate::suggest::did_you_mean;

/// Commercial, GovCloud, China and European Sovereign Cloud regions AWS had published as of
/// 2026.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
    "eu-south-2", "eusc-de-east-1", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
    "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
];

/// Refuses a region name that cannot be one, suggesting the closest known region. Every
/// name of the regions' shape is let through, known or not: AWS opens new regions every
/// year, and an old grader must not refuse them.
pub fn check_region_name(region: &str) -> Result<(), String> {
    if region.is_empty() {
        return Err("no AWS region is configured; pass `--region us-east-1`, set AWS_REGION, or run `aws configure`".into());
    }
    if KNOWN_REGIONS.contains(&region) || well_formed(region) {
        return Ok(());
    }
    match did_you_mean(region, KNOWN_REGIONS.iter().copied()) {
        Some(s) => Err(format!("`{region}` is not an AWS region name; did you mean `{s}`?")),
        None => Err(format!("`{region}` is not an AWS region name; regions look like `us-east-1` or `eu-west-2`")),
    }
}

/// `xx-word[-word]-N`: a prefix of two to four letters (`us`, `eusc` for the European
/// Sovereign Cloud), one or more lowercase words, a number.
fn well_formed(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let word = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    parts.len() >= 3
        && (2..=4).contains(&parts[0].len())
        && word(&parts[0])
        && parts[1..parts.len() - 1].iter().all(word)
        && parts.last().is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_names_are_caught_with_a_suggestion() {
        assert!(check_region_name("us-east-1").is_ok());
        assert!(check_region_name("us-east1").unwrap_err().contains("did you mean `us-east-1`"));
        assert!(check_region_name("eu-west-1a").unwrap_err().contains("did you mean `eu-west-1`"));
        assert!(check_region_name("moon").is_err());
        assert!(check_region_name("").unwrap_err().contains("--region"));
    }

    #[test]
    fn regions_newer_than_the_grader_are_accepted() {
        for region in ["us-east-9", "eu-north-2", "ap-southeast-8", "us-gov-central-1", "cn-south-1", "xx-newland-1", "eusc-de-east-1", "eusc-fr-west-1"] {
            assert!(check_region_name(region).is_ok(), "{region}");
        }
    }
}
