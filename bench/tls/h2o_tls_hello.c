/*
 * h2o_tls_hello.c -- hello-world over HTTPS with h2o's library (libh2o
 * evloop), the peer of squall_hello with a certificate in bench/tls/run.sh.
 *
 *   h2o_tls_hello PORT CERT KEY [TICKETS]
 *
 * One evloop on one thread; every request gets 200 text/plain
 * "Hello, world!\n".  The OpenSSL context is set up as h2o's own server
 * does for HTTP/1.1: TLS 1.2+, ALPN http/1.1, no session cache, tickets as
 * asked (OpenSSL's built-in ticket keys).
 */
#include <h2o.h>
#include <h2o/http1.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static const h2o_iovec_t http1_alpn[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
  static h2o_generator_t gen = {NULL, NULL};
  static const char body[] = "Hello, world!\n";
  h2o_iovec_t buf = h2o_iovec_init(body, sizeof body - 1);
  (void)self;
  req->res.status = 200;
  req->res.reason = "OK";
  req->res.content_length = buf.len;
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                 H2O_STRLIT("text/plain"));
  h2o_start_response(req, &gen);
  h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
  return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err) {
  h2o_socket_t *sock;
  if (err) return;
  if ((sock = h2o_evloop_socket_accept(listener)) == NULL) return;
  h2o_accept(&accept_ctx, sock);
}

int main(int argc, char **argv) {
  struct sockaddr_in addr;
  h2o_hostconf_t *host;
  h2o_pathconf_t *path;
  h2o_socket_t *sock;
  SSL_CTX *ssl;
  int fd, one = 1;
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: h2o_tls_hello PORT CERT KEY [TICKETS]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  h2o_config_init(&config);
  host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  path = h2o_config_register_path(host, "/", 0);
  h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_req;

  ssl = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
  SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
  if (argc == 5 && !atoi(argv[4])) SSL_CTX_set_options(ssl, SSL_OP_NO_TICKET);
  if (SSL_CTX_use_certificate_chain_file(ssl, argv[2]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ssl, argv[3], SSL_FILETYPE_PEM) != 1) {
    fprintf(stderr, "h2o_tls_hello: cannot load %s / %s\n", argv[2], argv[3]);
    return 1;
  }
  h2o_ssl_register_alpn_protocols(ssl, http1_alpn);

  h2o_context_init(&ctx, h2o_evloop_create(), &config);
  accept_ctx.ctx = &ctx;
  accept_ctx.hosts = config.hosts;
  accept_ctx.ssl_ctx = ssl;

  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(0x7f000001);
  addr.sin_port = htons((uint16_t)atoi(argv[1]));
  if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4096) != 0) {
    perror("h2o_tls_hello: listen");
    return 1;
  }
  sock = h2o_evloop_socket_create(ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  h2o_socket_read_start(sock, on_accept);
  while (h2o_evloop_run(ctx.loop, INT32_MAX) == 0) {
  }
  return 0;
}
