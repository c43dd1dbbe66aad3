//! The per-run response cache: one AWS call per question, however many checks ask it, and a
//! new call whenever a waiting check asks again.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::OnceCell;

use super::AwsError;

type Answer = Result<Arc<dyn Any + Send + Sync>, AwsError>;

/// One question's answer, and when the call for it began.
struct Entry {
    asked_at: Instant,
    cell: Arc<OnceCell<Answer>>,
}

/// Answers keyed by action and parameters. Concurrent askers of the same question wait for
/// the first one's call instead of making their own.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// The answer to `key`, fetched unless one exists whose call began at or after `since`
    /// (any answer will do when `since` is `None`).
    pub(crate) async fn get_or_fetch<T, F, Fut>(&self, since: Option<Instant>, key: String, fetch: F) -> Result<Arc<T>, AwsError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let cell = {
            let mut entries = self.entries.lock().expect("cache lock");
            let stale = entries.get(&key).is_some_and(|e| since.is_some_and(|since| e.asked_at < since));
            if stale {
                entries.remove(&key);
            }
            entries.entry(key).or_insert_with(|| Entry { asked_at: Instant::now(), cell: Arc::default() }).cell.clone()
        };
        let answer = cell.get_or_init(|| async { fetch().await.map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>) }).await;
        match answer {
            Ok(value) => Ok(value.clone().downcast::<T>().expect("one cache key always holds one type")),
            Err(e) => Err(e.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_askers_share_one_call_and_later_attempts_refetch() {
        let cache = Cache::default();
        let calls = AtomicUsize::new(0);
        let fetch = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok::<u32, AwsError>(7)
        };
        let (a, b) = tokio::join!(cache.get_or_fetch(None, "k".into(), fetch), cache.get_or_fetch(None, "k".into(), fetch));
        assert_eq!((*a.unwrap(), *b.unwrap()), (7, 7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A retry that began after the first call needs a new answer ...
        let retry = Instant::now();
        cache.get_or_fetch(Some(retry), "k".into(), fetch).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // ... which the same attempt, and any first attempt, then share.
        cache.get_or_fetch(Some(retry), "k".into(), fetch).await.unwrap();
        cache.get_or_fetch(None, "k".into(), fetch).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
