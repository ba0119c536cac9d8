//! One computation for identical requests, its answer kept for a stated time: a report
//! that several staff members open at once is computed once (single flight), and read
//! again within `ttl` of its computation it is answered as computed then, never older.
//! Failures are shared by the requests that waited for them, never kept.

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

/// Answers by key: at most one computation per key at a time, an answer reused until `ttl`
/// after its computation began, at most `capacity` keys held.
pub struct Memo<K, V, E> {
    ttl: Duration,
    capacity: usize,
    clock: Clock,
    flights: Mutex<HashMap<K, Flight<V, E>>>,
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
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key`: the one being computed, or one computed less than `ttl` ago,
    /// else a new computation by `compute`.
    pub async fn get<F>(&self, key: K, compute: F) -> Result<Computed<V>, E>
    where
        F: std::future::Future<Output = Result<V, E>> + Send + 'static,
    {
        let flight = {
            let now = self.clock.now();
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(&key).filter(|f| self.usable(f, now)) {
                Some(f) => f.clone(),
                None => {
                    let f = compute
                        .map(move |r| {
                            r.map(|v| Computed {
                                value: Arc::new(v),
                                at: now,
                            })
                        })
                        .boxed()
                        .shared();
                    flights.retain(|_, f| self.usable(f, now));
                    if flights.len() < self.capacity {
                        flights.insert(key, f.clone());
                    }
                    f
                }
            }
        };
        flight.await
    }

    /// Still being computed, or computed without failing less than `ttl` ago.
    fn usable(&self, flight: &Flight<V, E>, now: DateTime<Utc>) -> bool {
        match flight.peek() {
            None => true,
            Some(Ok(c)) => now - c.at < self.ttl,
            Some(Err(_)) => false,
        }
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
    async fn an_answer_is_reused_until_its_time_to_live_has_passed() {
        let clock = Clock::default();
        let memo: Memo<&str, usize, String> = Memo::new(Duration::seconds(30), 8, clock.clone());
        let runs = Arc::new(AtomicUsize::new(0));
        let first = memo.get("k", counting(&runs, Ok(1))).await.unwrap();
        clock.advance(Duration::seconds(29));
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
        clock.advance(Duration::seconds(2));
        assert_eq!(
            *memo.get("k", counting(&runs, Ok(2))).await.unwrap().value,
            2
        );
        assert_eq!(runs.load(Ordering::SeqCst), 3);
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
        let memo: Memo<u32, u32, String> = Memo::new(Duration::seconds(30), 2, Clock::default());
        for k in 0..3 {
            memo.get(k, async move { Ok(k) }).await.unwrap();
        }
        let runs = Arc::new(AtomicUsize::new(0));
        let kept = memo.get(1, {
            let runs = runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(10)
            }
        });
        assert_eq!(*kept.await.unwrap().value, 1);
        let dropped = memo.get(2, {
            let runs = runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(20)
            }
        });
        assert_eq!(*dropped.await.unwrap().value, 20);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
