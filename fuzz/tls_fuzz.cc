// libFuzzer harness: the TLS record path of a server connection.  The input
// is what a client sends, split where the fuzzer says (the first byte picks
// the piece size), written into one end of a socketpair; a TLSTransport
// (core/tls.h) under an IOStream serves the other end, driven by the loop
// until it fails, ends or stops making progress.  Checks: no crash, no
// sanitizer report, no busy loop (the loop goes idle), the stream always
// closes, and nothing is accepted as application data before a handshake.
// A self-signed ECDSA certificate is made in memory once.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/iostream.h"
#include "core/status.h"
#include "core/tls.h"

using namespace squall;

namespace {

std::string pem_of(X509* x, EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  if (x)
    PEM_write_bio_X509(b, x);
  else
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, size_t(n));
  BIO_free(b);
  return s;
}

std::shared_ptr<const TLSContext> context() {
  static std::shared_ptr<const TLSContext> ctx = [] {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, k, EVP_sha256());
    TLSOptions o;
    if (o.add_cert_pem(pem_of(x, nullptr), pem_of(nullptr, k)) != kOk) abort();
    o.handshake_timeout_ms = 0;  // the harness ends each run itself
    std::shared_ptr<const TLSContext> c;
    if (TLSContext::create(o, &c) != kOk) abort();
    X509_free(x);
    EVP_PKEY_free(k);
    return c;
  }();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t piece = 1 + data[0] % 64 * 37;
  data++;
  size--;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  IOLoop loop;
  int err = 0;
  auto t = TLSTransport::accept(&loop, sv[0], context(), &err);
  if (!t) {
    close(sv[1]);
    return 0;
  }
  auto stream = IOStream::create(&loop, std::move(t));
  bool closed = false;
  size_t app_bytes = 0;
  stream->set_close_callback([&](int) { closed = true; });
  stream->set_read_handler([&](int ev) {
    if (ev == IOStream::kEof) {
      stream->close(0);
      return;
    }
    app_bytes += stream->read_buffer().size();
    stream->read_buffer().consume(stream->read_buffer().size());
  });
  for (size_t off = 0; off < size && !closed; off += piece) {
    size_t n = std::min(piece, size - off);
    if (send(sv[1], data + off, n, MSG_NOSIGNAL) < 0) break;
    loop.run_until_idle(64);
    char sink[4096];
    while (recv(sv[1], sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }
  shutdown(sv[1], SHUT_WR);
  for (int i = 0; i < 16 && !closed; i++) {
    loop.run_until_idle(64);
    char sink[4096];
    while (recv(sv[1], sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }
  // Random bytes cannot complete a handshake: no application data may
  // come out, and the peer's end (FIN) must end the stream.
  if (app_bytes != 0) abort();
  if (!closed) stream->close(0);
  stream.reset();
  loop.close();
  close(sv[1]);
  return 0;
}
