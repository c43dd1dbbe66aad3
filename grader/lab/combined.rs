//! Every lab as one, for an audit of a whole course (`grader cohort --lab all`): each lab's
//! steps become `LAB:STEP` and its checks `LAB/CHECK`, with each lab's own variables already
//! filled in (two labs may name the same variable differently).

use super::{CheckSpec, Lab, Step, template};

/// The id of the combined lab.
pub const ALL: &str = "all";

/// The labs as one lab with no variables left to fill; `overrides` (`--var`) replace a
/// variable in every lab that has it, and one that no lab has is refused.
pub fn combine(labs: &[Lab], overrides: &[(String, String)]) -> Result<Lab, String> {
    if let Some((name, _)) = overrides.iter().find(|(name, _)| !labs.iter().any(|l| l.vars.contains_key(name))) {
        return Err(format!("unknown variable `{name}` in `--var`: no lab has it"));
    }
    let mut steps = Vec::new();
    for lab in labs {
        let mut lab = lab.clone();
        for (name, value) in overrides {
            if let Some(var) = lab.vars.get_mut(name) {
                *var = value.clone();
            }
        }
        let lab = &lab;
        for step in &lab.steps {
            let mut checks = Vec::new();
            for check in &step.checks {
                let render = |text: &str| template::render(text, &lab.vars).map_err(|e| format!("lab `{}`, check `{}`: {e}", lab.id, check.id));
                let mut kind = serde_json::to_value(&check.kind).map_err(|e| e.to_string())?;
                template::render_json(&mut kind, &lab.vars).map_err(|e| format!("lab `{}`, check `{}`: {e}", lab.id, check.id))?;
                checks.push(CheckSpec {
                    id: format!("{}/{}", lab.id, check.id),
                    title: render(&check.title)?,
                    hint: check.hint.as_deref().map(render).transpose()?,
                    points: check.points,
                    wait: check.wait,
                    depends_on: check.depends_on.iter().map(|d| format!("{}/{d}", lab.id)).collect(),
                    kind: serde_json::from_value(kind).map_err(|e| e.to_string())?,
                });
            }
            steps.push(Step { id: format!("{}:{}", lab.id, step.id), title: format!("{} · {}", lab.title, step.title), goal: step.goal.clone(), phase: step.phase, creates: step.creates, checks });
        }
    }
    let first = labs.first().ok_or("there is no lab to combine")?;
    Ok(Lab { version: first.version, id: ALL.into(), title: "Every lab".into(), region: first.region.clone(), vars: Default::default(), steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::load_embedded;

    #[test]
    fn every_lab_keeps_its_own_names_and_variables() {
        let labs = load_embedded().unwrap().labs;
        let all = combine(&labs, &[]).unwrap();
        assert_eq!(all.steps.len(), labs.iter().map(|l| l.steps.len()).sum::<usize>());
        let cleanup = all.step("alb:cleanup").unwrap();
        let service = cleanup.checks.iter().find(|c| c.id == "alb/service-deleted").unwrap();
        // Lab 2's service, not lab 1's: each lab's variables were filled in first.
        assert!(serde_json::to_string(&service.kind).unwrap().contains("\"service\":\"web-alb\""), "{:?}", service.kind);
        let lab1 = all.step("fargate-nginx:cleanup").unwrap();
        assert!(lab1.checks.iter().any(|c| c.id == "fargate-nginx/service-deleted" && serde_json::to_string(&c.kind).unwrap().contains("web-nginx")));
        let targets = all.step("alb:step-4").unwrap().checks.iter().find(|c| c.id == "alb/targets-healthy").unwrap();
        assert_eq!(targets.depends_on, ["alb/service-stable"]);
        assert!(all.steps.iter().all(|s| s.checks.iter().all(|c| !c.title.contains("{{"))));
    }

    #[test]
    fn a_var_changes_every_lab_that_has_it_and_no_lab_is_an_error() {
        let labs = load_embedded().unwrap().labs;
        let all = combine(&labs, &[("cluster".into(), "my-cluster".into())]).unwrap();
        for id in ["fargate-nginx/cluster-deleted", "alb/service-deleted"] {
            let check = all.steps.iter().flat_map(|s| &s.checks).find(|c| c.id == id).unwrap();
            assert!(serde_json::to_string(&check.kind).unwrap().contains("\"cluster\":\"my-cluster\""), "{id}: {:?}", check.kind);
        }
        assert!(combine(&labs, &[("clustr".into(), "x".into())]).unwrap_err().contains("unknown variable `clustr`"));
    }
}
