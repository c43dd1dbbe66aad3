//! Property tests: no mutation of a lab file makes the loader or the templating panic, and
//! every error it reports points inside the file.

#[cfg(test)]
mod tests {
    use crate::lab::{parse_lab, template};

    /// A small deterministic generator (xorshift64*), so failures reproduce from the seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const TOKENS: &[&str] = &[
        "{{", "}}", "{{cluster}}", "{{nope}}", ":", "- ", "\n", "  ", "\t", "kind: ", "kind: ecs_servce", "wait: ", "wait: 5x", "wait: 99999h",
        "depends_on: [", "depends_on: [identity]", "\"", "'", "&a ", "*a", "!!str ", "é", "\u{0}", "version: 2", "id: step-1", "points: -1", "[", "]",
        "{", "}", "#", "---\n", "...\n", "? ", "|\n", ">\n",
    ];

    fn mutate(rng: &mut Rng, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(chars.len() + 1);
            match rng.below(4) {
                0 => {
                    let end = (at + 1 + rng.below(40)).min(chars.len());
                    if at < end {
                        chars.drain(at..end);
                    }
                }
                1 => {
                    let token = TOKENS[rng.below(TOKENS.len())];
                    chars.splice(at..at, token.chars());
                }
                2 => {
                    let lines: Vec<String> = chars.iter().collect::<String>().lines().map(str::to_string).collect();
                    if lines.len() > 2 {
                        let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                        let mut lines = lines;
                        lines.swap(a, b);
                        chars = lines.join("\n").chars().collect();
                    }
                }
                _ => {
                    if at < chars.len() {
                        chars[at] = char::from_u32(32 + rng.below(95) as u32).unwrap_or('x');
                    }
                }
            }
        }
        chars.into_iter().collect()
    }

    #[test]
    fn mutated_lab_files_never_panic_and_errors_point_inside_the_file() {
        let base = include_str!("../../labs/fargate-nginx.yaml");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut rejected = 0;
        for _ in 0..2000 {
            let text = mutate(&mut rng, base);
            let lines = text.lines().count();
            let outcome = std::panic::catch_unwind(|| parse_lab("fuzz.yaml", &text));
            let result = outcome.unwrap_or_else(|_| panic!("the loader panicked on:\n{text}"));
            if let Err(diagnostics) = result {
                rejected += 1;
                assert!(!diagnostics.0.is_empty());
                for d in diagnostics.0 {
                    assert!(d.line <= lines + 1, "line {} is outside the {lines}-line file: {}", d.line, d.message);
                    assert!(!d.message.is_empty());
                    let _ = d.to_string();
                }
            }
        }
        // The mutations must actually exercise the error paths.
        assert!(rejected > 500, "only {rejected} of 2000 mutations were rejected");
    }

    #[test]
    fn templating_never_panics() {
        let vars = [("cluster".to_string(), "c".to_string())].into();
        let mut rng = Rng(42);
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..rng.below(8) {
                text.push_str(TOKENS[rng.below(TOKENS.len())]);
            }
            let _ = template::render(&text, &vars);
            let _ = template::references(&text);
        }
    }
}
