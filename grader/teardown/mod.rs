//! The grader's only write path. `grader cleanup --plan` writes what the clean-up checks found
//! as a plan (a read-only run), and `grader cleanup --apply` deletes exactly that plan: each
//! resource only while it is still the creation the plan recorded, in the order AWS needs.
//!
//! Every AWS write call lives in `actions`; a test in this module checks the sources so that
//! `grader check`, `serve` and `cohort` stay read-only by construction, not by care.

mod actions;
pub mod apply;
pub mod class;
pub mod command;
pub mod plan;
pub mod policy;
pub mod report;

#[cfg(test)]
mod tests {
    /// The SDK calls that change an account, of every service the grader has a client for.
    const WRITES: &[&str] = &[
        ".create_cluster(", ".delete_cluster(", ".create_service(", ".update_service(", ".delete_service(", ".run_task(", ".start_task(", ".stop_task(",
        ".register_task_definition(", ".deregister_task_definition(", ".delete_task_definitions(", ".create_security_group(", ".delete_security_group(",
        ".authorize_security_group_ingress(", ".revoke_security_group_ingress(", ".delete_network_interface(", ".create_log_group(", ".delete_log_group(",
        ".put_retention_policy(", ".create_role(", ".delete_role(", ".attach_role_policy(", ".detach_role_policy(", ".put_role_policy(", ".delete_role_policy(",
        ".create_load_balancer(", ".delete_load_balancer(", ".create_target_group(", ".delete_target_group(", ".create_listener(", ".modify_listener(",
        ".delete_listener(", ".register_targets(", ".register_scalable_target(", ".deregister_scalable_target(", ".put_scaling_policy(",
    ];

    fn sources(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }

    #[test]
    fn no_code_outside_the_teardown_calls_a_write_action() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("grader");
        let mut files = Vec::new();
        sources(&root, &mut files);
        assert!(files.len() > 50, "read the grader's sources");
        let teardown = root.join("teardown");
        for (path, text) in files.iter().filter(|(p, _)| !p.starts_with(&teardown)) {
            for (n, line) in text.lines().enumerate() {
                for call in WRITES {
                    assert!(!line.contains(call), "{}:{}: `{call}` changes an account; only grader/teardown may ({line})", path.display(), n + 1);
                }
            }
        }
        // And the teardown's writes are where this test says they are.
        let actions = std::fs::read_to_string(teardown.join("actions.rs")).unwrap();
        assert!(actions.contains(".delete_load_balancer("), "the test looks in the right place");
    }
}
