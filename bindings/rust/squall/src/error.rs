//! Errors: a squall return code plus the library's message for it.

use std::ffi::CStr;
use std::fmt;

use squall_sys as sys;

/// What went wrong, from the library's `SQUALL_E*` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Unclassified failure (`SQUALL_ERROR`).
    Other,
    /// Out of memory.
    NoMemory,
    /// Bad argument: range, bytes (a header name that is not a token, ...).
    InvalidArgument,
    /// Wrong state: already running, out of order (a header after the body).
    State,
    /// A loop-thread call was made from another thread.
    WrongThread,
    /// The stream, connection, server or loop is gone.
    Closed,
    /// No such host, header, argument or file.
    NotFound,
    /// Unknown option or unsupported feature.
    NotSupported,
    /// Address already in use.
    AddrInUse,
    /// TLS: a bad certificate, key, password, version or cipher
    /// (`SQUALL_ETLS`); the message names the file and OpenSSL's reason.
    Tls,
    /// A timeout expired.
    TimedOut,
    /// A size limit was exceeded.
    TooBig,
    /// Socket error.
    Io,
    /// Write buffer full.
    Busy,
    /// Permission denied.
    PermissionDenied,
    /// A code this binding does not know (a newer library).
    Unknown(i32),
}

impl ErrorKind {
    /// The kind of a negative `SQUALL_E*` code.
    pub fn from_code(code: i32) -> ErrorKind {
        match code {
            sys::SQUALL_ERROR => ErrorKind::Other,
            sys::SQUALL_ENOMEM => ErrorKind::NoMemory,
            sys::SQUALL_EINVAL => ErrorKind::InvalidArgument,
            sys::SQUALL_ESTATE => ErrorKind::State,
            sys::SQUALL_ETHREAD => ErrorKind::WrongThread,
            sys::SQUALL_ECLOSED => ErrorKind::Closed,
            sys::SQUALL_ENOTFOUND => ErrorKind::NotFound,
            sys::SQUALL_ENOTSUP => ErrorKind::NotSupported,
            sys::SQUALL_EADDRINUSE => ErrorKind::AddrInUse,
            sys::SQUALL_ETLS => ErrorKind::Tls,
            sys::SQUALL_ETIMEDOUT => ErrorKind::TimedOut,
            sys::SQUALL_ETOOBIG => ErrorKind::TooBig,
            sys::SQUALL_EIO => ErrorKind::Io,
            sys::SQUALL_EBUSY => ErrorKind::Busy,
            sys::SQUALL_EPERM => ErrorKind::PermissionDenied,
            c => ErrorKind::Unknown(c),
        }
    }
}

/// A failed squall call: its code and the message `squall_last_error()` gave
/// on the failing thread right after the call.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
}

/// `Result<T, squall::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Build an error for `code`, reading the calling thread's last-error
    /// message.  Call right after the failing call, on the same thread.
    pub(crate) fn last(code: i32) -> Error {
        // SAFETY: squall_last_error never returns NULL; the string is valid
        // until this thread's next squall call, and we copy it at once.
        let msg = unsafe { CStr::from_ptr(sys::squall_last_error()) };
        let mut message = msg.to_string_lossy().into_owned();
        if message.is_empty() {
            message = strerror(code).to_string();
        }
        Error { code, message }
    }

    /// An error with a code and a message of the binding's own.
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// The `SQUALL_E*` code (negative).
    pub fn code(&self) -> i32 {
        self.code
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from_code(self.code)
    }

    /// The library's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `true` for [`ErrorKind::Closed`] (the peer or the server is gone).
    pub fn is_closed(&self) -> bool {
        self.code == sys::SQUALL_ECLOSED
    }
}

/// Static English text for a code (`squall_strerror`).
pub fn strerror(code: i32) -> &'static str {
    // SAFETY: squall_strerror returns static storage, never NULL.
    unsafe { CStr::from_ptr(sys::squall_strerror(code)) }.to_str().unwrap_or("unknown error")
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "squall: {} ({})", self.message, strerror(self.code))
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            ErrorKind::AddrInUse => K::AddrInUse,
            ErrorKind::PermissionDenied => K::PermissionDenied,
            ErrorKind::TimedOut => K::TimedOut,
            ErrorKind::NotFound => K::NotFound,
            ErrorKind::InvalidArgument => K::InvalidInput,
            ErrorKind::Tls => K::InvalidData,
            ErrorKind::Closed => K::NotConnected,
            ErrorKind::NoMemory => K::OutOfMemory,
            ErrorKind::NotSupported => K::Unsupported,
            ErrorKind::Busy => K::WouldBlock,
            _ => K::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// Turn a return code into a `Result`.
#[inline]
pub(crate) fn check(rc: i32) -> Result<()> {
    if rc >= 0 { Ok(()) } else { Err(Error::last(rc)) }
}
