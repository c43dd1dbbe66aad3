//! Checks on a parsed lab that YAML types cannot express: unique ids, known variables,
//! dependencies that exist and do not loop. Every problem is collected, not just the first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::diagnostic::{Diagnostic, Locator};
use crate::suggest::did_you_mean;
use super::template;
use super::{FORMAT_VERSION, Lab};

pub(crate) fn validate(lab: &Lab, at: &Locator<'_>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if lab.version != FORMAT_VERSION {
        problems.push(
            at.diagnostic(at.find("version:", 1), 7, format!("unsupported lab format version {}", lab.version))
                .with_help(format!("this grader reads `version: {FORMAT_VERSION}`")),
        );
    }
    if lab.steps.is_empty() {
        problems.push(at.diagnostic(at.find("steps:", 1), 5, "the lab has no steps").with_help("add at least one step under `steps:`"));
    }
    for name in lab.vars.keys() {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(at.diagnostic(at.find(name, 1), name.len(), format!("`{name}` is not a valid variable name")).with_help("use letters, digits and `_`"));
        }
    }

    let mut step_seen: HashMap<&str, usize> = HashMap::new();
    let mut check_seen: HashMap<&str, usize> = HashMap::new();
    for step in &lab.steps {
        let n = step_seen.entry(step.id.as_str()).or_default();
        if *n > 0 {
            problems.push(at.diagnostic(at.find_entry("id", &step.id, *n), step.id.len() + 4, format!("duplicate step id `{}`", step.id)).with_help("give every step its own id"));
        }
        *n += 1;
        if step.checks.is_empty() {
            problems.push(at.diagnostic(at.find_entry("id", &step.id, 0), step.id.len() + 4, format!("step `{}` has no checks", step.id)).with_help("add at least one check under `checks:`"));
        }
        for check in &step.checks {
            let n = check_seen.entry(check.id.as_str()).or_default();
            let here = at.find_entry("id", &check.id, *n);
            if *n > 0 {
                problems.push(at.diagnostic(here, check.id.len() + 4, format!("duplicate check id `{}`", check.id)).with_help("check ids must be unique in the lab, because `depends_on` and reports name them"));
            }
            *n += 1;
            unknown_variables(lab, check, here, at, &mut problems);
            resource_type(check, here, at, &mut problems);
        }
    }

    let ids: BTreeSet<&str> = lab.checks().map(|(_, c)| c.id.as_str()).collect();
    for (_, check) in lab.checks() {
        for dep in &check.depends_on {
            if !ids.contains(dep.as_str()) {
                let line = at.find_entry("id", &check.id, 0).map(|(l, _)| l).unwrap_or(1);
                let mut d = at.diagnostic(at.find(dep, line), dep.len(), format!("check `{}` depends on unknown check `{dep}`", check.id));
                d = match did_you_mean(dep, ids.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help("name the id of another check in this lab"),
                };
                problems.push(d);
            }
        }
    }
    if let Some(cycle) = find_cycle(lab) {
        let first = cycle[0];
        problems.push(
            at.diagnostic(at.find_entry("id", first, 0), first.len() + 4, format!("`depends_on` forms a cycle: {}", cycle.join(" -> ")))
                .with_help("remove one of these dependencies; a check cannot wait for itself"),
        );
    }
    problems
}

fn unknown_variables(lab: &Lab, check: &super::CheckSpec, here: Option<(usize, usize)>, at: &Locator<'_>, problems: &mut Vec<Diagnostic>) {
    let mut texts = Vec::new();
    if let Ok(value) = serde_json::to_value(&check.kind) {
        template::strings(&value, &mut texts);
    }
    texts.push(check.title.clone());
    texts.extend(check.hint.clone());
    let from = here.map(|(l, _)| l).unwrap_or(1);
    for text in &texts {
        match template::references(text) {
            Ok(names) => {
                for name in names {
                    if !lab.vars.contains_key(name) {
                        let spot = at.find(&format!("{{{{{name}"), from).or_else(|| at.find(name, from));
                        let mut d = at.diagnostic(spot, name.len() + 4, format!("unknown variable `{name}` in check `{}`", check.id));
                        d = match did_you_mean(name, lab.vars.keys().map(String::as_str)) {
                            Some(s) => d.with_help(format!("did you mean `{{{{{s}}}}}`?")),
                            None => d.with_help(format!("define it under `vars:` (known: {})", lab.vars.keys().cloned().collect::<Vec<_>>().join(", "))),
                        };
                        problems.push(d);
                    }
                }
            }
            Err(e) => problems.push(at.diagnostic(at.find("{{", from), 2, e).with_help("write variables as `{{name}}`")),
        }
    }
}

/// A `resource` or `resource_absent` check's type: a type name, and one whose handler's read
/// permissions the grader knows (its table) or the check names, so `grader policy` is whole.
fn resource_type(check: &super::CheckSpec, here: Option<(usize, usize)>, at: &Locator<'_>, problems: &mut Vec<Diagnostic>) {
    use crate::aws::cloudcontrol::{KNOWN_TYPES, is_type_name, known_type};
    use crate::checks::KindSpec;
    let (type_name, permissions) = match &check.kind {
        KindSpec::Resource(r) => (&r.type_name, &r.permissions),
        KindSpec::ResourceAbsent(r) => (&r.type_name, &r.permissions),
        _ => return,
    };
    let from = here.map(|(l, _)| l).unwrap_or(1);
    let spot = at.find(type_name, from);
    if type_name.contains("{{") {
        // A variable's value is the learner's or the course's: checked when the lab runs.
    } else if !is_type_name(type_name) {
        problems.push(
            at.diagnostic(spot, type_name.len().max(1), format!("`{type_name}` is not a resource type name"))
                .with_help("write a CloudFormation type name, Organization::Service::Resource, such as `AWS::S3::Bucket`"),
        );
    } else if known_type(type_name).is_none() && permissions.is_empty() {
        let known: Vec<&str> = KNOWN_TYPES.iter().map(|t| t.name).collect();
        let d = at.diagnostic(spot, type_name.len(), format!("the grader does not know which permissions `{type_name}`'s handler reads with"));
        problems.push(d.with_help(format!(
            "list its registry schema's `handlers.read.permissions` under `permissions:` (the grader knows {})",
            known.join(", ")
        )));
    }
    for permission in permissions {
        let well_formed = permission.split_once(':').is_some_and(|(service, action)| {
            !service.is_empty() && service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !action.is_empty() && action.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !well_formed {
            problems.push(
                at.diagnostic(at.find(permission, from), permission.len().max(1), format!("`{permission}` is not an IAM action"))
                    .with_help("write `service:Action`, e.g. `s3:GetBucketVersioning`"),
            );
        }
    }
}

/// A dependency cycle among checks, as the list of ids that form it.
fn find_cycle(lab: &Lab) -> Option<Vec<&str>> {
    let edges: BTreeMap<&str, Vec<&str>> = lab.checks().map(|(_, c)| (c.id.as_str(), c.depends_on.iter().map(String::as_str).collect())).collect();
    // 0 = unvisited, 1 = on the current path, 2 = done.
    fn visit<'a>(node: &'a str, edges: &BTreeMap<&'a str, Vec<&'a str>>, state: &mut HashMap<&'a str, u8>, path: &mut Vec<&'a str>) -> Option<Vec<&'a str>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node);
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node, 1);
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if edges.contains_key(next) {
                if let Some(c) = visit(next, edges, state, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }
    let mut state = HashMap::new();
    for node in edges.keys() {
        if let Some(c) = visit(node, &edges, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}
