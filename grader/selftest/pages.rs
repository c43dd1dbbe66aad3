//! Which pages of the book a selftest runs, in which order: a lab's pages are those in the
//! folder(s) of the pages whose check widget names one of its steps, in SUMMARY order.

use std::path::Path;

use crate::book::commands::{LabPage, lab_pages_under};
use crate::lab::{Lab, Phase};

/// The pages a selftest of `labs` (each built on the ones before it) runs: every lab's build
/// pages in turn, then the clean-up pages in reverse order, the last lab's first, since what
/// a later lab built stands on the earlier ones. `default_lab` is the lab a widget without a
/// `LAB:` prefix names.
pub fn pages_for(book_src: &Path, labs: &[&Lab], default_lab: &str) -> Result<Vec<(String, LabPage)>, String> {
    let all = lab_pages_under(book_src, "").map_err(|e| format!("failed to read the book's chapters under {}: {e}", book_src.display()))?;
    let mut building = Vec::new();
    let mut cleaning = Vec::new();
    for lab in labs {
        let (build, cleanup) = split_at_cleanup(lab, of_lab(&all, &lab.id, default_lab))?;
        building.extend(build.into_iter().map(|p| (lab.id.clone(), p)));
        cleaning.push(cleanup.into_iter().map(|p| (lab.id.clone(), p)).collect::<Vec<_>>());
    }
    building.extend(cleaning.into_iter().rev().flatten());
    Ok(building)
}

/// The pages of one lab: every page SUMMARY lists in a folder that holds one of its widgets.
fn of_lab(all: &[LabPage], lab: &str, default_lab: &str) -> Vec<LabPage> {
    let names_lab = |p: &LabPage| p.step.is_some() && p.lab.as_deref().unwrap_or(default_lab) == lab;
    let folders: Vec<&Path> = all.iter().filter(|p| names_lab(p)).filter_map(|p| p.path.parent()).collect();
    all.iter()
        .filter(|p| p.path.parent().is_some_and(|f| folders.contains(&f)))
        // A page in the folder whose widget names another lab is that lab's.
        .filter(|p| p.step.is_none() || names_lab(p))
        .cloned()
        .collect()
}

/// The lab's pages before its first clean-up page, and from it on. Every step must have a
/// page: a step no page checks cannot be tested, which is the author's to fix.
fn split_at_cleanup(lab: &Lab, pages: Vec<LabPage>) -> Result<(Vec<LabPage>, Vec<LabPage>), String> {
    if pages.is_empty() {
        return Err(format!(
            "no page of the book has a check widget for lab `{}`: its pages need `{{{{#check {}:STEP}}}}` (see the authoring appendix)",
            lab.id, lab.id
        ));
    }
    let missing: Vec<&str> = lab.steps.iter().map(|s| s.id.as_str()).filter(|id| !pages.iter().any(|p| p.step.as_deref() == Some(*id))).collect();
    if !missing.is_empty() {
        return Err(format!("lab `{}` has steps no page checks: {} (each step needs a page with its check widget)", lab.id, missing.join(", ")));
    }
    let is_cleanup = |p: &LabPage| p.step.as_deref().and_then(|s| lab.step(s)).is_some_and(|s| s.phase == Phase::Cleanup);
    let at = pages.iter().position(is_cleanup).unwrap_or(pages.len());
    let mut build = pages;
    let cleanup = build.split_off(at);
    Ok((build, cleanup))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, path: &str, text: &str) {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    fn lab(id: &str, steps: &[(&str, &str)]) -> Lab {
        let steps: String = steps
            .iter()
            .map(|(id, phase)| format!("  - id: {id}\n    title: T\n    phase: {phase}\n    checks:\n      - id: c-{id}\n        title: C\n        kind: caller_identity\n"))
            .collect();
        serde_yaml::from_str(&format!("version: 1\nid: {id}\ntitle: L\nregion: us-east-1\nsteps:\n{steps}")).unwrap()
    }

    #[test]
    fn two_labs_build_in_order_and_clean_up_in_reverse() {
        let dir = tempfile::tempdir().unwrap();
        let book = dir.path();
        write(
            book,
            "SUMMARY.md",
            "- [A](a/index.md)\n  - [1](a/one.md)\n  - [C](a/cleanup.md)\n- [B](b/index.md)\n  - [1](b/one.md)\n  - [C](b/cleanup.md)\n- [Other](other.md)\n",
        );
        write(book, "a/index.md", "```bash\nexport A=1\n```\n");
        write(book, "a/one.md", "{{#check step-1}}\n");
        write(book, "a/cleanup.md", "{{#check cleanup}}\n");
        write(book, "b/index.md", "# B\n");
        write(book, "b/one.md", "{{#check b:step-1}}\n");
        write(book, "b/cleanup.md", "{{#check b:cleanup}}\n");
        write(book, "other.md", "```bash\necho not a lab page\n```\n");
        let (a, b) = (lab("a", &[("step-1", "build"), ("cleanup", "cleanup")]), lab("b", &[("step-1", "build"), ("cleanup", "cleanup")]));
        let pages = pages_for(book, &[&a, &b], "a").unwrap();
        let order: Vec<String> = pages.iter().map(|(lab, p)| format!("{lab}:{}", p.path.display())).collect();
        assert_eq!(order, ["a:a/index.md", "a:a/one.md", "b:b/index.md", "b:b/one.md", "b:b/cleanup.md", "a:a/cleanup.md"]);
        assert_eq!(pages[0].1.blocks.len(), 1, "the overview's block runs too");

        let lonely = lab("c", &[("step-1", "build")]);
        let error = pages_for(book, &[&lonely], "a").unwrap_err();
        assert!(error.contains("no page of the book has a check widget for lab `c`"), "{error}");
        let more = lab("b", &[("step-1", "build"), ("step-2", "build"), ("cleanup", "cleanup")]);
        let error = pages_for(book, &[&more], "a").unwrap_err();
        assert!(error.contains("lab `b` has steps no page checks: step-2"), "{error}");
    }
}
