// Counterpart of tornado/iostream.py's SSLIOStream and netutil.py's
// ssl_options_to_context: TLS over OpenSSL 3 as a Transport under IOStream
// (so an "SSLIOStream" is an IOStream over a TLSTransport: the same buffers,
// watermarks and callbacks as a plain stream).
//
//   TLSOptions    what the application configured, checked when set (files
//                 read, key matched to its certificate, version and cipher
//                 strings tried) so mistakes fail at configuration time.
//   TLSContext    the OpenSSL side built from options: one SSL_CTX per
//                 certificate (the first is the default; SNI picks another
//                 whose names match), ALPN, client verification, session
//                 tickets under keys shared by every context made from one
//                 set of options (and so by processes forked after it).
//   TLSTransport  one server connection: OpenSSL owns the socket
//                 (SSL_set_fd: kernel TLS and no extra copy), the handshake
//                 runs inside the first reads under a deadline, writes of one
//                 pass go out as one record, close_notify on a clean close.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/transport.h"

struct ssl_st;
struct ssl_ctx_st;
struct x509_st;
struct evp_pkey_st;

namespace squall {

// A certificate chain and its private key, loaded and matched.
struct CertKey {
  ~CertKey();
  std::string name;             // where it came from (file or "memory")
  std::vector<x509_st*> chain;  // leaf first
  evp_pkey_st* key = nullptr;
};

// Who must show a certificate (squall_tls_client_auth values).
enum class ClientAuth { kNone = 0, kRequest = 1, kRequire = 2 };

// Session ticket keys, derived per hour from a secret made once: every
// context built from the same options (all loops, and every process forked
// after the options were made) encrypts and decrypts the same tickets.  A
// reload derives the next secret from the last, so processes that reload
// alike stay alike; tickets under the previous secret are still accepted.
class TicketKeys {
 public:
  TicketKeys();  // a fresh random secret
  std::shared_ptr<TicketKeys> next() const;
  // OpenSSL's ticket key callback, see SSL_CTX_set_tlsext_ticket_key_evp_cb.
  int callback(unsigned char name[16], unsigned char* iv, void* cipher_ctx, void* mac_ctx,
               int enc) const;

 private:
  struct Secret {
    unsigned char bytes[32];
  };
  bool derive(const Secret& s, uint64_t epoch, unsigned char name[16], unsigned char aes[32],
              unsigned char mac[32]) const;
  Secret cur_{}, prev_{};
  bool has_prev_ = false;
};

struct TLSOptions {
  TLSOptions();
  std::vector<std::shared_ptr<const CertKey>> certs;  // first is the default
  std::string key_password;                           // for encrypted keys
  int min_version = 0;                                // TLS1_2_VERSION
  std::string ciphers;                                // TLS 1.2 list; "" default
  std::string ciphersuites;                           // TLS 1.3 list; "" default
  ClientAuth client_auth = ClientAuth::kNone;
  std::string client_ca_file;
  bool session_tickets = true;
  int64_t handshake_timeout_ms = 10000;
  std::shared_ptr<TicketKeys> tickets;  // made with the options

  // Each checks what it is given; kTLS with the file and OpenSSL's reason in
  // the last error, or kInval / kNotFound.
  int add_cert_files(const std::string& cert_file, const std::string& key_file);
  int add_cert_pem(std::string_view cert_pem, std::string_view key_pem);
  int set_min_version(std::string_view v);
  int set_ciphers(std::string_view list);
  int set_ciphersuites(std::string_view list);
  int set_client_ca(const std::string& file);
};

// What a request may ask about its connection's TLS session (copied when
// the first request arrives, so it outlives the connection's socket; small,
// as every TLS connection keeps one).
struct TLSInfo {
  const char* version = "";  // "TLSv1.3" (OpenSSL's static strings)
  const char* cipher = "";   // "TLS_AES_128_GCM_SHA256"
  const char* alpn = "";     // "http/1.1", "" if none was negotiated
  bool resumed = false;
  std::string server_name;  // SNI, "" if none was sent
  struct Peer {
    std::string subject;  // verified client certificate's subject (RFC 2253)
    std::string pem;      // the client certificate, PEM
  };
  std::unique_ptr<Peer> peer;  // nullptr: no verified client certificate
};

class TLSContext {
 public:
  // Builds the contexts; kTLS with a message when OpenSSL refuses.
  static int create(const TLSOptions& o, std::shared_ptr<const TLSContext>* out);
  ~TLSContext();
  TLSContext(const TLSContext&) = delete;
  TLSContext& operator=(const TLSContext&) = delete;

  int64_t handshake_timeout_ms() const { return handshake_timeout_ms_; }
  ssl_ctx_st* default_ctx() const { return ctxs_[0]; }
  // SNI: the context whose certificate names match (nullptr: the default).
  ssl_ctx_st* ctx_for(std::string_view server_name) const;
  const TicketKeys* tickets() const { return tickets_.get(); }

 private:
  TLSContext() = default;
  std::vector<ssl_ctx_st*> ctxs_;
  std::vector<std::shared_ptr<const CertKey>> certs_;
  std::shared_ptr<TicketKeys> tickets_;
  int64_t handshake_timeout_ms_ = 10000;
};

// A server-side TLS connection on an accepted socket.
class TLSTransport final : public Transport, private Transport::Handler {
 public:
  // Takes ownership of fd (closed on failure too); nullptr with *err set
  // when OpenSSL cannot make the connection object.
  static std::unique_ptr<TLSTransport> accept(IOLoop* loop, int fd,
                                              std::shared_ptr<const TLSContext> ctx, int* err);
  ~TLSTransport() override;

  void watch(bool read, bool write) override;
  ssize_t read(char* buf, size_t len, int* err) override;
  ssize_t writev(const struct iovec* iov, int n, int* err) override;
  void shutdown_write() override;
  void close() override;
  bool closed() const override { return sock_.closed(); }
  void set_nodelay(bool on) override { sock_.set_nodelay(on); }
  bool is_tls() const override { return true; }
  const char* tls_failure() const override;
  std::shared_ptr<const TLSInfo> tls_info() override;

 private:
  TLSTransport(IOLoop* loop, int fd, std::shared_ptr<const TLSContext> ctx);
  void on_ready(bool readable, bool writable) override;
  void on_handshake_timeout();
  ssize_t ssl_failed(int ret, const char* op, int* err);
  void handshake_finished();

  SocketTransport sock_;
  std::shared_ptr<const TLSContext> ctx_;
  ssl_st* ssl_ = nullptr;
  TimerPtr hs_timer_;
  std::shared_ptr<const TLSInfo> info_;
  std::string failure_;  // why the handshake failed ("" if it did not)
  int fail_status_ = 0;  // a failed connection reports this on every call
  bool handshake_done_ = false;
  bool shutdown_sent_ = false;
  bool reading_ = false;
  bool drained_ = false;  // the last recv got less than it asked for
};

}  // namespace squall
