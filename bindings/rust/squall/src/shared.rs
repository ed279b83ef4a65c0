//! A raw handle shared with `Send + Sync` handles (`ServerHandle`,
//! `GroupHandle`): the owner clears it before freeing, under the write
//! lock, so a handle's call either runs on a live object or fails.

use std::ptr;
use std::sync::{Arc, RwLock};

use squall_sys as sys;

use crate::error::{Error, Result};

pub(crate) struct SharedPtr<T> {
    ptr: RwLock<*mut T>,
}
// SAFETY: only [any thread] calls go through it, under the read lock.
unsafe impl<T> Send for SharedPtr<T> {}
unsafe impl<T> Sync for SharedPtr<T> {}

impl<T> SharedPtr<T> {
    pub(crate) fn new(p: *mut T) -> Arc<SharedPtr<T>> {
        Arc::new(SharedPtr { ptr: RwLock::new(p) })
    }

    /// The owner is about to free the object: later calls fail.
    pub(crate) fn clear(&self) {
        *self.ptr.write().unwrap_or_else(|p| p.into_inner()) = ptr::null_mut();
    }

    /// `f(object)` while it cannot be freed; `SQUALL_ECLOSED` with `gone`
    /// once it has been.
    pub(crate) fn with<R>(&self, gone: &str, f: impl FnOnce(*mut T) -> Result<R>) -> Result<R> {
        let g = self.ptr.read().unwrap_or_else(|p| p.into_inner());
        if g.is_null() {
            return Err(Error::new(sys::SQUALL_ECLOSED, gone));
        }
        f(*g)
    }
}
