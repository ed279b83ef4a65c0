/*
 * test_http_request -- the squall_request_* accessors against real
 * requests: fields, headers, query and body arguments (urlencoded and
 * multipart with a binary file), cookies, host / full_url, absolute-form,
 * request_time, xheaders with and without trusted proxies, and
 * decompress_request.
 *
 * The handler dumps everything it can read into the response body as
 * "key=value" lines (bytes outside printable ASCII as \xHH), and the test
 * checks lines in it: no cmocka call runs off the main thread.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>

#include "httputil.h"

typedef struct dump {
  char *buf;
  size_t len, cap;
} dump;

static void d_raw(dump *d, const char *p, size_t n) {
  if (d->len + n + 1 > d->cap) {
    while (d->len + n + 1 > d->cap) d->cap = d->cap ? d->cap * 2 : 4096;
    d->buf = realloc(d->buf, d->cap);
  }
  memcpy(d->buf + d->len, p, n);
  d->len += n;
  d->buf[d->len] = '\0';
}

static void d_str(dump *d, const char *s) {
  d_raw(d, s, strlen(s));
}

static void d_esc(dump *d, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch < 0x20 || ch >= 0x7f || ch == '\\') {
      char tmp[8];
      snprintf(tmp, sizeof tmp, "\\x%02x", ch);
      d_str(d, tmp);
    } else {
      d_raw(d, (const char *)&ch, 1);
    }
  }
}

static void d_kv(dump *d, const char *key, const char *p, size_t n) {
  d_str(d, key);
  d_str(d, "=");
  d_esc(d, p, n);
  d_str(d, "\n");
}

static void d_int(dump *d, const char *key, long long v) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s=%lld\n", key, v);
  d_str(d, tmp);
}

static void dump_handler(hu_server *s, squall_request *req) {
  dump d = {0};
  static const struct {
    int f;
    const char *name;
  } fields[] = {
      {SQUALL_REQ_METHOD, "method"},       {SQUALL_REQ_URI, "uri"},
      {SQUALL_REQ_PATH, "path"},           {SQUALL_REQ_QUERY, "query"},
      {SQUALL_REQ_VERSION, "version"},     {SQUALL_REQ_HOST, "host"},
      {SQUALL_REQ_REMOTE_IP, "remote_ip"}, {SQUALL_REQ_PROTOCOL, "protocol"},
      {SQUALL_REQ_FULL_URL, "full_url"},   {SQUALL_REQ_HOST_NAME, "host_name"}};
  const char *p, *p2;
  size_t n, n2;
  char key[128];
  d_str(&d, "\n");
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    int rc = squall_request_get(req, fields[i].f, &p, &n);
    if (rc == 0)
      d_kv(&d, fields[i].name, p, n);
    else
      d_int(&d, fields[i].name, rc);
  }
  d_int(&d, "bad_field", squall_request_get(req, 999, &p, &n));
  size_t count = 0;
  d_int(&d, "header_count_rc", squall_request_header_count(req, &count));
  d_int(&d, "header_count", (long long)count);
  for (size_t i = 0; i < count; i++) {
    if (squall_request_header_at(req, i, &p, &n, &p2, &n2) != 0) {
      d_int(&d, "header_at_failed", (long long)i);
      continue;
    }
    snprintf(key, sizeof key, "header[%zu]", i);
    d_str(&d, key);
    d_str(&d, "=");
    d_esc(&d, p, n);
    d_str(&d, ": ");
    d_esc(&d, p2, n2);
    d_str(&d, "\n");
  }
  d_int(&d, "header_at_past_end",
        squall_request_header_at(req, count, &p, &n, &p2, &n2));
  for (size_t nth = 0; nth < 3; nth++) {
    snprintf(key, sizeof key, "x-multi[%zu]", nth);
    int rc = squall_request_header(req, "X-MULTI", SQUALL_NTS, nth, &p, &n);
    if (rc == 0)
      d_kv(&d, key, p, n);
    else
      d_int(&d, key, rc);
  }
  const void *body;
  size_t blen;
  if (squall_request_body(req, &body, &blen) == 0) {
    d_int(&d, "body_len", (long long)blen);
    d_kv(&d, "body", body, blen);
  }
  static const char *const src_names[] = {"all", "query", "body"};
  for (int src = 0; src < 3; src++) {
    count = 0;
    squall_request_argument_count(req, src, &count);
    snprintf(key, sizeof key, "args_%s", src_names[src]);
    d_int(&d, key, (long long)count);
    for (size_t i = 0; i < count; i++) {
      if (squall_request_argument_at(req, src, i, &p, &n, &p2, &n2) != 0)
        continue;
      snprintf(key, sizeof key, "arg_%s[%zu]", src_names[src], i);
      d_str(&d, key);
      d_str(&d, "=");
      d_esc(&d, p, n);
      d_str(&d, "=");
      d_esc(&d, p2, n2);
      d_str(&d, "\n");
    }
  }
  for (size_t nth = 0; nth < 4; nth++) {
    snprintf(key, sizeof key, "q[%zu]", nth);
    int rc = squall_request_argument(req, SQUALL_ARGS_ALL, "q", SQUALL_NTS, nth,
                                     &p, &n);
    if (rc == 0)
      d_kv(&d, key, p, n);
    else
      d_int(&d, key, rc);
  }
  {
    int rc = squall_request_argument(req, SQUALL_ARGS_QUERY, "a", SQUALL_NTS, 0,
                                     &p, &n);
    d_int(&d, "query_a_rc", rc);
  }
  count = 0;
  squall_request_file_count(req, &count);
  d_int(&d, "files", (long long)count);
  for (size_t i = 0; i < count; i++) {
    const char *field, *fname, *ctype;
    size_t fl, nl, cl;
    const void *data;
    size_t dl;
    if (squall_request_file_at(req, i, &field, &fl, &fname, &nl, &ctype, &cl,
                               &data, &dl) != 0)
      continue;
    snprintf(key, sizeof key, "file[%zu].field", i);
    d_kv(&d, key, field, fl);
    snprintf(key, sizeof key, "file[%zu].filename", i);
    d_kv(&d, key, fname, nl);
    snprintf(key, sizeof key, "file[%zu].type", i);
    d_kv(&d, key, ctype, cl);
    snprintf(key, sizeof key, "file[%zu].len", i);
    d_int(&d, key, (long long)dl);
    snprintf(key, sizeof key, "file[%zu].data", i);
    d_kv(&d, key, data, dl);
  }
  d_int(&d, "file_past_end",
        squall_request_file_at(req, count, NULL, NULL, NULL, NULL, NULL, NULL,
                               NULL, NULL));
  count = 0;
  squall_request_cookie_count(req, &count);
  d_int(&d, "cookies", (long long)count);
  for (size_t i = 0; i < count; i++) {
    if (squall_request_cookie_at(req, i, &p, &n, &p2, &n2) != 0) continue;
    snprintf(key, sizeof key, "cookie[%zu]", i);
    d_str(&d, key);
    d_str(&d, "=");
    d_esc(&d, p, n);
    d_str(&d, "=");
    d_esc(&d, p2, n2);
    d_str(&d, "\n");
  }
  {
    int rc = squall_request_cookie(req, "b", SQUALL_NTS, &p, &n);
    if (rc == 0)
      d_kv(&d, "cookie_b", p, n);
    else
      d_int(&d, "cookie_b", rc);
    d_int(&d, "cookie_missing",
          squall_request_cookie(req, "zz", SQUALL_NTS, &p, &n));
  }
  int64_t start_us = 0, elapsed_us = -1;
  d_int(&d, "time_rc", squall_request_time(req, &start_us, &elapsed_us));
  struct timeval tv;
  gettimeofday(&tv, NULL);
  int64_t now_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
  d_int(&d, "time_start_ok",
        start_us > now_us - 60000000LL && start_us <= now_us + 1000000LL);
  d_int(&d, "time_elapsed_ok", elapsed_us >= 0 && elapsed_us < 60000000LL);
  squall_loop *loop = NULL;
  d_int(&d, "loop_rc", squall_request_loop(req, &loop));
  d_int(&d, "loop_ok", loop == s->loop);
  squall_respond(req, 200, "text/plain", SQUALL_NTS, d.buf, d.len);
  free(d.buf);
}

/* Every borrowed string, printed with %s, must equal its (pointer, length)
 * view: squall.h promises NUL termination.  The handler checks each one and
 * reports "nul_checked=N" and "nul_bad=..." lines. */
static void nul_check(dump *d, int *checked, const char *what, const char *p,
                      size_t n) {
  char buf[512];
  (*checked)++;
  snprintf(buf, sizeof buf, "%s", p);
  if (n >= sizeof buf - 1 || strlen(buf) != n || memcmp(buf, p, n) != 0) {
    d_str(d, "nul_bad=");
    d_str(d, what);
    d_str(d, " printed as ");
    d_esc(d, buf, strlen(buf));
    d_str(d, "\n");
  }
}

static void nul_handler(hu_server *s, squall_request *req) {
  (void)s;
  dump d = {0};
  int checked = 0;
  const char *p, *q;
  size_t n, m, count = 0;
  char what[64];
  for (int f = SQUALL_REQ_METHOD; f <= SQUALL_REQ_HOST_NAME; f++) {
    if (squall_request_get(req, f, &p, &n) == 0) {
      snprintf(what, sizeof what, "field %d", f);
      nul_check(&d, &checked, what, p, n);
    }
  }
  squall_request_header_count(req, &count);
  for (size_t i = 0; i < count; i++) {
    if (squall_request_header_at(req, i, &p, &n, &q, &m) != 0) continue;
    snprintf(what, sizeof what, "header %zu name", i);
    nul_check(&d, &checked, what, p, n);
    snprintf(what, sizeof what, "header %zu value", i);
    nul_check(&d, &checked, what, q, m);
  }
  if (squall_request_header(req, "host", SQUALL_NTS, 0, &p, &n) == 0)
    nul_check(&d, &checked, "header by name", p, n);
  for (int src = SQUALL_ARGS_ALL; src <= SQUALL_ARGS_BODY; src++) {
    squall_request_argument_count(req, src, &count);
    for (size_t i = 0; i < count; i++) {
      if (squall_request_argument_at(req, src, i, &p, &n, &q, &m) != 0)
        continue;
      snprintf(what, sizeof what, "arg %d/%zu name", src, i);
      nul_check(&d, &checked, what, p, n);
      snprintf(what, sizeof what, "arg %d/%zu value", src, i);
      nul_check(&d, &checked, what, q, m);
    }
  }
  squall_request_cookie_count(req, &count);
  for (size_t i = 0; i < count; i++) {
    if (squall_request_cookie_at(req, i, &p, &n, &q, &m) != 0) continue;
    snprintf(what, sizeof what, "cookie %zu name", i);
    nul_check(&d, &checked, what, p, n);
    snprintf(what, sizeof what, "cookie %zu value", i);
    nul_check(&d, &checked, what, q, m);
  }
  d_int(&d, "nul_checked", checked);
  squall_respond(req, 200, "text/plain", SQUALL_NTS, d.buf, d.len);
  free(d.buf);
}

static hu_server *start(void (*tune)(squall_config *)) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = dump_handler;
  if (tune) tune(s->cfg);
  assert_int_equal(hu_server_start(s), 0);
  return s;
}

static void stop(hu_server *s) {
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

/* One exchange; returns the dump (caller frees). */
static char *ask(hu_server *s, const void *raw, size_t len) {
  hu_response r;
  int rc = hu_exchange(s->port, raw, len, &r, NULL);
  if (rc != HU_OK) fprintf(stderr, "exchange failed: %d\n", rc);
  assert_int_equal(rc, HU_OK);
  if (r.status != 200) hu_print_escaped("response: ", r.head, r.head_len);
  assert_int_equal(r.status, 200);
  char *body = r.body;
  r.body = NULL;
  hu_response_free(&r);
  return body;
}

static char *ask_str(hu_server *s, const char *raw) {
  return ask(s, raw, strlen(raw));
}

/* Assert that the dump holds the line "key=value". */
static void has_line(const char *dumpbuf, const char *line) {
  char *needle = malloc(strlen(line) + 3);
  sprintf(needle, "\n%s\n", line);
  if (!strstr(dumpbuf, needle)) {
    fprintf(stderr, "missing line: %s\n--- dump ---%s--- end ---\n", line,
            dumpbuf);
    fail();
  }
  free(needle);
}

static void test_http_request__fields_and_headers(void **state) {
  hu_server *s = start(NULL);
  char *d = ask_str(s,
                    "GET /a%20b/c?x=1&y=%2F HTTP/1.1\r\n"
                    "Host: example.com:8080\r\n"
                    "X-Multi: one\r\n"
                    "User-Agent: t\r\n"
                    "x-multi: two\r\n"
                    "Connection: close\r\n\r\n");
  has_line(d, "method=GET");
  has_line(d, "uri=/a%20b/c?x=1&y=%2F");
  has_line(d, "path=/a%20b/c");
  has_line(d, "query=x=1&y=%2F");
  has_line(d, "version=HTTP/1.1");
  has_line(d, "host=example.com:8080");
  has_line(d, "host_name=example.com");
  has_line(d, "remote_ip=127.0.0.1");
  has_line(d, "protocol=http");
  has_line(d, "full_url=http://example.com:8080/a%20b/c?x=1&y=%2F");
  has_line(d, "bad_field=-3"); /* SQUALL_EINVAL */
  has_line(d, "header_count=5");
  has_line(d, "header[0]=Host: example.com:8080");
  has_line(d, "header[1]=X-Multi: one");
  has_line(d, "header[2]=User-Agent: t");
  has_line(d, "header[3]=x-multi: two");
  has_line(d, "header[4]=Connection: close");
  has_line(d, "header_at_past_end=-7"); /* SQUALL_ENOTFOUND */
  has_line(d, "x-multi[0]=one");
  has_line(d, "x-multi[1]=two");
  has_line(d, "x-multi[2]=-7");
  has_line(d, "body_len=0");
  has_line(d, "time_rc=0");
  has_line(d, "time_start_ok=1");
  has_line(d, "time_elapsed_ok=1");
  has_line(d, "loop_rc=0");
  has_line(d, "loop_ok=1");
  free(d);

  /* Header values lose surrounding whitespace, keep inner. */
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\nX-Multi: \t in  side \t\r\n\r\n");
  has_line(d, "x-multi[0]=in  side");
  has_line(d, "query=");
  free(d);

  /* Absolute-form: host from the target, not the Host header. */
  d = ask_str(
      s,
      "GET http://other.org:81/p/q?z=9 HTTP/1.1\r\nHost: other.org:81\r\n\r\n");
  has_line(d, "uri=http://other.org:81/p/q?z=9");
  has_line(d, "path=/p/q");
  has_line(d, "query=z=9");
  has_line(d, "host=other.org:81");
  has_line(d, "host_name=other.org");
  free(d);

  /* IPv6 literal keeps its brackets in host_name. */
  d = ask_str(s, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
  has_line(d, "host_name=[::1]");
  free(d);

  /* OPTIONS * */
  d = ask_str(s, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  has_line(d, "method=OPTIONS");
  has_line(d, "uri=*");
  free(d);

  d = ask_str(s, "GET /v HTTP/1.0\r\n\r\n");
  has_line(d, "version=HTTP/1.0");
  free(d);
  stop(s);
}

static void test_http_request__urlencoded_query_cookies(void **state) {
  hu_server *s = start(NULL);
  const char *body = "a=1&b=hello+world&c=%00%FF&q=3&empty=";
  char raw[1024];
  int n = snprintf(raw, sizeof raw,
                   "POST /form?q=1&q=2&x=a%%20b&plus=a+b HTTP/1.1\r\n"
                   "Host: a\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\n"
                   "Cookie: a=1; b=two\r\n"
                   "Cookie: c=3\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   strlen(body), body);
  char *d = ask(s, raw, (size_t)n);
  has_line(d, "args_query=4");
  has_line(d, "arg_query[0]=q=1");
  has_line(d, "arg_query[1]=q=2");
  has_line(d, "arg_query[2]=x=a b");
  has_line(d, "arg_query[3]=plus=a b");
  has_line(d, "args_body=5");
  has_line(d, "arg_body[0]=a=1");
  has_line(d, "arg_body[1]=b=hello world");
  has_line(d, "arg_body[2]=c=\\x00\\xff");
  has_line(d, "arg_body[3]=q=3");
  has_line(d, "arg_body[4]=empty=");
  has_line(d, "args_all=9");
  has_line(d, "q[0]=1");
  has_line(d, "q[1]=2");
  has_line(d, "q[2]=3");
  has_line(d, "q[3]=-7");
  has_line(d, "query_a_rc=-7");
  has_line(d, "cookies=3");
  has_line(d, "cookie[0]=a=1");
  has_line(d, "cookie[1]=b=two");
  has_line(d, "cookie[2]=c=3");
  has_line(d, "cookie_b=two");
  has_line(d, "cookie_missing=-7");
  has_line(d, "files=0");
  free(d);

  /* Content-Type with parameters is still urlencoded. */
  n = snprintf(
      raw, sizeof raw,
      "PUT /f HTTP/1.1\r\nHost: a\r\n"
      "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
      "Content-Length: 9\r\n\r\nk=v%%C3%%A9");
  d = ask(s, raw, (size_t)n);
  has_line(d, "args_body=1");
  has_line(d, "arg_body[0]=k=v\\xc3\\xa9");
  free(d);

  /* Not a form: no body arguments. */
  d = ask_str(
      s,
      "POST /j HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 3\r\n\r\na=1");
  has_line(d, "args_body=0");
  has_line(d, "body=a=1");
  free(d);
  stop(s);
}

#define BOUNDARY "----squallBoundary7MA4YWxk"
#define PARTIAL_BOUNDARY "----squallBoundary7MA4YWx"

static void test_http_request__multipart_binary_file(void **state) {
  hu_server *s = start(NULL);
  /* The file: every byte value, then things that look like delimiters
   * (but are not: a delimiter is CRLF "--" and the whole boundary). */
  unsigned char file[256 + 64];
  size_t fl = 0;
  for (int i = 0; i < 256; i++) file[fl++] = (unsigned char)i;
  const char *tricky = "\r\n--" PARTIAL_BOUNDARY "\r\n\r\n\0\r\n-\r\n--";
  size_t tl = sizeof("\r\n--" PARTIAL_BOUNDARY "\r\n\r\n\0\r\n-\r\n--") - 1;
  memcpy(file + fl, tricky, tl);
  fl += tl;

  char *body = malloc(4096);
  size_t bl = 0;
  bl += (size_t)sprintf(body + bl,
                        "--" BOUNDARY
                        "\r\n"
                        "Content-Disposition: form-data; name=\"field1\"\r\n"
                        "\r\n"
                        "value one\r\n"
                        "--" BOUNDARY
                        "\r\n"
                        "Content-Disposition: form-data; name=\"upload\"; "
                        "filename=\"bin.dat\"\r\n"
                        "Content-Type: application/octet-stream\r\n"
                        "\r\n");
  memcpy(body + bl, file, fl);
  bl += fl;
  bl += (size_t)sprintf(body + bl,
                        "\r\n--" BOUNDARY
                        "\r\n"
                        "Content-Disposition: form-data; name=\"upload2\"; "
                        "filename=\"b.txt\"\r\n"
                        "Content-Type: text/plain\r\n"
                        "\r\n"
                        "second\r\n"
                        "--" BOUNDARY "--\r\n");
  char *raw = malloc(bl + 512);
  size_t n =
      (size_t)sprintf(raw,
                      "POST /upload HTTP/1.1\r\nHost: a\r\n"
                      "Content-Type: multipart/form-data; boundary=" BOUNDARY
                      "\r\nContent-Length: %zu\r\n\r\n",
                      bl);
  memcpy(raw + n, body, bl);
  n += bl;
  char *d = ask(s, raw, n);
  has_line(d, "files=2");
  has_line(d, "file[0].field=upload");
  has_line(d, "file[0].filename=bin.dat");
  has_line(d, "file[0].type=application/octet-stream");
  char line[2048];
  snprintf(line, sizeof line, "file[0].len=%zu", fl);
  has_line(d, line);
  {
    dump e = {0};
    d_kv(&e, "file[0].data", (const char *)file, fl);
    e.buf[e.len - 1] = '\0'; /* drop the newline has_line adds */
    has_line(d, e.buf);
    free(e.buf);
  }
  has_line(d, "file[1].field=upload2");
  has_line(d, "file[1].filename=b.txt");
  has_line(d, "file[1].type=text/plain");
  has_line(d, "file[1].data=second");
  has_line(d, "file_past_end=-7");
  has_line(d, "args_body=1");
  has_line(d, "arg_body[0]=field1=value one");
  free(d);

  /* Quoted boundary parameter. */
  n = (size_t)sprintf(raw,
                      "POST /upload HTTP/1.1\r\nHost: a\r\n"
                      "Content-Type: multipart/form-data; boundary=\"" BOUNDARY
                      "\"\r\nContent-Length: %zu\r\n\r\n",
                      bl);
  memcpy(raw + n, body, bl);
  n += bl;
  d = ask(s, raw, n);
  has_line(d, "files=2");
  has_line(d, line);
  free(d);
  free(raw);
  free(body);
  stop(s);
}

static void tune_xheaders(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_XHEADERS, 1), 0);
}

static void tune_xheaders_trusted(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_XHEADERS, 1), 0);
  assert_int_equal(squall_config_set_str(cfg, SQUALL_OPT_TRUSTED_DOWNSTREAM,
                                         "10.0.0.1,10.0.0.2", SQUALL_NTS),
                   0);
}

static void test_http_request__xheaders_off(void **state) {
  hu_server *s = start(NULL);
  char *d = ask_str(s,
                    "GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: 1.2.3.4\r\n"
                    "X-Forwarded-For: 5.6.7.8\r\nX-Scheme: https\r\n"
                    "X-Forwarded-Proto: https\r\n\r\n");
  has_line(d, "remote_ip=127.0.0.1");
  has_line(d, "protocol=http");
  has_line(d, "full_url=http://a/");
  free(d);
  stop(s);
}

static void test_http_request__xheaders_on(void **state) {
  hu_server *s = start(tune_xheaders);
  char *d;
  d = ask_str(s, "GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: 1.2.3.4\r\n\r\n");
  has_line(d, "remote_ip=1.2.3.4");
  has_line(d, "protocol=http");
  free(d);
  /* X-Real-IP wins over X-Forwarded-For. */
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 5.6.7.8\r\n"
              "X-Real-IP: 1.2.3.4\r\n\r\n");
  has_line(d, "remote_ip=1.2.3.4");
  free(d);
  /* The last hop of X-Forwarded-For (no trusted proxies). */
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\n"
              "X-Forwarded-For: 5.6.7.8, 10.0.0.1\r\n\r\n");
  has_line(d, "remote_ip=10.0.0.1");
  free(d);
  /* IPv6 is valid. */
  d = ask_str(s, "GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: 2001:db8::1\r\n\r\n");
  has_line(d, "remote_ip=2001:db8::1");
  free(d);
  /* Not an IP: ignored. */
  d = ask_str(s, "GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: not-an-ip\r\n\r\n");
  has_line(d, "remote_ip=127.0.0.1");
  free(d);
  d = ask_str(
      s,
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4<script>\r\n\r\n");
  has_line(d, "remote_ip=127.0.0.1");
  free(d);
  /* Scheme. */
  d = ask_str(s, "GET /s HTTP/1.1\r\nHost: a\r\nX-Scheme: https\r\n\r\n");
  has_line(d, "protocol=https");
  has_line(d, "full_url=https://a/s");
  free(d);
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n");
  has_line(d, "protocol=https");
  free(d);
  d = ask_str(
      s, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: http, https\r\n\r\n");
  has_line(d, "protocol=https");
  free(d);
  d = ask_str(s, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: ftp\r\n\r\n");
  has_line(d, "protocol=http");
  free(d);
  /* Per request: the next request without headers is back to the peer. */
  d = ask_str(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  has_line(d, "remote_ip=127.0.0.1");
  has_line(d, "protocol=http");
  free(d);
  stop(s);
}

static void test_http_request__xheaders_trusted_proxies(void **state) {
  hu_server *s = start(tune_xheaders_trusted);
  char *d;
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\n"
              "X-Forwarded-For: 5.6.7.8, 10.0.0.1\r\n\r\n");
  has_line(d, "remote_ip=5.6.7.8");
  free(d);
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\n"
              "X-Forwarded-For: 9.9.9.9, 5.6.7.8, 10.0.0.1, 10.0.0.2\r\n\r\n");
  has_line(d, "remote_ip=5.6.7.8");
  free(d);
  /* An untrusted last hop is taken as is. */
  d = ask_str(s,
              "GET / HTTP/1.1\r\nHost: a\r\n"
              "X-Forwarded-For: 10.0.0.1, 7.7.7.7\r\n\r\n");
  has_line(d, "remote_ip=7.7.7.7");
  free(d);
  stop(s);
}

static const unsigned char k_gzip_text[] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57\x48\xaf"
    "\xca\x2c\x50\x28\xcf\x2f\xca\x49\xd1\x51\xc8\x20\x28\xa2\x08\x00\xa6\x3f"
    "\xcc\xc9\x35\x00\x00\x00";
#define GZIP_TEXT_PLAIN "hello gzip world, hello gzip world, hello gzip world!"
static const unsigned char k_gzip_form[] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\xb4\x35\x54\x4b\xb2\x2d\x29"
    "\xcf\xd7\x2e\xcf\x2f\x4a\x29\x56\x4b\xb6\x55\x35\x31\x04\x00\xcd\x27\x7e"
    "\x25\x15\x00\x00\x00";

static size_t gz_request(char *raw, const char *ctype, const unsigned char *gz,
                         size_t gzlen) {
  size_t n = (size_t)sprintf(raw,
                             "POST /gz HTTP/1.1\r\nHost: a\r\n"
                             "Content-Type: %s\r\nContent-Encoding: gzip\r\n"
                             "Content-Length: %zu\r\n\r\n",
                             ctype, gzlen);
  memcpy(raw + n, gz, gzlen);
  return n + gzlen;
}

static void tune_decompress(squall_config *cfg) {
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_DECOMPRESS_REQUEST, 1),
                   0);
}

static void test_http_request__decompress_request(void **state) {
  hu_server *s = start(tune_decompress);
  char raw[1024];
  char *d;
  size_t n = gz_request(raw, "text/plain", k_gzip_text, sizeof k_gzip_text - 1);
  d = ask(s, raw, n);
  has_line(d, "body=" GZIP_TEXT_PLAIN);
  has_line(d, "body_len=53");
  free(d);
  /* Form arguments come from the decompressed body. */
  n = gz_request(raw, "application/x-www-form-urlencoded", k_gzip_form,
                 sizeof k_gzip_form - 1);
  d = ask(s, raw, n);
  has_line(d, "args_body=3");
  has_line(d, "arg_body[0]=a=1");
  has_line(d, "arg_body[1]=b=two words");
  has_line(d, "arg_body[2]=c=A");
  free(d);
  /* Chunked and gzip together. */
  n = (size_t)sprintf(raw,
                      "POST /gz HTTP/1.1\r\nHost: a\r\n"
                      "Content-Encoding: gzip\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                      (size_t)10);
  memcpy(raw + n, k_gzip_text, 10);
  n += 10;
  n += (size_t)sprintf(raw + n, "\r\n%zx\r\n", sizeof k_gzip_text - 1 - 10);
  memcpy(raw + n, k_gzip_text + 10, sizeof k_gzip_text - 1 - 10);
  n += sizeof k_gzip_text - 1 - 10;
  n += (size_t)sprintf(raw + n, "\r\n0\r\n\r\n");
  d = ask(s, raw, n);
  has_line(d, "body=" GZIP_TEXT_PLAIN);
  free(d);
  /* A body that is not gzip: refused (no handler call with garbage). */
  int calls = hu_server_calls(s);
  const char *bad =
      "POST /gz HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\n"
      "Content-Length: 10\r\n\r\nnot gzip!!";
  hu_response r;
  assert_int_equal(hu_exchange(s->port, bad, strlen(bad), &r, NULL), HU_OK);
  assert_int_equal(r.status, 400);
  hu_response_free(&r);
  assert_int_equal(hu_server_calls(s), calls);
  stop(s);
}

static void test_http_request__no_decompress_by_default(void **state) {
  hu_server *s = start(NULL);
  char raw[1024];
  size_t n = gz_request(raw, "text/plain", k_gzip_text, sizeof k_gzip_text - 1);
  char *d = ask(s, raw, n);
  char line[64];
  snprintf(line, sizeof line, "body_len=%zu", sizeof k_gzip_text - 1);
  has_line(d, line);
  free(d);
  stop(s);
}

static void test_http_request__borrowed_strings_are_nul_terminated(
    void **state) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = nul_handler;
  assert_int_equal(hu_server_start(s), 0);
  static const char *reqs[] = {
      /* origin-form with a query, a port in Host, OWS around values */
      "POST /a/b%20c?x=1&y=two HTTP/1.1\r\nHost: example.com:8080\r\n"
      "Cookie: a=1; b=two\r\nX-Pad:   padded value  \r\nX-Empty:\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 11\r\n\r\nf=3&g=four!",
      /* absolute-form: path and host inside the target */
      "GET http://other.org:81/p/q?z=9 HTTP/1.1\r\nHost: other.org:81\r\n\r\n",
      /* IPv6 host, HTTP/1.0, no query */
      "GET /v6 HTTP/1.0\r\nHost: [::1]:99\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
    char *body = ask_str(s, reqs[i]);
    if (strstr(body, "nul_bad=")) fprintf(stderr, "request %zu:\n%s", i, body);
    assert_null(strstr(body, "nul_bad="));
    int checked = 0;
    const char *at = strstr(body, "nul_checked=");
    assert_non_null(at);
    checked = atoi(at + strlen("nul_checked="));
    assert_true(checked >= 12);
    free(body);
  }
  stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_request__fields_and_headers),
      cmocka_unit_test(test_http_request__urlencoded_query_cookies),
      cmocka_unit_test(test_http_request__multipart_binary_file),
      cmocka_unit_test(test_http_request__xheaders_off),
      cmocka_unit_test(test_http_request__xheaders_on),
      cmocka_unit_test(test_http_request__xheaders_trusted_proxies),
      cmocka_unit_test(test_http_request__decompress_request),
      cmocka_unit_test(test_http_request__no_decompress_by_default),
      cmocka_unit_test(test_http_request__borrowed_strings_are_nul_terminated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
