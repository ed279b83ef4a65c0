//! HTTPS: the TLS options of [`Config`](crate::Config), and what a
//! request's TLS handshake settled.  OpenSSL stays inside libsquall: this
//! crate only passes file names, PEM text and option strings across.

use std::borrow::Cow;
use std::ffi::CString;
use std::fmt;
use std::path::{Path, PathBuf};

use squall_sys as sys;

use crate::error::{Error, Result, check};

/// The lowest TLS version a server accepts (TLS 1.0 and 1.1 are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3 (the default).
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// Whether a server asks clients for a certificate (as nginx's
/// `ssl_verify_client`).  A certificate given is always verified against
/// [`Config::tls_client_ca`](crate::Config::tls_client_ca).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No certificate asked for (the default).
    #[default]
    None,
    /// Asked for: a client without one is served, one with a bad one is
    /// refused.
    Request,
    /// A verified certificate is required.
    Require,
}

/// One TLS setting, kept in the order given (a key password applies to the
/// keys added after it, as in the C API).
#[derive(Clone)]
pub(crate) enum TlsItem {
    CertFiles(PathBuf, PathBuf),
    CertPem(Vec<u8>, Vec<u8>),
    KeyPassword(String),
}

impl fmt::Debug for TlsItem {
    // Never prints key material or a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsItem::CertFiles(c, k) => f.debug_tuple("CertFiles").field(c).field(k).finish(),
            TlsItem::CertPem(c, _) => write!(f, "CertPem({} bytes, key redacted)", c.len()),
            TlsItem::KeyPassword(_) => f.write_str("KeyPassword(redacted)"),
        }
    }
}

fn c_path(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::new(sys::SQUALL_EINVAL, format!("{}: a path with a NUL byte", p.display())))
}

impl TlsItem {
    /// Apply to a C config (this thread only).
    pub(crate) fn apply(&self, cfg: *mut sys::squall_config) -> Result<()> {
        match self {
            TlsItem::CertFiles(c, k) => {
                let (c, k) = (c_path(c)?, c_path(k)?);
                // SAFETY: live config; strings read during the call.
                check(unsafe { sys::squall_config_add_tls_cert(cfg, c.as_ptr(), k.as_ptr()) })
            }
            TlsItem::CertPem(c, k) => {
                // SAFETY: live config; PEM read at once, not kept.
                check(unsafe {
                    sys::squall_config_add_tls_cert_pem(
                        cfg,
                        c.as_ptr().cast(),
                        c.len(),
                        k.as_ptr().cast(),
                        k.len(),
                    )
                })
            }
            TlsItem::KeyPassword(p) => {
                let mut bytes = p.as_bytes().to_vec();
                if bytes.contains(&0) {
                    return Err(Error::new(sys::SQUALL_EINVAL, "a key password with a NUL byte"));
                }
                bytes.push(0);
                // SAFETY: live config; the password is copied by the library.
                let rc = unsafe { sys::squall_config_set_tls_key_password(cfg, bytes.as_ptr().cast()) };
                // Wipe our temporary copy (volatile: not optimised away).
                for b in bytes.iter_mut() {
                    // SAFETY: a valid, exclusive reference.
                    unsafe { std::ptr::write_volatile(b, 0) };
                }
                check(rc)
            }
        }
    }
}

/// What the TLS handshake of a request's connection settled; see
/// [`Request::tls`](crate::Request::tls).  Borrowed from the request (no
/// copies); [`into_owned`](Self::into_owned) makes a `'static` copy (the
/// one put in the extensions of the `http::Request`s this crate builds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo<'a> {
    /// `"TLSv1.3"` or `"TLSv1.2"`.
    pub version: Cow<'a, str>,
    /// OpenSSL's name of the cipher: `"TLS_AES_128_GCM_SHA256"`,
    /// `"ECDHE-ECDSA-AES128-GCM-SHA256"`.
    pub cipher: Cow<'a, str>,
    /// The server name the client sent (SNI), `""` if none.
    pub server_name: Cow<'a, str>,
    /// The negotiated ALPN protocol (`"http/1.1"`), `""` if none.
    pub alpn: Cow<'a, str>,
    /// The verified client certificate's subject (RFC 2253), `""` if none.
    pub peer_subject: Cow<'a, str>,
    /// That certificate in PEM, `""` if none.
    pub peer_cert_pem: Cow<'a, str>,
    /// The session was resumed (a ticket): no full handshake.
    pub resumed: bool,
}

impl TlsInfo<'_> {
    /// A copy that owns its strings.
    pub fn into_owned(self) -> TlsInfo<'static> {
        TlsInfo {
            version: Cow::Owned(self.version.into_owned()),
            cipher: Cow::Owned(self.cipher.into_owned()),
            server_name: Cow::Owned(self.server_name.into_owned()),
            alpn: Cow::Owned(self.alpn.into_owned()),
            peer_subject: Cow::Owned(self.peer_subject.into_owned()),
            peer_cert_pem: Cow::Owned(self.peer_cert_pem.into_owned()),
            resumed: self.resumed,
        }
    }

    /// A client certificate was given and verified.
    pub fn has_peer_cert(&self) -> bool {
        !self.peer_cert_pem.is_empty()
    }
}
