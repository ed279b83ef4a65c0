//! The event loop (Tornado's IOLoop): [`Loop`], its thread-safe
//! [`LoopHandle`], and [`Timer`]s.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::rc::Rc;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use squall_sys as sys;

use crate::error::{Error, Result, check};
use crate::trampoline;

/// The pointer a [`LoopHandle`] may use, cleared (under the write lock)
/// before the loop is freed, so no thread can call into a freed loop.
pub(crate) struct LoopShared {
    ptr: RwLock<*mut sys::squall_loop>,
}

// SAFETY: the pointer is only used for the library's [any thread] calls
// (stop, call_soon) and only while the read lock proves it is not freed.
unsafe impl Send for LoopShared {}
unsafe impl Sync for LoopShared {}

/// An event loop: one libevent `event_base`, run by one thread.
///
/// A `Loop` is created on, run on and dropped on one thread (it is neither
/// `Send` nor `Sync`), like a `tokio::task::LocalSet`; servers and timers
/// made from it live on that thread too.  Other threads talk to it through
/// a [`LoopHandle`] (stop it, run a closure on it).
///
/// Dropping the loop runs closures still queued with `call_soon`, cancels
/// its timers and orphans servers still alive: their handles stay safe to
/// use and to drop (calls report [`ErrorKind::Closed`](crate::ErrorKind)).
pub struct Loop {
    raw: NonNull<sys::squall_loop>,
    shared: Arc<LoopShared>,
    poll: Rc<PollState>,
    _not_send: PhantomData<*mut ()>,
}

/// What a polled request is given to.
pub(crate) type PollHandler = Rc<dyn Fn(*mut sys::squall_request)>;

/// How the loop hands requests to Rust.
///
/// The first [`Server`](crate::Server) made on a loop is a *polled* one
/// (`squall_server_new_polled`): its requests are queued by the library and
/// taken by [`Loop::run`] / [`Loop::run_once`] with `squall_loop_poll`, so
/// the hot path makes only Rust-to-C calls.  Further servers on the same
/// loop (the library cannot tell which polled server a request came from),
/// and servers made while the loop runs in callback mode, use the callback
/// API; groups always do.
#[derive(Default)]
pub(crate) struct PollState {
    /// A polled server was made on this loop: from then on `run` and
    /// `run_once` drive the loop with `squall_loop_poll`.
    polled: Cell<bool>,
    /// Inside `squall_loop_run` / `squall_loop_run_once` (callback mode):
    /// requests queued for a polled server would wait until it returns.
    plain_running: Cell<bool>,
    /// The polled server's handler, while that server lives.
    handler: RefCell<Option<PollHandler>>,
}

impl PollState {
    /// Whether a new server on this loop may be a polled one.
    pub(crate) fn available(&self) -> bool {
        !self.plain_running.get() && self.handler.borrow().is_none()
    }

    /// The polled server was made: route its requests to `h`.
    pub(crate) fn install(&self, h: PollHandler) {
        self.polled.set(true);
        *self.handler.borrow_mut() = Some(h);
    }

    /// The polled server is gone (requests still queued for it are ended
    /// by dropping them).
    pub(crate) fn uninstall(&self) -> Option<PollHandler> {
        self.handler.borrow_mut().take()
    }
}

/// Requests taken per `squall_loop_poll` call; more wait for the next call,
/// which returns them without waiting.
const POLL_BATCH: usize = 64;

impl Loop {
    /// Create a loop owned by the calling thread.
    pub fn new() -> Result<Loop> {
        crate::check_version()?;
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        check(unsafe { sys::squall_loop_new(&mut raw) })?;
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(sys::SQUALL_ERROR, "squall_loop_new returned NULL"))?;
        Ok(Loop {
            raw,
            shared: Arc::new(LoopShared { ptr: RwLock::new(raw.as_ptr()) }),
            poll: Rc::new(PollState::default()),
            _not_send: PhantomData,
        })
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::squall_loop {
        self.raw.as_ptr()
    }

    pub(crate) fn poll_state(&self) -> &Rc<PollState> {
        &self.poll
    }

    /// Run until [`stop`](Self::stop) (from a callback) or
    /// [`LoopHandle::stop`] (from anywhere).  A stop requested before `run`
    /// makes it return at once.
    ///
    /// With a polled server on it (the first `Server` made on it), the loop
    /// is driven by `squall_loop_poll`: each call runs loop passes until
    /// requests are ready, and `run` calls the handler for each of them in
    /// turn (see [`Server::with_config`](crate::Server::with_config)).
    pub fn run(&self) -> Result<()> {
        let _cur = CurrentGuard::enter(self);
        if self.poll.polled.get() {
            loop {
                if self.poll_once(-1)? {
                    return Ok(());
                }
            }
        }
        let _plain = PlainGuard::enter(&self.poll);
        // SAFETY: live loop, owning thread.
        check(unsafe { sys::squall_loop_run(self.as_ptr()) })
    }

    /// Run one iteration, waiting at most `timeout` for something to happen
    /// (`None`: wait until something does).
    ///
    /// When the loop has a polled server (the first [`Server`](crate::Server)
    /// made on it), "something" is a request: the call returns once the
    /// ready requests were handled, `timeout` passed or the loop was
    /// stopped; timers and other callbacks run meanwhile.
    pub fn run_once(&self, timeout: Option<Duration>) -> Result<()> {
        let ms = match timeout {
            None => -1,
            Some(d) => d.as_millis().min(i32::MAX as u128) as i32,
        };
        let _cur = CurrentGuard::enter(self);
        if self.poll.polled.get() {
            return self.poll_once(ms).map(|_| ());
        }
        let _plain = PlainGuard::enter(&self.poll);
        // SAFETY: live loop, owning thread.
        check(unsafe { sys::squall_loop_run_once(self.as_ptr(), ms) })
    }

    /// One `squall_loop_poll`, then the handler for each request it took.
    /// `Ok(true)` if a stop ended it.
    fn poll_once(&self, timeout_ms: i32) -> Result<bool> {
        let mut reqs = [ptr::null_mut::<sys::squall_request>(); POLL_BATCH];
        let mut n = 0usize;
        // SAFETY: live loop, owning thread (Loop is !Send); the array is
        // ours and n is bounded by its length.
        let rc = unsafe {
            sys::squall_loop_poll(self.as_ptr(), timeout_ms, reqs.as_mut_ptr(), POLL_BATCH, &mut n)
        };
        if rc < 0 {
            return Err(Error::last(rc));
        }
        let taken = &reqs[..n.min(POLL_BATCH)];
        if !taken.is_empty() {
            // A clone: the handler may drop its server (uninstall).
            let h = self.poll.handler.borrow().clone();
            for &raw in taken {
                match &h {
                    Some(h) => h(raw),
                    // Its server is gone: end it (the library answers a
                    // closed connection with nothing).
                    // SAFETY: the library hands the request over, once.
                    None => drop(unsafe { crate::request::Request::from_raw(raw) }),
                }
            }
        }
        Ok(rc == sys::SQUALL_POLL_STOPPED)
    }

    /// Make [`run`](Self::run) return after the current callback.
    pub fn stop(&self) -> Result<()> {
        // SAFETY: live loop; stop is [any thread].
        check(unsafe { sys::squall_loop_stop(self.as_ptr()) })
    }

    /// A cloneable, `Send + Sync` handle for other threads.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle { shared: self.shared.clone() }
    }

    /// Run `f` once on the loop thread, soon (never inside this call).
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<()> {
        call_soon_raw(self.as_ptr(), f)
    }

    /// Run `f` once after `delay`, fire and forget.
    pub fn call_later<F: FnOnce() + 'static>(&self, delay: Duration, f: F) -> Result<()> {
        self.timer_impl(delay, f, false).map(|_| ())
    }

    /// Run `f` once after `delay`; dropping the returned [`Timer`] before it
    /// fires cancels it.
    pub fn timer<F: FnOnce() + 'static>(&self, delay: Duration, f: F) -> Result<Timer> {
        self.timer_impl(delay, f, true).map(|t| t.expect("timer handle"))
    }

    fn timer_impl<F: FnOnce() + 'static>(
        &self,
        delay: Duration,
        f: F,
        want_handle: bool,
    ) -> Result<Option<Timer>> {
        let ud = Box::into_raw(Box::new(Some(f))) as *mut c_void;
        let mut out = ptr::null_mut();
        // SAFETY: ud is released by release_box::<Option<F>> exactly once if
        // registration succeeds; on failure neither callback runs and we
        // free it here.
        let rc = unsafe {
            sys::squall_loop_call_later(
                if want_handle { &mut out } else { ptr::null_mut() },
                self.as_ptr(),
                duration_ms(delay),
                Some(trampoline::once_local::<F>),
                ud,
                Some(trampoline::release_box::<Option<F>>),
            )
        };
        if rc < 0 {
            let err = Error::last(rc);
            // SAFETY: registration failed, so the library never uses ud.
            drop(unsafe { Box::from_raw(ud as *mut Option<F>) });
            return Err(err);
        }
        Ok(NonNull::new(out).map(|raw| Timer { raw, _not_send: PhantomData }))
    }

    /// Run `f` every `interval` (> 0) until the returned [`Timer`] is
    /// cancelled or dropped; late runs skip missed ticks.
    pub fn call_every<F: FnMut() + 'static>(&self, interval: Duration, f: F) -> Result<Timer> {
        let ud = Box::into_raw(Box::new(f)) as *mut c_void;
        let mut out = ptr::null_mut();
        // SAFETY: as in timer_impl.
        let rc = unsafe {
            sys::squall_loop_call_every(
                &mut out,
                self.as_ptr(),
                duration_ms(interval).max(1),
                Some(trampoline::repeat_local::<F>),
                ud,
                Some(trampoline::release_box::<F>),
            )
        };
        if rc < 0 {
            let err = Error::last(rc);
            // SAFETY: registration failed, the library never uses ud.
            drop(unsafe { Box::from_raw(ud as *mut F) });
            return Err(err);
        }
        let raw = NonNull::new(out).ok_or_else(|| Error::new(sys::SQUALL_ERROR, "no timer handle"))?;
        Ok(Timer { raw, _not_send: PhantomData })
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        // Forbid LoopHandle calls first (waits for any in progress), then
        // free.  The lock is not held while freeing: closures drained by
        // squall_loop_free may use a LoopHandle (they get Closed).
        match self.shared.ptr.write() {
            Ok(mut g) => *g = ptr::null_mut(),
            Err(poisoned) => *poisoned.into_inner() = ptr::null_mut(),
        }
        // SAFETY: owning thread, not running (run borrows self).  If a
        // callback owns the last reference to the loop (it cannot: Loop is
        // !Send and callbacks given to the loop must not borrow it), free
        // would return ESTATE and the loop would leak rather than crash.
        unsafe { sys::squall_loop_free(self.as_ptr()) };
    }
}

thread_local! {
    /// The loop this thread is running (inside `run` / `run_once`).
    static CURRENT: RefCell<Option<LoopHandle>> = const { RefCell::new(None) };
}

struct CurrentGuard(Option<LoopHandle>);

/// Marks the loop as running in callback mode for the guard's life.
struct PlainGuard<'a>(&'a PollState, bool);

impl<'a> PlainGuard<'a> {
    fn enter(p: &'a PollState) -> PlainGuard<'a> {
        PlainGuard(p, p.plain_running.replace(true))
    }
}

impl Drop for PlainGuard<'_> {
    fn drop(&mut self) {
        self.0.plain_running.set(self.1);
    }
}

impl CurrentGuard {
    fn enter(lp: &Loop) -> CurrentGuard {
        CurrentGuard(CURRENT.with(|c| c.replace(Some(lp.handle()))))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    // Round up so that a non-zero delay never becomes 0.
    let ms = d.as_nanos().div_ceil(1_000_000);
    ms.min(i64::MAX as u128) as i64
}

fn call_soon_raw<F: FnOnce() + Send + 'static>(lp: *mut sys::squall_loop, f: F) -> Result<()> {
    let ud = Box::into_raw(Box::new(f)) as *mut c_void;
    // SAFETY: one-shot: the trampoline frees ud iff this returns 0.
    let rc = unsafe { sys::squall_loop_call_soon(lp, Some(trampoline::once_boxed::<F>), ud) };
    if rc < 0 {
        let err = Error::last(rc);
        // SAFETY: registration failed, the library never uses ud.
        drop(unsafe { Box::from_raw(ud as *mut F) });
        return Err(err);
    }
    Ok(())
}

/// A `Send + Sync` handle to a [`Loop`]: stop it or run closures on it from
/// any thread.  Once the loop is dropped, calls return
/// [`ErrorKind::Closed`](crate::ErrorKind::Closed).
#[derive(Clone)]
pub struct LoopHandle {
    shared: Arc<LoopShared>,
}

impl LoopHandle {
    fn with<R>(&self, f: impl FnOnce(*mut sys::squall_loop) -> Result<R>) -> Result<R> {
        let g = self.shared.ptr.read().unwrap_or_else(|p| p.into_inner());
        if g.is_null() {
            return Err(Error::new(sys::SQUALL_ECLOSED, "the loop has been dropped"));
        }
        f(*g)
    }

    /// Make the loop's `run` return.
    pub fn stop(&self) -> Result<()> {
        // SAFETY: the read lock keeps the loop alive; stop is [any thread].
        self.with(|lp| check(unsafe { sys::squall_loop_stop(lp) }))
    }

    /// Run `f` once on the loop thread.  If this returns `Ok`, `f` runs
    /// exactly once (at the latest while the loop is dropped); on `Err` it
    /// never runs and is dropped here.
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<()> {
        self.with(|lp| call_soon_raw(lp, f))
    }

    /// The loop the calling thread is running, when called from one of its
    /// callbacks (a handler, a timer, a `call_soon` closure).
    pub fn current() -> Option<LoopHandle> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// `true` when called on the thread running this loop.
    pub fn is_current(&self) -> bool {
        CURRENT.with(|c| c.borrow().as_ref().is_some_and(|h| Arc::ptr_eq(&h.shared, &self.shared)))
    }

    /// `false` once the loop has been dropped.
    pub fn is_alive(&self) -> bool {
        !self.shared.ptr.read().unwrap_or_else(|p| p.into_inner()).is_null()
    }
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopHandle").field("alive", &self.is_alive()).finish()
    }
}

impl std::fmt::Debug for Loop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loop").field("raw", &self.raw).finish()
    }
}

/// A pending [`Loop::timer`] or [`Loop::call_every`].  Dropping it cancels
/// the timer (its closure is dropped on the loop thread).
#[derive(Debug)]
pub struct Timer {
    raw: NonNull<sys::squall_timer>,
    _not_send: PhantomData<*mut ()>,
}

impl Timer {
    /// Cancel: the closure will not run again.  Cancelling twice is fine.
    pub fn cancel(&self) -> Result<()> {
        // SAFETY: live handle, loop thread (Timer is !Send).
        check(unsafe { sys::squall_timer_cancel(self.raw.as_ptr()) })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: live handle; freeing in any order is allowed.
        unsafe { sys::squall_timer_free(self.raw.as_ptr()) };
    }
}
