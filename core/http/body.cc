// Counterpart of tornado/httputil.py (url_unescape, parse_qs_bytes,
// parse_body_arguments, parse_multipart_form_data, _parse_header,
// parse_cookie) and tornado/http1connection.py (_GzipMessageDelegate).
#include "core/http/body.h"

#include <zlib.h>

#include <climits>
#include <cstring>

#include "core/http/parser.h"

namespace squall::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// Python's str.strip() whitespace, as Tornado's parsers strip.
bool is_py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_py_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_py_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Header parameters the way Python's email-derived _parse_header reads them:
// "form-data; name=\"a\"; filename=\"b;c\"" -> type + lowercased keys.
struct Params {
  std::string_view type;
  std::vector<std::pair<std::string, std::string>> items;

  const std::string* find(std::string_view key) const {
    for (const auto& kv : items)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
};

void parse_params(std::string_view v, Params* out) {
  size_t i = 0;
  // Split on ';' outside quoted strings (Python's _parseparam).
  auto next = [&]() {
    const size_t s = i;
    bool quoted = false;
    while (i < v.size()) {
      const char c = v[i];
      if (quoted && c == '\\' && i + 1 < v.size()) {
        i += 2;
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (c == ';' && !quoted) break;
      ++i;
    }
    std::string_view piece = v.substr(s, i - s);
    if (i < v.size()) ++i;
    return piece;
  };
  out->type = strip(next());
  while (i < v.size()) {
    const std::string_view piece = next();
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(strip(piece.substr(0, eq)));
    for (char& c : key)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    std::string_view val = strip(piece.substr(eq + 1));
    std::string value;
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"') {
      // Only \\ and \" are unescaped, as Python does: browsers send Windows
      // paths with bare backslashes in filename.
      val = val.substr(1, val.size() - 2);
      value.reserve(val.size());
      for (size_t k = 0; k < val.size(); ++k) {
        if (val[k] == '\\' && k + 1 < val.size() && (val[k + 1] == '\\' || val[k + 1] == '"')) ++k;
        value.push_back(val[k]);
      }
    } else {
      value.assign(val);
    }
    out->items.emplace_back(std::move(key), std::move(value));
  }
}

// RFC 8187 ext-value: charset "'" [ language ] "'" value-chars.  Only the
// bytes are recovered; the charset is assumed to be UTF-8 (RFC 7578 4.2).
std::string decode_ext_value(std::string_view v) {
  const size_t a = v.find('\'');
  if (a == std::string_view::npos) return {};
  const size_t b = v.find('\'', a + 1);
  if (b == std::string_view::npos) return {};
  return url_unescape(v.substr(b + 1), false);
}

// One body part (RFC 7578 4): headers, blank line, content.
bool handle_part(std::string_view part, std::vector<Pair>* args, std::vector<UploadedFile>* files) {
  std::string_view head, content;
  if (starts_with(part, "\r\n")) {
    content = part.substr(2);
  } else {
    const size_t eoh = part.find("\r\n\r\n");
    if (eoh == std::string_view::npos) return false;
    head = part.substr(0, eoh);
    content = part.substr(eoh + 4);
  }
  std::string_view disposition, content_type;
  while (!head.empty()) {
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = strip(line.substr(0, colon));
    const std::string_view value = strip(line.substr(colon + 1));
    if (iequals(name, "content-disposition"))
      disposition = value;
    else if (iequals(name, "content-type"))
      content_type = value;
  }
  Params params;
  parse_params(disposition, &params);
  if (!iequals(params.type, "form-data")) return false;
  const std::string* name = params.find("name");
  if (!name || name->empty()) return false;
  std::string filename;
  if (const std::string* fn = params.find("filename")) {
    filename = *fn;
  } else if (const std::string* fx = params.find("filename*")) {
    filename = decode_ext_value(*fx);
  }
  // Tornado: an empty filename (an empty file input) is a plain argument.
  if (filename.empty()) {
    if (args) args->emplace_back(*name, std::string(content));
    return true;
  }
  if (files) {
    UploadedFile f;
    f.field = *name;
    f.filename = std::move(filename);
    f.content_type = content_type.empty() ? "application/unknown" : std::string(content_type);
    f.body.assign(content);
    files->push_back(std::move(f));
  }
  return true;
}

// RFC 2046 5.1.1: delimiter = CRLF "--" boundary at a line start; the first
// may open the body; a preamble before it and an epilogue after the close
// delimiter ("--" boundary "--") are ignored.
bool parse_multipart(std::string_view boundary, std::string_view body, std::vector<Pair>* args,
                     std::vector<UploadedFile>* files) {
  if (boundary.empty()) return false;
  std::string delim = "\r\n--";
  delim.append(boundary);
  const std::string_view dash(delim.data() + 2, delim.size() - 2);
  size_t pos;
  if (starts_with(body, dash)) {
    pos = dash.size();
  } else {
    pos = body.find(delim);
    if (pos == std::string_view::npos) return false;
    pos += delim.size();
  }
  bool ok = true;
  for (;;) {
    if (body.substr(pos, 2) == "--") return ok;            // close delimiter
    while (pos < body.size() && is_ows(body[pos])) ++pos;  // padding
    if (body.substr(pos, 2) != "\r\n") return false;
    pos += 2;
    const size_t end = body.find(delim, pos);
    if (end == std::string_view::npos) return false;  // no close delimiter
    if (!handle_part(body.substr(pos, end - pos), args, files)) ok = false;
    pos = end + delim.size();
  }
}

// Python's http.cookies._unquote: strip the quotes, then \ooo octal escapes
// and \c for any other character.
std::string unquote_cookie(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  v = v.substr(1, v.size() - 2);
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 == v.size()) {
      out.push_back(v[i]);
      continue;
    }
    if (i + 3 < v.size() && v[i + 1] >= '0' && v[i + 1] <= '3' && v[i + 2] >= '0' &&
        v[i + 2] <= '7' && v[i + 3] >= '0' && v[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((v[i + 1] - '0') * 64 + (v[i + 2] - '0') * 8 + (v[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(v[++i]);
    }
  }
  return out;
}

}  // namespace

std::string url_unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {
// Call fn(name, value, has_eq) for each sep-separated item of s, split at
// its first '='.
template <class Fn>
void for_each_item(std::string_view s, char sep, Fn fn) {
  for (size_t i = 0; i <= s.size();) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    const std::string_view item = s.substr(i, j - i);
    i = j + 1;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      fn(item, std::string_view(), false);
    else
      fn(item.substr(0, eq), item.substr(eq + 1), true);
  }
}
}  // namespace

void parse_query(std::string_view qs, std::vector<Pair>* out) {
  // urllib.parse.parse_qsl(keep_blank_values=True): '&' separates, empty
  // fields are dropped, a field without '=' has an empty value.
  for_each_item(qs, '&', [out](std::string_view k, std::string_view v, bool has_eq) {
    if (!k.empty() || has_eq) out->emplace_back(url_unescape(k, true), url_unescape(v, true));
  });
}

bool parse_body_arguments(std::string_view content_type, std::string_view body,
                          std::vector<Pair>* args, std::vector<UploadedFile>* files) {
  Params ct;
  parse_params(content_type, &ct);
  if (iequals(ct.type, "application/x-www-form-urlencoded")) {
    if (args) parse_query(body, args);
    return true;
  }
  if (iequals(ct.type, "multipart/form-data")) {
    const std::string* boundary = ct.find("boundary");
    if (!boundary) return false;
    return parse_multipart(*boundary, body, args, files);
  }
  return true;  // nothing Tornado parses: not an error
}

void parse_cookies(std::string_view header_value, std::vector<Pair>* out) {
  for_each_item(header_value, ';', [out](std::string_view k, std::string_view v, bool has_eq) {
    const std::string_view name = strip(k);
    if (has_eq && !name.empty()) out->emplace_back(std::string(name), unquote_cookie(strip(v)));
  });
}

// ---------------------------------------------------------------------------

struct GzipDecoder::Impl {
  z_stream zs{};
  bool ready = false;
  bool done = false;
  bool failed = false;
};

GzipDecoder::GzipDecoder() : impl_(new Impl) {
  // 16 + MAX_WBITS: gzip wrapper only, as Tornado's GzipDecompressor.
  impl_->ready = inflateInit2(&impl_->zs, 16 + MAX_WBITS) == Z_OK;
  impl_->failed = !impl_->ready;
}

GzipDecoder::~GzipDecoder() {
  if (impl_->ready) inflateEnd(&impl_->zs);
}

bool GzipDecoder::done() const { return impl_->done; }

int GzipDecoder::feed(const char* data, size_t len, std::string* out, size_t max_output) {
  Impl& im = *impl_;
  if (im.failed) return -1;
  if (im.done) return 0;  // bytes after the gzip member are ignored
  z_stream& zs = im.zs;
  char buf[16384];
  while (len > 0) {
    const size_t slice = len > (1u << 30) ? (1u << 30) : len;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    zs.avail_in = static_cast<uInt>(slice);
    data += slice;
    len -= slice;
    for (;;) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      const int r = inflate(&zs, Z_NO_FLUSH);
      if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
        im.failed = true;
        return -1;
      }
      const size_t produced = sizeof(buf) - zs.avail_out;
      const size_t room = out->size() < max_output ? max_output - out->size() : 0;
      if (produced > room) {
        out->append(buf, room);
        im.failed = true;
        return -2;
      }
      out->append(buf, produced);
      if (r == Z_STREAM_END) {
        im.done = true;
        return 0;
      }
      // Output space left over means inflate took all it could.
      if (r == Z_BUF_ERROR || zs.avail_out != 0) break;
    }
  }
  return 0;
}

}  // namespace squall::http
