//! `task_definitions_deregistered`: no revision of the lab's task definition family (or, for a
//! lab sharing a family with another, none carrying the lab's tag) is still ACTIVE, in any
//! region. Deregistered revisions stay INACTIVE forever: that is clean, not a leftover.

use aws_sdk_ecs::types::{TaskDefinition, TaskDefinitionStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scan::{Regions, Scan, scan, verdict};
use crate::aws::AwsError;
use crate::checks::{Ctx, Kind, Leftover, Verdict, graded};

/// Every ACTIVE revision of the family is deregistered; with `tagged: KEY=VALUE` only those
/// carrying that tag count (lab 2 registers revisions of lab 1's family, tagged). With
/// `optional: true` a remaining revision is reported but passes: revisions cost nothing.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDefinitionsDeregistered {
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagged: Option<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub regions: Regions,
}

impl Kind for TaskDefinitionsDeregistered {
    const NAME: &'static str = "task_definitions_deregistered";
    const SUMMARY: &'static str = "Cleanup: no revision of the task definition family (optionally: carrying a tag) is still ACTIVE in any enabled region.";
    const ACTIONS: &'static [&'static str] = &["ec2:DescribeRegions", "ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"];

    async fn evaluate(&self, ctx: &Ctx<'_>) -> Result<Verdict, AwsError> {
        let found = scan(ctx, self.regions, |region| async move {
            let arns = ctx.aws.task_definition_arns(&region, &self.family, TaskDefinitionStatus::Active).await?;
            let mut revisions = Vec::new();
            for arn in arns.iter() {
                if let Some((definition, tags)) = ctx.aws.task_definition_with_tags(&region, arn).await?.as_ref() {
                    revisions.push((definition.clone(), tags.clone()));
                }
            }
            Ok(self.judge_region(&region, &revisions))
        })
        .await?;
        if self.optional && !found.leftovers.is_empty() {
            let names: Vec<String> = found.leftovers.iter().map(|l| format!("{} in {}", l.name, l.region)).collect();
            return Ok(Verdict::pass(format!(
                "{} revision(s) still ACTIVE ({}); they cost nothing, deregister them for a tidy account: {}",
                names.len(),
                names.join(", "),
                found.leftovers.iter().flat_map(|l| l.teardown.first()).cloned().collect::<Vec<_>>().join(" && ")
            )));
        }
        Ok(verdict("task definition revision", Scan { leftovers: found.leftovers, skipped: found.skipped }, self.regions))
    }
}

impl TaskDefinitionsDeregistered {
    /// The ACTIVE revisions of one region (with their tags) that are leftovers.
    pub fn judge_region(&self, region: &str, revisions: &[(TaskDefinition, Vec<(String, String)>)]) -> Vec<Leftover> {
        let wanted = self.tagged.as_deref().and_then(|t| t.split_once('='));
        revisions
            .iter()
            .filter(|(_, tags)| wanted.is_none_or(|(key, value)| tags.iter().any(|(k, v)| k == key && v == value)))
            .map(|(definition, _)| {
                let identity = graded::task_definition(definition, region);
                let teardown = vec![
                    format!("aws ecs deregister-task-definition --task-definition {} --region {region}", identity.name),
                    format!("aws ecs delete-task-definitions --task-definitions {} --region {region}", identity.name),
                ];
                Leftover::new("task_definition", identity.name.clone(), region, teardown).identified(identity)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(n: i32) -> TaskDefinition {
        TaskDefinition::builder().family("nginx-web").revision(n).task_definition_arn(format!("arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:{n}")).build()
    }

    #[test]
    fn active_revisions_are_leftovers_and_a_tag_picks_the_labs_own() {
        let tagged = vec![("course-lab".to_string(), "alb".to_string())];
        let revisions = vec![(revision(1), Vec::new()), (revision(2), tagged.clone()), (revision(3), tagged)];
        let all = TaskDefinitionsDeregistered { family: "nginx-web".into(), tagged: None, optional: false, regions: Regions::All };
        assert_eq!(all.judge_region("us-east-1", &revisions).len(), 3);
        let lab2 = TaskDefinitionsDeregistered { tagged: Some("course-lab=alb".into()), ..all };
        let left = lab2.judge_region("us-east-1", &revisions);
        assert_eq!(left.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["nginx-web:2", "nginx-web:3"]);
        assert_eq!(left[0].teardown[0], "aws ecs deregister-task-definition --task-definition nginx-web:2 --region us-east-1");
        assert_eq!(left[0].identity.as_ref().unwrap().arn, "arn:aws:ecs:us-east-1:111122223333:task-definition/nginx-web:2");
        assert!(lab2.judge_region("us-east-1", &[]).is_empty(), "no ACTIVE revision (only INACTIVE ones, which ECS keeps) is clean");
    }
}
