//! How many accounts a class audit works on at once, lowered when AWS slows down. An account
//! whose checks timed out or were throttled past the retries, or whose questions took far
//! longer than the class's fastest account's, halves the limit (at most once per window of
//! accounts, so one slow burst does not collapse it to 1); a window of accounts that went well
//! raises it by one again, up to the instructor's `--concurrency`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Debug)]
struct State {
    limit: usize,
    running: usize,
    /// Accounts finished since the limit last changed.
    finished_since_change: usize,
    /// The lowest mean question time of any account so far: what AWS answers in when it
    /// is not struggling (the instructor's distance to each region included).
    fastest: Option<Duration>,
}

/// An account's questions are slow when their mean is this many times the fastest account's…
const TIMES_THE_FASTEST: u32 = 4;
/// …and at least this long: a few hundred milliseconds more per question is distance or noise,
/// not an AWS that needs fewer callers.
const SLOW_QUESTION: Duration = Duration::from_secs(1);

pub struct Adaptive {
    max: usize,
    state: Mutex<State>,
    freed: Notify,
}

/// A place among the accounts in progress; give it back with [`Adaptive::finish`].
#[must_use]
pub struct Slot(());

impl Adaptive {
    pub fn new(max: usize) -> Adaptive {
        let max = max.max(1);
        Adaptive { max, state: Mutex::new(State { limit: max, running: 0, finished_since_change: 0, fastest: None }), freed: Notify::new() }
    }

    /// Waits until fewer accounts than the current limit are in progress.
    pub async fn start(&self) -> Slot {
        loop {
            // Registered before looking, so a slot freed in between is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = self.state.lock().expect("limiter lock");
                if state.running < state.limit {
                    state.running += 1;
                    return Slot(());
                }
            }
            freed.await;
        }
    }

    /// Gives the slot back, saying whether AWS was slow for this account. Returns the new
    /// limit when it changed.
    pub fn finish(&self, _slot: Slot, slow: bool) -> Option<usize> {
        let mut state = self.state.lock().expect("limiter lock");
        state.running -= 1;
        state.finished_since_change += 1;
        let before = state.limit;
        let window = state.limit;
        if slow {
            // Accounts that started before the last decrease report the same slowness:
            // decrease again only once a window of accounts has finished since.
            if state.finished_since_change >= window && state.limit > 1 {
                state.limit = (state.limit / 2).max(1);
            }
        } else if state.finished_since_change >= window && state.limit < self.max {
            state.limit += 1;
        }
        if state.limit != before {
            state.finished_since_change = 0;
        }
        let changed = (state.limit != before).then_some(state.limit);
        drop(state);
        self.freed.notify_waiters();
        changed
    }

    /// Whether an account whose AWS questions took `mean` each was answered slowly: far slower
    /// than the class's fastest account so far (which this one may become). The first accounts
    /// set the measure, so an AWS slow from the start is noticed only by its timeouts.
    pub fn answered_slowly(&self, mean: Option<Duration>) -> bool {
        let Some(mean) = mean else { return false };
        let mut state = self.state.lock().expect("limiter lock");
        let fastest = *state.fastest.get_or_insert(mean);
        if mean < fastest {
            state.fastest = Some(mean);
            return false;
        }
        mean >= SLOW_QUESTION && mean >= fastest * TIMES_THE_FASTEST
    }

    pub fn limit(&self) -> usize {
        self.state.lock().expect("limiter lock").limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slowness_halves_the_limit_once_per_window_and_good_windows_raise_it_again() {
        let limiter = Adaptive::new(8);
        let mut slots = Vec::new();
        for _ in 0..8 {
            slots.push(limiter.start().await);
        }
        // Eight accounts in flight report slowness: the first full window halves once.
        let changes: Vec<Option<usize>> = slots.drain(..).map(|s| limiter.finish(s, true)).collect();
        assert_eq!(changes, [None, None, None, None, None, None, None, Some(4)]);
        // Four more slow ones: 2; then 1, and never below.
        for expected in [Some(2), Some(1), None] {
            let mut last = None;
            for _ in 0..limiter.limit().max(1) {
                let slot = limiter.start().await;
                last = limiter.finish(slot, true);
            }
            assert_eq!(last, expected);
        }
        assert_eq!(limiter.limit(), 1);
        // Good windows raise it by one each, up to the maximum.
        for expected in 2..=8 {
            for _ in 0..limiter.limit() {
                let slot = limiter.start().await;
                limiter.finish(slot, false);
            }
            assert_eq!(limiter.limit(), expected);
        }
        for _ in 0..20 {
            let slot = limiter.start().await;
            limiter.finish(slot, false);
        }
        assert_eq!(limiter.limit(), 8, "never above --concurrency");
    }

    #[test]
    fn questions_far_slower_than_the_fastest_account_s_are_slow() {
        let limiter = Adaptive::new(4);
        let ms = |n| Some(Duration::from_millis(n));
        assert!(!limiter.answered_slowly(None), "an account that asked nothing says nothing");
        assert!(!limiter.answered_slowly(ms(400)), "the first sets the measure");
        assert!(!limiter.answered_slowly(ms(1_500)), "under 4x the fastest");
        assert!(!limiter.answered_slowly(ms(100)), "a faster one lowers the measure");
        assert!(limiter.answered_slowly(ms(1_500)), "15x the fastest, over a second");
        assert!(!limiter.answered_slowly(ms(900)), "9x, but under a second: distance, not trouble");
    }

    #[tokio::test]
    async fn a_waiting_account_starts_when_one_finishes() {
        let limiter = std::sync::Arc::new(Adaptive::new(1));
        let first = limiter.start().await;
        let waiting = tokio::spawn({
            let limiter = limiter.clone();
            async move {
                let slot = limiter.start().await;
                limiter.finish(slot, false);
            }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the limit is one");
        limiter.finish(first, false);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await.expect("started once the slot was free").unwrap();
    }
}
