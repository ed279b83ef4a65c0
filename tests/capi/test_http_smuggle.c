/*
 * test_http_smuggle -- request smuggling techniques (CL.TE, TE.CL, TE.TE
 * variants, duplicate Content-Length, chunk-size tricks, requests hidden in
 * bodies) against the real server.  Each attempt hides "GET /hidden" and
 * ends with a sentinel request carrying Connection: close.  The server must
 * either answer exactly one error and close (dispatching nothing), or
 * answer exactly the legitimate requests in order; /hidden must never reach
 * the handler.
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

#define HIDDEN "GET /hidden HTTP/1.1\r\nHost: a\r\n\r\n"
#define SENTINEL \
  "GET /sentinel HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
#define SENTINEL_BODY "GET /sentinel 0\n"

enum { EXPECT_ERROR = 1, EXPECT_OK = 2, EXPECT_EITHER = 3 };

static hu_server *g_srv;
static int g_failures;

static int setup(void **state) {
  g_srv = hu_server_new();
  if (!g_srv || hu_server_start(g_srv) != 0) return -1;
  return 0;
}

static int teardown(void **state) {
  int rc = hu_server_stop(g_srv);
  hu_server_free(g_srv);
  return rc;
}

/*
 * Send raw on a fresh connection and judge.  For EXPECT_OK / EXPECT_EITHER,
 * bodies lists the exact response bodies expected (NULL-terminated; the
 * default handler answers "METHOD URI BODYLEN\n").
 */
static void check(const char *label, const char *raw, size_t len, int kind,
                  const char *const *bodies) {
  hu_server *s = g_srv;
  int before = hu_server_calls(s);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send(&c, raw, len);

  int n = 0, statuses[16] = {0};
  char *got[16] = {0};
  int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
  int closed = 0, rc = HU_OK;
  for (;;) {
    hu_response r;
    int64_t left = end - hu_now_ms();
    rc = hu_read_response(&c, &r, 0, left > 0 ? (int)left : 1);
    if (rc != HU_OK) break;
    if (n < 16) {
      statuses[n] = r.status;
      got[n] = strdup(r.body);
    }
    n++;
    hu_response_free(&r);
  }
  closed = rc == HU_ECLOSED;
  hu_close(&c);
  int after = hu_server_calls(s);

  int hidden = hu_server_count_uri(s, "/hidden");
  int dispatched = after - before;
  int ok_error = n == 1 && statuses[0] >= 400 && closed && dispatched == 0;
  int ok_ok = 0;
  if (bodies) {
    int want = 0;
    while (bodies[want]) want++;
    ok_ok = n == want && closed && dispatched == want;
    for (int i = 0; ok_ok && i < want; i++)
      ok_ok = statuses[i] == 200 && got[i] && strcmp(got[i], bodies[i]) == 0;
  }
  int ok = kind == EXPECT_ERROR ? ok_error
           : kind == EXPECT_OK  ? ok_ok
                                : (ok_error || ok_ok);
  if (hidden) ok = 0;
  if (!ok) {
    g_failures++;
    fprintf(stderr,
            "FAIL [%s]: %d response(s), closed=%d (rc=%d), %d dispatched, "
            "/hidden dispatched %d time(s)\n",
            label, n, closed, rc, dispatched, hidden);
    for (int i = 0; i < n && i < 16; i++) {
      fprintf(stderr, "  response %d: status %d ", i, statuses[i]);
      hu_print_escaped("body ", got[i] ? got[i] : "",
                       got[i] ? strlen(got[i]) : 0);
    }
    for (int i = before; i < after; i++) {
      char uri[256];
      hu_server_uri_at(s, i, uri, sizeof uri);
      fprintf(stderr, "  dispatched %s\n", uri);
    }
    hu_print_escaped("  request: ", raw, len);
  }
  for (int i = 0; i < 16; i++) free(got[i]);
}

static void check_str(const char *label, const char *raw, int kind,
                      const char *const *bodies) {
  check(label, raw, strlen(raw), kind, bodies);
}

static void finish(void) {
  int f = g_failures;
  g_failures = 0;
  assert_int_equal(f, 0);
}

/* Format helper: printf into a static-sized heap buffer. */
static char *fmt(const char *f, ...) {
  va_list ap;
  char *buf = malloc(8192);
  va_start(ap, f);
  vsnprintf(buf, 8192, f, ap);
  va_end(ap);
  return buf;
}

static void test_http_smuggle__cl_te(void **state) {
  const char *body = "0\r\n\r\n" HIDDEN;
  char *raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n"
          "Transfer-Encoding: chunked\r\n\r\n%s" SENTINEL,
          strlen(body), body);
  check_str("CL.TE", raw, EXPECT_ERROR, NULL);
  free(raw);
  /* Front-end reads CL=6 ("0\r\n\r\nG"), back-end chunked: classic prefix. */
  check_str("CL.TE prefix",
            "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG" SENTINEL,
            EXPECT_ERROR, NULL);
  finish();
}

static void test_http_smuggle__te_cl(void **state) {
  char chunk[256];
  snprintf(chunk, sizeof chunk, "%zx\r\n%s\r\n0\r\n\r\n", strlen(HIDDEN),
           HIDDEN);
  char *raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "Content-Length: 4\r\n\r\n%s" SENTINEL,
          chunk);
  check_str("TE.CL", raw, EXPECT_ERROR, NULL);
  free(raw);
  finish();
}

/* TE.TE: one side is made to ignore Transfer-Encoding by obfuscation.  With
 * a Content-Length beside it, every reading either errors or (if the TE
 * header is not a TE header at all) frames by Content-Length. */
static void test_http_smuggle__te_te_obfuscated(void **state) {
  char chunk[256];
  snprintf(chunk, sizeof chunk, "%zx\r\n%s\r\n0\r\n\r\n", strlen(HIDDEN),
           HIDDEN);
  /* lenient: a reading that accepts it as plain chunked is not wrong (bare
   * LF line ends are allowed; "chunked" twice decodes once). */
  static const struct {
    const char *te;
    size_t len;
    int lenient;
  } v[] = {
#define V(s, l) {s, sizeof(s) - 1, l}
      V("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", 0),
      V("Transfer-Encoding: xchunked\r\n", 0),
      V("Transfer-Encoding : chunked\r\n", 0),
      V("Transfer-Encoding:\x0b"
        "chunked\r\n",
        0),
      V("Transfer-Encoding: chunked\x0b\r\n", 0),
      V("Transfer-Encoding: \"chunked\"\r\n", 0),
      V("Transfer-Encoding\r\n : chunked\r\n", 0),
      V("X: x\nTransfer-Encoding: chunked\r\n", 1),
      V("Transfer-Encoding: chunked, identity\r\n", 0),
      V("Transfer-Encoding: identity, chunked\r\n", 0),
      V("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 1),
      V("Transfer-Encoding: chunked, chunked\r\n", 1),
      V("Transfer-Encoding: chunk\r\n", 0),
      V("Transfer-Encoding\0: chunked\r\n", 0),
      V("Transfer-Encoding: \x00chunked\r\n", 0),
#undef V
  };
  char want[64];
  snprintf(want, sizeof want, "POST /a %zu\n", strlen(HIDDEN));
  const char *const lenient_bodies[] = {want, SENTINEL_BODY, NULL};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char label[128];
    char raw[1024];
    /* TE only (no CL). */
    int n = snprintf(raw, sizeof raw, "POST /a HTTP/1.1\r\nHost: a\r\n");
    memcpy(raw + n, v[i].te, v[i].len);
    n += (int)v[i].len;
    n += snprintf(raw + n, sizeof raw - (size_t)n, "\r\n%s" SENTINEL, chunk);
    snprintf(label, sizeof label, "TE.TE #%zu (TE only)", i);
    check(label, raw, (size_t)n, v[i].lenient ? EXPECT_EITHER : EXPECT_ERROR,
          v[i].lenient ? lenient_bodies : NULL);
    /* With a Content-Length covering the chunked body too: always an
     * error (TE with CL, or an invalid TE field). */
    n = snprintf(raw, sizeof raw,
                 "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n",
                 strlen(chunk));
    memcpy(raw + n, v[i].te, v[i].len);
    n += (int)v[i].len;
    n += snprintf(raw + n, sizeof raw - (size_t)n, "\r\n%s" SENTINEL, chunk);
    snprintf(label, sizeof label, "TE.TE #%zu (with CL)", i);
    check(label, raw, (size_t)n, EXPECT_ERROR, NULL);
  }
  finish();
}

/* Spellings that are legitimately chunked (coding names are
 * case-insensitive, OWS may be a tab) must be decoded as chunked: the
 * hidden request inside the chunk data is body, not a request. */
static void test_http_smuggle__te_legit_spellings(void **state) {
  char chunk[256];
  snprintf(chunk, sizeof chunk, "%zx\r\n%s\r\n0\r\n\r\n", strlen(HIDDEN),
           HIDDEN);
  char want_a[64];
  snprintf(want_a, sizeof want_a, "POST /a %zu\n", strlen(HIDDEN));
  const char *const bodies[] = {want_a, SENTINEL_BODY, NULL};
  static const char *const te[] = {
      "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: Chunked\r\n",
      "Transfer-Encoding: CHUNKED\r\n", "Transfer-Encoding:\tchunked\r\n",
      "Transfer-Encoding:chunked\r\n",  "transfer-encoding: chunked \r\n",
  };
  for (size_t i = 0; i < sizeof te / sizeof te[0]; i++) {
    char *raw =
        fmt("POST /a HTTP/1.1\r\nHost: a\r\n%s\r\n%s" SENTINEL, te[i], chunk);
    char label[64];
    snprintf(label, sizeof label, "legit TE #%zu", i);
    check_str(label, raw, EXPECT_OK, bodies);
    free(raw);
  }
  /* Transfer_Encoding is another header entirely: framing is by CL. */
  char *raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n"
          "Content-Length: %zu\r\n\r\n%s" SENTINEL,
          strlen(chunk), chunk);
  char want_cl[64];
  snprintf(want_cl, sizeof want_cl, "POST /a %zu\n", strlen(chunk));
  const char *const bodies_cl[] = {want_cl, SENTINEL_BODY, NULL};
  check_str("Transfer_Encoding is not TE", raw, EXPECT_OK, bodies_cl);
  free(raw);
  finish();
}

static void test_http_smuggle__duplicate_content_length(void **state) {
  size_t hl = strlen(HIDDEN);
  char *raw;
  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
          "Content-Length: %zu\r\n\r\n" HIDDEN SENTINEL,
          hl);
  check_str("CL 0 then CL n", raw, EXPECT_ERROR, NULL);
  free(raw);
  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n"
          "Content-Length: 0\r\n\r\n" HIDDEN SENTINEL,
          hl);
  check_str("CL n then CL 0", raw, EXPECT_ERROR, NULL);
  free(raw);
  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
          "content-length: %zu\r\n\r\n" HIDDEN SENTINEL,
          hl);
  check_str("CL case variants", raw, EXPECT_ERROR, NULL);
  free(raw);
  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu, 0\r\n\r\n" HIDDEN
              SENTINEL,
          hl);
  check_str("CL list n, 0", raw, EXPECT_ERROR, NULL);
  free(raw);
  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0 %zu\r\n\r\n" HIDDEN
              SENTINEL,
          hl);
  check_str("CL '0 n'", raw, EXPECT_ERROR, NULL);
  free(raw);
  raw = fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length : %zu\r\n\r\n" HIDDEN
                SENTINEL,
            hl);
  check_str("CL space before colon", raw, EXPECT_ERROR, NULL);
  free(raw);
  raw = fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: +%zu\r\n\r\n" HIDDEN
                SENTINEL,
            hl);
  check_str("CL plus sign", raw, EXPECT_ERROR, NULL);
  free(raw);
  /* The same value twice may be accepted (RFC 9112 6.3) or refused. */
  char want[64];
  snprintf(want, sizeof want, "POST /a %zu\n", hl);
  const char *const bodies[] = {want, SENTINEL_BODY, NULL};
  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n"
          "Content-Length: %zu\r\n\r\n" HIDDEN SENTINEL,
          hl, hl);
  check_str("CL same twice", raw, EXPECT_EITHER, bodies);
  free(raw);
  finish();
}

static void test_http_smuggle__chunk_size_tricks(void **state) {
  char *raw;
#define TE_HEAD \
  "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
  /* 2^64 wraps to 0 in a careless parser: "last chunk", then /hidden. */
  check_str("size 2^64", TE_HEAD "10000000000000000\r\n\r\n" HIDDEN SENTINEL,
            EXPECT_ERROR, NULL);
  /* 2^64 + len wraps to len. */
  raw = fmt(TE_HEAD "1%016zx\r\n%s\r\n0\r\n\r\n" SENTINEL, strlen(HIDDEN),
            HIDDEN);
  check_str("size 2^64+n", raw, EXPECT_ERROR, NULL);
  free(raw);
  /* Size smaller than the data: the rest would parse as a request. */
  check_str("short size", TE_HEAD "1\r\nx" HIDDEN "\r\n0\r\n\r\n" SENTINEL,
            EXPECT_ERROR, NULL);
  check_str("0x prefix", TE_HEAD "0x0\r\n\r\n" HIDDEN SENTINEL, EXPECT_ERROR,
            NULL);
  check_str("negative", TE_HEAD "-0\r\n\r\n" HIDDEN SENTINEL, EXPECT_ERROR,
            NULL);
  check_str("bare CR in extension",
            TE_HEAD "5;a\rb\r\nhello\r\n0\r\n\r\n" HIDDEN SENTINEL,
            EXPECT_ERROR, NULL);
  check_str("NUL in extension",
            TE_HEAD
            "5;a\x01"
            "b\r\nhello\r\n0\r\n\r\n" HIDDEN SENTINEL,
            EXPECT_ERROR, NULL);
  /* Valid extensions, trailers and leading zeros frame correctly. */
  {
    char want[64];
    snprintf(want, sizeof want, "POST /a %zu\n", (size_t)5 + strlen(HIDDEN));
    const char *const bodies[] = {want, SENTINEL_BODY, NULL};
    raw = fmt(TE_HEAD
              "5;name=value;x=\"q s\"\r\nhello\r\n%zx\r\n%s\r\n"
              "0\r\nX-Trailer: %s\r\n\r\n" SENTINEL,
              strlen(HIDDEN), HIDDEN, "t");
    check_str("extensions and trailer", raw, EXPECT_OK, bodies);
    free(raw);
    raw = fmt(TE_HEAD "0005\r\nhello\r\n%04zx\r\n%s\r\n0\r\n\r\n" SENTINEL,
              strlen(HIDDEN), HIDDEN);
    check_str("leading zeros", raw, EXPECT_OK, bodies);
    free(raw);
  }
  /* A trailer line that is a request line. */
  check_str("request in trailer",
            TE_HEAD "0\r\nGET /hidden HTTP/1.1\r\n\r\n" SENTINEL, EXPECT_ERROR,
            NULL);
#undef TE_HEAD
  finish();
}

static void test_http_smuggle__request_hidden_in_body(void **state) {
  size_t hl = strlen(HIDDEN);
  char want[64];
  char *raw;
  snprintf(want, sizeof want, "POST /a %zu\n", hl);
  const char *const post_bodies[] = {want, SENTINEL_BODY, NULL};
  raw = fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n" HIDDEN
                SENTINEL,
            hl);
  check_str("hidden in CL body", raw, EXPECT_OK, post_bodies);
  free(raw);

  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          "%zx\r\n%s\r\n0\r\n\r\n" SENTINEL,
          hl, HIDDEN);
  check_str("hidden in chunked body", raw, EXPECT_OK, post_bodies);
  free(raw);

  raw =
      fmt("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n"
          "Expect: 100-continue\r\n\r\n" HIDDEN SENTINEL,
          hl);
  /* The 100 Continue, if any, is skipped by counting only final bodies. */
  {
    hu_server *s = g_srv;
    int before = hu_server_calls(s);
    hu_conn c;
    assert_int_equal(hu_connect(&c, s->port), 0);
    hu_send_str(&c, raw);
    hu_response r;
    int finals = 0;
    char bodies[2][64] = {{0}};
    while (hu_read_response(&c, &r, 0, HU_TIMEOUT_MS) == HU_OK) {
      if (r.status >= 200) {
        if (finals < 2) snprintf(bodies[finals], 64, "%s", r.body);
        finals++;
      }
      hu_response_free(&r);
    }
    hu_close(&c);
    assert_int_equal(finals, 2);
    assert_string_equal(bodies[0], want);
    assert_string_equal(bodies[1], SENTINEL_BODY);
    assert_int_equal(hu_server_calls(s) - before, 2);
  }
  free(raw);

  /* A GET with a body: the body must be consumed, not parsed. */
  snprintf(want, sizeof want, "GET /a %zu\n", hl);
  const char *const get_bodies[] = {want, SENTINEL_BODY, NULL};
  raw = fmt("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n" HIDDEN
                SENTINEL,
            hl);
  check_str("hidden in GET body", raw, EXPECT_OK, get_bodies);
  free(raw);

  /* Whitespace-preceded first header line: rejected, or consumed without
   * processing (RFC 9112 2.2) -- then CL frames the body. */
  char chunk[256];
  snprintf(chunk, sizeof chunk, "0\r\n\r\n%s", HIDDEN);
  snprintf(want, sizeof want, "POST /a %zu\n", strlen(chunk));
  const char *const ws_bodies[] = {want, SENTINEL_BODY, NULL};
  raw =
      fmt("POST /a HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n"
          "Content-Length: %zu\r\n\r\n%s" SENTINEL,
          strlen(chunk), chunk);
  check_str("whitespace line before headers", raw, EXPECT_EITHER, ws_bodies);
  free(raw);
  finish();
}

/* HTTP/1.0 + Transfer-Encoding: faulty framing (RFC 9112 6.1): the server
 * may refuse it, or process it and close -- never read past it. */
static void test_http_smuggle__http10_transfer_encoding(void **state) {
  hu_server *s = g_srv;
  int before = hu_server_calls(s);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
              "Connection: keep-alive\r\n\r\n0\r\n\r\n" HIDDEN SENTINEL);
  int statuses[8], closed;
  int n = hu_read_until_close(&c, statuses, 8, &closed, HU_TIMEOUT_MS);
  hu_close(&c);
  assert_int_equal(n, 1);
  assert_true(closed);
  assert_int_equal(hu_server_count_uri(s, "/hidden"), 0);
  assert_int_equal(hu_server_count_uri_since(s, "/sentinel", before), 0);
  assert_true(hu_server_calls(s) - before <= 1);
}

/* An error response must end the connection even if more requests were
 * pipelined behind the bad one. */
static void test_http_smuggle__nothing_after_error(void **state) {
  check_str("bad request then good",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01"
            "b\r\n\r\n" SENTINEL,
            EXPECT_ERROR, NULL);
  check("NUL header then good",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n" HIDDEN SENTINEL,
        sizeof("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n" HIDDEN SENTINEL) -
            1,
        EXPECT_ERROR, NULL);
  finish();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_smuggle__cl_te),
      cmocka_unit_test(test_http_smuggle__te_cl),
      cmocka_unit_test(test_http_smuggle__te_te_obfuscated),
      cmocka_unit_test(test_http_smuggle__te_legit_spellings),
      cmocka_unit_test(test_http_smuggle__duplicate_content_length),
      cmocka_unit_test(test_http_smuggle__chunk_size_tricks),
      cmocka_unit_test(test_http_smuggle__request_hidden_in_body),
      cmocka_unit_test(test_http_smuggle__http10_transfer_encoding),
      cmocka_unit_test(test_http_smuggle__nothing_after_error),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
