//! `extern "C"` trampolines: C calls these with a `user_data` that is a
//! `Box` made by this crate.  Every one of them catches panics, so no unwind
//! ever crosses squall's C/C++ frames.

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run `f`, swallowing (and reporting) a panic.
#[inline]
pub(crate) fn guard<R>(what: &str, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            report_panic(what, payload);
            None
        }
    }
}

/// The default panic hook has already printed the message; note where it was
/// caught, and drop the payload without letting a panicking `Drop` escape.
pub(crate) fn report_panic(what: &str, payload: Box<dyn Any + Send>) {
    let _ = catch_unwind(AssertUnwindSafe(move || {
        eprintln!("squall: panic in {what} caught at the C boundary");
        drop(payload);
    }));
}

/// release(user_data) for any `Box<T>`.
pub(crate) unsafe extern "C" fn release_box<T>(ud: *mut c_void) {
    guard("release", || {
        // SAFETY: ud came from Box::<T>::into_raw and the library calls
        // release exactly once, after the last use.
        drop(unsafe { Box::from_raw(ud as *mut T) });
    });
}

/// One-shot callback owning its closure (`call_soon`): runs and frees it.
pub(crate) unsafe extern "C" fn once_boxed<F: FnOnce()>(ud: *mut c_void) {
    guard("call_soon callback", || {
        // SAFETY: ud is a Box<F>; one-shot callbacks run exactly once.
        let f = unsafe { Box::from_raw(ud as *mut F) };
        f();
    });
}

/// One-shot callback whose box is freed by a separate release
/// (`call_later`): take the closure out, leave `None` for release.
pub(crate) unsafe extern "C" fn once_local<F: FnOnce()>(ud: *mut c_void) {
    guard("timer callback", || {
        // SAFETY: ud is a Box<Option<F>> alive until release.
        let slot = unsafe { &mut *(ud as *mut Option<F>) };
        if let Some(f) = slot.take() {
            f();
        }
    });
}

/// Multi-shot callback (`call_every`).
pub(crate) unsafe extern "C" fn repeat_local<F: FnMut()>(ud: *mut c_void) {
    guard("periodic callback", || {
        // SAFETY: ud is a Box<F> alive until release; calls never overlap
        // (one loop thread).
        let f = unsafe { &mut *(ud as *mut F) };
        f();
    });
}

/// One-shot completion (`done(status)`) owning its closure.
pub(crate) unsafe extern "C" fn done_boxed<F: FnOnce(c_int)>(status: c_int, ud: *mut c_void) {
    guard("completion callback", || {
        // SAFETY: ud is a Box<F>; one-shot callbacks run exactly once.
        let f = unsafe { Box::from_raw(ud as *mut F) };
        f(status);
    });
}

/// Register a one-shot completion `f` through `reg(fn, user_data)`; frees
/// the closure if registration fails (the library then never calls it).
pub(crate) fn register_done<F>(
    f: F,
    reg: impl FnOnce(squall_sys::squall_done_fn, *mut c_void) -> c_int,
) -> crate::Result<()>
where
    F: FnOnce(c_int) + Send + 'static,
{
    let ud = Box::into_raw(Box::new(f));
    let rc = reg(Some(done_boxed::<F>), ud as *mut c_void);
    if rc < 0 {
        let err = crate::Error::last(rc);
        // SAFETY: registration failed; the library never uses ud.
        drop(unsafe { Box::from_raw(ud) });
        return Err(err);
    }
    Ok(())
}
