// Tests for core/http/body (tornado/test/httputil_test.py counterpart):
// url_unescape, query and form parsing, multipart/form-data, cookies, gzip.
#include <zlib.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/body.h"

// cmocka last: its fail() macro collides with std::basic_ios::fail.
extern "C" {
#include <cmocka.h>
}

using squall::http::Pair;
using squall::http::UploadedFile;
using namespace std::string_view_literals;

namespace {

bool eq(const Pair& p, std::string_view k, std::string_view v) {
  return p.first == k && p.second == v;
}

std::string gzip(std::string_view in) {
  z_stream zs{};
  assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

static void test_body__url_unescape(void**) {
  using squall::http::url_unescape;
  assert_true(url_unescape("a%20b+c", true) == "a b c");
  assert_true(url_unescape("a%20b+c", false) == "a b+c");
  assert_true(url_unescape("%41%4a%4A%7e", false) == "AJJ~");
  assert_true(url_unescape("%", true) == "%");
  assert_true(url_unescape("%4", true) == "%4");
  assert_true(url_unescape("%zz%4g", true) == "%zz%4g");
  assert_true(url_unescape("100%", true) == "100%");
  assert_true(url_unescape("%00%ff", false) == "\0\xff"sv);
  assert_true(url_unescape("%C3%A9", false) == "\xc3\xa9");
  assert_true(url_unescape("", true).empty());
}

static void test_body__parse_query(void**) {
  std::vector<Pair> q;
  squall::http::parse_query("a=1&b=2&a=3&empty=&flag&&=v&x=%3D%26+y", &q);
  assert_int_equal(q.size(), 7);
  assert_true(eq(q[0], "a", "1"));
  assert_true(eq(q[1], "b", "2"));
  assert_true(eq(q[2], "a", "3"));
  assert_true(eq(q[3], "empty", ""));
  assert_true(eq(q[4], "flag", ""));
  assert_true(eq(q[5], "", "v"));
  assert_true(eq(q[6], "x", "=& y"));
  q.clear();
  squall::http::parse_query("", &q);
  assert_int_equal(q.size(), 0);
  squall::http::parse_query("a=b=c;d", &q);  // ';' is not a separator
  assert_int_equal(q.size(), 1);
  assert_true(eq(q[0], "a", "b=c;d"));
}

static void test_body__urlencoded(void**) {
  std::vector<Pair> args;
  std::vector<UploadedFile> files;
  assert_true(squall::http::parse_body_arguments("application/x-www-form-urlencoded; charset=UTF-8",
                                                 "name=J%C3%B6rg&n=1", &args, &files));
  assert_int_equal(args.size(), 2);
  assert_true(eq(args[0], "name", "J\xc3\xb6rg"));
  assert_true(eq(args[1], "n", "1"));
  assert_int_equal(files.size(), 0);
  args.clear();
  assert_true(squall::http::parse_body_arguments("Application/X-WWW-Form-Urlencoded", "a=b", &args,
                                                 &files));
  assert_int_equal(args.size(), 1);
  // Other types: nothing parsed, not an error.
  args.clear();
  assert_true(squall::http::parse_body_arguments("application/json", "{\"a\":1}", &args, &files));
  assert_int_equal(args.size(), 0);
}

static void test_body__multipart_basic(void**) {
  const std::string body =
      "--1234\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n"
      "\r\n"
      "hello world\r\n"
      "--1234\r\n"
      "Content-Disposition: form-data; name=\"files\"; "
      "filename=\"ab.txt\"\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "Foo\r\n"
      "--1234\r\n"
      "content-disposition: form-data; name=\"files\"; filename=\"b.bin\"\r\n"
      "\r\n"
      "\r\n"
      "--1234--\r\n";
  std::vector<Pair> args;
  std::vector<UploadedFile> files;
  assert_true(squall::http::parse_body_arguments("multipart/form-data; boundary=1234", body, &args,
                                                 &files));
  assert_int_equal(args.size(), 1);
  assert_true(eq(args[0], "title", "hello world"));
  assert_int_equal(files.size(), 2);
  assert_true(files[0].field == "files");
  assert_true(files[0].filename == "ab.txt");
  assert_true(files[0].content_type == "text/plain");
  assert_true(files[0].body == "Foo");
  assert_true(files[1].filename == "b.bin");
  assert_true(files[1].content_type == "application/unknown");
  assert_true(files[1].body.empty());
}

static void test_body__multipart_binary_file(void**) {
  std::string content;
  for (int i = 0; i < 256; ++i) content.push_back(static_cast<char>(i));
  content += "\r\n--1234\r\n-12345\r\n--1234X\n--12345\0\0--"sv;  // near misses
  std::string body =
      "preamble to ignore\r\n"
      "--12345\r\n"
      "Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
      "Content-Type: application/octet-stream\r\n"
      "\r\n";
  body += content;
  body += "\r\n--12345--\r\nepilogue\r\n--12345\r\nignored";
  std::vector<Pair> args;
  std::vector<UploadedFile> files;
  assert_true(squall::http::parse_body_arguments("multipart/form-data; boundary=\"12345\"", body,
                                                 &args, &files));
  assert_int_equal(args.size(), 0);
  assert_int_equal(files.size(), 1);
  assert_int_equal(files[0].body.size(), content.size());
  assert_true(files[0].body == content);
  assert_true(files[0].content_type == "application/octet-stream");
}

static void test_body__multipart_params(void**) {
  // Quoted boundary with specials, filename with ';' and escaped quote,
  // RFC 8187 filename*, empty filename -> argument (Tornado).
  const std::string body =
      "--a;b=c\r\n"
      "Content-Disposition: form-data; name=\"f1\"; "
      "filename=\"we;ird \\\"q\\\".txt\"\r\n"
      "\r\n"
      "1\r\n"
      "--a;b=c\r\n"
      "Content-Disposition: form-data; name=\"f2\"; "
      "filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n"
      "\r\n"
      "2\r\n"
      "--a;b=c\r\n"
      "Content-Disposition: form-data; name=\"f3\"; filename=\"\"\r\n"
      "Content-Type: application/octet-stream\r\n"
      "\r\n"
      "\r\n"
      "--a;b=c\r\n"
      "Content-Disposition: form-data; name=\"p\\ath\"; "
      "filename=\"C:\\dir\\f.txt\"\r\n"
      "\r\n"
      "4\r\n"
      "--a;b=c--";
  std::vector<Pair> args;
  std::vector<UploadedFile> files;
  assert_true(squall::http::parse_body_arguments(
      "multipart/form-data; charset=utf-8; boundary=\"a;b=c\"", body, &args, &files));
  assert_int_equal(files.size(), 3);
  assert_true(files[0].filename == "we;ird \"q\".txt");
  assert_true(files[0].body == "1");
  assert_true(files[1].filename == "\xc3\xa9t\xc3\xa9.txt");
  assert_true(files[1].body == "2");
  assert_true(files[2].field == "p\\ath");
  assert_true(files[2].filename == "C:\\dir\\f.txt");
  assert_int_equal(args.size(), 1);
  assert_true(eq(args[0], "f3", ""));
}

static void test_body__multipart_malformed(void**) {
  std::vector<Pair> args;
  std::vector<UploadedFile> files;
  const std::string part1 = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
  // No close delimiter: what parsed before stays, result false.
  assert_false(squall::http::parse_body_arguments("multipart/form-data; boundary=b",
                                                  part1 + "--b\r\nContent-Dis", &args, &files));
  assert_int_equal(args.size(), 1);
  assert_true(eq(args[0], "a", "1"));
  args.clear();
  assert_false(
      squall::http::parse_body_arguments("multipart/form-data; boundary=b", part1, &args, &files));
  // Missing boundary parameter.
  assert_false(
      squall::http::parse_body_arguments("multipart/form-data", part1 + "--b--", &args, &files));
  assert_false(squall::http::parse_body_arguments("multipart/form-data; boundary=", part1 + "--b--",
                                                  &args, &files));
  // Part without a name, with another disposition, without headers: skipped.
  args.clear();
  const std::string body =
      "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
      "--b\r\nContent-Disposition: attachment; name=\"z\"\r\n\r\nx\r\n"
      "--b\r\n\r\nno headers\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"ok\"\r\n\r\nyes\r\n"
      "--b--\r\n";
  assert_false(
      squall::http::parse_body_arguments("multipart/form-data; boundary=b", body, &args, &files));
  assert_int_equal(args.size(), 1);
  assert_true(eq(args[0], "ok", "yes"));
  // Junk right after a delimiter.
  args.clear();
  assert_false(squall::http::parse_body_arguments(
      "multipart/form-data; boundary=b",
      "--bXX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", &args, &files));
  assert_int_equal(args.size(), 0);
  // Nothing at all.
  assert_false(
      squall::http::parse_body_arguments("multipart/form-data; boundary=b", "", &args, &files));
  // Transport padding after the delimiter is allowed (RFC 2046 5.1.1).
  args.clear();
  assert_true(squall::http::parse_body_arguments(
      "multipart/form-data; boundary=b",
      "--b \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--", &args, &files));
  assert_int_equal(args.size(), 1);
}

static void test_body__cookies(void**) {
  std::vector<Pair> c;
  squall::http::parse_cookies(
      "a=1; b = 2 ;c=\"quoted; no\";d=\"x\\\"y\\\\z\\101\";e=;=f;junk; g=h=i", &c);
  // "quoted; no" is split on ';' first, as Tornado's parse_cookie does, and
  // ' no"' (no '='), "=f" (no name) and "junk" are skipped.
  assert_int_equal(c.size(), 6);
  assert_true(eq(c[0], "a", "1"));
  assert_true(eq(c[1], "b", "2"));
  assert_true(eq(c[2], "c", "\"quoted"));
  assert_true(eq(c[3], "d", "x\"y\\zA"));
  assert_true(eq(c[4], "e", ""));
  assert_true(eq(c[5], "g", "h=i"));
}

static void test_body__cookies_simple(void**) {
  std::vector<Pair> c;
  squall::http::parse_cookies("session=abc123", &c);
  squall::http::parse_cookies("  theme=\"dark\" ; lang=en  ", &c);
  squall::http::parse_cookies("", &c);
  squall::http::parse_cookies(";;", &c);
  assert_int_equal(c.size(), 3);
  assert_true(eq(c[0], "session", "abc123"));
  assert_true(eq(c[1], "theme", "dark"));
  assert_true(eq(c[2], "lang", "en"));
}

static void test_body__gzip(void**) {
  std::string plain;
  for (int i = 0; i < 100000; ++i) plain += static_cast<char>('a' + i % 7);
  const std::string gz = gzip(plain);
  {
    squall::http::GzipDecoder d;
    std::string out;
    assert_int_equal(d.feed(gz.data(), gz.size(), &out, 1 << 20), 0);
    assert_true(d.done());
    assert_true(out == plain);
    // Bytes after the member are ignored.
    assert_int_equal(d.feed("junk", 4, &out, 1 << 20), 0);
    assert_true(out == plain);
  }
  {
    // Byte by byte.
    squall::http::GzipDecoder d;
    std::string out;
    for (size_t i = 0; i < gz.size(); ++i) {
      assert_false(d.done());
      assert_int_equal(d.feed(gz.data() + i, 1, &out, 1 << 20), 0);
    }
    assert_true(d.done());
    assert_true(out == plain);
  }
  {
    // Exactly at the limit is fine; one byte less is -2 (zip bomb guard).
    squall::http::GzipDecoder a;
    std::string out;
    assert_int_equal(a.feed(gz.data(), gz.size(), &out, plain.size()), 0);
    squall::http::GzipDecoder b;
    out.clear();
    assert_int_equal(b.feed(gz.data(), gz.size(), &out, plain.size() - 1), -2);
    assert_true(out.size() <= plain.size() - 1);
    assert_int_equal(b.feed(gz.data(), 1, &out, 1 << 30), -1);  // stays failed
  }
  {
    std::string bad = gz;
    bad[bad.size() / 2] ^= 0x55;
    bad[bad.size() / 2 + 1] ^= 0x55;
    squall::http::GzipDecoder d;
    std::string out;
    int r = d.feed(bad.data(), bad.size(), &out, 1 << 20);
    assert_int_equal(r, -1);
  }
  {
    squall::http::GzipDecoder d;
    std::string out;
    assert_int_equal(d.feed("not gzip at all", 15, &out, 1 << 20), -1);
    assert_false(d.done());
  }
  {
    // Corrupt CRC in the trailer.
    std::string bad = gz;
    bad[bad.size() - 6] ^= 1;
    squall::http::GzipDecoder d;
    std::string out;
    assert_int_equal(d.feed(bad.data(), bad.size(), &out, 1 << 20), -1);
  }
  {
    squall::http::GzipDecoder d;
    std::string out;
    const std::string empty = gzip("");
    assert_int_equal(d.feed(empty.data(), empty.size(), &out, 0), 0);
    assert_true(d.done());
    assert_true(out.empty());
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_body__url_unescape),
      cmocka_unit_test(test_body__parse_query),
      cmocka_unit_test(test_body__urlencoded),
      cmocka_unit_test(test_body__multipart_basic),
      cmocka_unit_test(test_body__multipart_binary_file),
      cmocka_unit_test(test_body__multipart_params),
      cmocka_unit_test(test_body__multipart_malformed),
      cmocka_unit_test(test_body__cookies),
      cmocka_unit_test(test_body__cookies_simple),
      cmocka_unit_test(test_body__gzip),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
