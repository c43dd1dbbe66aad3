//! The `grader` command line without AWS: help, lab validation with exact diagnostics,
//! policies, exit codes for usage and setup errors.

mod support;

use support::{grader, grader_in, read, root};

#[test]
fn help_teaches_commands_and_exit_codes() {
    let run = grader(None, &["--help"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for word in ["check", "list", "hint", "validate", "policy", "Exit codes", "read"] {
        assert!(run.stdout.contains(word), "--help lacks `{word}`:\n{}", run.stdout);
    }
    let version = grader(None, &["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("grader "), "{}", version.stdout);
}

#[test]
fn the_shipped_labs_validate() {
    let run = grader(None, &["validate", "labs"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok: 3 lab(s), 23 steps"), "{}", run.stdout);
}

#[test]
fn the_committed_schema_matches_the_types() {
    let run = grader(None, &["validate", "--schema"]);
    assert_eq!(run.code, 0);
    let path = root().join("labs/lab.schema.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &run.stdout).unwrap();
    }
    assert!(read("labs/lab.schema.json") == run.stdout, "labs/lab.schema.json is stale: run `UPDATE_SNAPSHOTS=1 cargo test --test cli`");
    for kind in ["ecs_service", "service_absent", "http_get"] {
        assert!(run.stdout.contains(&format!("\"{kind}\"")), "schema lacks kind `{kind}`");
    }
}

/// Each malformed lab file fails with exit 3 and exactly the diagnostic in its `.expected`
/// file (regenerate with UPDATE_SNAPSHOTS=1 after checking the new text is better).
#[test]
fn malformed_labs_fail_with_exact_diagnostics() {
    let dir = root().join("tests/fixtures/bad-labs");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect();
    names.sort();
    assert!(names.len() >= 8, "expected the corpus of bad labs");
    let mut mismatches = Vec::new();
    for path in names {
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        let run = grader_in(None, &["validate", &rel], &[]);
        assert_eq!(run.code, 3, "{rel} should be invalid (exit 3), got {}: {}", run.code, run.stderr);
        let expected_path = path.with_extension("expected");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&expected_path, &run.stderr).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != run.stderr {
            mismatches.push(format!("--- {rel}\nexpected:\n{expected}\nactual:\n{}", run.stderr));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn diagnostics_point_at_the_spot_and_suggest() {
    let run = grader(None, &["validate", "tests/fixtures/bad-labs/unknown-kind.yaml"]);
    assert!(run.stderr.contains("unknown-kind.yaml:12:15"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `ecs_cluster`?"), "{}", run.stderr);
    let run = grader(None, &["validate", "tests/fixtures/bad-labs/unknown-key.yaml"]);
    assert!(run.stderr.contains("unknown-key.yaml:14:9"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `cluster`?"), "{}", run.stderr);
}

#[test]
fn all_problems_of_a_directory_are_reported_together() {
    let run = grader(None, &["validate", "tests/fixtures/bad-labs"]);
    assert_eq!(run.code, 3);
    let count = run.stderr.matches("error: ").count();
    assert!(count >= 8, "expected every bad file reported, got {count}:\n{}", run.stderr);
}

#[test]
fn usage_errors_exit_2_with_a_suggestion() {
    let run = grader(None, &["check", "step-88"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `step-8`?"), "{}", run.stderr);
    let run = grader(None, &["check", "step-1", "--var", "clustr=x"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("did you mean `cluster`?"), "{}", run.stderr);
    let run = grader(None, &["check"]);
    assert_eq!(run.code, 2);
    let run = grader(None, &["check", "--all", "--lab", "fargate-nginks"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("did you mean `fargate-nginx`?"), "{}", run.stderr);
}

#[test]
fn unknown_region_and_unreachable_endpoint_exit_4() {
    let keys = [("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret")];
    let run = grader_in(None, &["check", "step-1", "--region", "us-east1"], &keys);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `us-east-1`?"), "{}", run.stderr);
    // A well-formed region the grader does not know is AWS's to refuse (AWS opens regions
    // every year); here there is no network, so the sign-in fails and names the region.
    let run = grader_in(None, &["check", "step-1", "--region", "us-east-9"], &keys);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    assert!(run.stderr.contains("`us-east-9` is not a region this grader knows"), "{}", run.stderr);
    // The European Sovereign Cloud's regions (partition aws-eusc) are regions too.
    let run = grader_in(None, &["check", "step-1", "--region", "eusc-de-east-1"], &keys);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!run.stderr.contains("not an AWS region name") && !run.stderr.contains("not a region this grader knows"), "{}", run.stderr);
    // Nothing listens on port 9 of the loopback address.
    let run = grader_in(
        None,
        &["check", "step-1", "--endpoint-url", "http://127.0.0.1:9"],
        &[("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "verysecretvalue")],
    );
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("failed to reach AWS at http://127.0.0.1:9"), "{}", run.stderr);
    assert!(!run.stderr.contains("verysecretvalue") && !run.stdout.contains("verysecretvalue"));
}

#[test]
fn no_credentials_exit_4_with_what_to_do() {
    let run = grader_in(None, &["check", "step-1", "--endpoint-url", "http://127.0.0.1:9"], &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("aws configure"), "{}", run.stderr);
    // With instance metadata enabled, the chain ends there: unreachable on a laptop, a refusal
    // on some machines (this one answers 403). Either way the fix is to configure credentials.
    let run = grader_in(None, &["check", "step-1", "--endpoint-url", "http://127.0.0.1:9"], &[("AWS_EC2_METADATA_DISABLED", "false")]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("aws configure"), "{}", run.stderr);
}

#[test]
fn policy_is_one_read_only_document() {
    let run = grader(None, &["policy"]);
    assert_eq!(run.code, 0);
    let policy: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let actions: Vec<&str> = policy["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(actions.contains(&"ecs:DescribeServices") && actions.contains(&"sts:GetCallerIdentity"));
    for a in &actions {
        let op = a.split(':').nth(1).unwrap();
        assert!(op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"), "{a} is not read-only");
    }
    let trust = grader(None, &["policy", "--trust", "--instructor-account", "999999999999", "--external-id", "class-7"]);
    let trust: serde_json::Value = serde_json::from_str(&trust.stdout).unwrap();
    assert_eq!(trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], "class-7");
}

#[test]
fn hint_shows_the_goal_and_hints() {
    let run = grader(None, &["hint", "step-8"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Service with a public IP"), "{}", run.stdout);
    assert!(run.stdout.contains("hint: "), "{}", run.stdout);
    assert!(run.stdout.contains("grader check step-8"));
}

/// The command line sits on top: argument definitions and dispatch. No module below it may
/// reach back into it (the orchestration every command shares lives in `grading`).
#[test]
fn no_module_but_main_imports_cli() {
    fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(&root().join("grader"), &mut files);
    assert!(files.len() > 40, "the sources were found");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("main.rs") && !f.ends_with("cli.rs"))
        .filter(|f| {
            let text = read(f);
            text.contains("crate::cli") || text.contains("super::cli") || text.contains("grader::cli")
        })
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(offenders.is_empty(), "these modules import `cli`: {offenders:?}");
}

#[test]
fn validate_checks_the_books_quizzes_and_points_at_a_bad_one() {
    let all = grader(None, &["validate"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(all.stdout.contains("34 quizzes"), "every concept chapter and lab step has its quiz: {}", all.stdout);
    let dir = support::scratch_dir("quiz");
    let file = dir.join("step-3.quiz.yml");
    std::fs::write(&file, "questions:\n  - question: \"Why /32?\"\n    answers:\n      - text: \"One address\"\n        why: \"\"\n").unwrap();
    let bad = grader(None, &["validate", file.to_str().unwrap()]);
    assert_eq!(bad.code, 3, "{}", bad.stderr);
    let shown = file.display().to_string();
    for expected in [
        format!("{shown}:1:1"),
        "the quiz has 1 question(s)".to_string(),
        format!("{shown}:2:5"),
        "question 1 has 1 answer(s)".into(),
        "question 1 has no right answer".into(),
        format!("{shown}:4:9"),
        "question 1, answer 1 has no explanation".into(),
    ] {
        assert!(bad.stderr.contains(&expected), "missing {expected:?} in:\n{}", bad.stderr);
    }
}

/// A second lab beside the first: `list` shows both, `policy` covers both (or one with
/// `--lab`), and `check --lab` picks one.
#[test]
fn several_labs_work_side_by_side() {
    let dir = support::scratch_dir("two-labs");
    std::fs::copy(root().join("labs/fargate-nginx.yaml"), dir.join("fargate-nginx.yaml")).unwrap();
    std::fs::write(
        dir.join("second.yaml"),
        "version: 1\nid: second\ntitle: A second lab\nregion: us-east-1\nsteps:\n  - id: step-1\n    title: The load balancer\n    checks:\n      - id: alb\n        title: The ALB\n        kind: load_balancer\n        load_balancer: nginx-alb\n",
    )
    .unwrap();
    let labs = dir.to_str().unwrap();
    let list = grader(None, &["list", "--labs-dir", labs]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("fargate-nginx · ") && list.stdout.contains("second · A second lab") && list.stdout.contains("grader check --lab ID STEP"), "{}", list.stdout);
    let one = grader(None, &["list", "--labs-dir", labs, "--lab", "second"]);
    assert!(!one.stdout.contains("fargate-nginx"), "{}", one.stdout);

    let actions = |args: &[&str]| -> Vec<String> {
        let run = grader(None, args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let policy: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        policy["Statement"][0]["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
    };
    let all = actions(&["policy", "--labs-dir", labs]);
    assert!(all.contains(&"elasticloadbalancing:DescribeLoadBalancers".to_string()) && all.contains(&"ecs:DescribeServices".to_string()), "{all:?}");
    let second = actions(&["policy", "--labs-dir", labs, "--lab", "second"]);
    assert!(!second.contains(&"ecs:DescribeServices".to_string()), "{second:?}");
    let typo = grader(None, &["check", "--labs-dir", labs, "--lab", "secnod", "step-1"]);
    assert_eq!(typo.code, 2);
    assert!(typo.stderr.contains("did you mean `second`?"), "{}", typo.stderr);
}
