//! `deploy/`: the AWS Batch template lints clean with cfn-lint (from `.venv`, pinned in
//! tests/emulator/requirements.txt), the Batch entrypoint passes shellcheck, and the entrypoint
//! moves rosters, shard documents and reports through S3 (the emulator's) as the README says,
//! refusing bad submissions and incomplete merges. Each linter is also shown a broken copy,
//! so these tests fail when the linter stops looking.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Account, Emulator, fresh_account_id, root, scratch_dir, venv_bin};

const TEMPLATE: &str = "deploy/aws-batch/template.yaml";
const ENTRYPOINT: &str = "deploy/aws-batch/entrypoint.sh";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `.venv/bin/cfn-lint FILE`.
fn cfn_lint(file: &Path) -> Output {
    let lint = root().join(".venv/bin/cfn-lint");
    assert!(lint.exists(), "{} is missing: run scripts/test, which installs tests/emulator/requirements.txt", lint.display());
    Command::new(lint).arg(file).output().expect("run cfn-lint")
}

/// `shellcheck FILE` (Debian's package; scripts/test installs it).
fn shellcheck(file: &Path) -> Output {
    Command::new("shellcheck")
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run shellcheck ({e}): scripts/test installs it (apt-get install shellcheck)"))
}

#[test]
fn the_batch_template_lints_clean() {
    let out = cfn_lint(&root().join(TEMPLATE));
    assert!(out.status.success() && out.stdout.is_empty(), "cfn-lint found problems in {TEMPLATE}:\n{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn the_lint_catches_an_invalid_property() {
    let template = std::fs::read_to_string(root().join(TEMPLATE)).unwrap();
    let broken = template.replacen("PlatformCapabilities: [FARGATE]", "PlatformCapabilitys: [FARGATE]", 1);
    assert_ne!(broken, template, "the template no longer has the line this test breaks");
    let file = scratch_dir("deploy").join("broken-template.yaml");
    std::fs::write(&file, broken).unwrap();
    let out = cfn_lint(&file);
    let found = text(&out.stdout);
    assert!(!out.status.success(), "cfn-lint passed a template with an unknown property:\n{found}");
    assert!(found.contains("E3002") && found.contains("PlatformCapabilitys"), "{found}");
}

#[test]
fn the_entrypoint_passes_shellcheck() {
    let out = shellcheck(&root().join(ENTRYPOINT));
    assert!(out.status.success(), "shellcheck {ENTRYPOINT}:\n{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn shellcheck_catches_an_unquoted_argument_list() {
    let script = std::fs::read_to_string(root().join(ENTRYPOINT)).unwrap();
    let broken = script.replacen("shard) shard \"$@\" ;;", "shard) shard $@ ;;", 1);
    assert_ne!(broken, script, "the entrypoint no longer has the line this test breaks");
    let file = scratch_dir("deploy").join("broken-entrypoint.sh");
    std::fs::write(&file, broken).unwrap();
    let out = shellcheck(&file);
    assert!(!out.status.success() && text(&out.stdout).contains("SC2068"), "{}", text(&out.stdout));
}

/// The entrypoint as a Batch job runs it: a clean environment with the grader and the AWS CLI
/// on the PATH (the image's `aws` is Debian's v2; the suite's is the virtualenv's v1, which
/// takes the same `s3 cp` arguments), the instructor's keys and the emulator as AWS.
fn entrypoint(emulator: Option<&Emulator>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let grader_dir = PathBuf::from(env!("CARGO_BIN_EXE_grader")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", venv_bin().display(), grader_dir.display());
    let home = scratch_dir("entrypoint-home");
    let mut cmd = Command::new(root().join(ENTRYPOINT));
    cmd.args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("NO_COLOR", "1");
    if let Some(e) = emulator {
        cmd.env("AWS_ENDPOINT_URL", &e.url);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run the entrypoint")
}

#[test]
fn the_entrypoint_refuses_bad_submissions_before_touching_aws() {
    // No emulator: each of these must stop before any AWS call (one would fail differently).
    let ok = [("RESULTS_BUCKET", "b"), ("AUDIT_ID", "week-3"), ("SHARDS", "4")];
    let cases: [(&[&str], &[(&str, &str)], &str); 8] = [
        (&["shard"], &[("RESULTS_BUCKET", "")], "RESULTS_BUCKET is not set"),
        (&["shard"], &[("AUDIT_ID", "")], "AUDIT_ID is not set"),
        (&["shard"], &[("AUDIT_ID", "../rosters/x")], "AUDIT_ID `../rosters/x` may hold only"),
        (&["merge"], &[("SHARDS", "0")], "SHARDS `0` is not a whole number"),
        (&["merge"], &[("SHARDS", "four")], "SHARDS `four` is not a whole number"),
        (&["merge"], &[("SHARDS", "10001")], "more than an array job's 10,000 children"),
        (&["audit"], &[], "unknown mode `audit`"),
        (&["merge"], &[("REPORT_FORMATS", "html pdf")], "unknown format `pdf`"),
    ];
    for (args, changes, message) in cases {
        let mut env: BTreeMap<&str, &str> = ok.into_iter().collect();
        env.extend(changes.iter().copied());
        let env: Vec<(&str, &str)> = env.into_iter().collect();
        let out = entrypoint(None, args, &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {changes:?}: {stderr}");
        assert!(stderr.contains(message) && stderr.contains("usage:"), "{args:?} {changes:?}: {stderr}");
    }
}

/// A bucket of its own for one test, in the instructor's account of `emulator`.
fn bucket(emulator: &Emulator) -> (Account, String) {
    let instructor = Account::root(emulator);
    let name = format!("audit-{}", fresh_account_id());
    instructor.aws_ok(&["s3api", "create-bucket", "--bucket", &name]);
    (instructor, name)
}

fn keys(instructor: &Account, bucket: &str) -> Vec<String> {
    let listed = instructor.aws_ok(&["s3api", "list-objects-v2", "--bucket", bucket, "--query", "Contents[].Key", "--output", "text"]);
    listed.split_whitespace().filter(|k| *k != "None").map(str::to_string).collect()
}

#[test]
fn the_merge_refuses_missing_shard_documents_and_ignores_other_runs() {
    let emulator = Emulator::shared();
    let (instructor, bucket) = bucket(emulator);
    let doc = scratch_dir("deploy").join("doc.json");
    std::fs::write(&doc, "{}").unwrap();
    // Shards 1 and 3 of 3 are there; shard 2 only from an earlier run split 4 ways.
    for key in ["shard-1-of-3.json", "shard-3-of-3.json", "shard-2-of-4.json"] {
        instructor.aws_ok(&["s3", "cp", doc.to_str().unwrap(), &format!("s3://{bucket}/shards/week-3/{key}")]);
    }
    let out = entrypoint(Some(emulator), &["merge"], &[("RESULTS_BUCKET", &bucket), ("AUDIT_ID", "week-3"), ("SHARDS", "3")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("missing shard documents of 3 under s3://{bucket}/shards/week-3/: 2\n")), "{stderr}");
    assert!(!keys(&instructor, &bucket).iter().any(|k| k.starts_with("reports/")), "no report from an incomplete audit");
}

#[test]
fn a_shard_without_its_roster_fails_naming_the_key() {
    let emulator = Emulator::shared();
    let (_, bucket) = bucket(emulator);
    let out = entrypoint(Some(emulator), &["shard"], &[("RESULTS_BUCKET", &bucket), ("AUDIT_ID", "week-9"), ("SHARDS", "2"), ("AWS_BATCH_JOB_ARRAY_INDEX", "0")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("could not download s3://{bucket}/rosters/week-9.csv")), "{stderr}");
}

const AUDIT_ROLE: &str = "FargateCourseAudit";
const EXTERNAL_ID: &str = "class-batch";

/// The whole Batch flow on the emulator: a roster in S3, two shard jobs (array indexes 0 and
/// 1), the merge; the merged report says what one unsharded `grader cohort` says.
#[test]
fn a_class_audited_in_two_shards_and_merged_matches_the_unsharded_audit() {
    let emulator = Emulator::start(&["--strict-assume-role"]);
    let (instructor, bucket) = bucket(&emulator);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{EXTERNAL_ID}"}}}}}}]}}"#,
        instructor.id
    );
    // Three clean accounts, one with a leftover log group, one without the audit role.
    let kinds = ["clean", "clean", "clean", "leftover", "no-role"];
    let mut roster = String::from("label,account_id,role_arn,external_id\n");
    for (i, kind) in kinds.iter().enumerate() {
        let id = fresh_account_id();
        let learner = Account::assume(&emulator, &id, "OrganizationAccountAccessRole");
        if *kind != "no-role" {
            learner.aws_ok(&["iam", "create-role", "--role-name", AUDIT_ROLE, "--assume-role-policy-document", &trust]);
        }
        if *kind == "leftover" {
            learner.aws_ok(&["logs", "create-log-group", "--log-group-name", "/ecs/nginx-web", "--region", "eu-west-1"]);
        }
        roster.push_str(&format!("learner-{i},{id},arn:aws:iam::{id}:role/{AUDIT_ROLE},{EXTERNAL_ID}\n"));
    }
    let dir = scratch_dir("deploy-batch");
    let roster_file = dir.join("roster.csv");
    std::fs::write(&roster_file, &roster).unwrap();
    instructor.aws_ok(&["s3", "cp", roster_file.to_str().unwrap(), &format!("s3://{bucket}/rosters/week-5.csv")]);

    let env = [("RESULTS_BUCKET", bucket.as_str()), ("AUDIT_ID", "week-5"), ("SHARDS", "2")];
    let audit_args = ["shard", "--scan-regions", "us-east-1,eu-west-1"];
    for index in ["0", "1"] {
        let out = entrypoint(Some(&emulator), &audit_args, &[env[0], env[1], env[2], ("AWS_BATCH_JOB_ARRAY_INDEX", index)]);
        assert!(out.status.success(), "shard {index} exits 0 although accounts fail:\n{}", text(&out.stderr));
    }
    let merge = entrypoint(Some(&emulator), &["merge"], &env);
    assert!(merge.status.success(), "{}", text(&merge.stderr));
    let mut listed = keys(&instructor, &bucket);
    listed.sort();
    assert_eq!(
        listed,
        [
            "reports/week-5/cohort.csv",
            "reports/week-5/cohort.html",
            "reports/week-5/cohort.json",
            "rosters/week-5.csv",
            "shards/week-5/shard-1-of-2.json",
            "shards/week-5/shard-2-of-2.json"
        ]
    );

    let merged_file = dir.join("merged.json");
    instructor.aws_ok(&["s3", "cp", &format!("s3://{bucket}/reports/week-5/cohort.json"), merged_file.to_str().unwrap()]);
    let unsharded_file = dir.join("unsharded.json");
    let run = support::grader_in(
        None,
        &["cohort", "--roster", roster_file.to_str().unwrap(), "--scan-regions", "us-east-1,eu-west-1", "--format", "json", "--output", unsharded_file.to_str().unwrap()],
        &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_ENDPOINT_URL", emulator.url.as_str())],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let statuses = |file: &Path| -> (BTreeMap<String, String>, serde_json::Value) {
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let accounts = doc["accounts"].as_array().unwrap().iter().map(|a| (a["account_id"].as_str().unwrap().to_string(), a["status"].as_str().unwrap().to_string())).collect();
        (accounts, doc["summary"].clone())
    };
    let (merged, merged_summary) = statuses(&merged_file);
    let (unsharded, unsharded_summary) = statuses(&unsharded_file);
    assert_eq!(merged, unsharded);
    assert_eq!(merged_summary, unsharded_summary);
    assert_eq!(merged.values().filter(|s| *s == "pass").count(), 3, "{merged:?}");
}
