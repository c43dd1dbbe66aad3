//! Rebuilds the grader when the book or its assets change: they are embedded in the binary
//! (`include_dir!` alone does not tell Cargo to watch a directory).

fn main() {
    for path in ["book", "book.toml", "grader/assets"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
