//! `grader cohort merge FILE…`: one class report from its shards' documents, the same as an
//! unsharded audit's apart from timings. Shards of another lab, another version of the lab,
//! another step, overlapping accounts, a shard given twice or one missing are refused, naming
//! the files: a merged report that silently lacks part of the class would read as complete.

use super::shard::ShardInfo;
use super::{COHORT_SCHEMA, CohortReport, CohortSummary};

/// Merges shard documents given as (file name, text).
pub fn merge(documents: &[(String, String)]) -> Result<CohortReport, String> {
    if documents.is_empty() {
        return Err("give the shards' documents: grader cohort merge shard-1.json shard-2.json …".into());
    }
    let mut shards: Vec<(&str, CohortReport, ShardInfo)> = Vec::new();
    for (file, text) in documents {
        let report: CohortReport = serde_json::from_str(text).map_err(|e| format!("{file}:{}:{}: not a cohort report: {e}", e.line(), e.column()))?;
        if report.schema != COHORT_SCHEMA {
            return Err(format!("{file}: schema `{}` is not `{COHORT_SCHEMA}`", report.schema));
        }
        let Some(info) = report.shard.clone() else {
            return Err(format!("{file}: not a shard's report (it has no `shard`); make shards with `grader cohort --shard K/N --format json`"));
        };
        if info.roster_positions.len() != report.accounts.len() {
            return Err(format!("{file}: its shard lists {} roster positions for {} accounts: the document was edited", info.roster_positions.len(), report.accounts.len()));
        }
        shards.push((file, report, info));
    }
    let (first_file, first, first_info) = &shards[0];
    for (file, report, info) in &shards[1..] {
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
    }
    // Every shard once.
    let count = first_info.count;
    for index in 1..=count {
        let files: Vec<&str> = shards.iter().filter(|(_, _, i)| i.index == index).map(|(f, _, _)| *f).collect();
        match files.len() {
            1 => {}
            0 => return Err(format!("shard {index} of {count} is missing: the merged report would lack its accounts (give all {count} shards' documents)")),
            _ => return Err(format!("shard {index} of {count} is given twice: {}", files.join(" and "))),
        }
    }
    // Every account once, back in the roster's order.
    let mut placed: Vec<(usize, &str, super::AccountResult)> = Vec::new();
    for (file, report, info) in &shards {
        for (position, account) in info.roster_positions.iter().zip(&report.accounts) {
            if let Some((_, other, _)) = placed.iter().find(|(_, _, a)| a.account_id == account.account_id) {
                return Err(format!("account {} is in both {other} and {file}: the shards overlap (were they cut from different rosters?)", account.account_id));
            }
            placed.push((*position, file, account.clone()));
        }
    }
    placed.sort_by_key(|(position, _, _)| *position);
    let accounts: Vec<super::AccountResult> = placed.into_iter().map(|(_, _, a)| a).collect();
    // Shards that ran on different days counted up to the latest of them.
    let class_spend = first.spend.as_ref().map(|s| {
        let mut period = s.period.clone();
        period.until = shards.iter().filter_map(|(_, r, _)| r.spend.as_ref().map(|s| s.period.until.clone())).max().unwrap_or(period.until);
        super::spend::ClassSpend::of(&period, &accounts)
    });
    let started_at = shards.iter().map(|(_, r, _)| r.started_at.clone()).min().unwrap_or_default();
    let duration_ms = shards.iter().map(|(_, r, _)| r.duration_ms).max().unwrap_or(0);
    Ok(CohortReport {
        schema: COHORT_SCHEMA.into(),
        lab: first.lab.clone(),
        lab_format_version: first.lab_format_version,
        lab_digest: first.lab_digest.clone(),
        grader_version: first.grader_version.clone(),
        started_at,
        step: first.step.clone(),
        steps: first.steps.clone(),
        duration_ms,
        summary: CohortSummary::of(&accounts),
        progress: super::funnel::progress(&first.steps, &accounts),
        accounts,
        rates: first.rates.clone(),
        shard: None,
        spend: class_spend,
    })
}
