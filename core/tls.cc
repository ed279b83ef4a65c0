// TLS over OpenSSL 3 (core/tls.h): options checked when set, contexts built
// from them, and the server-side TLSTransport.
#include "core/tls.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>

#include "core/status.h"

namespace squall {

namespace {

// OpenSSL's reason for the last failure on this thread (and clear the queue).
std::string ssl_reason() {
  unsigned long code = ERR_peek_last_error();
  std::string r;
  if (code != 0) {
    const char* s = ERR_reason_error_string(code);
    r = s ? s : "error " + std::to_string(ERR_GET_REASON(code));
    const char* lib = ERR_lib_error_string(code);
    if (lib) r = std::string(lib) + ": " + r;
  } else if (errno != 0) {
    r = strerror(errno);
  } else {
    r = "unknown error";
  }
  ERR_clear_error();
  return r;
}

int tls_fail(std::string_view what) { return fail(kTLS, std::string(what) + ": " + ssl_reason()); }

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

int password_cb(char* buf, int size, int, void* u) {
  auto* pw = static_cast<const std::string*>(u);
  if (!pw || pw->empty()) return -1;  // never prompt on a terminal
  int n = int(std::min<size_t>(pw->size(), size_t(size)));
  memcpy(buf, pw->data(), size_t(n));
  return n;
}

// Certificate chain (leaf first) and key from two PEM sources.
int load_cert_key(BIO* cert_bio, BIO* key_bio, const std::string& cert_name,
                  const std::string& key_name, const std::string& password,
                  std::shared_ptr<const CertKey>* out) {
  auto ck = std::make_shared<CertKey>();
  ck->name = cert_name;
  ERR_clear_error();
  X509* leaf = PEM_read_bio_X509_AUX(cert_bio, nullptr, nullptr, nullptr);
  if (!leaf) return tls_fail("cannot read a certificate from " + cert_name);
  ck->chain.push_back(leaf);
  while (X509* x = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr)) ck->chain.push_back(x);
  ERR_clear_error();  // the end of the file reads as "no start line"
  ck->key =
      PEM_read_bio_PrivateKey(key_bio, nullptr, password_cb, const_cast<std::string*>(&password));
  if (!ck->key) return tls_fail("cannot read the private key from " + key_name);
  if (X509_check_private_key(leaf, ck->key) != 1)
    return tls_fail("the private key in " + key_name + " does not match the certificate in " +
                    cert_name);
  *out = std::move(ck);
  return kOk;
}

// Keep a scratch context to try version and cipher strings against.
struct Scratch {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ~Scratch() { SSL_CTX_free(ctx); }
};

int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  // Only HTTP/1.1 is served: a client that offers neither it nor HTTP/1.0
  // (say, only h2) gets a no_application_protocol alert, not a hang.
  for (unsigned i = 0; i < inlen;) {
    unsigned l = in[i];
    if (i + 1 + l > inlen) break;
    const char* p = reinterpret_cast<const char*>(in + i + 1);
    if (l == 8 && (memcmp(p, "http/1.1", 8) == 0 || memcmp(p, "http/1.0", 8) == 0)) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(l);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + l;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int sni_select(SSL* s, int*, void* arg) {
  auto* c = static_cast<const TLSContext*>(arg);
  const char* name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
  if (name) {
    SSL_CTX* x = c->ctx_for(name);
    if (x && x != SSL_get_SSL_CTX(s)) SSL_set_SSL_CTX(s, x);
  }
  return SSL_TLSEXT_ERR_OK;
}

// Told after each recv OpenSSL makes on a connection's socket: a read that
// got fewer bytes than it asked for drained the socket (as a short read does
// on plain TCP), so the stream need not try again until epoll says so.
long socket_read_seen(BIO* b, int oper, const char*, size_t len, int, long, int ret,
                      size_t* processed) {
  if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
    auto* drained = reinterpret_cast<bool*>(BIO_get_callback_arg(b));
    *drained = ret > 0 && processed && *processed < len;
  }
  return ret;
}

int ticket_key(SSL* s, unsigned char name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx,
               EVP_MAC_CTX* mctx, int enc) {
  auto* c = static_cast<const TLSContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(s)));
  if (!c) return -1;
  return c->tickets()->callback(name, iv, cctx, mctx, enc);
}

constexpr int64_t kTicketPeriodS = 3600;  // a new key every hour
constexpr uint64_t kTicketEpochs = 2;     // accepted for two more hours
constexpr long kSessionTimeoutS = 3 * kTicketPeriodS;

}  // namespace

CertKey::~CertKey() {
  for (X509* x : chain) X509_free(x);
  EVP_PKEY_free(key);
}

// ------------------------------------------------------------ TicketKeys

TicketKeys::TicketKeys() {
  if (RAND_bytes(cur_.bytes, sizeof cur_.bytes) != 1) ERR_clear_error();
}

std::shared_ptr<TicketKeys> TicketKeys::next() const {
  auto k = std::make_shared<TicketKeys>();
  static const char kLabel[] = "squall ticket reload";
  size_t n = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, cur_.bytes, sizeof cur_.bytes,
            reinterpret_cast<const unsigned char*>(kLabel), sizeof kLabel - 1, k->cur_.bytes,
            sizeof k->cur_.bytes, &n);
  k->prev_ = cur_;
  k->has_prev_ = true;
  return k;
}

// name = 8 bytes naming the secret, then the epoch (big-endian).
bool TicketKeys::derive(const Secret& s, uint64_t epoch, unsigned char name[16],
                        unsigned char aes[32], unsigned char mac[32]) const {
  unsigned char msg[9];
  unsigned char tag[32];
  size_t n = 0;
  for (int i = 0; i < 8; i++) msg[1 + i] = static_cast<unsigned char>(epoch >> (56 - 8 * i));
  msg[0] = 'N';
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, s.bytes, sizeof s.bytes, msg, 1, tag,
                 sizeof tag, &n))
    return false;
  memcpy(name, tag, 8);
  memcpy(name + 8, msg + 1, 8);
  msg[0] = 'A';
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, s.bytes, sizeof s.bytes, msg, 9, aes,
                 32, &n))
    return false;
  msg[0] = 'M';
  return EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, s.bytes, sizeof s.bytes, msg, 9,
                   mac, 32, &n) != nullptr;
}

int TicketKeys::callback(unsigned char name[16], unsigned char* iv, void* cipher_ctx, void* mac_ctx,
                         int enc) const {
  auto* cctx = static_cast<EVP_CIPHER_CTX*>(cipher_ctx);
  auto* mctx = static_cast<EVP_MAC_CTX*>(mac_ctx);
  uint64_t now = uint64_t(time(nullptr)) / kTicketPeriodS;
  unsigned char aes[32], mac[32], want[16];
  int ret = 1;
  if (enc) {
    if (!derive(cur_, now, name, aes, mac) || RAND_bytes(iv, 16) != 1 ||
        !EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, aes, iv))
      return -1;
  } else {
    uint64_t epoch = 0;
    for (int i = 0; i < 8; i++) epoch = (epoch << 8) | name[8 + i];
    if (epoch > now || now - epoch > kTicketEpochs) return 0;  // expired: full handshake
    const Secret* found = nullptr;
    if (derive(cur_, epoch, want, aes, mac) && memcmp(want, name, 16) == 0) {
      found = &cur_;
    } else if (has_prev_ && derive(prev_, epoch, want, aes, mac) && memcmp(want, name, 16) == 0) {
      found = &prev_;
    }
    if (!found) return 0;
    if (!EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, aes, iv)) return -1;
    ret = (found == &cur_ && epoch == now) ? 1 : 2;  // 2: issue a fresh ticket
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, mac, 32),
                         OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!EVP_MAC_CTX_set_params(mctx, params)) return -1;
  return ret;
}

// ------------------------------------------------------------ TLSOptions

TLSOptions::TLSOptions() : min_version(TLS1_2_VERSION), tickets(std::make_shared<TicketKeys>()) {}

int TLSOptions::add_cert_files(const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();
  errno = 0;
  BioPtr cb(BIO_new_file(cert_file.c_str(), "r"));
  if (!cb) return tls_fail("cannot open certificate file " + cert_file);
  BioPtr kb(BIO_new_file(key_file.c_str(), "r"));
  if (!kb) return tls_fail("cannot open private key file " + key_file);
  std::shared_ptr<const CertKey> ck;
  if (int st = load_cert_key(cb.get(), kb.get(), cert_file, key_file, key_password, &ck)) return st;
  certs.push_back(std::move(ck));
  return kOk;
}

int TLSOptions::add_cert_pem(std::string_view cert_pem, std::string_view key_pem) {
  ERR_clear_error();
  BioPtr cb(BIO_new_mem_buf(cert_pem.data(), int(cert_pem.size())));
  BioPtr kb(BIO_new_mem_buf(key_pem.data(), int(key_pem.size())));
  if (!cb || !kb) return fail(kNoMem, "out of memory");
  std::shared_ptr<const CertKey> ck;
  if (int st = load_cert_key(cb.get(), kb.get(), "the certificate PEM", "the key PEM", key_password,
                             &ck))
    return st;
  certs.push_back(std::move(ck));
  return kOk;
}

int TLSOptions::set_min_version(std::string_view v) {
  std::string s(v);
  for (auto& ch : s) ch = char(tolower(static_cast<unsigned char>(ch)));
  if (s.rfind("tlsv", 0) == 0)
    s = s.substr(4);
  else if (s.rfind("tls", 0) == 0)
    s = s.substr(3);
  if (s == "1.2") {
    min_version = TLS1_2_VERSION;
  } else if (s == "1.3") {
    min_version = TLS1_3_VERSION;
  } else if (s == "1.0" || s == "1.1" || s == "1") {
    return fail(kTLS, "TLS " + std::string(v) + " is refused (RFC 8996): use 1.2 or 1.3");
  } else {
    return fail(kTLS, "unknown TLS version '" + std::string(v) + "': use 1.2 or 1.3");
  }
  return kOk;
}

namespace {
// Try a cipher string on a scratch context before keeping it.
int try_cipher_string(std::string_view list, int (*apply)(SSL_CTX*, const char*), const char* what,
                      std::string* keep) {
  Scratch s;
  std::string l(list);
  if (!s.ctx) return fail(kNoMem, "out of memory");
  if (!l.empty() && apply(s.ctx, l.c_str()) != 1)
    return tls_fail(std::string("unknown ") + what + " '" + l + "'");
  *keep = std::move(l);
  return kOk;
}
}  // namespace

int TLSOptions::set_ciphers(std::string_view list) {
  return try_cipher_string(list, SSL_CTX_set_cipher_list, "TLS 1.2 cipher list", &ciphers);
}

int TLSOptions::set_ciphersuites(std::string_view list) {
  return try_cipher_string(list, SSL_CTX_set_ciphersuites, "TLS 1.3 ciphersuites", &ciphersuites);
}

int TLSOptions::set_client_ca(const std::string& file) {
  Scratch s;
  ERR_clear_error();
  errno = 0;
  if (!s.ctx) return fail(kNoMem, "out of memory");
  if (SSL_CTX_load_verify_locations(s.ctx, file.c_str(), nullptr) != 1)
    return tls_fail("cannot load client CA file " + file);
  client_ca_file = file;
  return kOk;
}

// ------------------------------------------------------------ TLSContext

int TLSContext::create(const TLSOptions& o, std::shared_ptr<const TLSContext>* out) {
  if (o.certs.empty()) return fail(kTLS, "TLS needs a certificate and key");
  if (o.client_auth != ClientAuth::kNone && o.client_ca_file.empty())
    return fail(kTLS, "client certificates need a CA file to verify them against");
  std::shared_ptr<TLSContext> c(new TLSContext());
  c->certs_ = o.certs;
  c->tickets_ = o.tickets ? o.tickets : std::make_shared<TicketKeys>();
  c->handshake_timeout_ms_ = o.handshake_timeout_ms;
  ERR_clear_error();
  for (const auto& ck : o.certs) {
    SSL_CTX* x = SSL_CTX_new(TLS_server_method());
    if (!x) return tls_fail("cannot create a TLS context");
    c->ctxs_.push_back(x);
    SSL_CTX_set_app_data(x, c.get());
    SSL_CTX_set_min_proto_version(x, o.min_version);
    uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION | SSL_OP_ENABLE_KTLS;
    if (!o.session_tickets) opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(x, opts);
    // Idle connections give their 2 x 16 KiB record buffers back; writes
    // may be partial and retried from a moved (but equal) buffer.
    SSL_CTX_set_mode(x, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(x, 1);  // one recv per batch, not two per record
    SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);  // tickets resume
    SSL_CTX_set_timeout(x, kSessionTimeoutS);
    SSL_CTX_set_session_id_context(x, reinterpret_cast<const unsigned char*>("squall"), 6);
    if (o.session_tickets) SSL_CTX_set_tlsext_ticket_key_evp_cb(x, ticket_key);
    if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(x, o.ciphers.c_str()) != 1)
      return tls_fail("cipher list '" + o.ciphers + "'");
    if (!o.ciphersuites.empty() && SSL_CTX_set_ciphersuites(x, o.ciphersuites.c_str()) != 1)
      return tls_fail("ciphersuites '" + o.ciphersuites + "'");
    if (SSL_CTX_use_certificate(x, ck->chain[0]) != 1)
      return tls_fail("certificate from " + ck->name);
    for (size_t i = 1; i < ck->chain.size(); i++)
      if (SSL_CTX_add1_chain_cert(x, ck->chain[i]) != 1)
        return tls_fail("chain certificate from " + ck->name);
    if (SSL_CTX_use_PrivateKey(x, ck->key) != 1 || SSL_CTX_check_private_key(x) != 1)
      return tls_fail("private key for " + ck->name);
    SSL_CTX_set_alpn_select_cb(x, alpn_select, nullptr);
    if (o.certs.size() > 1) {
      SSL_CTX_set_tlsext_servername_callback(x, sni_select);
      SSL_CTX_set_tlsext_servername_arg(x, c.get());
    }
    if (o.client_auth != ClientAuth::kNone) {
      errno = 0;
      if (SSL_CTX_load_verify_locations(x, o.client_ca_file.c_str(), nullptr) != 1)
        return tls_fail("client CA file " + o.client_ca_file);
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
      if (names) SSL_CTX_set_client_CA_list(x, names);
      int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
      if (o.client_auth == ClientAuth::kRequire) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(x, mode, nullptr);
    }
  }
  *out = std::move(c);
  return kOk;
}

TLSContext::~TLSContext() {
  for (SSL_CTX* x : ctxs_) SSL_CTX_free(x);
}

SSL_CTX* TLSContext::ctx_for(std::string_view server_name) const {
  for (size_t i = 0; i < certs_.size(); i++) {
    if (X509_check_host(certs_[i]->chain[0], server_name.data(), server_name.size(), 0, nullptr) ==
        1)
      return ctxs_[i];
  }
  return nullptr;
}

// ------------------------------------------------------------ TLSTransport

std::unique_ptr<TLSTransport> TLSTransport::accept(IOLoop* loop, int fd,
                                                   std::shared_ptr<const TLSContext> ctx,
                                                   int* err) {
  std::unique_ptr<TLSTransport> t(new TLSTransport(loop, fd, std::move(ctx)));
  ERR_clear_error();
  t->ssl_ = SSL_new(t->ctx_->default_ctx());
  if (!t->ssl_ || SSL_set_fd(t->ssl_, fd) != 1) {
    *err = tls_fail("cannot create a TLS connection");
    return nullptr;
  }
  SSL_set_accept_state(t->ssl_);
  BIO* rb = SSL_get_rbio(t->ssl_);
  BIO_set_callback_arg(rb, reinterpret_cast<char*>(&t->drained_));
  BIO_set_callback_ex(rb, socket_read_seen);
  if (int64_t ms = t->ctx_->handshake_timeout_ms(); ms > 0) {
    TLSTransport* raw = t.get();
    t->hs_timer_ = loop->call_later(ms * 1000, [raw] { raw->on_handshake_timeout(); });
  }
  return t;
}

TLSTransport::TLSTransport(IOLoop* loop, int fd, std::shared_ptr<const TLSContext> ctx)
    : sock_(loop, fd), ctx_(std::move(ctx)) {
  sock_.fill_peer();
  const std::string& p = sock_.peer();
  set_peer(p, size_t(sock_.peer_ip().data() - p.data()), sock_.peer_ip().size());
  peer_is_local_ = sock_.peer_is_local();
  sock_.set_handler(this);
}

TLSTransport::~TLSTransport() { close(); }

void TLSTransport::on_ready(bool readable, bool writable) { ready(readable, writable); }

void TLSTransport::on_handshake_timeout() {
  hs_timer_.reset();
  if (handshake_done_ || fail_status_ || closed()) return;
  failure_ =
      "TLS handshake timed out after " + std::to_string(ctx_->handshake_timeout_ms()) + " ms";
  fail_status_ = kTimedOut;
  ready(true, true);  // the stream reads, meets the failure, and closes
}

void TLSTransport::handshake_finished() {
  handshake_done_ = true;
  if (hs_timer_) {
    hs_timer_->cancel();
    hs_timer_.reset();
  }
}

void TLSTransport::watch(bool read, bool write) {
  reading_ = read;
  sock_.watch(read, write);
  // Records already decrypted into OpenSSL's buffer make the socket look
  // idle: ask for a read event anyway.
  if (read && ssl_ && !fail_status_ && SSL_has_pending(ssl_)) sock_.kick_read();
}

ssize_t TLSTransport::ssl_failed(int ret, const char* op, int* err) {
  int e = SSL_get_error(ssl_, ret);
  int saved = errno;
  if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    ERR_clear_error();
    if (saved == 0 || saved == EAGAIN) {
      if (*op == 'r') return 0;  // the peer closed without close_notify
      saved = EPIPE;
    }
    set_error_errno(std::string("TLS ") + op, saved);
    *err = (saved == EPIPE || saved == ECONNRESET) ? kIO : status_from_errno(saved);
    fail_status_ = *err;
    if (!handshake_done_) failure_ = std::string("TLS handshake: ") + strerror(saved);
    return kFailed;
  }
  unsigned long code = ERR_peek_last_error();
  std::string why;
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && (ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST ||
                                           ERR_GET_REASON(code) == SSL_R_HTTPS_PROXY_REQUEST)) {
    // As nginx: a plain-text request on the TLS port gets a plain 400.
    static const char kBody[] = "The plain HTTP request was sent to a TLS port.\n";
    std::string resp =
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        "Content-Length: " +
        std::to_string(sizeof kBody - 1) + "\r\n\r\n" + kBody;
    ssize_t w = send(sock_.fd(), resp.data(), resp.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    ERR_clear_error();
    why = "plain HTTP request sent to the TLS port";
  } else {
    why = ssl_reason();
  }
  set_error(std::string("TLS ") + op + ": " + why);
  *err = kTLS;
  fail_status_ = kTLS;
  if (!handshake_done_) failure_ = "TLS handshake failed: " + why;
  return kFailed;
}

ssize_t TLSTransport::read(char* buf, size_t len, int* err) {
  if (fail_status_ || !ssl_) {
    *err = fail_status_ ? fail_status_ : kClosed;
    set_error(failure_.empty() ? "TLS connection failed" : failure_);
    return kFailed;
  }
  size_t total = 0;
  while (total < len) {
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    drained_ = false;
    int r = SSL_read_ex(ssl_, buf + total, len - total, &n);
    if (!handshake_done_ && SSL_is_init_finished(ssl_)) handshake_finished();
    if (r == 1) {
      total += n;
      // The socket gave its last bytes and OpenSSL holds none: done, with
      // no extra recv to meet EAGAIN (one read per batch, as plain TCP).
      if (drained_ && !SSL_has_pending(ssl_)) return ssize_t(total);
      continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return total ? ssize_t(total) : kWantRead;
    if (e == SSL_ERROR_WANT_WRITE) return total ? ssize_t(total) : kWantWrite;
    if (e == SSL_ERROR_ZERO_RETURN) return ssize_t(total);  // close_notify
    if (total) return ssize_t(total);                       // the failure comes next time
    return ssl_failed(r, "read", err);
  }
  // The caller's buffer is full; what OpenSSL still holds is reported as a
  // read event (the socket may have nothing more).
  if (reading_ && SSL_has_pending(ssl_)) sock_.kick_read();
  return ssize_t(total);
}

ssize_t TLSTransport::writev(const struct iovec* iov, int n, int* err) {
  if (fail_status_ || !ssl_) {
    *err = fail_status_ ? fail_status_ : kClosed;
    set_error(failure_.empty() ? "TLS connection failed" : failure_);
    return kFailed;
  }
  // The pieces of one pass (say, sixteen pipelined responses) go out as one
  // record: gather small ones into one record's worth.  A retry after
  // kWantWrite offers the same leading bytes (the stream's queue has not
  // moved), which is what OpenSSL asks of a retried write.
  static thread_local char stage[16384];
  const char* p;
  size_t len;
  if (n == 1 || iov[0].iov_len >= sizeof stage) {
    p = static_cast<const char*>(iov[0].iov_base);
    len = iov[0].iov_len;
  } else {
    len = 0;
    for (int i = 0; i < n && len < sizeof stage; i++) {
      size_t c = std::min(iov[i].iov_len, sizeof stage - len);
      memcpy(stage + len, iov[i].iov_base, c);
      len += c;
    }
    p = stage;
  }
  if (len == 0) return 0;
  size_t w = 0;
  ERR_clear_error();
  errno = 0;
  int r = SSL_write_ex(ssl_, p, len, &w);
  if (r == 1) return ssize_t(w);
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_WRITE) return kWantWrite;
  if (e == SSL_ERROR_WANT_READ) return kWantRead;
  return ssl_failed(r, "write", err);
}

void TLSTransport::shutdown_write() {
  if (ssl_ && handshake_done_ && !shutdown_sent_ && !fail_status_) {
    shutdown_sent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify; the read side stays open
    ERR_clear_error();
  }
  sock_.shutdown_write();
}

void TLSTransport::close() {
  if (hs_timer_) {
    hs_timer_->cancel();
    hs_timer_.reset();
  }
  if (ssl_) {
    if (handshake_done_ && !shutdown_sent_ && !fail_status_ && !sock_.closed()) {
      shutdown_sent_ = true;
      ERR_clear_error();
      SSL_shutdown(ssl_);
    }
    SSL_free(ssl_);
    ssl_ = nullptr;
    ERR_clear_error();
  }
  sock_.close();
}

const char* TLSTransport::tls_failure() const {
  return failure_.empty() ? nullptr : failure_.c_str();
}

std::shared_ptr<const TLSInfo> TLSTransport::tls_info() {
  if (info_ || !ssl_ || !handshake_done_) return info_;
  auto i = std::make_shared<TLSInfo>();
  i->version = SSL_get_version(ssl_);  // static strings, as are the next two
  if (const char* c = SSL_get_cipher_name(ssl_)) i->cipher = c;
  const unsigned char* a = nullptr;
  unsigned alen = 0;
  SSL_get0_alpn_selected(ssl_, &a, &alen);
  if (a && alen == 8) i->alpn = memcmp(a, "http/1.0", 8) == 0 ? "http/1.0" : "http/1.1";
  if (const char* s = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) i->server_name = s;
  i->resumed = SSL_session_reused(ssl_) == 1;
  X509* pc = SSL_get0_peer_certificate(ssl_);
  if (pc && SSL_get_verify_result(ssl_) == X509_V_OK) {
    BioPtr b(BIO_new(BIO_s_mem()));
    if (b) {
      auto peer = std::make_unique<TLSInfo::Peer>();
      char* data = nullptr;
      X509_NAME_print_ex(b.get(), X509_get_subject_name(pc), 0, XN_FLAG_RFC2253);
      long n = BIO_get_mem_data(b.get(), &data);
      if (n > 0) peer->subject.assign(data, size_t(n));
      (void)BIO_reset(b.get());
      PEM_write_bio_X509(b.get(), pc);
      n = BIO_get_mem_data(b.get(), &data);
      if (n > 0) peer->pem.assign(data, size_t(n));
      i->peer = std::move(peer);
    }
  }
  ERR_clear_error();
  info_ = std::move(i);
  return info_;
}

}  // namespace squall
