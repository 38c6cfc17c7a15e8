//! Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP; later BZPOP*, XREAD BLOCK):
//! the waiter registry and the serving rules, kept free of any async runtime.
//!
//! # How a command blocks
//!
//! A handler that finds nothing to serve and may wait records a [`BlockRequest`] in its
//! [`Ctx`](crate::dispatch::Ctx) (`ctx.block`) and returns a placeholder. The dispatcher then
//! either answers the request's timeout reply at once (`Engine::execute`, MULTI, scripts,
//! clients with `no_block`), or — for `Engine::execute_or_block` — registers a [`Waiter`]
//! *while still holding the command's shard locks*, so no push to those keys can slip between
//! "the list was empty" and "the waiter is visible". The waiter owns a copy of the command
//! line, the client's db, protocol and id, and a delivery callback supplied by the front end
//! (a tokio oneshot for connections, a std channel for the embedded store), so this module
//! never knows how the reply travels.
//!
//! # How a waiter is served
//!
//! A write that can make a key ready (a push, LMOVE's destination, ...) calls
//! `ctx.signal_ready(key)`, which only notes the key when anyone waits at all. After the
//! writer's handler returns and its shard locks are released, the dispatcher serves the ready
//! keys in the order they were signalled; for each key, its waiters in the order they blocked
//! (Redis's FIFO). Serving a waiter re-runs its own command with a temporary client (its db,
//! protocol and id, `no_block` set) restricted to the ready key. If that produced data, the
//! reply is delivered and the waiter leaves every key's queue; if the key was emptied again,
//! the waiter stays where it was. A re-run may itself make keys ready (BLMOVE pushes to its
//! destination); those join the end of the queue, as in Redis.
//!
//! # Timeouts and races
//!
//! The front end owns the timer. On expiry (or disconnect, or CLIENT KILL) it calls
//! [`Blocking::unblock`]: `Some(timeout reply)` means the waiter was still waiting and is now
//! gone; `None` means it is being or has been served, and the delivered reply is the answer (it
//! is guaranteed to come: a waiter cancelled while its re-run is in flight and that re-run finds
//! nothing gets its timeout reply delivered). A waiter being served is marked `serving`, so a
//! timeout can never remove a waiter whose re-run has already popped an element.
//!
//! Locks, in the only order they are taken: `serve` (one thread serves at a time, so a waiter is
//! never re-run twice concurrently and FIFO order holds across writers) -> shard locks ->
//! `inner`. Registration takes shard -> `inner`; `unblock` takes `inner` alone. `inner` is never
//! held while a command runs or a reply is delivered.

use crate::client::Proto;
use fastkv_resp::Frame;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A blocked client's registration number.
pub type WaiterId = u64;

/// Hands a blocked client its reply, on whatever channel its front end listens to.
pub type Deliver = Box<dyn FnOnce(Frame) + Send>;

/// What a handler asks for when it would block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRequest {
    /// The keys whose readiness can serve the command (in the current database).
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline in ms since the epoch; `None` waits forever (timeout 0).
    pub deadline_ms: Option<u64>,
    /// The reply on timeout (and from `Engine::execute`, which cannot wait).
    pub timeout_reply: Frame,
    /// The reply when the client may not block (inside MULTI or a script): Redis answers
    /// BLMOVE/BRPOPLPUSH there with a null bulk, its other blocking commands with the null
    /// array they time out with.
    pub denied_reply: Frame,
}

/// What `Engine::execute_or_block` produced.
pub enum Outcome {
    Reply(Frame),
    /// The client waits. The caller keeps the timer: at `deadline_ms` (ms since the epoch,
    /// `None` = never) it calls [`Blocking::unblock`].
    Blocked {
        id: WaiterId,
        deadline_ms: Option<u64>,
    },
}

/// A waiter's command, copied out for a re-run.
pub(crate) struct Rerun {
    pub argv: Vec<Vec<u8>>,
    pub db: usize,
    pub proto: Proto,
    pub client_id: u64,
}

struct Waiter {
    argv: Vec<Vec<u8>>,
    db: usize,
    proto: Proto,
    client_id: u64,
    keys: Vec<Vec<u8>>,
    timeout_reply: Frame,
    deliver: Option<Deliver>,
    /// Its command is being re-run right now.
    serving: bool,
    /// `unblock` was called while serving: finish with the timeout reply if nothing came.
    cancelled: bool,
}

#[derive(Default)]
struct Inner {
    next_id: WaiterId,
    waiters: HashMap<WaiterId, Waiter>,
    /// (db, key) -> waiters in blocking order.
    by_key: HashMap<(usize, Vec<u8>), VecDeque<WaiterId>>,
}

/// The engine's blocked clients.
#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Inner>,
    /// How many waiters exist. Writers read it under their shard lock (which orders it after
    /// any registration on the same keys) to skip all of this when nobody waits.
    count: AtomicUsize,
    /// Held while serving ready keys: one server at a time (see the module doc).
    serve: Mutex<()>,
}

impl Blocking {
    /// Blocked clients (INFO `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn anyone_waiting(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Registers a waiter; called by the dispatcher with the command's shard locks held.
    pub(crate) fn register(
        &self,
        req: BlockRequest,
        run: Rerun,
        deliver: Deliver,
    ) -> (WaiterId, Option<u64>) {
        let mut inner = self.inner.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        for k in &req.keys {
            let q = inner.by_key.entry((run.db, k.clone())).or_default();
            // BLPOP k k waits once on k.
            if q.back() != Some(&id) {
                q.push_back(id);
            }
        }
        inner.waiters.insert(
            id,
            Waiter {
                argv: run.argv,
                db: run.db,
                proto: run.proto,
                client_id: run.client_id,
                keys: req.keys,
                timeout_reply: req.timeout_reply,
                deliver: Some(deliver),
                serving: false,
                cancelled: false,
            },
        );
        self.count.fetch_add(1, Ordering::Release);
        (id, req.deadline_ms)
    }

    /// Stops waiting (timeout, disconnect, CLIENT KILL). `Some(timeout reply)`: the waiter was
    /// still waiting and is gone. `None`: it was served (or is being served) concurrently; its
    /// reply is or will be delivered.
    pub fn unblock(&self, id: WaiterId) -> Option<Frame> {
        let mut inner = self.inner.lock();
        let w = inner.waiters.get_mut(&id)?;
        if w.serving {
            w.cancelled = true;
            return None;
        }
        let w = self.remove(&mut inner, id)?;
        Some(w.timeout_reply)
    }

    /// Whether this waiter is still registered.
    pub fn is_blocked(&self, id: WaiterId) -> bool {
        self.inner.lock().waiters.contains_key(&id)
    }

    fn remove(&self, inner: &mut Inner, id: WaiterId) -> Option<Waiter> {
        let w = inner.waiters.remove(&id)?;
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = inner.by_key.get_mut(&slot) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    inner.by_key.remove(&slot);
                }
            }
        }
        self.count.fetch_sub(1, Ordering::Release);
        Some(w)
    }

    /// Serializes serving; hold the guard for one whole round of [`Engine::serve_ready`].
    pub(crate) fn serve_guard(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.serve.lock()
    }

    /// The waiters on `key` of `db`, in blocking order.
    pub(crate) fn waiters_on(&self, db: usize, key: &[u8]) -> Vec<WaiterId> {
        let inner = self.inner.lock();
        inner
            .by_key
            .get(&(db, key.to_vec()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Marks a waiter as being served and copies its command out; `None` if it is gone.
    pub(crate) fn claim(&self, id: WaiterId) -> Option<Rerun> {
        let mut inner = self.inner.lock();
        let w = inner.waiters.get_mut(&id)?;
        if w.serving || w.cancelled {
            return None;
        }
        w.serving = true;
        Some(Rerun {
            argv: w.argv.clone(),
            db: w.db,
            proto: w.proto,
            client_id: w.client_id,
        })
    }

    /// Ends a claim: with a reply, delivers it and unregisters the waiter; without, puts the
    /// waiter back in its place (or, if it was cancelled meanwhile, delivers its timeout reply).
    pub(crate) fn finish(&self, id: WaiterId, reply: Option<Frame>) {
        let delivery = {
            let mut inner = self.inner.lock();
            let Some(w) = inner.waiters.get_mut(&id) else {
                return;
            };
            w.serving = false;
            match reply {
                Some(r) => self.remove(&mut inner, id).map(|w| (w, r)),
                None if w.cancelled => self.remove(&mut inner, id).map(|w| {
                    let r = w.timeout_reply.clone();
                    (w, r)
                }),
                None => None,
            }
        };
        // Delivered with no lock held: the callback may wake another thread at once.
        if let Some((mut w, reply)) = delivery {
            if let Some(d) = w.deliver.take() {
                d(reply);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn req(keys: &[&str]) -> BlockRequest {
        BlockRequest {
            keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            deadline_ms: None,
            timeout_reply: Frame::NullArray,
            denied_reply: Frame::NullArray,
        }
    }

    fn rerun() -> Rerun {
        Rerun {
            argv: vec![b"BLPOP".to_vec(), b"a".to_vec(), b"0".to_vec()],
            db: 0,
            proto: 2,
            client_id: 9,
        }
    }

    #[test]
    fn register_unblock_leaves_nothing() {
        let b = Blocking::default();
        let (tx, _rx) = mpsc::channel();
        let (id, _) = b.register(
            req(&["a", "b", "a"]),
            rerun(),
            Box::new(move |f| drop(tx.send(f))),
        );
        assert_eq!(b.blocked_clients(), 1);
        assert_eq!(b.waiters_on(0, b"a"), vec![id]);
        assert_eq!(b.unblock(id), Some(Frame::NullArray));
        assert_eq!(b.blocked_clients(), 0);
        assert!(b.inner.lock().by_key.is_empty());
        assert_eq!(b.unblock(id), None);
    }

    #[test]
    fn cancel_while_serving_delivers_timeout_reply() {
        let b = Blocking::default();
        let (tx, rx) = mpsc::channel();
        let (id, _) = b.register(req(&["a"]), rerun(), Box::new(move |f| drop(tx.send(f))));
        assert!(b.claim(id).is_some());
        assert_eq!(b.unblock(id), None);
        b.finish(id, None);
        assert_eq!(rx.recv().ok(), Some(Frame::NullArray));
        assert_eq!(b.blocked_clients(), 0);
    }

    #[test]
    fn finish_without_data_keeps_the_place() {
        let b = Blocking::default();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let (first, _) = b.register(req(&["a"]), rerun(), Box::new(move |f| drop(tx.send(f))));
        let (second, _) = b.register(req(&["a"]), rerun(), Box::new(move |f| drop(tx2.send(f))));
        assert!(b.claim(first).is_some());
        b.finish(first, None);
        assert_eq!(b.waiters_on(0, b"a"), vec![first, second]);
        assert!(b.claim(first).is_some());
        b.finish(first, Some(Frame::Integer(1)));
        assert_eq!(rx.recv().ok(), Some(Frame::Integer(1)));
        assert_eq!(b.waiters_on(0, b"a"), vec![second]);
    }
}
