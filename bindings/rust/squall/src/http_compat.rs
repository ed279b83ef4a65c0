//! Conversions to and from the [`http`] crate's types (as hyper and axum
//! use them).

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};

use crate::error::{Error, Result};
use crate::request::{Request, Responder};

/// The peer address of a request, put in the extensions of the
/// [`http::Request`]s this crate builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIp(pub String);

fn bad(what: &str) -> Error {
    Error::new(squall_sys::SQUALL_EINVAL, format!("cannot convert request: {what}"))
}

impl Request {
    /// The request head as an [`http::request::Parts`] (copied), with a
    /// [`RemoteIp`] extension, and on HTTPS a
    /// [`TlsInfo<'static>`](crate::TlsInfo) one.
    pub fn to_http_parts(&self) -> Result<http::request::Parts> {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = http::Method::from_bytes(self.method().as_bytes()).map_err(|_| bad("method"))?;
        parts.uri = http::Uri::try_from(self.uri()).map_err(|_| bad("uri"))?;
        parts.version = match self.version() {
            "HTTP/1.0" => http::Version::HTTP_10,
            "HTTP/0.9" => http::Version::HTTP_09,
            _ => http::Version::HTTP_11,
        };
        let h = &mut parts.headers;
        h.reserve(self.header_count());
        for (name, value) in self.headers() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("header name"))?;
            let value = HeaderValue::from_bytes(value).map_err(|_| bad("header value"))?;
            h.append(name, value);
        }
        parts.extensions.insert(RemoteIp(self.remote_ip().to_string()));
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
