//! When a loader batch closes. async-graphql resolves the items of a list, and the fields of
//! each item, as futures joined in one poll: every sibling asks its loader for a key before the
//! request future returns `Pending`. So the moment to query is right after that poll — not after
//! a timer, which every nested level would pay again (milliseconds per level on a quiet server,
//! more on a busy one, where the timer also splits batches).
//!
//! A [`Caller`](crate::Caller)'s loaders hand their batch work to its [`LoadQueue`]. While a
//! request runs inside [`drive`], that work runs on the request's own task, polled right after
//! the request: a batch holds every key its poll registered, and when it completes, every waiting
//! sibling sees its answer in the same next poll, so the next level is one batch again. (Spawned
//! on another worker, a batch's answers would wake the request one by one, mid-delivery, and
//! split the next level into many small batches.) Outside of `drive` (a subscription's events,
//! resolved inside the websocket's own stream) the work is spawned after [`FALLBACK_WINDOW`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::task::AtomicWaker;

use crate::tenancy::RequestReads;

/// How long keys are collected when no request poll closes the batch.
pub const FALLBACK_WINDOW: Duration = Duration::from_millis(2);

/// Batch work of one caller's loaders, waiting for the end of the current poll.
#[derive(Default)]
pub struct LoadQueue {
    waiting: Mutex<Vec<BoxFuture<'static, ()>>>,
    /// True while [`drive`] polls a request that owns this queue.
    driven: AtomicBool,
}

impl LoadQueue {
    /// Takes one batch's work from a loader (the loader's spawner).
    pub fn submit(&self, work: BoxFuture<'static, ()>) {
        if self.driven.load(Ordering::Acquire) {
            self.waiting.lock().unwrap_or_else(PoisonError::into_inner).push(work);
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(FALLBACK_WINDOW).await;
                work.await;
            });
        }
    }

    fn is_empty(&self) -> bool {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Runs `request` with the batches of the loaders using `queue` polled on the same task; ends
/// the sharing of `reads` (see [`RequestReads::share`]) when the request is done.
pub fn drive<F: Future>(scope: Option<(Arc<LoadQueue>, Arc<RequestReads>)>, request: F) -> Driven<F> {
    let (queue, reads) = scope.unzip();
    if let Some(queue) = &queue {
        queue.driven.store(true, Ordering::Release);
    }
    Driven {
        request: Box::pin(request),
        queue,
        reads,
        batches: FuturesUnordered::new(),
        wakes: Arc::default(),
    }
}

/// Polls of the request in a row while it keeps asking to be polled again, before its batches
/// start anyway.
const MAX_POLLS_PER_BATCH: usize = 64;

pub struct Driven<F> {
    request: Pin<Box<F>>,
    queue: Option<Arc<LoadQueue>>,
    reads: Option<Arc<RequestReads>>,
    batches: FuturesUnordered<BoxFuture<'static, ()>>,
    wakes: Arc<WakeFlag>,
}

/// The request's waker: passes every wake on to the task, and notes it, so a poll that ends
/// with the request waking itself is seen (see [`Driven::poll`]).
#[derive(Default)]
struct WakeFlag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let Some(queue) = &this.queue else { return this.request.as_mut().poll(cx) };
        this.wakes.task.register(cx.waker());
        let waker = Waker::from(Arc::clone(&this.wakes));
        let mut request_cx = Context::from_waker(&waker);
        loop {
            // A join of many futures (async-graphql's lists among them) returns `Pending` part way
            // and wakes itself to let other tasks run; the siblings it has not polled yet have
            // not asked for their keys. Poll again until the request waits for something.
            for _ in 0..MAX_POLLS_PER_BATCH {
                this.wakes.woken.store(false, Ordering::Release);
                if let Poll::Ready(output) = this.request.as_mut().poll(&mut request_cx) {
                    return Poll::Ready(output);
                }
                if !this.wakes.woken.load(Ordering::Acquire) {
                    break;
                }
            }
            this.batches.extend(queue.take());
            let mut completed = false;
            while let Poll::Ready(Some(())) = this.batches.poll_next_unpin(cx) {
                completed = true;
            }
            // A completed batch answered its waiters: poll the request again at once, so all of
            // them continue (and ask for the next level) together. Work a batch submitted (a
            // loader using another) starts the same way.
            if !completed && queue.is_empty() {
                return Poll::Pending;
            }
        }
    }
}

impl<F> Drop for Driven<F> {
    fn drop(&mut self) {
        if let Some(queue) = &self.queue {
            // The request is gone with its waiters; later loads (none are expected) are spawned.
            queue.driven.store(false, Ordering::Release);
            drop(queue.take());
        }
        // The batches are gone with the request: the shared transaction is free to end.
        self.batches.clear();
        if let Some(reads) = &self.reads {
            reads.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::AtomicUsize;

    use async_graphql::dataloader::{DataLoader, Loader};

    use super::*;

    /// Counts its batches and their sizes.
    #[derive(Default)]
    struct Counting {
        batches: Arc<Mutex<Vec<usize>>>,
    }

    impl Loader<u32> for Counting {
        type Value = u32;
        type Error = std::convert::Infallible;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            self.batches.lock().unwrap().push(keys.len());
            // A round trip: the answers arrive later, as a database's would.
            tokio::time::sleep(Duration::from_millis(1)).await;
            Ok(keys.iter().map(|k| (*k, k * 2)).collect())
        }
    }

    /// Reads never used by these loaders; a lazy pool that is never connected.
    fn reads() -> Arc<RequestReads> {
        let db = futures::executor::block_on(crate::Db::connect_lazy(
            "postgres://nobody@127.0.0.1:1/none",
            1,
            std::time::Duration::from_secs(60),
        ))
        .unwrap();
        Arc::new(RequestReads::new(db, crate::TenantId::new()))
    }

    fn loader(queue: &Arc<LoadQueue>, batches: &Arc<Mutex<Vec<usize>>>) -> Arc<DataLoader<Counting>> {
        let queue = Arc::clone(queue);
        Arc::new(
            DataLoader::new(Counting { batches: Arc::clone(batches) }, move |work| {
                queue.submit(Box::pin(work))
            })
            .delay(Duration::ZERO),
        )
    }

    /// Siblings joined in one poll, then their children: one batch per level, every key in it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_batch_per_level_without_a_timer() {
        let queue = Arc::new(LoadQueue::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let loader = loader(&queue, &batches);
        let request = {
            let loader = Arc::clone(&loader);
            async move {
                futures::future::join_all((0..50u32).map(|n| {
                    let loader = Arc::clone(&loader);
                    async move {
                        let parent = loader.load_one(n).await.unwrap().unwrap();
                        loader.load_one(1000 + parent).await.unwrap().unwrap()
                    }
                }))
                .await
            }
        };
        let answers = drive(Some((Arc::clone(&queue), reads())), request).await;
        assert_eq!(answers, (0..50u32).map(|n| (1000 + n * 2) * 2).collect::<Vec<_>>());
        assert_eq!(*batches.lock().unwrap(), vec![50, 50]);
    }

    struct Item(u32);

    #[async_graphql::Object]
    impl Item {
        async fn doubled(&self, ctx: &async_graphql::Context<'_>) -> u32 {
            let loader = ctx.data_unchecked::<Arc<DataLoader<Counting>>>();
            let once = loader.load_one(self.0).await.unwrap().unwrap();
            loader.load_one(1000 + once).await.unwrap().unwrap()
        }
    }

    struct Root;

    #[async_graphql::Object]
    impl Root {
        async fn items(&self) -> Vec<Item> {
            (0..45).map(Item).collect()
        }
    }

    /// The same through async-graphql's executor (whose list joins return part way and wake
    /// themselves), with an extension installed as ours are.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_batch_per_level_in_a_schema() {
        struct Noop;
        impl async_graphql::extensions::ExtensionFactory for Noop {
            fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
                Arc::new(Noop)
            }
        }
        impl async_graphql::extensions::Extension for Noop {}
        let queue = Arc::new(LoadQueue::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let schema = async_graphql::Schema::build(
            Root,
            async_graphql::EmptyMutation,
            async_graphql::EmptySubscription,
        )
        .extension(Noop)
        .finish();
        let request = async_graphql::Request::new("{ items { doubled } }").data(loader(&queue, &batches));
        let response = drive(Some((Arc::clone(&queue), reads())), schema.execute(request)).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(*batches.lock().unwrap(), vec![45, 45]);
    }

    /// While driven, work waits for the end of the request's poll instead of starting on its own.
    #[tokio::test]
    async fn driven_work_waits_for_the_poll_to_end() {
        let queue = Arc::new(LoadQueue::default());
        let ran = Arc::new(AtomicUsize::new(0));
        let request = {
            let (queue, ran) = (Arc::clone(&queue), Arc::clone(&ran));
            async move {
                let counter = Arc::clone(&ran);
                queue.submit(Box::pin(async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                }));
                let held = queue.waiting.lock().unwrap().len();
                tokio::time::sleep(FALLBACK_WINDOW * 5).await;
                (held, ran.load(Ordering::SeqCst))
            }
        };
        assert_eq!(drive(Some((Arc::clone(&queue), reads())), request).await, (1, 1));
    }

    /// A loader used outside a driven request still answers, after the fallback window.
    #[tokio::test]
    async fn undriven_work_runs_after_the_window() {
        let queue = Arc::new(LoadQueue::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let loader = loader(&queue, &batches);
        let both = futures::future::join(loader.load_one(1), loader.load_one(2)).await;
        assert_eq!((both.0.unwrap(), both.1.unwrap()), (Some(2), Some(4)));
        assert_eq!(*batches.lock().unwrap(), vec![2]);
    }
}
