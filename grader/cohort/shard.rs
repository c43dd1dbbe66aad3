//! `grader cohort --shard K/N`: one of N disjoint parts of a class, so that N graders (an AWS
//! Batch array job, a Kubernetes indexed job) audit a class side by side. An account's shard
//! comes from a stable hash of its account id, so the parts are the same whatever the
//! roster's order, and together they are the whole roster.

use serde::{Deserialize, Serialize};

use super::RosterEntry;

/// The array-job variables `--shard auto/N` reads, in order: AWS Batch's, then Kubernetes'.
/// Both count from 0.
pub const INDEX_VARIABLES: [&str; 2] = ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"];

/// Which part of the class a run audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 1.
    pub index: usize,
    pub count: usize,
}

/// What a shard's document says of itself, so that `cohort merge` can check it has every
/// part once and put the accounts back in the roster's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub count: usize,
    /// The roster position (from 0) of each of this shard's accounts, in the document's order.
    pub roster_positions: Vec<usize>,
}

impl Shard {
    /// `K/N` (K from 1), or `auto/N` with K from an array job's 0-based index variable.
    /// `env` looks a variable up (the process environment outside tests).
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let usage = "give --shard K/N with 1 <= K <= N (e.g. 2/8), or auto/N inside an AWS Batch array job or a Kubernetes indexed job";
        let (k, n) = text.split_once('/').ok_or_else(|| format!("--shard `{text}`: {usage}"))?;
        let count: usize = n.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| format!("--shard `{text}`: N must be a whole number of shards, at least 1; {usage}"))?;
        let index = if k.trim() == "auto" {
            let (name, value) = INDEX_VARIABLES
                .iter()
                // Set but empty counts as unset: a job template may define both variables.
                .find_map(|name| env(name).filter(|v| !v.trim().is_empty()).map(|v| (*name, v)))
                .ok_or_else(|| format!("--shard auto/{count}: neither {} is set; outside an array job give --shard K/{count}", INDEX_VARIABLES.join(" nor ")))?;
            let zero_based: usize = value.trim().parse().map_err(|_| format!("--shard auto/{count}: {name}=`{value}` is not a whole number"))?;
            zero_based.saturating_add(1)
        } else {
            k.trim().parse().map_err(|_| format!("--shard `{text}`: K must be a whole number or `auto`; {usage}"))?
        };
        if index == 0 || index > count {
            return Err(format!("--shard: shard {index} of {count} does not exist; K counts from 1 to N (an array job of {count} has indices 0 to {})", count - 1));
        }
        Ok(Shard { index, count })
    }

    /// Whether an account belongs to this shard.
    pub fn holds(&self, account_id: &str) -> bool {
        (stable_hash(account_id) % self.count as u64) as usize == self.index - 1
    }

    /// This shard's accounts of the roster, in roster order, with their roster positions.
    pub fn select(&self, roster: Vec<RosterEntry>) -> (Vec<RosterEntry>, Vec<usize>) {
        roster.into_iter().enumerate().filter(|(_, e)| self.holds(&e.account_id)).map(|(i, e)| (e, i)).unzip()
    }
}

/// FNV-1a, 64 bits: the same number for the same account on every machine and every
/// version of Rust (the standard library's hasher promises neither).
fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn k_of_n_and_auto_from_either_array_job_variable() {
        assert_eq!(Shard::parse("2/8", env(&[])), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(Shard::parse("auto/4", env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0")])), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(Shard::parse("auto/4", env(&[("JOB_COMPLETION_INDEX", "3")])), Ok(Shard { index: 4, count: 4 }));
        // AWS Batch's wins when both are set.
        assert_eq!(Shard::parse("auto/4", env(&[("JOB_COMPLETION_INDEX", "3"), ("AWS_BATCH_JOB_ARRAY_INDEX", "1")])), Ok(Shard { index: 2, count: 4 }));
        // ... unless it is set but empty, as a job template defining both may leave it.
        assert_eq!(Shard::parse("auto/4", env(&[("JOB_COMPLETION_INDEX", "3"), ("AWS_BATCH_JOB_ARRAY_INDEX", " ")])), Ok(Shard { index: 4, count: 4 }));
    }

    #[test]
    fn bad_shards_say_what_to_give() {
        for (text, vars, says) in [
            ("3", &[][..], "give --shard K/N"),
            ("0/4", &[], "shard 0 of 4 does not exist"),
            ("5/4", &[], "shard 5 of 4 does not exist"),
            ("1/0", &[], "N must be a whole number of shards, at least 1"),
            ("x/4", &[], "K must be a whole number or `auto`"),
            ("auto/4", &[], "neither AWS_BATCH_JOB_ARRAY_INDEX nor JOB_COMPLETION_INDEX is set"),
            ("auto/4", &[("AWS_BATCH_JOB_ARRAY_INDEX", "4")], "shard 5 of 4 does not exist"),
            ("auto/4", &[("AWS_BATCH_JOB_ARRAY_INDEX", "one")], "AWS_BATCH_JOB_ARRAY_INDEX=`one` is not a whole number"),
            ("auto/4", &[("AWS_BATCH_JOB_ARRAY_INDEX", "18446744073709551615")], "shard 18446744073709551615 of 4 does not exist"),
            ("auto/4", &[("AWS_BATCH_JOB_ARRAY_INDEX", "")], "neither AWS_BATCH_JOB_ARRAY_INDEX nor JOB_COMPLETION_INDEX is set"),
        ] {
            let e = Shard::parse(text, env(vars)).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn the_shards_are_disjoint_cover_the_class_and_do_not_depend_on_its_order() {
        let ids: Vec<String> = (0..1000u64).map(|i| format!("{:012}", 100_000_000_000 + i * 7919)).collect();
        let shards: Vec<Shard> = (1..=4).map(|index| Shard { index, count: 4 }).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.holds(id)).count(), 1, "{id}");
        }
        let sizes: Vec<usize> = shards.iter().map(|s| ids.iter().filter(|id| s.holds(id)).count()).collect();
        assert!(sizes.iter().all(|n| (200..300).contains(n)), "roughly even: {sizes:?}");
        // A fixed value: the hash may never change between versions (shards of one class
        // audited by two grader versions must still be disjoint).
        assert_eq!(stable_hash("111122223333"), 0xae52_9f9f_a9ff_25ad, "FNV-1a of an account id");
    }
}
