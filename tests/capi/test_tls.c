/*
 * test_tls.c -- TLS through the C API: every configuration mistake fails
 * when it is made (SQUALL_ETLS and a message naming the file and OpenSSL's
 * reason), and a server made from a good config serves curl over HTTPS:
 * GET, a 1 MiB echo, plain HTTP on the TLS port, a failed handshake
 * counted, and a reload while a connection is open.  This file also runs
 * under ASan+UBSan (scripts/test.sh), which covers the TLS transport.
 *
 * Certificates come from tests/util/make_certs.sh, run at setup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static char g_dir[256];

static const char *cert(const char *name) {
  static char buf[4][512];
  static int i;
  char *b = buf[i++ % 4];
  snprintf(b, sizeof buf[0], "%s/%s", g_dir, name);
  return b;
}

static int setup_certs(void **state) {
  char cmd[1024];
  const char *tmp = getenv("TMPDIR");
  (void)state;
  snprintf(g_dir, sizeof g_dir, "%s/squall-tls-XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(g_dir)) return -1;
  snprintf(cmd, sizeof cmd, "bash %s/tests/util/make_certs.sh %s",
           SQUALL_TEST_SOURCE_DIR, g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static int teardown_certs(void **state) {
  char cmd[512];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void expect_tls_error(int rc, const char *fragment) {
  assert_int_equal(rc, SQUALL_ETLS);
  if (!strstr(squall_last_error(), fragment))
    fail_msg("'%s' not in '%s'", fragment, squall_last_error());
}

static void test_tls__config_errors_fail_when_made(void **state) {
  squall_config *cfg;
  (void)state;
  assert_int_equal(squall_config_new(&cfg), 0);
  expect_tls_error(
      squall_config_add_tls_cert(cfg, cert("missing.pem"), cert("server.key")),
      "missing.pem");
  expect_tls_error(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("nokey.key")),
      "nokey.key");
  expect_tls_error(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("rsa.key")),
      "does not match");
  expect_tls_error(
      squall_config_add_tls_cert(cfg, cert("ca.srl"), cert("server.key")),
      "ca.srl");
  /* An encrypted key: refused without its password, loaded with it. */
  expect_tls_error(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("enc.key")),
      "enc.key");
  assert_int_equal(squall_config_set_tls_key_password(cfg, "wrong"), 0);
  expect_tls_error(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("enc.key")),
      "enc.key");
  assert_int_equal(squall_config_set_tls_key_password(cfg, "hunter2"), 0);
  assert_int_equal(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("enc.key")), 0);
  expect_tls_error(
      squall_config_set_str(cfg, SQUALL_OPT_TLS_MIN_VERSION, "1.1", SQUALL_NTS),
      "refused");
  expect_tls_error(squall_config_set_str(cfg, SQUALL_OPT_TLS_MIN_VERSION,
                                         "TLSv1", SQUALL_NTS),
                   "refused");
  expect_tls_error(
      squall_config_set_str(cfg, SQUALL_OPT_TLS_MIN_VERSION, "2.0", SQUALL_NTS),
      "unknown TLS version");
  assert_int_equal(squall_config_set_str(cfg, SQUALL_OPT_TLS_MIN_VERSION,
                                         "TLSv1.3", SQUALL_NTS),
                   0);
  expect_tls_error(squall_config_set_str(cfg, SQUALL_OPT_TLS_CIPHERS,
                                         "NOT-A-CIPHER", SQUALL_NTS),
                   "NOT-A-CIPHER");
  expect_tls_error(squall_config_set_str(cfg, SQUALL_OPT_TLS_CIPHERSUITES,
                                         "TLS_FAKE_SUITE", SQUALL_NTS),
                   "TLS_FAKE_SUITE");
  assert_int_equal(squall_config_set_str(cfg, SQUALL_OPT_TLS_CIPHERSUITES,
                                         "TLS_AES_128_GCM_SHA256", SQUALL_NTS),
                   0);
  expect_tls_error(squall_config_set_str(cfg, SQUALL_OPT_TLS_CLIENT_CA,
                                         cert("noca.pem"), SQUALL_NTS),
                   "noca.pem");
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_TLS_CLIENT_AUTH, 3),
                   SQUALL_EINVAL);
  assert_int_equal(squall_config_add_tls_cert(NULL, "a", "b"), SQUALL_EINVAL);
  assert_int_equal(squall_config_add_tls_cert(cfg, NULL, "b"), SQUALL_EINVAL);
  squall_config_free(cfg);
}

static void test_tls__pem_in_memory(void **state) {
  squall_config *cfg;
  char *pem = NULL, *key = NULL;
  size_t n;
  FILE *f;
  (void)state;
  assert_non_null(f = fopen(cert("server.pem"), "r"));
  pem = calloc(1, 1 << 16);
  n = fread(pem, 1, (1 << 16) - 1, f);
  fclose(f);
  assert_true(n > 0);
  assert_non_null(f = fopen(cert("server.key"), "r"));
  key = calloc(1, 1 << 16);
  n = fread(key, 1, (1 << 16) - 1, f);
  fclose(f);
  assert_int_equal(squall_config_new(&cfg), 0);
  assert_int_equal(squall_config_add_tls_cert_pem(cfg, pem, SQUALL_NTS, key, n),
                   0);
  expect_tls_error(
      squall_config_add_tls_cert_pem(cfg, "garbage", SQUALL_NTS, key, n),
      "certificate PEM");
  squall_config_free(cfg);
  free(pem);
  free(key);
}

static void handler(squall_request *req, void *ud) {
  const char *m, *v = "";
  size_t ml, vl = 0;
  (void)ud;
  squall_request_get(req, SQUALL_REQ_METHOD, &m, &ml);
  if (ml == 4 && !memcmp(m, "POST", 4)) {
    const void *b;
    size_t bl;
    squall_request_body(req, &b, &bl);
    squall_respond(req, 200, NULL, 0, b, bl);
    return;
  }
  squall_request_get(req, SQUALL_REQ_TLS_VERSION, &v, &vl);
  squall_respond(req, 200, "text/plain", SQUALL_NTS, v, vl);
}

static void test_tls__server_without_a_certificate_fails(void **state) {
  squall_config *cfg;
  squall_loop *loop;
  squall_server *srv = (squall_server *)1;
  (void)state;
  assert_int_equal(squall_loop_new(&loop), 0);
  assert_int_equal(squall_config_new(&cfg), 0);
  assert_int_equal(
      squall_config_set_int(cfg, SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS, 500), 0);
  expect_tls_error(squall_server_new(&srv, loop, cfg, handler, NULL, NULL),
                   "certificate");
  assert_null(srv);
  /* Client certificates without a CA to check them against. */
  assert_int_equal(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("server.key")),
      0);
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_TLS_CLIENT_AUTH,
                                         SQUALL_TLS_CLIENT_REQUIRE),
                   0);
  expect_tls_error(squall_server_new(&srv, loop, cfg, handler, NULL, NULL),
                   "CA");
  squall_config_free(cfg);
  /* A plain server cannot reload TLS. */
  assert_int_equal(squall_config_new(&cfg), 0);
  assert_int_equal(squall_server_new(&srv, loop, NULL, handler, NULL, NULL), 0);
  assert_int_equal(squall_server_reload_tls(srv, cfg), SQUALL_EINVAL);
  assert_int_equal(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("server.key")),
      0);
  assert_int_equal(squall_server_reload_tls(srv, cfg), SQUALL_ESTATE);
  squall_server_free(srv);
  squall_config_free(cfg);
  assert_int_equal(squall_loop_free(loop), 0);
}

/* Run a shell command; its stdout (malloc'd) in *out. */
static int sh(char **out, const char *fmt, ...) {
  char cmd[2048];
  size_t cap = 1 << 16, len = 0, n;
  char *buf = malloc(cap);
  va_list ap;
  FILE *p;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (!buf || !(p = popen(cmd, "r"))) return -1;
  while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (len + 1 == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) break;
      buf = nb;
    }
  }
  buf[len] = 0;
  *out = buf;
  return pclose(p);
}

static void test_tls__serves_curl_and_reloads(void **state) {
  squall_config *cfg;
  squall_loop *loop;
  squall_server *srv;
  tu_loop_thread *t;
  uint16_t port = 0;
  uint64_t stats[SQUALL_STAT_COUNT];
  char *out = NULL, body[64];
  const char *curl = "curl -sS --http1.1 --max-time 20 --cacert";
  int fd;
  (void)state;
  assert_int_equal(squall_loop_new(&loop), 0);
  assert_int_equal(squall_config_new(&cfg), 0);
  assert_int_equal(
      squall_config_add_tls_cert(cfg, cert("server.pem"), cert("server.key")),
      0);
  assert_int_equal(squall_server_new(&srv, loop, cfg, handler, NULL, NULL), 0);
  assert_int_equal(squall_server_listen(srv, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_server_port(srv, &port), 0);
  assert_int_equal(tu_loop_thread_start(&t, loop), 0);

  assert_int_equal(
      sh(&out, "%s %s https://localhost:%u/", curl, cert("ca.pem"), port), 0);
  assert_string_equal(out, "TLSv1.3");
  free(out);
  /* 1 MiB up and back, both directions through many records. */
  assert_int_equal(sh(&out,
                      "head -c 1048576 /dev/urandom > %s/up.bin && "
                      "%s %s --data-binary @%s/up.bin https://localhost:%u/echo"
                      " | cmp - %s/up.bin && echo same",
                      g_dir, curl, cert("ca.pem"), g_dir, port, g_dir),
                   0);
  assert_string_equal(out, "same\n");
  free(out);
  /* Plain HTTP on the TLS port: a plain 400, then the connection closes. */
  fd = tu_connect_tcp("127.0.0.1", port, 5000);
  assert_true(fd >= 0);
  assert_int_equal(tu_send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  memset(body, 0, sizeof body);
  assert_true(tu_recv_n(fd, body, 24, 5000) == 24);
  assert_memory_equal(body, "HTTP/1.1 400 Bad Request", 24);
  assert_int_equal(tu_wait_peer_close(fd, 5000), 1);
  close(fd);
  /* A failed handshake (TLS 1.1 offered) is counted. */
  sh(&out, "%s %s --tls-max 1.1 https://localhost:%u/ 2>/dev/null", curl,
     cert("ca.pem"), port);
  free(out);
  assert_int_equal(squall_server_stats(srv, stats, SQUALL_STAT_COUNT), 0);
  assert_true(stats[SQUALL_STAT_TLS_HANDSHAKE_FAILURES] >= 2);
  /* Reload from this thread while the loop serves: RSA from now on. */
  squall_config_free(cfg);
  assert_int_equal(squall_config_new(&cfg), 0);
  assert_int_equal(
      squall_config_add_tls_cert(cfg, cert("rsa.pem"), cert("rsa.key")), 0);
  assert_int_equal(squall_server_reload_tls(srv, cfg), 0);
  for (int i = 0; i < 100; i++) {
    if (sh(&out,
           "openssl s_client -connect 127.0.0.1:%u -CAfile %s </dev/null "
           "2>/dev/null | grep -c 'O = rsa'",
           port, cert("ca.pem")) == 0 &&
        atoi(out) > 0)
      break;
    free(out);
    out = NULL;
    tu_sleep_ms(20);
  }
  assert_non_null(out);
  free(out);
  assert_int_equal(tu_loop_thread_stop(t), 0);
  squall_server_free(srv);
  squall_config_free(cfg);
  assert_int_equal(squall_loop_free(loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls__config_errors_fail_when_made),
      cmocka_unit_test(test_tls__pem_in_memory),
      cmocka_unit_test(test_tls__server_without_a_certificate_fails),
      cmocka_unit_test(test_tls__serves_curl_and_reloads),
  };
  return cmocka_run_group_tests(tests, setup_certs, teardown_certs);
}
