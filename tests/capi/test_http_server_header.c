/*
 * test_http_server_header -- every response squall writes carries the same
 * default fields (Date, Server), its own 4xx/5xx rejections included, and
 * SQUALL_OPT_SERVER_HEADER changes or removes the Server field everywhere;
 * a Server header the application sets wins.  Real server on 127.0.0.1,
 * raw client.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httputil.h"

#define GOOD "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

/* One request the handler answers and the library's own rejections: 400
 * (malformed), 413 (body limit), 431 (head limit), 400 (a coding other than
 * chunked), 505. */
typedef struct probe {
  const char *label;
  const char *raw; /* NULL: the 431 request built at run time */
  int status;
} probe;

static const probe kProbes[] = {
    {"200 from the handler", GOOD, 200},
    {"400 malformed", "BAD\r\n\r\n", 400},
    {"413 body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n",
     413},
    {"431 head", NULL, 431},
    {"400 coding",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", 400},
    {"505 version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
};

static char *big_head(void) {
  size_t n = 3000;
  char *b = malloc(n + 128);
  int off = sprintf(b, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
  memset(b + off, 'x', n);
  strcpy(b + off + n, "\r\n\r\n");
  return b;
}

/* Send every probe on its own connection; expect its status, a Date field,
 * and either no Server field (want == NULL) or exactly one equal to want. */
static void check_all(hu_server *s, const char *want) {
  for (size_t i = 0; i < sizeof kProbes / sizeof kProbes[0]; i++) {
    char *raw = kProbes[i].raw ? (char *)kProbes[i].raw : big_head();
    hu_response r;
    char value[128];
    assert_int_equal(hu_exchange(s->port, raw, strlen(raw), &r, NULL), HU_OK);
    if (r.status != kProbes[i].status || !hu_header(&r, "Date", value, 8) ||
        hu_header_count(&r, "Server") != (want ? 1 : 0))
      fprintf(stderr, "FAIL %s (Server %s):\n%s\n", kProbes[i].label,
              want ? want : "off", r.head);
    assert_int_equal(r.status, kProbes[i].status);
    assert_true(hu_header(&r, "Date", value, sizeof value));
    assert_int_equal(hu_header_count(&r, "Server"), want ? 1 : 0);
    if (want) {
      assert_true(hu_header(&r, "Server", value, sizeof value));
      assert_string_equal(value, want);
    }
    hu_response_free(&r);
    if (!kProbes[i].raw) free(raw);
  }
}

static hu_server *start(const char *server_value, hu_handler_fn handler) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = handler;
  assert_int_equal(
      squall_config_set_int(s->cfg, SQUALL_OPT_MAX_HEADER_SIZE, 1024), 0);
  assert_int_equal(squall_config_set_int(s->cfg, SQUALL_OPT_MAX_BODY_SIZE, 10),
                   0);
  if (server_value)
    assert_int_equal(squall_config_set_str(s->cfg, SQUALL_OPT_SERVER_HEADER,
                                           server_value, SQUALL_NTS),
                     0);
  assert_int_equal(hu_server_start(s), 0);
  return s;
}

static void test_server_header__default_everywhere(void **state) {
  (void)state;
  hu_server *s = start(NULL, NULL);
  check_all(s, "squall");
  assert_int_equal(hu_server_finish(s), 0);
}

static void test_server_header__custom_value_everywhere(void **state) {
  (void)state;
  hu_server *s = start("myapp/1.2 (squall)", NULL);
  check_all(s, "myapp/1.2 (squall)");
  assert_int_equal(hu_server_finish(s), 0);
}

static void test_server_header__off_everywhere(void **state) {
  (void)state;
  hu_server *s = start("", NULL);
  check_all(s, NULL);
  assert_int_equal(hu_server_finish(s), 0);
}

/* The application's own Server header wins over the option, on or off. */
static void own_server(hu_server *s, squall_request *req) {
  (void)s;
  squall_response_header(req, "Server", SQUALL_NTS, "mine", SQUALL_NTS);
  squall_respond(req, 200, "text/plain", SQUALL_NTS, "x", 1);
}

static void test_server_header__application_wins(void **state) {
  (void)state;
  const char *values[] = {NULL, "", "other"};
  for (size_t i = 0; i < 3; i++) {
    hu_server *s = start(values[i], own_server);
    hu_response r;
    char value[64];
    assert_int_equal(hu_exchange(s->port, GOOD, strlen(GOOD), &r, NULL), HU_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(hu_header_count(&r, "Server"), 1);
    assert_true(hu_header(&r, "Server", value, sizeof value));
    assert_string_equal(value, "mine");
    hu_response_free(&r);
    assert_int_equal(hu_server_finish(s), 0);
  }
}

static void test_server_header__bad_values_refused(void **state) {
  (void)state;
  squall_config *cfg;
  assert_int_equal(squall_config_new(&cfg), 0);
  const char *bad[] = {"a\r\nX-Injected: 1", "a\nb", " lead", "trail ",
                       "tab\x01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(squall_config_set_str(cfg, SQUALL_OPT_SERVER_HEADER,
                                           bad[i], SQUALL_NTS),
                     SQUALL_EINVAL);
    assert_non_null(strstr(squall_last_error(), "Server"));
  }
  /* Embedded NUL through an explicit length. */
  assert_int_equal(
      squall_config_set_str(cfg, SQUALL_OPT_SERVER_HEADER, "a\0b", 3),
      SQUALL_EINVAL);
  assert_int_equal(
      squall_config_set_str(cfg, SQUALL_OPT_SERVER_HEADER, NULL, 4),
      SQUALL_EINVAL);
  /* NULL with length 0 is the empty value: allowed (off). */
  assert_int_equal(
      squall_config_set_str(cfg, SQUALL_OPT_SERVER_HEADER, NULL, 0), 0);
  /* Not an integer option. */
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_SERVER_HEADER, 0),
                   SQUALL_ENOTSUP);
  squall_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_header__default_everywhere),
      cmocka_unit_test(test_server_header__custom_value_everywhere),
      cmocka_unit_test(test_server_header__off_everywhere),
      cmocka_unit_test(test_server_header__application_wins),
      cmocka_unit_test(test_server_header__bad_values_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
