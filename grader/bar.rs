//! The progress bar of commands that work through a class of accounts (`grader cohort`,
//! a class's `grader cleanup --apply`): a line per account as it finishes, printed above a bar
//! that is redrawn in place, on a terminal only.

use std::time::Duration;

/// `[#########.....................] 9/30 accounts · about 1m 10s left`: the estimate is the
/// time so far per account done, times the accounts left.
pub fn render(done: usize, total: usize, elapsed: Duration) -> String {
    let width = 30;
    let filled = if total == 0 { width } else { (done * width / total).min(width) };
    let mut line = format!("[{}{}] {done}/{total} accounts", "#".repeat(filled), ".".repeat(width - filled));
    if done > 0 && done < total {
        let left = elapsed.mul_f64((total - done) as f64 / done as f64);
        line.push_str(&format!(" · about {} left", human_duration(left)));
    }
    line
}

/// Clears the bar's line (then print a line and the bar again, or nothing once done).
pub const CLEAR: &str = "\r\x1b[2K";

fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 { format!("{secs}s") } else { format!("{}m {:02}s", secs / 60, secs % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_counts_accounts_and_estimates_from_the_pace_so_far() {
        assert_eq!(render(0, 30, Duration::ZERO), format!("[{}] 0/30 accounts", ".".repeat(30)));
        // 10 accounts in 20 s: 20 left take about 40 s.
        assert_eq!(render(10, 30, Duration::from_secs(20)), format!("[{}{}] 10/30 accounts · about 40s left", "#".repeat(10), ".".repeat(20)));
        assert_eq!(render(3, 30, Duration::from_secs(9)), format!("[{}{}] 3/30 accounts · about 1m 21s left", "###", ".".repeat(27)));
        assert_eq!(render(30, 30, Duration::from_secs(60)), format!("[{}] 30/30 accounts", "#".repeat(30)));
    }

}
