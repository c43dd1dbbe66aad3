//! `grader cohort merge FILE…`: one class report from its shards' documents, the same as an
//! unsharded audit's apart from timings. Shards of another lab, another version of the lab,
//! another step, overlapping accounts, a shard given twice or one missing are refused, naming
//! the files: a merged report that silently lacks part of the class would read as complete.
//! The documents are read one at a time and their accounts go to a store like an audit's, so
//! merging a large class needs the memory of its largest shard, not of the class.

use std::collections::HashMap;
use std::path::PathBuf;

use super::shard::ShardInfo;
use super::store::Accounts;
use super::{COHORT_SCHEMA, CohortReport, Tally};

/// Merges the shard documents in these files, read one at a time.
pub fn merge(files: &[PathBuf]) -> Result<CohortReport, String> {
    if files.is_empty() {
        return Err("give the shards' documents: grader cohort merge shard-1.json shard-2.json …".into());
    }
    // The first document, without its accounts: what the others must match.
    let mut first: Option<(String, CohortReport, ShardInfo)> = None;
    let mut shard_files: HashMap<usize, String> = HashMap::new();
    // Which of `files` holds each account and each roster position.
    let mut account_files: HashMap<String, usize> = HashMap::new();
    let mut position_files: HashMap<usize, usize> = HashMap::new();
    // The accounts in the order they are read, and the roster position of each: a position
    // is only trusted (to size anything by) once every document is in.
    let mut accounts = Accounts::spilled(0);
    let mut positions: Vec<usize> = Vec::new();
    let (mut started_at, mut duration_ms, mut spend_until): (Option<String>, u64, Option<String>) = (None, 0, None);
    for (file_index, path) in files.iter().enumerate() {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("failed to read {file}: {e}"))?;
        let mut report: CohortReport = serde_json::from_str(&text).map_err(|e| format!("{file}:{}:{}: not a cohort report: {e}", e.line(), e.column()))?;
        drop(text);
        if report.schema != COHORT_SCHEMA {
            return Err(format!("{file}: schema `{}` is not `{COHORT_SCHEMA}`", report.schema));
        }
        let Some(info) = report.shard.clone() else {
            return Err(format!("{file}: not a shard's report (it has no `shard`); make shards with `grader cohort --shard K/N --format json`"));
        };
        if info.roster_positions.len() != report.accounts.len() {
            return Err(format!("{file}: its shard lists {} roster positions for {} accounts: the document was edited", info.roster_positions.len(), report.accounts.len()));
        }
        let shard_accounts = std::mem::take(&mut report.accounts).into_vec();
        match &first {
            None => first = Some((file.clone(), report.clone(), info.clone())),
            Some((first_file, first, first_info)) => same_audit(&file, &report, &info, first_file, first, first_info)?,
        }
        if let Some(other) = shard_files.insert(info.index, file.clone()) {
            return Err(format!("shard {} of {} is given twice: {other} and {file}", info.index, info.count));
        }
        started_at = started_at.into_iter().chain([report.started_at.clone()]).min();
        duration_ms = duration_ms.max(report.duration_ms);
        spend_until = spend_until.into_iter().chain(report.spend.as_ref().map(|s| s.period.until.clone())).max();
        // Every account once, at its place in the roster. One shard holds every row of an
        // account the roster lists twice (the shard follows the account id), so only an
        // account in two documents means the shards overlap.
        for (position, account) in info.roster_positions.iter().zip(shard_accounts) {
            let here = positions.len();
            if let Some(other) = account_files.insert(account.account_id.clone(), file_index).filter(|other| *other != file_index) {
                return Err(format!("account {} is in both {} and {file}: the shards overlap (were they cut from different rosters?)", account.account_id, files[other].display()));
            }
            if let Some(other) = position_files.insert(*position, file_index) {
                return Err(format!("roster position {position} is in both {} and {file}: the document was edited", files[other].display()));
            }
            accounts.put(here, account);
            positions.push(*position);
        }
    }
    let (_, first, first_info) = first.expect("at least one file");
    let count = first_info.count;
    if let Some(index) = (1..=count).find(|i| !shard_files.contains_key(i)) {
        return Err(format!("shard {index} of {count} is missing: the merged report would lack its accounts (give all {count} shards' documents)"));
    }
    // The positions are distinct, so all below the number of accounts means 0, 1, … each once.
    if let Some(last) = positions.iter().copied().filter(|p| *p >= positions.len()).max() {
        return Err(format!(
            "the shards' roster positions leave gaps (one is {last}, but they hold {} accounts): a document was edited, {} among them",
            positions.len(),
            files[position_files[&last]].display()
        ));
    }
    let mut order = vec![0; positions.len()];
    for (read, position) in positions.into_iter().enumerate() {
        order[position] = read;
    }
    let accounts = accounts.reordered(&order);
    let (summary, progress, mut spend) = Tally::of(&first.steps, first.spend.as_ref().map(|s| &s.period), &accounts);
    // Shards that ran on different days counted up to the latest of them.
    if let (Some(spend), Some(until)) = (&mut spend, spend_until) {
        spend.period.until = until;
    }
    Ok(CohortReport {
        schema: COHORT_SCHEMA.into(),
        started_at: started_at.unwrap_or_default(),
        duration_ms,
        summary,
        progress,
        accounts,
        shard: None,
        spend,
        ..first
    })
}

/// Refuses a shard that is not of the same audit as the first.
fn same_audit(file: &str, report: &CohortReport, info: &ShardInfo, first_file: &str, first: &CohortReport, first_info: &ShardInfo) -> Result<(), String> {
    let differs = |what: &str, a: &str, b: &str| format!("{file} and {first_file} audit {what} ({b} and {a}): shards of one audit only can be merged");
    if report.lab != first.lab {
        return Err(differs("different labs", &first.lab, &report.lab));
    }
    if report.lab_digest != first.lab_digest || report.lab_format_version != first.lab_format_version {
        return Err(differs("different versions of the lab", &first.lab_digest, &report.lab_digest));
    }
    if report.step != first.step || report.steps != first.steps {
        return Err(differs("different steps", &first.step, &report.step));
    }
    let period = |r: &CohortReport| r.spend.as_ref().map(|s| (s.period.since.clone(), s.period.metric.clone(), s.period.alert_usd.map(f64::to_bits)));
    if period(report) != period(first) {
        let show = |r: &CohortReport| r.spend.as_ref().map_or("no --spend".to_string(), |s| format!("--spend since {}", s.period.since));
        return Err(differs("spend differently", &show(first), &show(report)));
    }
    if info.count != first_info.count {
        return Err(differs("different shard counts", &first_info.count.to_string(), &info.count.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard's document: these (roster position, account id, status) of a `count`-shard audit.
    fn shard(dir: &std::path::Path, index: usize, count: usize, accounts: &[(usize, &str, &str)]) -> PathBuf {
        let rows: Vec<String> = accounts
            .iter()
            .map(|(_, id, status)| format!(r#"{{"label": "l-{id}", "account_id": "{id}", "status": "{status}", "leftovers": [], "usd_per_hour": 0.1}}"#))
            .collect();
        let positions: Vec<String> = accounts.iter().map(|(p, _, _)| p.to_string()).collect();
        let text = format!(
            r#"{{"schema": "grader.cohort/v1", "lab": "fargate-nginx", "step": "cleanup", "duration_ms": {index}, "started_at": "2026-12-0{index}T00:00:00Z",
               "accounts": [{}], "summary": {{"accounts": 0, "pass": 0, "fail": 0, "error": 0, "leftovers": 0, "usd_per_hour": 0.0}},
               "rates": {{"source": "test", "fargate_vcpu_hour": 0.04, "fargate_gb_hour": 0.004, "public_ipv4_hour": 0.005}},
               "shard": {{"index": {index}, "count": {count}, "roster_positions": [{}]}}}}"#,
            rows.join(", "),
            positions.join(", ")
        );
        let path = dir.join(format!("shard-{index}.json"));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn shards_go_back_in_roster_order_with_the_class_figures() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            shard(dir.path(), 1, 2, &[(1, "111111111111", "pass"), (2, "222222222222", "fail")]),
            shard(dir.path(), 2, 2, &[(0, "000000000000", "error"), (3, "333333333333", "pass")]),
        ];
        let merged = merge(&files).unwrap();
        let ids: Vec<String> = merged.accounts.iter().map(|a| a.account_id).collect();
        assert_eq!(ids, ["000000000000", "111111111111", "222222222222", "333333333333"]);
        let s = &merged.summary;
        assert_eq!((s.accounts, s.pass, s.fail, s.error), (4, 2, 1, 1));
        assert_eq!((merged.started_at.as_str(), merged.duration_ms, merged.shard.is_none()), ("2026-12-01T00:00:00Z", 2, true));
    }

    #[test]
    fn a_roster_position_twice_or_a_gap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let twice = [shard(dir.path(), 1, 2, &[(0, "111111111111", "pass")]), shard(dir.path(), 2, 2, &[(0, "222222222222", "pass")])];
        let e = merge(&twice).unwrap_err();
        assert!(e.contains("roster position 0 is in both") && e.contains("shard-1.json") && e.contains("shard-2.json"), "{e}");
        let gap = [shard(dir.path(), 1, 2, &[(0, "111111111111", "pass")]), shard(dir.path(), 2, 2, &[(2, "222222222222", "pass")])];
        let e = merge(&gap).unwrap_err();
        assert!(e.contains("leave gaps"), "{e}");
    }

    #[test]
    fn an_account_the_roster_lists_twice_merges_like_any_other() {
        // Both rows follow the account id into one shard.
        let dir = tempfile::tempdir().unwrap();
        let files = [
            shard(dir.path(), 1, 2, &[(0, "111111111111", "pass"), (2, "111111111111", "fail")]),
            shard(dir.path(), 2, 2, &[(1, "222222222222", "pass")]),
        ];
        let merged = merge(&files).unwrap();
        let ids: Vec<String> = merged.accounts.iter().map(|a| a.account_id).collect();
        assert_eq!(ids, ["111111111111", "222222222222", "111111111111"]);
        assert_eq!((merged.summary.accounts, merged.summary.pass, merged.summary.fail), (3, 2, 1));
    }

    #[test]
    fn a_position_past_the_class_is_refused_not_allocated() {
        let dir = tempfile::tempdir().unwrap();
        for position in [usize::MAX, 1 << 40] {
            let files = [shard(dir.path(), 1, 2, &[(0, "111111111111", "pass")]), shard(dir.path(), 2, 2, &[(position, "222222222222", "pass")])];
            let e = merge(&files).unwrap_err();
            assert!(e.contains(&format!("one is {position}, but they hold 2 accounts")) && e.contains("shard-2.json"), "{e}");
        }
    }

    #[test]
    fn a_missing_shard_or_an_unreadable_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let one = [shard(dir.path(), 1, 2, &[(0, "111111111111", "pass")])];
        assert!(merge(&one).unwrap_err().contains("shard 2 of 2 is missing"));
        let e = merge(&[dir.path().join("nope.json")]).unwrap_err();
        assert!(e.starts_with("failed to read") && e.contains("nope.json"), "{e}");
    }
}
