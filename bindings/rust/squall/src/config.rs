//! HTTP server options: a plain builder, applied when a server is made.

use std::path::Path;
use std::ptr::{self, NonNull};
use std::time::Duration;

use squall_sys as sys;

use crate::error::{Error, Result, check};
use crate::event_loop::duration_ms;
use crate::tls::{ClientAuth, TlsItem, TlsVersion};

/// Options of an HTTP server (Tornado's `HTTPServer` arguments).  Unset
/// options keep the library's defaults (see DESIGN §5 and `squall.h`).
///
/// ```no_run
/// use std::time::Duration;
/// let cfg = squall::Config::new()
///     .max_body_size(8 << 20)
///     .idle_timeout(Duration::from_secs(30))
///     .xheaders(true);
/// ```
///
/// A config with a certificate serves HTTPS (OpenSSL inside libsquall):
///
/// ```no_run
/// let cfg = squall::Config::new()
///     .tls_cert("/etc/ssl/example.pem", "/etc/ssl/example.key")
///     .tls_min_version(squall::TlsVersion::Tls12);
/// ```
///
/// TLS settings are checked when the server is made (or on
/// [`Server::reload_tls`](crate::Server::reload_tls)): a missing file, a key
/// that does not match its certificate, an unknown version or cipher give
/// an [`ErrorKind::Tls`](crate::ErrorKind::Tls) error whose message names
/// the file and OpenSSL's reason.  `Debug` never shows keys or passwords.
#[derive(Debug, Clone, Default)]
pub struct Config {
    ints: Vec<(i32, i64)>,
    strs: Vec<(i32, String)>,
    tls: Vec<TlsItem>,
}

macro_rules! int_opt {
    ($(#[$m:meta])* $name:ident, $key:ident, usize) => {
        $(#[$m])*
        pub fn $name(self, v: usize) -> Self {
            self.set_int(sys::$key, v.min(i64::MAX as usize) as i64)
        }
    };
    ($(#[$m:meta])* $name:ident, $key:ident, bool) => {
        $(#[$m])*
        pub fn $name(self, on: bool) -> Self {
            self.set_int(sys::$key, on as i64)
        }
    };
    ($(#[$m:meta])* $name:ident, $key:ident, Duration) => {
        $(#[$m])*
        pub fn $name(self, d: Duration) -> Self {
            self.set_int(sys::$key, duration_ms(d))
        }
    };
}

impl Config {
    /// The defaults.
    pub fn new() -> Config {
        Config::default()
    }

    /// Set an integer option by its `SQUALL_OPT_*` key (for options this
    /// binding has no method for).  Checked when the server is made.
    pub fn set_int(mut self, key: i32, value: i64) -> Self {
        self.ints.retain(|(k, _)| *k != key);
        self.ints.push((key, value));
        self
    }

    /// Set a string option by its `SQUALL_OPT_*` key.
    pub fn set_str(mut self, key: i32, value: impl Into<String>) -> Self {
        self.strs.push((key, value.into()));
        self
    }

    int_opt!(
        /// Listen backlog (128).
        backlog, SQUALL_OPT_BACKLOG, usize);
    int_opt!(
        /// Largest request head in bytes (64 KiB); past it, 431.
        max_header_size, SQUALL_OPT_MAX_HEADER_SIZE, usize);
    int_opt!(
        /// Largest request body in bytes (100 MiB); past it, 413.
        max_body_size, SQUALL_OPT_MAX_BODY_SIZE, usize);
    int_opt!(
        /// Piece size of a streamed request body (64 KiB).
        chunk_size, SQUALL_OPT_CHUNK_SIZE, usize);
    int_opt!(
        /// The request head must arrive within this (60 s; zero: none).
        header_timeout, SQUALL_OPT_HEADER_TIMEOUT_MS, Duration);
    int_opt!(
        /// Longest pause between two reads of a request body (60 s; zero: none).
        body_timeout, SQUALL_OPT_BODY_TIMEOUT_MS, Duration);
    int_opt!(
        /// Keep-alive idle limit (75 s; zero: none).
        idle_timeout, SQUALL_OPT_IDLE_TIMEOUT_MS, Duration);
    int_opt!(
        /// Close the connection after every response.
        no_keep_alive, SQUALL_OPT_NO_KEEP_ALIVE, bool);
    int_opt!(
        /// Trust X-Real-IP / X-Forwarded-For and X-Scheme / X-Forwarded-Proto.
        xheaders, SQUALL_OPT_XHEADERS, bool);
    int_opt!(
        /// Gunzip request bodies sent with `Content-Encoding: gzip`.
        decompress_request, SQUALL_OPT_DECOMPRESS_REQUEST, bool);
    int_opt!(
        /// Most header fields in a request (100); past it, 431.
        max_header_count, SQUALL_OPT_MAX_HEADER_COUNT, usize);
    int_opt!(
        /// Most open connections (0: unlimited); past it accepting pauses.
        max_connections, SQUALL_OPT_MAX_CONNECTIONS, usize);
    int_opt!(
        /// SO_REUSEPORT on listen (N loops in N threads on one port).
        reuse_port, SQUALL_OPT_REUSE_PORT, bool);
    int_opt!(
        /// Longest request target (8 KiB); past it, 414.
        max_uri_size, SQUALL_OPT_MAX_URI_SIZE, usize);
    int_opt!(
        /// Error-hook calls per second (10).
        error_rate, SQUALL_OPT_ERROR_RATE, usize);
    int_opt!(
        /// TCP_NODELAY on accepted connections (on).
        nodelay, SQUALL_OPT_NODELAY, bool);

    /// Add downstream proxy addresses (comma separated) skipped in
    /// X-Forwarded-For when [`xheaders`](Self::xheaders) is on.
    pub fn trusted_downstream(self, ips: impl Into<String>) -> Self {
        self.set_str(sys::SQUALL_OPT_TRUSTED_DOWNSTREAM, ips)
    }

    /// Serve HTTPS with a certificate chain (PEM file: the leaf first, then
    /// intermediates) and its private key (PEM file, maybe encrypted: see
    /// [`tls_key_password`](Self::tls_key_password)).  The first
    /// certificate is the default; a client naming a server (SNI) that
    /// another certificate's names match gets that one.
    pub fn tls_cert(mut self, cert_file: impl AsRef<Path>, key_file: impl AsRef<Path>) -> Self {
        self.tls.push(TlsItem::CertFiles(cert_file.as_ref().to_path_buf(), key_file.as_ref().to_path_buf()));
        self
    }

    /// [`tls_cert`](Self::tls_cert) from PEM text in memory.
    pub fn tls_cert_pem(mut self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        self.tls.push(TlsItem::CertPem(cert_pem.as_ref().to_vec(), key_pem.as_ref().to_vec()));
        self
    }

    /// Password of the encrypted private keys added *after* this call
    /// (`""`: none).
    pub fn tls_key_password(mut self, password: impl Into<String>) -> Self {
        self.tls.push(TlsItem::KeyPassword(password.into()));
        self
    }

    /// Lowest TLS version accepted (TLS 1.2).
    pub fn tls_min_version(self, v: TlsVersion) -> Self {
        let s = match v {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        };
        self.set_str(sys::SQUALL_OPT_TLS_MIN_VERSION, s)
    }

    /// TLS 1.2 cipher list in OpenSSL's syntax
    /// (`"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"`).
    pub fn tls_ciphers(self, list: impl Into<String>) -> Self {
        self.set_str(sys::SQUALL_OPT_TLS_CIPHERS, list)
    }

    /// TLS 1.3 cipher suites, colon separated
    /// (`"TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"`).
    pub fn tls_ciphersuites(self, list: impl Into<String>) -> Self {
        self.set_str(sys::SQUALL_OPT_TLS_CIPHERSUITES, list)
    }

    /// Ask clients for a certificate, verified against
    /// [`tls_client_ca`](Self::tls_client_ca).
    pub fn tls_client_auth(self, auth: ClientAuth) -> Self {
        let v = match auth {
            ClientAuth::None => sys::SQUALL_TLS_CLIENT_NONE,
            ClientAuth::Request => sys::SQUALL_TLS_CLIENT_REQUEST,
            ClientAuth::Require => sys::SQUALL_TLS_CLIENT_REQUIRE,
        };
        self.set_int(sys::SQUALL_OPT_TLS_CLIENT_AUTH, i64::from(v))
    }

    /// PEM file of the CAs client certificates must chain to.
    pub fn tls_client_ca(self, ca_file: impl AsRef<Path>) -> Self {
        self.set_str(sys::SQUALL_OPT_TLS_CLIENT_CA, ca_file.as_ref().to_string_lossy().into_owned())
    }

    int_opt!(
        /// Session resumption by tickets (on; off: every handshake is full).
        tls_session_tickets, SQUALL_OPT_TLS_SESSION_TICKETS, bool);
    int_opt!(
        /// The TLS handshake must end within this (10 s; zero: none).
        tls_handshake_timeout, SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS, Duration);

    /// The `Server` value squall adds to every response it writes, its own
    /// 4xx/5xx included (default `squall`); `""` leaves the field out.  A
    /// `Server` header set on a response still wins.
    pub fn server_header(self, value: impl Into<String>) -> Self {
        self.set_str(sys::SQUALL_OPT_SERVER_HEADER, value)
    }

    /// Build the C config object (freed by the returned guard).
    pub(crate) fn to_raw(&self) -> Result<RawConfig> {
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer to a local.
        check(unsafe { sys::squall_config_new(&mut raw) })?;
        let raw = RawConfig(NonNull::new(raw).ok_or_else(|| Error::new(sys::SQUALL_ENOMEM, "no config"))?);
        for &(k, v) in &self.ints {
            // SAFETY: live config, used by this thread only.
            check(unsafe { sys::squall_config_set_int(raw.0.as_ptr(), k, v) })?;
        }
        for (k, s) in &self.strs {
            // SAFETY: string copied by the library.
            check(unsafe { sys::squall_config_set_str(raw.0.as_ptr(), *k, s.as_ptr().cast(), s.len()) })?;
        }
        for item in &self.tls {
            item.apply(raw.0.as_ptr())?;
        }
        Ok(raw)
    }
}

pub(crate) struct RawConfig(NonNull<sys::squall_config>);

impl RawConfig {
    pub(crate) fn as_ptr(&self) -> *const sys::squall_config {
        self.0.as_ptr()
    }
}

impl Drop for RawConfig {
    fn drop(&mut self) {
        // SAFETY: we own it; servers keep their own copy.
        unsafe { sys::squall_config_free(self.0.as_ptr()) };
    }
}
