//! Conversions to and from the [`http`] crate's types (as hyper and axum
//! use them).

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};

use crate::error::{Error, Result};
use crate::request::{Request, Responder};

/// The peer address of a request, put in the extensions of the
/// [`http::Request`]s this crate builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIp(pub String);

/// Header fields of up to this many are gathered on the stack.
const INLINE_FIELDS: usize = 32;

/// Request targets and header values are copied into chunks of this size,
/// shared by the requests converted on a thread (one allocation per chunk,
/// not one per value, as hyper reads into a shared buffer).  A value kept
/// keeps its chunk alive.
const ARENA_CHUNK: usize = 16 * 1024;

thread_local! {
    static ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// `size` bytes written by `fill`, as one [`Bytes`] cut from the thread's
/// arena.
fn arena_copy(size: usize, fill: impl FnOnce(&mut BytesMut)) -> Bytes {
    ARENA.with(|a| {
        let mut a = a.borrow_mut();
        if a.capacity() - a.len() < size {
            *a = BytesMut::with_capacity(size.max(ARENA_CHUNK));
        }
        fill(&mut a);
        a.split().freeze()
    })
}

fn bad(what: &str) -> Error {
    Error::new(squall_sys::SQUALL_EINVAL, format!("cannot convert request: {what}"))
}

impl Request {
    /// The request head as an [`http::request::Parts`] (copied), with a
    /// [`RemoteIp`] extension, and on HTTPS a
    /// [`TlsInfo<'static>`](crate::TlsInfo) one.
    pub fn to_http_parts(&self) -> Result<http::request::Parts> {
        use squall_sys as sys;
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method =
            http::Method::from_bytes(self.field(sys::SQUALL_REQ_METHOD)).map_err(|_| bad("method"))?;
        parts.version = match self.field(sys::SQUALL_REQ_VERSION) {
            b"HTTP/1.0" => http::Version::HTTP_10,
            b"HTTP/0.9" => http::Version::HTTP_09,
            _ => http::Version::HTTP_11,
        };
        // One pass over the fields (the http types validate names and
        // values themselves); the target and every value are copied into
        // one buffer and shared from it, as hyper shares its read buffer,
        // rather than allocated one by one.
        let target = self.field(sys::SQUALL_REQ_URI);
        let n = self.header_count();
        let mut inline = [(&[][..], &[][..]); INLINE_FIELDS];
        let mut more = Vec::new();
        let fields: &[(&[u8], &[u8])] = if n <= INLINE_FIELDS {
            let mut k = 0;
            while k < n {
                let Some(f) = self.header_bytes_at(k) else { break };
                inline[k] = f;
                k += 1;
            }
            &inline[..k]
        } else {
            more.extend((0..n).map_while(|i| self.header_bytes_at(i)));
            &more
        };
        let size = target.len() + fields.iter().map(|f| f.1.len()).sum::<usize>();
        let buf = arena_copy(size, |b| {
            b.extend_from_slice(target);
            for f in fields {
                b.extend_from_slice(f.1);
            }
        });
        parts.uri = http::Uri::from_maybe_shared(buf.slice(..target.len())).map_err(|_| bad("uri"))?;
        let mut h = http::HeaderMap::with_capacity(fields.len());
        let mut at = target.len();
        for (name, value) in fields {
            let name = HeaderName::from_bytes(name).map_err(|_| bad("header name"))?;
            let end = at + value.len();
            let value =
                HeaderValue::from_maybe_shared(buf.slice(at..end)).map_err(|_| bad("header value"))?;
            at = end;
            h.append(name, value);
        }
        parts.headers = h;
        parts
            .extensions
            .insert(RemoteIp(String::from_utf8_lossy(self.field(sys::SQUALL_REQ_REMOTE_IP)).into_owned()));
        if let Some(t) = self.tls() {
            parts.extensions.insert(t.into_owned());
        }
        Ok(parts)
    }

    /// A copy as an [`http::Request`] with a [`Bytes`] body.
    pub fn to_http(&self) -> Result<http::Request<Bytes>> {
        let parts = self.to_http_parts()?;
        Ok(http::Request::from_parts(parts, Bytes::copy_from_slice(self.body())))
    }

    /// A copy as an [`http::Request`] with a `Vec<u8>` body.
    pub fn to_http_vec(&self) -> Result<http::Request<Vec<u8>>> {
        let parts = self.to_http_parts()?;
        Ok(http::Request::from_parts(parts, self.body().to_vec()))
    }

    /// Split into an owned [`http::Request`] (copied) and the
    /// [`Responder`] that answers it, e.g. from another thread or task.
    /// If the request cannot be represented (it always can, coming from a
    /// strict parser) it is answered with 400.
    pub fn into_http(self) -> Result<(http::Request<Bytes>, Responder)> {
        match self.to_http() {
            Ok(r) => Ok((r, self.into_responder())),
            Err(e) => {
                let _ = self.respond(400, "text/plain", b"400: Bad Request\n");
                Err(e)
            }
        }
    }
}

impl TryFrom<&Request> for http::Request<Bytes> {
    type Error = Error;
    fn try_from(r: &Request) -> Result<Self> {
        r.to_http()
    }
}

impl TryFrom<&Request> for http::Request<Vec<u8>> {
    type Error = Error;
    fn try_from(r: &Request) -> Result<Self> {
        r.to_http_vec()
    }
}
