//! Labs written in YAML alone: an author's lab on S3, DynamoDB and SSM (tests/fixtures/authored)
//! checked through the Cloud Control API with `resource` and `resource_absent`, built and torn
//! down with the AWS CLI against the emulator, and its `grader policy` proven under IAM
//! enforcement.

mod support;

use std::collections::BTreeMap;

use support::{Account, Emulator, GraderRun, grader, root};

const LABS: &str = "tests/fixtures/authored";

fn check(account: &Account, args: &[&str]) -> GraderRun {
    let mut all = vec!["check", "--labs-dir", LABS, "--lab", "storage", "--format", "json", "--no-wait"];
    all.extend_from_slice(args);
    grader(Some(account), &all)
}

/// Each check's status and, where it did not pass, its `found`.
fn verdicts(run: &GraderRun) -> BTreeMap<String, (String, String)> {
    let report = run.json();
    let mut out = BTreeMap::new();
    for step in report["steps"].as_array().unwrap_or_else(|| panic!("{}\n{}", run.stdout, run.stderr)) {
        for c in step["checks"].as_array().unwrap() {
            let found = c["found"].as_str().or(c["message"].as_str()).unwrap_or_default().to_string();
            out.insert(c["id"].as_str().unwrap().to_string(), (c["status"].as_str().unwrap().to_string(), found));
        }
    }
    out
}

fn status(v: &BTreeMap<String, (String, String)>, id: &str) -> String {
    v[id].0.clone()
}

/// The lab as its pages would have the learner build it; `versioning` is the bucket's status.
fn build(account: &Account, versioning: &str) {
    account.aws_ok(&["s3api", "create-bucket", "--bucket", "course-notes-bucket"]);
    account.aws_ok(&["s3api", "put-bucket-versioning", "--bucket", "course-notes-bucket", "--versioning-configuration", &format!("Status={versioning}")]);
    account.aws_ok(&["s3api", "put-bucket-tagging", "--bucket", "course-notes-bucket", "--tagging", "TagSet=[{Key=course,Value=fargate}]"]);
    account.aws_ok(&[
        "dynamodb",
        "create-table",
        "--table-name",
        "course-scores",
        "--attribute-definitions",
        "AttributeName=learner,AttributeType=S",
        "--key-schema",
        "AttributeName=learner,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    ]);
    account.aws_ok(&["dynamodb", "update-continuous-backups", "--table-name", "course-scores", "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true"]);
    account.aws_ok(&["ssm", "put-parameter", "--name", "/course/theme", "--type", "String", "--value", "dark"]);
}

#[test]
fn an_author_s_lab_in_yaml_alone_fails_empty_names_the_property_passes_built_and_its_clean_up() {
    let validated = grader(None, &["validate", &format!("{LABS}/storage.yaml")]);
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    let account = Account::fresh(Emulator::shared());

    // Empty: every build check fails, saying the resource is not there; the clean-up passes.
    let empty = verdicts(&check(&account, &["--all"]));
    for id in ["bucket-versioned", "table-shaped", "parameter-set"] {
        assert_eq!(empty[id], ("fail".to_string(), "not found".to_string()), "{id}: {empty:?}");
    }
    let clean = verdicts(&check(&account, &["cleanup"]));
    assert!(clean.values().all(|(s, _)| s == "pass"), "{clean:?}");

    // Built with versioning suspended: only the bucket fails, naming the property and its value.
    build(&account, "Suspended");
    let run = check(&account, &["--all"]);
    let half = verdicts(&run);
    assert_eq!(half["bucket-versioned"].0, "fail");
    assert_eq!(half["bucket-versioned"].1, "VersioningConfiguration.Status is Suspended, expected Enabled", "{}", run.stdout);
    assert_eq!((status(&half, "table-shaped"), status(&half, "parameter-set")), ("pass".into(), "pass".into()), "{half:?}");
    assert_eq!(run.code, 1);

    // Fixed: every step passes; the clean-up names what is left and how to delete it.
    account.aws_ok(&["s3api", "put-bucket-versioning", "--bucket", "course-notes-bucket", "--versioning-configuration", "Status=Enabled"]);
    let run = check(&account, &["--all"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = check(&account, &["cleanup"]);
    let left = verdicts(&run);
    assert!(left.values().all(|(s, _)| s == "fail"), "{left:?}");
    assert!(run.stdout.contains("aws cloudcontrol delete-resource --type-name AWS::DynamoDB::Table --identifier 'course-scores' --region us-east-1"), "{}", run.stdout);

    // Deleted: the clean-up passes again.
    account.aws_ok(&["s3api", "delete-bucket", "--bucket", "course-notes-bucket"]);
    account.aws_ok(&["dynamodb", "delete-table", "--table-name", "course-scores"]);
    account.aws_ok(&["ssm", "delete-parameter", "--name", "/course/theme"]);
    let gone = verdicts(&check(&account, &["cleanup"]));
    assert!(gone.values().all(|(s, _)| s == "pass"), "{gone:?}");

    // The policy names the reads of each type's handler.
    let policy = grader(None, &["policy", "--labs-dir", LABS, "--lab", "storage"]);
    assert_eq!(policy.code, 0, "{}", policy.stderr);
    for action in ["cloudformation:GetResource", "s3:GetBucketVersioning", "dynamodb:DescribeTable", "ssm:GetParameters", "ec2:DescribeRegions"] {
        assert!(policy.stdout.contains(&format!("\"{action}\"")), "{action} missing from:\n{}", policy.stdout);
    }
}

#[test]
fn an_author_s_lab_s_policy_is_enough_and_a_missing_handler_permission_is_named() {
    let emulator = Emulator::start(&["--enforce-iam"]);
    let admin = Account::fresh(&emulator);
    build(&admin, "Enabled");
    let policy = grader(None, &["policy", "--labs-dir", LABS, "--lab", "storage"]).stdout;
    let reader = support::reader(&admin, &policy);
    let run = check(&reader, &["--all"]);
    assert_eq!(run.code, 0, "the policy's holder passes the built lab:\n{}", run.stdout);

    // Without one permission of the bucket handler's reads, the bucket's check cannot decide
    // and says which permission; the other types' checks still pass.
    let mut reduced: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let actions = reduced["Statement"][0]["Action"].as_array_mut().unwrap();
    actions.retain(|a| a != "s3:GetBucketVersioning");
    admin.aws_ok(&["iam", "put-user-policy", "--user-name", "grader-reader", "--policy-name", "grader", "--policy-document", &reduced.to_string()]);
    let run = check(&reader, &["--all"]);
    let v = verdicts(&run);
    assert_eq!(status(&v, "bucket-versioned"), "error", "{v:?}");
    assert!(run.stdout.contains("missing permission `s3:GetBucketVersioning`"), "{}", run.stdout);
    assert_eq!((status(&v, "table-shaped"), status(&v, "parameter-set")), ("pass".into(), "pass".into()), "{v:?}");

    // Without Cloud Control's own action, every check says so.
    let mut reduced: serde_json::Value = serde_json::from_str(&policy).unwrap();
    reduced["Statement"][0]["Action"].as_array_mut().unwrap().retain(|a| a != "cloudformation:GetResource");
    admin.aws_ok(&["iam", "put-user-policy", "--user-name", "grader-reader", "--policy-name", "grader", "--policy-document", &reduced.to_string()]);
    let run = check(&reader, &["--all"]);
    assert_eq!(run.stdout.matches("missing permission `cloudformation:GetResource`").count(), 3, "{}", run.stdout);
}

#[test]
fn a_resource_check_s_type_paths_and_operators_are_validated_with_their_place() {
    let lab = std::fs::read_to_string(root().join(LABS).join("storage.yaml")).unwrap();
    let cases = [
        ("type: AWS::S3::Bucket\n        identifier: \"{{bucket}}\"\n        properties:", "type: AWS::S3::Buckets::x\n        identifier: \"{{bucket}}\"\n        properties:", "`AWS::S3::Buckets::x` is not a resource type name"),
        ("type: AWS::SSM::Parameter", "type: AWS::Pipes::Pipe", "the grader does not know which permissions `AWS::Pipes::Pipe`'s handler reads with"),
        ("KeySchema[0].AttributeName", "KeySchema[first].AttributeName", "`KeySchema[first].AttributeName` is not a property path"),
        ("Value: {any_of: [light, dark]}", "Value: {one_of: [light, dark]}", "unknown operator `one_of`"),
    ];
    let dir = support::scratch_dir("authored-invalid");
    for (from, to, says) in cases {
        assert!(lab.contains(from), "{from}");
        let path = dir.join("storage.yaml");
        std::fs::write(&path, lab.replacen(from, to, 1)).unwrap();
        let run = grader(None, &["validate", path.to_str().unwrap()]);
        assert_eq!(run.code, 3, "{to}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{to}: {}", run.stderr);
        let line = lab.lines().position(|l| l.contains(to.lines().next().unwrap().trim()) || l.contains(from.lines().next().unwrap().trim())).map(|n| n + 1).unwrap();
        assert!(run.stderr.contains(&format!("storage.yaml:{line}:")), "{to}: expected line {line} in:\n{}", run.stderr);
    }
}

#[test]
fn the_other_known_types_are_read_in_their_schema_s_shapes() {
    let account = Account::fresh(Emulator::shared());
    // The CLI's SQS commands do not take their endpoint from the environment.
    let sqs = ["sqs", "create-queue", "--queue-name", "jobs", "--attributes", "VisibilityTimeout=90", "--output", "json", "--endpoint-url", &account.endpoint];
    let queue: serde_json::Value = serde_json::from_str(&account.aws_ok(&sqs)).unwrap();
    account.aws_ok(&["logs", "create-log-group", "--log-group-name", "/course/app"]);
    account.aws_ok(&["logs", "put-retention-policy", "--log-group-name", "/course/app", "--retention-in-days", "7"]);
    account.aws_ok(&["ecr", "create-repository", "--repository-name", "course/web", "--image-scanning-configuration", "scanOnPush=true", "--image-tag-mutability", "IMMUTABLE"]);
    let secret: serde_json::Value = serde_json::from_str(&account.aws_ok(&[
        "secretsmanager",
        "create-secret",
        "--name",
        "course/db",
        "--description",
        "Database password",
        "--secret-string",
        "not-for-graders",
        "--output",
        "json",
    ]))
    .unwrap();
    account.aws_ok(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "course-cpu-high",
        "--metric-name",
        "CPUUtilization",
        "--namespace",
        "AWS/ECS",
        "--statistic",
        "Average",
        "--period",
        "60",
        "--evaluation-periods",
        "2",
        "--threshold",
        "80",
        "--comparison-operator",
        "GreaterThanThreshold",
        "--dimensions",
        "Name=ClusterName,Value=fargate-course",
    ]);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    account.aws_ok(&["iam", "create-role", "--role-name", "course-app-role", "--assume-role-policy-document", trust]);
    let vars = [format!("queue_url={}", queue["QueueUrl"].as_str().unwrap()), format!("secret_arn={}", secret["ARN"].as_str().unwrap())];
    let args = ["check", "--labs-dir", LABS, "--lab", "more-types", "--all", "--no-wait", "--format", "json", "--var", &vars[0], "--var", &vars[1]];
    let run = grader(Some(&account), &args);
    let v = verdicts(&run);
    // Retention is 7 days, not 30: only that check fails, and says so.
    assert_eq!(v["log-group"], ("fail".to_string(), "RetentionInDays is 7, expected 30".to_string()), "{v:?}");
    for id in ["queue", "repository", "secret", "alarm", "role"] {
        assert_eq!(status(&v, id), "pass", "{id}: {v:?}");
    }
    assert!(!run.stdout.contains("not-for-graders") && !run.stderr.contains("not-for-graders"), "a secret's value never shows");
    account.aws_ok(&["logs", "put-retention-policy", "--log-group-name", "/course/app", "--retention-in-days", "30"]);
    assert_eq!(grader(Some(&account), &args).code, 0);
}

/// A one-lab book for `grader selftest`: an overview that prepares the terminal, a step that
/// stores an SSM parameter, and its clean-up. `step_commands` is the step page's block.
fn selftest_book(step_commands: &str) -> std::path::PathBuf {
    let dir = support::scratch_dir("selftest-book");
    let write = |path: &str, text: &str| {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    write("book.toml", "[book]\ntitle = \"Selftest\"\nsrc = \"book\"\n");
    write("book/SUMMARY.md", "# Summary\n\n- [Overview](param/index.md)\n  - [Step 1](param/step-1.md)\n  - [Clean up](param/cleanup.md)\n");
    write("book/param/index.md", "# Overview\n\n```bash\nexport PARAM_NAME=/course/greeting\n```\n");
    write("book/param/step-1.md", &format!("# Step 1\n\n```bash\n{step_commands}\n```\n\n{{{{#check param:step-1}}}}\n"));
    write("book/param/cleanup.md", "# Clean up\n\n```bash\naws ssm delete-parameter --name \"$PARAM_NAME\"\n```\n\n{{#check param:cleanup}}\n");
    write(
        "labs/param.yaml",
        r#"version: 1
id: param
title: One parameter
region: us-east-1
vars:
  name: /course/greeting
steps:
  - id: step-1
    title: A parameter
    checks:
      - id: greeting
        title: "Parameter `{{name}}` says hello"
        kind: resource
        type: AWS::SSM::Parameter
        identifier: "{{name}}"
        properties:
          Value: hello
  - id: cleanup
    title: Clean up
    phase: cleanup
    checks:
      - id: greeting-deleted
        title: "Parameter `{{name}}` is gone"
        kind: resource_absent
        type: AWS::SSM::Parameter
        identifier: "{{name}}"
"#,
    );
    dir
}

fn selftest(account: &Account, book: &std::path::Path, extra: &[&str]) -> GraderRun {
    let book_dir = book.display().to_string();
    let labs_dir = book.join("labs").display().to_string();
    let mut args = vec!["selftest", "--book-dir", &book_dir, "--labs-dir", &labs_dir, "--lab", "param", "--no-wait", "--block-timeout", "60s"];
    args.extend_from_slice(extra);
    let path = format!("{}:{}", support::venv_bin().display(), std::env::var("PATH").unwrap_or_default());
    support::grader_in(Some(account), &args, &[("PATH", &path)])
}

#[test]
fn selftest_passes_a_lab_whose_pages_build_what_its_checks_want_and_clean_it_up() {
    let account = Account::fresh(Emulator::shared());
    let book = selftest_book("aws ssm put-parameter --name \"$PARAM_NAME\" --type String --value hello");
    let run = selftest(&account, &book, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The table: the overview ran its block, the step failed before and passed after, the
    // clean-up found the parameter and then did not.
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("  ✓") || l.starts_with("  ✗")).collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    for (row, expected) in rows.iter().zip([["param/index.md", "-", "-"], ["param/step-1.md", "0/1", "1/1"], ["param/cleanup.md", "0/1", "1/1"]]) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!([cells[1], cells[3], cells[5]], expected, "{row}");
    }
    assert!(run.stdout.contains("Every page behaved: 3 pages"), "{}", run.stdout);

    // The same account again: nothing is left, so it passes again, now as JSON.
    let again = selftest(&account, &book, &["--format", "json"]);
    let document = again.json();
    assert_eq!(document["schema"], "grader.selftest/v1");
    assert_eq!(document["passed"], true, "{}", again.stdout);
    assert_eq!(document["pages"][1]["before"]["not_passed"], serde_json::json!(["greeting"]));
}

#[test]
fn selftest_fails_a_page_that_builds_the_wrong_thing_and_stops_there() {
    let account = Account::fresh(Emulator::shared());
    let book = selftest_book("aws ssm put-parameter --name \"$PARAM_NAME\" --type String --value hullo");
    let run = selftest(&account, &book, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let document = run.json();
    let step = &document["pages"][1];
    assert_eq!(step["passed"], false);
    let problem = step["problem"].as_str().unwrap();
    assert!(problem.contains("1 of 1 checks of `step-1` did not pass") && problem.contains("Value is hullo, expected hello"), "{problem}");
    assert_eq!(document["not_run"], serde_json::json!(["param/cleanup.md"]), "later pages build on it: {}", run.stdout);
}

#[test]
fn selftest_fails_a_step_whose_checks_pass_before_its_page_and_a_block_that_fails() {
    let account = Account::fresh(Emulator::shared());
    // Not an empty account: the parameter is there before the page runs.
    account.aws_ok(&["ssm", "put-parameter", "--name", "/course/greeting", "--type", "String", "--value", "hello"]);
    let book = selftest_book("aws ssm put-parameter --name \"$PARAM_NAME\" --type String --value hello --overwrite");
    let run = selftest(&account, &book, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("all 1 checks of `step-1` passed before the page's commands ran"), "{}", run.stdout);
    assert!(run.stdout.contains("grader cleanup --plan"), "says how to remove what was built: {}", run.stdout);

    // A block that fails: named by file and line, with its stderr, in zsh too.
    let account = Account::fresh(Emulator::shared());
    let book = selftest_book("aws ssm put-parameter --name \"$PARAM_NAME\" --type NoSuchType --value hello");
    let run = selftest(&account, &book, &["--shell", "zsh"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("the block at book/param/step-1.md:3 failed"), "{}", run.stdout);
    assert!(run.stdout.contains("NoSuchType"), "the block's stderr is shown: {}", run.stdout);
}

#[test]
fn selftest_refuses_a_real_account_without_the_flag_and_a_lab_with_a_step_no_page_checks() {
    let account = Account::fresh(Emulator::shared());
    let book = selftest_book("true");
    let run = selftest(&account, &book, &["--endpoint-url", "https://ssm.us-east-1.amazonaws.com"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--creates-resources") && run.stderr.contains("create resources"), "{}", run.stderr);

    // An `aws` that reaches another account (an AWS CLI that ignores AWS_ENDPOINT_URL would
    // reach the real one): the pages would build where the checks do not look.
    let elsewhere = support::scratch_dir("aws-elsewhere");
    std::fs::write(elsewhere.join("aws"), "#!/bin/sh\necho 999999999999\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(elsewhere.join("aws"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", elsewhere.display(), std::env::var("PATH").unwrap_or_default());
    let labs = book.join("labs");
    let args = ["selftest", "--book-dir", book.to_str().unwrap(), "--labs-dir", labs.to_str().unwrap(), "--lab", "param"];
    let run = support::grader_in(Some(&account), &args, &[("PATH", &path)]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the shell's `aws` acts on account 999999999999, but the grader reads account"), "{}", run.stderr);

    std::fs::write(book.join("book/param/step-1.md"), "# Step 1, its widget forgotten\n").unwrap();
    let run = selftest(&account, &book, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("lab `param` has steps no page checks: step-1"), "{}", run.stderr);
}
