/*
 * test_http_reject -- every request the strict parser must refuse, through
 * the real server on 127.0.0.1: the exact status, exactly one response, the
 * connection closed afterwards, and the handler never called.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "httputil.h"

typedef struct reject_case {
  const char *label;
  const char *raw; /* NUL-terminated unless len given */
  size_t len;      /* 0: strlen(raw) */
  int status;
} reject_case;

#define RC(label, raw, status) \
  { label, raw, 0, status }
/* For requests with embedded NUL bytes: length from the literal. */
#define RCN(label, raw, status) \
  { label, raw, sizeof(raw) - 1, status }

static hu_server *start_server(void (*tune)(squall_config *)) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  if (tune) tune(s->cfg);
  assert_int_equal(hu_server_start(s), 0);
  return s;
}

static void stop_server(hu_server *s) {
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

/* Run each case on its own connection; report every failure, then assert. */
static void run_cases(const reject_case *cases, size_t n,
                      void (*tune)(squall_config *)) {
  hu_server *s = start_server(tune);
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].raw);
    if (hu_check_reject(s->port, cases[i].label, cases[i].raw, len,
                        cases[i].status) != 0)
      failures++;
  }
  int calls = hu_server_calls(s);
  if (calls != 0) {
    fprintf(stderr, "FAIL: handler called %d times for rejected requests:\n",
            calls);
    for (int i = 0; i < calls; i++) {
      char uri[256];
      hu_server_uri_at(s, i, uri, sizeof uri);
      fprintf(stderr, "  dispatched %s\n", uri);
    }
  }
  /* Sanity: the server still answers a good request afterwards. */
  hu_response r;
  const char *good =
      "GET /good HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  assert_int_equal(hu_exchange(s->port, good, strlen(good), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  stop_server(s);
  assert_int_equal(failures, 0);
  assert_int_equal(calls, 0);
}

#define H "Host: a\r\n"

static void test_http_reject__malformed_request_line(void **state) {
  static const reject_case cases[] = {
      RC("double space", "GET  / HTTP/1.1\r\n" H "\r\n", 400),
      RC("trailing word", "GET / HTTP/1.1 x\r\n" H "\r\n", 400),
      RC("space in target", "GET /a b HTTP/1.1\r\n" H "\r\n", 400),
      RC("method not a token", "G(T / HTTP/1.1\r\n" H "\r\n", 400),
      RC("leading space", " GET / HTTP/1.1\r\n" H "\r\n", 400),
      RC("method only", "GET\r\n" H "\r\n", 400),
      RC("bad protocol name", "GET / HTTX/1.1\r\n" H "\r\n", 400),
      RC("version without dot", "GET / HTTP/11\r\n" H "\r\n", 400),
      RC("version garbage", "GET / HTTP/1.1a\r\n" H "\r\n", 400),
      RC("lowercase protocol", "GET / http/1.1\r\n" H "\r\n", 400),
      RC("target not origin-form", "GET nopath HTTP/1.1\r\n" H "\r\n", 400),
      RC("asterisk-form on GET", "GET * HTTP/1.1\r\n" H "\r\n", 400),
      RC("authority-form on GET", "GET 127.0.0.1:80 HTTP/1.1\r\n" H "\r\n",
         400),
      RC("header line without colon", "GET / HTTP/1.1\r\n" H "nocolon\r\n\r\n",
         400),
      RC("empty header name", "GET / HTTP/1.1\r\n" H ": x\r\n\r\n", 400),
      RC("header name not a token", "GET / HTTP/1.1\r\n" H "X(y): x\r\n\r\n",
         400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__bare_cr(void **state) {
  static const reject_case cases[] = {
      RC("bare CR ends request line", "GET / HTTP/1.1\r" H "\r\n", 400),
      RC("bare CR in value", "GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n", 400),
      RC("CR CR LF", "GET / HTTP/1.1\r\n" H "X: ab\r\r\n\r\n", 400),
      RC("bare CR ends header", "GET / HTTP/1.1\r\nX: a\r" H "\r\n", 400),
      RC("bare CR in target", "GET /a\rb HTTP/1.1\r\n" H "\r\n", 400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__nul_and_control_bytes(void **state) {
  static const reject_case cases[] = {
      RCN("NUL in value", "GET / HTTP/1.1\r\n" H "X: a\0b\r\n\r\n", 400),
      RCN("NUL in name", "GET / HTTP/1.1\r\n" H "X\0Y: a\r\n\r\n", 400),
      RCN("NUL in target", "GET /a\0b HTTP/1.1\r\n" H "\r\n", 400),
      RCN("NUL in method", "G\0T / HTTP/1.1\r\n" H "\r\n", 400),
      RC("SOH in value",
         "GET / HTTP/1.1\r\n" H "X: a\x01"
         "b\r\n\r\n",
         400),
      RC("ESC in value",
         "GET / HTTP/1.1\r\n" H "X: a\x1b"
         "b\r\n\r\n",
         400),
      RC("DEL in value",
         "GET / HTTP/1.1\r\n" H "X: a\x7f"
         "b\r\n\r\n",
         400),
      RC("VT in value",
         "GET / HTTP/1.1\r\n" H "X: a\x0b"
         "b\r\n\r\n",
         400),
      RC("SOH in target", "GET /a\x01 HTTP/1.1\r\n" H "\r\n", 400),
      RC("DEL in target", "GET /a\x7f HTTP/1.1\r\n" H "\r\n", 400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__whitespace_before_colon(void **state) {
  static const reject_case cases[] = {
      RC("space before colon (Host)", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
         400),
      RC("space before colon", "GET / HTTP/1.1\r\n" H "X-A : b\r\n\r\n", 400),
      RC("tab before colon", "GET / HTTP/1.1\r\n" H "X-A\t: b\r\n\r\n", 400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__obs_fold(void **state) {
  static const reject_case cases[] = {
      RC("fold with space", "GET / HTTP/1.1\r\n" H "X: a\r\n b\r\n\r\n", 400),
      RC("fold with tab", "GET / HTTP/1.1\r\n" H "X: a\r\n\tb\r\n\r\n", 400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__content_length_with_transfer_encoding(
    void **state) {
  static const reject_case cases[] = {
      RC("CL then TE",
         "POST / HTTP/1.1\r\n" H
         "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\n",
         400),
      RC("TE then CL",
         "POST / HTTP/1.1\r\n" H
         "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
         "0\r\n\r\n",
         400),
      RC("CL 0 with TE",
         "POST / HTTP/1.1\r\n" H
         "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
         "0\r\n\r\n",
         400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__bad_content_length(void **state) {
#define CLREQ(v) "POST / HTTP/1.1\r\n" H "Content-Length: " v "\r\n\r\n"
  static const reject_case cases[] = {
      RC("two differing CL",
         "POST / HTTP/1.1\r\n" H
         "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
         400),
      RC("CL list differing", CLREQ("5, 6"), 400),
      RC("CL letters", CLREQ("abc"), 400),
      RC("CL negative", CLREQ("-1"), 400),
      RC("CL plus sign", CLREQ("+5"), 400),
      RC("CL hex", CLREQ("0x5"), 400),
      RC("CL inner space", CLREQ("5 5"), 400),
      RC("CL empty", CLREQ(""), 400),
      RC("CL decimal point", CLREQ("5.0"), 400),
      RC("CL overflow", CLREQ("99999999999999999999999"), 400),
  };
#undef CLREQ
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__bad_chunk_size(void **state) {
#define TEREQ(b) "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n" b
  static const reject_case cases[] = {
      RC("non-hex size", TEREQ("zz\r\nhello\r\n0\r\n\r\n"), 400),
      RC("negative size", TEREQ("-5\r\nhello\r\n0\r\n\r\n"), 400),
      RC("0x prefix", TEREQ("0x5\r\nhello\r\n0\r\n\r\n"), 400),
      RC("leading space", TEREQ(" 5\r\nhello\r\n0\r\n\r\n"), 400),
      RC("empty size line", TEREQ("\r\nhello\r\n0\r\n\r\n"), 400),
      RC("17 hex digits (wraps to 5)",
         TEREQ("10000000000000005\r\nhello\r\n0\r\n\r\n"), 400),
      RC("overflow all f", TEREQ("fffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
         400),
      RC("data longer than size", TEREQ("3\r\nhello\r\n0\r\n\r\n"), 400),
      RC("data without CRLF", TEREQ("5\r\nhelloXX0\r\n\r\n"), 400),
  };
#undef TEREQ
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__unknown_transfer_coding(void **state) {
  static const reject_case cases[] = {
      /* Not ending in chunked: the length is unknown (RFC 9112 6.3). */
      RC("TE foo", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: foo\r\n\r\n",
         400),
      RC("TE x-custom, chunked",
         "POST / HTTP/1.1\r\n" H
         "Transfer-Encoding: x-custom, chunked\r\n\r\n0\r\n\r\n",
         501),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_http_reject__host(void **state) {
  static const reject_case cases[] = {
      RC("missing Host on 1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400),
      RC("repeated Host same", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
         400),
      RC("repeated Host different",
         "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
      RC("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
      RC("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
      RC("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
      RC("Host with bad port", "GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", 400),
      RC("Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

/* The positive side of the Host rule: HTTP/1.0 may omit it. */
static void test_http_reject__http10_without_host_accepted(void **state) {
  hu_server *s = start_server(NULL);
  hu_response r;
  const char *req = "GET /old HTTP/1.0\r\n\r\n";
  assert_int_equal(hu_exchange(s->port, req, strlen(req), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "GET /old 0\n");
  hu_response_free(&r);
  assert_int_equal(hu_server_calls(s), 1);
  stop_server(s);
}

static void test_http_reject__unsupported_version(void **state) {
  static const reject_case cases[] = {
      RC("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 505),
      RC("HTTP/3.0", "GET / HTTP/3.0\r\n" H "\r\n", 505),
      RC("HTTP/9.9", "GET / HTTP/9.9\r\n" H "\r\n", 505),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static char *make_long_target_request(size_t target_len) {
  char *buf = malloc(target_len + 64);
  strcpy(buf, "GET /");
  memset(buf + 5, 'a', target_len - 1);
  strcpy(buf + 4 + target_len, " HTTP/1.1\r\n" H "\r\n");
  return buf;
}

static void test_http_reject__long_target_414(void **state) {
  hu_server *s = start_server(NULL);
  /* Default max_uri_size is 8 KiB. */
  char *big = make_long_target_request(9000);
  assert_int_equal(
      hu_check_reject(s->port, "9000-byte target", big, strlen(big), 414), 0);
  free(big);
  /* Just under the limit is served. */
  char *ok = make_long_target_request(8000);
  hu_response r;
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  free(ok);
  assert_int_equal(hu_server_calls(s), 1);
  stop_server(s);
}

static void tune_uri_100(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_MAX_URI_SIZE, 100), 0);
}

static void test_http_reject__long_target_configured(void **state) {
  hu_server *s = start_server(tune_uri_100);
  char *big = make_long_target_request(150);
  assert_int_equal(hu_check_reject(s->port, "150 > 100", big, strlen(big), 414),
                   0);
  free(big);
  char *ok = make_long_target_request(90);
  hu_response r;
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  free(ok);
  stop_server(s);
}

/* A request with nfields header fields (Host included), each line about
 * line_len bytes. */
static char *make_headers_request(int nfields, size_t line_len) {
  size_t cap = 64 + (size_t)nfields * (line_len + 32);
  char *buf = malloc(cap);
  size_t n = (size_t)sprintf(buf, "GET /h HTTP/1.1\r\nHost: a\r\n");
  for (int i = 1; i < nfields; i++) {
    n += (size_t)sprintf(buf + n, "X-F%d: ", i);
    size_t pad = line_len > 16 ? line_len - 16 : 1;
    memset(buf + n, 'v', pad);
    n += pad;
    buf[n++] = '\r';
    buf[n++] = '\n';
  }
  buf[n++] = '\r';
  buf[n++] = '\n';
  buf[n] = '\0';
  return buf;
}

static void test_http_reject__header_block_too_large_431(void **state) {
  hu_server *s = start_server(NULL);
  /* Default max_header_size is 64 KiB: 80 fields of 1000 bytes = 80 KB,
   * under the field count limit. */
  char *big = make_headers_request(80, 1000);
  assert_int_equal(
      hu_check_reject(s->port, "80 KB head", big, strlen(big), 431), 0);
  free(big);
  /* 40 KB is fine. */
  char *ok = make_headers_request(40, 1000);
  hu_response r;
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  free(ok);
  assert_int_equal(hu_server_calls(s), 1);
  stop_server(s);
}

static void tune_header_4k(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_MAX_HEADER_SIZE, 4096),
                   0);
}

static void test_http_reject__header_block_configured_431(void **state) {
  hu_server *s = start_server(tune_header_4k);
  char *big = make_headers_request(10, 600);
  assert_int_equal(
      hu_check_reject(s->port, "6 KB head > 4 KiB", big, strlen(big), 431), 0);
  free(big);
  /* Header bytes that never end are cut too (no waiting for the blank
   * line): send 8 KB of a header and keep the connection open. */
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  char line[8300];
  strcpy(line, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
  size_t n = strlen(line);
  memset(line + n, 'v', 8192);
  line[n + 8192] = '\0';
  hu_send(&c, line, strlen(line));
  hu_response r;
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 431);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);
  char *ok = make_headers_request(5, 600);
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  free(ok);
  assert_int_equal(hu_server_calls(s), 1);
  stop_server(s);
}

static void test_http_reject__too_many_header_fields_431(void **state) {
  hu_server *s = start_server(NULL);
  /* Default limit: 100 fields.  101 is refused... */
  char *big = make_headers_request(101, 20);
  assert_int_equal(
      hu_check_reject(s->port, "101 fields", big, strlen(big), 431), 0);
  free(big);
  /* ...100 is served. */
  char *ok = make_headers_request(100, 20);
  hu_response r;
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  free(ok);
  assert_int_equal(hu_server_calls(s), 1);
  stop_server(s);
}

static void tune_count_10(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_MAX_HEADER_COUNT, 10),
                   0);
}

static void test_http_reject__header_count_configured_431(void **state) {
  hu_server *s = start_server(tune_count_10);
  char *big = make_headers_request(11, 20);
  assert_int_equal(
      hu_check_reject(s->port, "11 fields > 10", big, strlen(big), 431), 0);
  free(big);
  char *ok = make_headers_request(10, 20);
  hu_response r;
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  free(ok);
  stop_server(s);
}

static void tune_body_1000(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_MAX_BODY_SIZE, 1000),
                   0);
}

/* 413 must arrive while the client has sent only the head. */
static void test_http_reject__body_too_large_413_before_body(void **state) {
  hu_server *s = start_server(tune_body_1000);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 413);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);

  /* With Expect: 100-continue the 413 comes instead of the 100. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n"
              "Expect: 100-continue\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 413);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);

  /* A chunked body that grows past the limit. */
  char req[4096];
  int n = sprintf(req,
                  "POST /big HTTP/1.1\r\nHost: a\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 3; i++) {
    n += sprintf(req + n, "258\r\n"); /* 600 bytes */
    memset(req + n, 'x', 600);
    n += 600;
    n += sprintf(req + n, "\r\n");
  }
  n += sprintf(req + n, "0\r\n\r\n");
  assert_int_equal(
      hu_check_reject(s->port, "chunked 1800 > 1000", req, (size_t)n, 413), 0);

  /* Exactly the limit is fine. */
  char *ok = malloc(1200);
  n = sprintf(ok,
              "POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
  memset(ok + n, 'y', 1000);
  assert_int_equal(hu_exchange(s->port, ok, (size_t)n + 1000, &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "POST /ok 1000\n");
  hu_response_free(&r);
  free(ok);
  assert_int_equal(hu_server_calls(s), 1);
  assert_int_equal(hu_server_count_uri(s, "/big"), 0);
  stop_server(s);
}

typedef struct sender {
  hu_conn *c;
  const char *data;
  size_t len;
} sender;

static void *send_thread(void *arg) {
  sender *sd = arg;
  hu_send(sd->c, sd->data, sd->len); /* may fail once the server closes */
  return NULL;
}

/* The client sends a large body without waiting: the 413 must still reach
 * it (lingering close), not be lost to a reset. */
static void test_http_reject__413_while_client_sends(void **state) {
  hu_server *s = start_server(tune_body_1000);
  size_t blen = 2 * 1024 * 1024;
  char *req = malloc(blen + 200);
  int n = sprintf(
      req, "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
      blen);
  memset(req + n, 'b', blen);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  sender sd = {&c, req, (size_t)n + blen};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, send_thread, &sd), 0);
  hu_response r;
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 413);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  shutdown(c.fd, SHUT_RDWR); /* unblock the sender if it still waits */
  pthread_join(t, NULL);
  hu_close(&c);
  free(req);
  assert_int_equal(hu_server_calls(s), 0);
  stop_server(s);
}

static void test_http_reject__default_max_body_413(void **state) {
  hu_server *s = start_server(NULL);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  /* 100 MiB + 1 */
  hu_send_str(&c,
              "PUT /big HTTP/1.1\r\nHost: a\r\n"
              "Content-Length: 104857601\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 413);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 0);
  stop_server(s);
}

static void test_http_reject__expect_417(void **state) {
  static const reject_case cases[] = {
      RC("Expect: something",
         "POST / HTTP/1.1\r\n" H
         "Content-Length: 3\r\nExpect: something\r\n\r\nabc",
         417),
      RC("Expect: 200-ok", "GET / HTTP/1.1\r\n" H "Expect: 200-ok\r\n\r\n",
         417),
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_reject__malformed_request_line),
      cmocka_unit_test(test_http_reject__bare_cr),
      cmocka_unit_test(test_http_reject__nul_and_control_bytes),
      cmocka_unit_test(test_http_reject__whitespace_before_colon),
      cmocka_unit_test(test_http_reject__obs_fold),
      cmocka_unit_test(test_http_reject__content_length_with_transfer_encoding),
      cmocka_unit_test(test_http_reject__bad_content_length),
      cmocka_unit_test(test_http_reject__bad_chunk_size),
      cmocka_unit_test(test_http_reject__unknown_transfer_coding),
      cmocka_unit_test(test_http_reject__host),
      cmocka_unit_test(test_http_reject__http10_without_host_accepted),
      cmocka_unit_test(test_http_reject__unsupported_version),
      cmocka_unit_test(test_http_reject__long_target_414),
      cmocka_unit_test(test_http_reject__long_target_configured),
      cmocka_unit_test(test_http_reject__header_block_too_large_431),
      cmocka_unit_test(test_http_reject__header_block_configured_431),
      cmocka_unit_test(test_http_reject__too_many_header_fields_431),
      cmocka_unit_test(test_http_reject__header_count_configured_431),
      cmocka_unit_test(test_http_reject__body_too_large_413_before_body),
      cmocka_unit_test(test_http_reject__413_while_client_sends),
      cmocka_unit_test(test_http_reject__default_max_body_413),
      cmocka_unit_test(test_http_reject__expect_417),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
