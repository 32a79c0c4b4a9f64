//! One load for many waiters: the subscribers that receive the same event each need what the
//! event is about (the deal as it is now, say). The first of them loads it, the others wait for
//! that load and share its result, so an event costs one query whatever the number of
//! subscribers. Results are kept [`KEEP`], long enough for every subscriber to catch up.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// How long a loaded result is shared.
pub const KEEP: Duration = Duration::from_secs(30);

type Slot<V> = Arc<OnceCell<V>>;

struct Slots<K, V> {
    by_key: HashMap<K, Slot<V>>,
    /// Keys in the order they were added, to forget them after [`KEEP`].
    added: VecDeque<(Instant, K)>,
}

pub struct SharedLoads<K, V> {
    slots: Mutex<Slots<K, V>>,
}

impl<K, V> Default for SharedLoads<K, V> {
    fn default() -> Self {
        Self { slots: Mutex::new(Slots { by_key: HashMap::new(), added: VecDeque::new() }) }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SharedLoads<K, V> {
    /// The result for `key`: `load`ed here if no one has loaded it yet, else the one loaded.
    /// The key must name everything the result depends on (the tenant included). A load
    /// dropped half-way (its subscriber left) is taken over by the next waiter.
    pub async fn get(&self, key: K, load: impl Future<Output = V>) -> V {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            while let Some((added, _)) = slots.added.front() {
                if now.duration_since(*added) < KEEP {
                    break;
                }
                if let Some((_, old)) = slots.added.pop_front() {
                    slots.by_key.remove(&old);
                }
            }
            match slots.by_key.get(&key) {
                Some(slot) => Arc::clone(slot),
                None => {
                    let slot: Slot<V> = Arc::new(OnceCell::new());
                    slots.by_key.insert(key.clone(), Arc::clone(&slot));
                    slots.added.push_back((now, key));
                    slot
                }
            }
        };
        slot.get_or_init(|| load).await.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn waiters_of_one_key_share_one_load_and_other_keys_load_their_own() {
        let loads = SharedLoads::<(u8, u8), usize>::default();
        let calls = AtomicUsize::new(0);
        let load = |value: usize| {
            let calls = &calls;
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                value
            }
        };
        let same = futures::future::join_all((0..50).map(|n| loads.get((1, 1), load(n)))).await;
        assert!(same.iter().all(|v| *v == same[0]), "every waiter got the first load's result");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(loads.get((2, 1), load(7)).await, 7, "another tenant's key loads its own");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_dropped_load_is_taken_over() {
        let loads = SharedLoads::<u8, u8>::default();
        let abandoned = loads.get(1, std::future::pending::<u8>());
        assert!(tokio::time::timeout(Duration::from_millis(10), abandoned).await.is_err());
        assert_eq!(loads.get(1, async { 5 }).await, 5);
    }
}
