//! One server on N loops, each run by a thread of its own (squall_group).

use std::ffi::{c_int, c_void};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use squall_sys as sys;

use crate::config::Config;
use crate::error::{Error, Result, check};
use crate::event_loop::duration_ms;
use crate::request::Request;
use crate::server::{register_result_done, serve_request};
use crate::shared::SharedPtr;
use crate::trampoline;

/// The handlers of a group, one per loop; the group pointer is set right
/// after the group is made (before any request can come).
struct Handlers<F> {
    group: *mut sys::squall_group,
    per_loop: Vec<F>,
}

unsafe extern "C" fn group_tramp<F: Fn(Request) + Send + 'static>(
    req: *mut sys::squall_request,
    ud: *mut c_void,
) {
    // SAFETY: ud is the Box<Handlers<F>> alive until release; loop i only
    // ever calls per_loop[i], on its own thread, one call at a time.
    unsafe {
        serve_request(req, |request| {
            let h = &*(ud as *const Handlers<F>);
            match loop_index_raw(h.group, req).and_then(|i| h.per_loop.get(i)) {
                Some(f) => f(request),
                None => drop(request), // cannot happen: answered 500
            }
        })
    }
}

fn loop_index_raw(g: *mut sys::squall_group, req: *mut sys::squall_request) -> Option<usize> {
    let mut lp = ptr::null_mut();
    // SAFETY: live request and group; [any thread] calls.
    unsafe {
        if sys::squall_request_loop(req, &mut lp) != 0 {
            return None;
        }
        let i = sys::squall_group_loop_index(g, lp);
        if i < 0 { None } else { Some(i as usize) }
    }
}

type GroupShared = SharedPtr<sys::squall_group>;

/// One HTTP server served by N loops on N threads (the group's own).
///
/// By default loop 0 accepts and hands each connection to the loop with
/// the fewest open connections; with `SQUALL_OPT_REUSE_PORT` set in the
/// [`Config`] each loop listens on its own SO_REUSEPORT socket instead.
/// Each loop has its own handler, made by the factory given to
/// [`Group::new`] (so a handler need not be `Sync`: e.g. one
/// [`tower::handler`](crate::tower::handler) per loop); it runs on that
/// loop's thread, and a request it hands elsewhere may be answered from
/// any thread, as with one loop.
///
/// Make it, listen, [`start`](Self::start), later
/// [`shutdown`](GroupHandle::shutdown) from anywhere and
/// [`join`](Self::join); dropping it stops and joins the loops and frees
/// everything (requests still held must be finished before).
pub struct Group {
    raw: NonNull<sys::squall_group>,
    shared: Arc<GroupShared>,
}

// SAFETY: every call a Group makes is [any thread] except start and
// handle_signals, which the library wants on the thread that made the
// group: Group is therefore not Send (no impl), keeping it there.

impl Group {
    /// A group of `n` loops (0: one per CPU) with options `cfg`;
    /// `make(i)` makes the handler of loop i.
    pub fn new<F, M>(n: usize, cfg: &Config, mut make: M) -> Result<Group>
    where
        F: Fn(Request) + Send + 'static,
        M: FnMut(usize) -> F,
    {
        crate::check_version()?;
        let n = c_int::try_from(n).map_err(|_| Error::new(sys::SQUALL_EINVAL, "too many loops"))?;
        let raw_cfg = cfg.to_raw()?;
        let h = Box::into_raw(Box::new(Handlers::<F> { group: ptr::null_mut(), per_loop: Vec::new() }));
        let mut out = ptr::null_mut();
        // SAFETY: h is released by release_box exactly once iff this
        // succeeds; else we free it.
        let rc = unsafe {
            sys::squall_group_new(
                &mut out,
                n,
                raw_cfg.as_ptr(),
                Some(group_tramp::<F>),
                h as *mut c_void,
                Some(trampoline::release_box::<Handlers<F>>),
            )
        };
        if rc < 0 {
            let err = Error::last(rc);
            // SAFETY: registration failed.
            drop(unsafe { Box::from_raw(h) });
            return Err(err);
        }
        let raw = NonNull::new(out).ok_or_else(|| Error::new(sys::SQUALL_ERROR, "no group handle"))?;
        let g = Group { raw, shared: SharedPtr::new(raw.as_ptr()) };
        // SAFETY: no loop runs yet: nothing reads *h concurrently.
        unsafe {
            let size = sys::squall_group_size(raw.as_ptr()).max(0) as usize;
            (*h).group = raw.as_ptr();
            (*h).per_loop = (0..size).map(&mut make).collect();
        }
        Ok(g)
    }

    /// The raw handle (valid while this `Group` lives).
    pub fn as_raw(&self) -> *mut sys::squall_group {
        self.raw.as_ptr()
    }

    /// Number of loops.
    pub fn size(&self) -> usize {
        // SAFETY: live group.
        unsafe { sys::squall_group_size(self.as_raw()) }.max(0) as usize
    }

    /// Listen on `host:port` (port 0: ephemeral, see [`port`](Self::port)).
    /// Before [`start`](Self::start).
    pub fn listen(&self, host: &str, port: u16) -> Result<()> {
        // SAFETY: live group; host copied.
        check(unsafe {
            sys::squall_group_listen(self.as_raw(), host.as_ptr().cast(), host.len(), port as c_int)
        })
    }

    /// Serve a listening socket opened elsewhere (ownership passes).
    pub fn add_socket(&self, fd: std::os::fd::OwnedFd) -> Result<()> {
        use std::os::fd::IntoRawFd;
        // SAFETY: live group; fd ownership passes.
        check(unsafe { sys::squall_group_add_socket(self.as_raw(), fd.into_raw_fd()) })
    }

    /// The TCP port loop 0 listens on.
    pub fn port(&self) -> Result<u16> {
        let mut port = 0u16;
        // SAFETY: live group.
        check(unsafe { sys::squall_group_port(self.as_raw(), &mut port) })?;
        Ok(port)
    }

    /// Start one thread per loop.
    pub fn start(&self) -> Result<()> {
        // SAFETY: live group; Group is not Send: this is the thread that
        // made it.
        check(unsafe { sys::squall_group_start(self.as_raw()) })
    }

    /// SIGTERM / SIGINT drain the group (grace `grace`, then the loops
    /// stop and [`join`](Self::join) returns).  Call before
    /// [`start`](Self::start) and before starting other threads.
    pub fn handle_signals(&self, grace: Option<Duration>) -> Result<()> {
        let grace_ms = grace.map(duration_ms).unwrap_or(-1);
        // SAFETY: live group; no restart argv.
        check(unsafe { sys::squall_group_handle_signals(self.as_raw(), grace_ms, ptr::null()) })
    }

    /// A `Send + Sync` handle: shutdown, stop, loop index of a request.
    pub fn handle(&self) -> GroupHandle {
        GroupHandle { shared: self.shared.clone() }
    }

    /// Wait until every loop returned (after a stop).  Not from one of the
    /// group's loops ([`ErrorKind::Thread`](crate::ErrorKind)).
    pub fn join(&self) -> Result<()> {
        // SAFETY: live group.
        check(unsafe { sys::squall_group_join(self.as_raw()) })
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.shared.clear();
        // SAFETY: owned; stops and joins the loops, then frees.
        unsafe { sys::squall_group_free(self.raw.as_ptr()) };
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("raw", &self.raw).finish()
    }
}

/// A `Send + Sync` handle to a [`Group`]; calls fail with
/// [`ErrorKind::Closed`](crate::ErrorKind) once the group is dropped.
#[derive(Clone)]
pub struct GroupHandle {
    shared: Arc<GroupShared>,
}

impl std::fmt::Debug for GroupHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupHandle").finish_non_exhaustive()
    }
}

impl GroupHandle {
    fn with<R>(&self, f: impl FnOnce(*mut sys::squall_group) -> Result<R>) -> Result<R> {
        self.shared.with("the group is gone", f)
    }

    /// Graceful drain of every loop: stop accepting, close idle
    /// connections, let requests in flight finish, cut the rest after
    /// `grace` (`None`: never).  `done` runs once on one of the loops when
    /// all are drained (`Err`: connections were cut).  The loops keep
    /// running: call [`stop`](Self::stop) (e.g. in `done`).
    pub fn shutdown<F>(&self, grace: Option<Duration>, done: F) -> Result<()>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        let grace_ms = grace.map(duration_ms).unwrap_or(-1);
        self.with(|g| {
            // SAFETY: live group (read lock held); one-shot callback.
            register_result_done(done, |cb, ud| unsafe { sys::squall_group_shutdown(g, grace_ms, cb, ud) })
        })
    }

    /// Ask every loop to stop.
    pub fn stop(&self) -> Result<()> {
        // SAFETY: live group (read lock held).
        self.with(|g| check(unsafe { sys::squall_group_stop(g) }))
    }

    /// The index of the loop serving `req` (`None` if not this group's).
    pub fn loop_index(&self, req: &Request) -> Option<usize> {
        self.with(|g| Ok(loop_index_raw(g, req.as_raw()))).ok().flatten()
    }
}
