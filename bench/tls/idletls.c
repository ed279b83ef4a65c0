/*
 * idletls.c -- hold N idle TLS keep-alive connections to a server.
 *
 *   idletls HOST PORT N HOLD_S
 *
 * Opens N connections one after another, does the TLS handshake (no
 * certificate check: the server is ours), sends one GET, reads the whole
 * response (Content-Length framed), then keeps every connection open and
 * idle for HOLD_S seconds.  Prints "established N" once all are open (the
 * moment to read the server's memory), then exits after the hold.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int one_request(SSL *ssl) {
  static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  char buf[4096];
  size_t have = 0;
  if (SSL_write(ssl, req, (int)sizeof req - 1) <= 0) return -1;
  for (;;) {
    int n = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have));
    char *end, *cl;
    if (n <= 0) return -1;
    have += (size_t)n;
    buf[have] = 0;
    end = strstr(buf, "\r\n\r\n");
    cl = strcasestr(buf, "content-length:");
    if (end && cl && have >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10)) return 0;
    if (have == sizeof buf - 1) return -1;
  }
}

int main(int argc, char **argv) {
  struct sockaddr_in a;
  struct rlimit rl;
  SSL_CTX *ctx;
  int n, hold, i;
  if (argc != 5) {
    fprintf(stderr, "usage: idletls HOST PORT N HOLD_S\n");
    return 2;
  }
  n = atoi(argv[3]);
  hold = atoi(argv[4]);
  rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) perror("setrlimit");
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  for (i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    SSL *ssl;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      perror("connect");
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (SSL_connect(ssl) != 1 || one_request(ssl) != 0) {
      fprintf(stderr, "connection %d failed\n", i);
      ERR_print_errors_fp(stderr);
      return 1;
    }
    /* Keep ssl and fd open: they are what is being measured. */
  }
  printf("established %d\n", n);
  fflush(stdout);
  sleep((unsigned)hold);
  return 0;
}
