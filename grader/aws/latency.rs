//! How long a run's AWS questions took: a class audit compares accounts by it, to notice an
//! AWS that answers, only slowly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The count and total time of a run's AWS questions (a question's pages count as one).
#[derive(Debug, Default)]
pub struct CallTimes {
    count: AtomicU64,
    micros: AtomicU64,
}

impl CallTimes {
    pub fn record(&self, took: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Ordering::Relaxed);
    }

    /// The mean time of a question, once there was one.
    pub fn mean(&self) -> Option<Duration> {
        let count = self.count.load(Ordering::Relaxed);
        (count > 0).then(|| Duration::from_micros(self.micros.load(Ordering::Relaxed) / count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_is_over_the_questions_asked() {
        let times = CallTimes::default();
        assert_eq!(times.mean(), None);
        times.record(Duration::from_millis(10));
        times.record(Duration::from_millis(30));
        assert_eq!(times.mean(), Some(Duration::from_millis(20)));
    }
}
