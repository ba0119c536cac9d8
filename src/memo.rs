//! One computation for identical requests, its answer kept for a stated time: a report
//! that several staff members open at once is computed once (single flight), and read
//! again within `ttl` of its computation it is answered as computed then, never older.
//! Past half of `ttl`, the request that reads an answer also starts its successor in the
//! background, so that a report asked for steadily is never waited for after its first
//! computation. Failures are shared by the requests that waited for them, never kept.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::clock::Clock;

/// A computed answer and when its computation started (the age a reader sees).
#[derive(Debug)]
pub struct Computed<V> {
    pub value: Arc<V>,
    pub at: DateTime<Utc>,
}

impl<V> Clone for Computed<V> {
    fn clone(&self) -> Self {
        Computed {
            value: self.value.clone(),
            at: self.at,
        }
    }
}

type Flight<V, E> = Shared<BoxFuture<'static, Result<Computed<V>, E>>>;

/// What is known of one key: its latest answer, and a computation under way (the first,
/// or the successor of `ready`).
struct Entry<V, E> {
    ready: Option<Computed<V>>,
    flight: Option<Flight<V, E>>,
}

impl<V, E> Entry<V, E> {
    /// A finished computation becomes the answer (a failure is dropped: its waiters had it).
    fn settle(&mut self) {
        if let Some(done) = self.flight.as_ref().and_then(|f| f.peek()) {
            if let Ok(c) = done {
                self.ready = Some(c.clone());
            }
            self.flight = None;
        }
    }
}

/// Answers by key: at most one computation per key at a time, an answer reused until `ttl`
/// after its computation began, at most `capacity` keys held.
pub struct Memo<K, V, E> {
    ttl: Duration,
    capacity: usize,
    clock: Clock,
    entries: Mutex<HashMap<K, Entry<V, E>>>,
}

impl<K, V, E> Memo<K, V, E>
where
    K: Eq + Hash + Clone,
    V: Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration, capacity: usize, clock: Clock) -> Self {
        Memo {
            ttl,
            capacity,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key`: one computed less than `ttl` ago (past `ttl / 2` its successor
    /// is started by `compute`, in the background), else the one being computed, else a
    /// new computation by `compute`.
    ///
    /// Must be called within a Tokio runtime (a successor is spawned on it).
    pub async fn get<F>(&self, key: K, compute: F) -> Result<Computed<V>, E>
    where
        F: std::future::Future<Output = Result<V, E>> + Send + 'static,
    {
        let now = self.clock.now();
        let start = move || -> Flight<V, E> {
            compute
                .map(move |r| {
                    r.map(|v| Computed {
                        value: Arc::new(v),
                        at: now,
                    })
                })
                .boxed()
                .shared()
        };
        let flight = 'held: {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if !entries.contains_key(&key) {
                entries.retain(|_, e| {
                    e.settle();
                    e.flight.is_some() || e.ready.as_ref().is_some_and(|c| self.fresh(c, now))
                });
                if entries.len() >= self.capacity {
                    // Too many questions at once: this one is answered, not kept.
                    break 'held start();
                }
            }
            let entry = entries.entry(key).or_insert(Entry {
                ready: None,
                flight: None,
            });
            entry.settle();
            match entry.ready.clone().filter(|c| self.fresh(c, now)) {
                Some(answer) => {
                    if entry.flight.is_none() && now - answer.at >= self.ttl / 2 {
                        let successor = start();
                        tokio::spawn(successor.clone().map(drop));
                        entry.flight = Some(successor);
                    }
                    return Ok(answer);
                }
                None => entry.flight.get_or_insert_with(start).clone(),
            }
        };
        flight.await
    }

    fn fresh(&self, answer: &Computed<V>, now: DateTime<Utc>) -> bool {
        now - answer.at < self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(
        runs: &Arc<AtomicUsize>,
        answer: Result<usize, String>,
    ) -> impl std::future::Future<Output = Result<usize, String>> + Send + 'static {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            answer
        }
    }

    #[tokio::test]
    async fn concurrent_requests_for_one_key_share_one_computation() {
        let memo: Memo<&str, usize, String> = Memo::new(Duration::zero(), 8, Clock::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (a, b) = tokio::join!(
            memo.get("k", counting(&runs, Ok(1))),
            memo.get("k", counting(&runs, Ok(2)))
        );
        assert_eq!((*a.unwrap().value, *b.unwrap().value), (1, 1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // With no time to live, the next request computes again.
        assert_eq!(
            *memo.get("k", counting(&runs, Ok(3))).await.unwrap().value,
            3
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_answer_is_reused_and_past_half_its_time_renewed_in_the_background() {
        let clock = Clock::default();
        let memo: Memo<&str, usize, String> = Memo::new(Duration::seconds(30), 8, clock.clone());
        let runs = Arc::new(AtomicUsize::new(0));
        let first = memo.get("k", counting(&runs, Ok(1))).await.unwrap();
        clock.advance(Duration::seconds(14));
        let again = memo.get("k", counting(&runs, Ok(2))).await.unwrap();
        assert_eq!((*again.value, again.at), (1, first.at));
        assert_eq!(
            *memo
                .get("other", counting(&runs, Ok(5)))
                .await
                .unwrap()
                .value,
            5
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "nothing renewed before half the time"
        );

        // Past half its time, the answer at once, and its successor computed meanwhile.
        clock.advance(Duration::seconds(6));
        let renewing = memo.get("k", counting(&runs, Ok(3))).await.unwrap();
        assert_eq!((*renewing.value, renewing.at), (1, first.at));
        let waiting = memo.get("k", counting(&runs, Ok(4))).await.unwrap();
        assert_eq!(*waiting.value, 1, "one successor at a time");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let renewed = memo.get("k", counting(&runs, Ok(4))).await.unwrap();
        assert_eq!(*renewed.value, 3);
        assert_eq!((renewed.at - first.at).num_seconds(), 20);

        // Asked for no more until past its time, an answer is computed anew and waited for.
        clock.advance(Duration::seconds(31));
        assert_eq!(
            *memo.get("k", counting(&runs, Ok(6))).await.unwrap().value,
            6
        );
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failure_is_shared_by_its_waiters_and_never_kept() {
        let memo: Memo<&str, usize, String> = Memo::new(Duration::seconds(30), 8, Clock::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (a, b) = tokio::join!(
            memo.get("k", counting(&runs, Err("busy".into()))),
            memo.get("k", counting(&runs, Ok(2)))
        );
        assert_eq!(
            (a.unwrap_err(), b.unwrap_err()),
            ("busy".into(), "busy".into())
        );
        assert_eq!(
            *memo.get("k", counting(&runs, Ok(3))).await.unwrap().value,
            3
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn past_its_capacity_a_new_key_is_computed_but_not_kept() {
        let memo: Memo<usize, usize, String> =
            Memo::new(Duration::seconds(30), 2, Clock::default());
        for k in 0..3 {
            memo.get(k, async move { Ok(k) }).await.unwrap();
        }
        let runs = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            *memo.get(1, counting(&runs, Ok(10))).await.unwrap().value,
            1
        );
        assert_eq!(
            *memo.get(2, counting(&runs, Ok(20))).await.unwrap().value,
            20
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
