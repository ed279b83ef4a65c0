//! Safe Rust API for **squall**, a Tornado-style HTTP/1.1 server library on
//! libevent with a stable C ABI.
//!
//! ```no_run
//! use squall::{Loop, Server};
//!
//! fn main() -> Result<(), squall::Error> {
//!     let lp = Loop::new()?;
//!     let srv = Server::new(&lp, |req| {
//!         let body = format!("You requested {}\n", req.uri());
//!         let _ = req.respond(200, "text/plain", body);
//!     })?;
//!     srv.listen("127.0.0.1", 8080)?;
//!     lp.run()
//! }
//! ```
//!
//! The model is the C library's: a [`Loop`] is run by one thread; a
//! [`Server`] on it calls the handler on that thread for every request.  A
//! [`Request`] is `Send`: answer it at once, or move it (or the
//! [`Responder`] split off it) to another thread or task and answer it
//! there.  Panics in callbacks never cross into C: a panicking handler
//! answers 500 and the server keeps serving.  Handles may be dropped in any
//! order.
//!
//! HTTPS: a [`Config`] with [`Config::tls_cert`] serves TLS (OpenSSL runs
//! inside libsquall; no TLS crate is linked here), [`Request::tls`] tells
//! what the handshake settled, and [`Server::reload_tls`] swaps
//! certificates without a restart.
//!
//! With the `tower` feature, [`tower::handler`] runs a tower `Service` (an
//! axum `Router`) on the loop, with a tokio runtime doing the async work.

#![warn(missing_debug_implementations)]

mod config;
mod error;
mod event_loop;
mod group;
mod http_compat;
mod request;
mod server;
mod shared;
mod tls;
mod trampoline;

#[cfg(feature = "tower")]
pub mod tower;

pub use config::Config;
pub use error::{Error, ErrorKind, Result, strerror};
pub use event_loop::{Loop, LoopHandle, Timer};
pub use group::{Group, GroupHandle};
pub use http_compat::RemoteIp;
pub use request::{ArgSource, File, FlushFuture, HeadRequest, Headers, Request, Responder};
pub use server::{AccessRecord, ErrorKindHook, Server, ServerError, ServerHandle, Stats};
pub use tls::{ClientAuth, TlsInfo, TlsVersion};

/// The raw C declarations.
pub use squall_sys as sys;

use std::ffi::CStr;
use std::sync::OnceLock;

/// The loaded library's version, `"major.minor.patch"`.
pub fn version() -> &'static str {
    // SAFETY: static storage, never NULL.
    unsafe { CStr::from_ptr(sys::squall_version_string()) }.to_str().unwrap_or("?")
}

/// Check once that the loaded library has the ABI major this crate was
/// written for.
pub(crate) fn check_version() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    // SAFETY: plain call.
    let ok = *OK.get_or_init(|| unsafe { sys::squall_version() } >> 16 == sys::SQUALL_VERSION_MAJOR);
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            sys::SQUALL_ENOTSUP,
            format!("libsquall {} has another ABI major than {}", version(), sys::SQUALL_VERSION_STRING),
        ))
    }
}

/// Route the library's own log messages at or above `min_level` (one of
/// `sys::SQUALL_LOG_*`) to `f(level, message)`.
pub fn set_log<F>(min_level: i32, f: F) -> Result<()>
where
    F: Fn(i32, &str) + Send + Sync + 'static,
{
    unsafe extern "C" fn log_tramp<F: Fn(i32, &str) + Send + Sync>(
        level: std::ffi::c_int,
        msg: *const std::ffi::c_char,
        len: usize,
        ud: *mut std::ffi::c_void,
    ) {
        trampoline::guard("log sink", || {
            // SAFETY: msg valid during the call; ud is a Box<F> alive until release.
            let bytes = if msg.is_null() {
                &[][..]
            } else {
                unsafe { std::slice::from_raw_parts(msg as *const u8, len) }
            };
            let text = String::from_utf8_lossy(bytes);
            unsafe { (*(ud as *const F))(level, &text) };
        });
    }
    let ud = Box::into_raw(Box::new(f)) as *mut std::ffi::c_void;
    // SAFETY: release frees ud once no call can be in progress.
    let rc = unsafe {
        sys::squall_set_log(Some(log_tramp::<F>), min_level, ud, Some(trampoline::release_box::<F>))
    };
    if rc < 0 {
        let e = Error::last(rc);
        // SAFETY: registration failed.
        drop(unsafe { Box::from_raw(ud as *mut F) });
        return Err(e);
    }
    Ok(())
}

/// Restore the default log sink (stderr) at `min_level`.
pub fn reset_log(min_level: i32) -> Result<()> {
    // SAFETY: plain call.
    error::check(unsafe { sys::squall_set_log(None, min_level, std::ptr::null_mut(), None) })
}
