//! Build script: rebuilds the grader when the book or its assets change (they are embedded in
//! the binary, and `include_dir!` alone does not tell Cargo to watch a directory), and records
//! the git commit the binary is built from, for `grader --version`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    for path in ["book", "book.toml", "grader/assets"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let commit = match git_commit(&root) {
        Some(hash) => format!("commit {hash}"),
        // An sdist, a crate tarball or a copy without .git: say so rather than guess.
        None => "unknown commit: not built from a git checkout".to_string(),
    };
    println!("cargo:rustc-env=GRADER_BUILD_COMMIT={commit}");
}

/// The checkout's HEAD commit (12 hex digits), watching the files that change when HEAD moves.
fn git_commit(root: &Path) -> Option<String> {
    // Only a checkout of this project counts: an sdist unpacked inside some other repository
    // (pip builds in a temporary directory, which may sit in one) would name that one's commit.
    let toplevel = git(root, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&toplevel).ok()? != std::fs::canonicalize(root).ok()? {
        return None;
    }
    // HEAD moves when another branch is checked out (HEAD itself changes), when a commit lands
    // on the current branch (its ref file changes) or when that ref is only in packed-refs.
    // Only existing files are watched: Cargo reruns the script on every build for a missing one.
    let git_dir = PathBuf::from(git(root, &["rev-parse", "--absolute-git-dir"])?);
    let common_dir = root.join(git(root, &["rev-parse", "--git-common-dir"])?);
    let mut watched = vec![git_dir.join("HEAD"), common_dir.join("packed-refs")];
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(common_dir.join(branch));
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    git(root, &["rev-parse", "--short=12", "HEAD"])
}

/// One git command's trimmed stdout, or `None` when git is missing or the command fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(dir).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
