//! [`Gated`]: a future polled again only once something it waits on has woken it.
//!
//! A connection waits on its socket and, between batches, on several rare events (server stop,
//! CLIENT KILL, a `timeout` change, the idle deadline, pub/sub pushes). Polling those every
//! time the task parks cost more instructions than a GET (callgrind, `redis-benchmark -P 1`).
//! Wrapped in a [`Gated`], they are polled with a waker of their own: it marks the gate open
//! before waking the task, and a poll of a closed gate returns `Pending` at once. Their
//! registrations stay valid in between because the futures stay alive (pinned by the caller).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// Whether the inner future may have progressed, and the task to wake when it may have.
struct Gate {
    open: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for Gate {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.open.store(true, Ordering::Release);
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(w) = task {
            w.wake();
        }
    }
}

/// `inner`, polled only when its own waker fired since its last poll (or after
/// [`Gated::open`], or after it returned `Ready`).
pub struct Gated<F> {
    inner: F,
    gate: Arc<Gate>,
    waker: Waker,
}

impl<F: Future + Unpin> Gated<F> {
    pub fn new(inner: F) -> Gated<F> {
        let gate = Arc::new(Gate {
            // The first poll must register the inner future's wakers.
            open: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        let waker = Waker::from(gate.clone());
        Gated { inner, gate, waker }
    }

    #[cfg(test)]
    fn inner_waker_for_test(&self) -> Waker {
        self.waker.clone()
    }

    /// Makes the next poll poll the inner future (its inputs changed).
    pub fn open(&self) {
        self.gate.open.store(true, Ordering::Release);
    }
}

impl<F: Future + Unpin> Future for Gated<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        {
            let mut task = this
                .gate
                .task
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match &*task {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *task = Some(cx.waker().clone()),
            }
        }
        // A wake that lands after this swap finds the task waker stored above.
        if !this.gate.open.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let mut sub = Context::from_waker(&this.waker);
        let r = Pin::new(&mut this.inner).poll(&mut sub);
        if r.is_ready() {
            // Ready futures are polled again next time (they may be ready again).
            this.gate.open.store(true, Ordering::Release);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::Gated;
    use std::future::{poll_fn, Future};
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn polls_inner_only_after_its_waker_fired() {
        let polls = AtomicUsize::new(0);
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let task_waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&task_waker);
        let mut g = Gated::new(poll_fn(|_cx| {
            polls.fetch_add(1, Ordering::SeqCst);
            // Ready on the fourth poll of the inner future.
            if polls.load(Ordering::SeqCst) == 4 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        let mut poll = |g: &mut Gated<_>| Pin::new(g).poll(&mut cx);
        // The first poll runs the inner future; the second does not.
        assert!(poll(&mut g).is_pending());
        assert!(poll(&mut g).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        // Its own waker opens the gate and wakes the task.
        let inner_waker = g.inner_waker_for_test();
        inner_waker.wake_by_ref();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert!(poll(&mut g).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        // So does `open`.
        g.open();
        assert!(poll(&mut g).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 3);
        assert!(poll(&mut g).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 3);
        g.open();
        assert!(poll(&mut g).is_ready());
        // After Ready the next poll polls again.
        assert!(poll(&mut g).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 5);
    }
}
