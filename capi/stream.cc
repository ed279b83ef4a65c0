// squall_stream_*: the C face of core/iostream.
#include <string.h>

#include "capi/guard.h"
#include "capi/handles.h"

using namespace squall;
using capi::guard;

namespace {

int check_stream(const squall_stream* s) {
  if (!s) return fail(kInval, "stream is NULL");
  IOLoop* l = s->s->loop();
  if (!l) return fail(kClosed, "the stream's loop is gone");
  return capi::check_loop(l);
}

IOStream::ReadCallback wrap_read(squall_read_fn cb, void* ud) {
  return [cb, ud](int st, std::string_view d) { cb(st, d.data(), d.size(), ud); };
}

}  // namespace

extern "C" {

SQUALL_API int squall_stream_read_until(squall_stream* stream, const char* delim, size_t delim_len,
                                        size_t max_bytes, squall_read_fn cb, void* user_data) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    SQ_CHECK_ARG(delim && cb, "delim and cb are required");
    delim_len = capi::slen(delim, delim_len);
    SQ_CHECK_ARG(delim_len > 0, "empty delimiter");
    return stream->s->read_until(std::string(delim, delim_len), max_bytes,
                                 wrap_read(cb, user_data));
  });
}

SQUALL_API int squall_stream_read_bytes(squall_stream* stream, size_t n, int partial,
                                        squall_read_fn cb, void* user_data) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    SQ_CHECK_ARG(cb, "cb is NULL");
    return stream->s->read_bytes(n, partial != 0, wrap_read(cb, user_data));
  });
}

SQUALL_API int squall_stream_read_until_close(squall_stream* stream, squall_read_fn cb,
                                              void* user_data) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    SQ_CHECK_ARG(cb, "cb is NULL");
    return stream->s->read_until_close(wrap_read(cb, user_data));
  });
}

SQUALL_API int squall_stream_write(squall_stream* stream, const void* data, size_t len,
                                   squall_done_fn cb, void* user_data) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    SQ_CHECK_ARG(data || len == 0, "data is NULL");
    IOStream::DoneCallback done;
    if (cb) done = [cb, user_data](int st) { cb(st, user_data); };
    return stream->s->write(static_cast<const char*>(data), len, std::move(done));
  });
}

SQUALL_API int squall_stream_set_close_callback(squall_stream* stream, squall_done_fn fn,
                                                void* user_data, squall_release_fn release) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    if (stream->s->closed()) return fail(kClosed, "stream is closed");
    if (!fn) {
      stream->s->set_close_callback(nullptr);
      if (release) release(user_data);  // nothing registered: nothing to call later
      return kOk;
    }
    auto rel = std::make_shared<capi::Releaser>(release, user_data);
    stream->s->set_close_callback([fn, user_data, rel](int err) { fn(err, user_data); });
    return kOk;
  });
}

SQUALL_API int squall_stream_set_write_limits(squall_stream* stream, size_t max_bytes, size_t high,
                                              size_t low, squall_callback_fn on_drain,
                                              void* user_data, squall_release_fn release) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    Callback cb;
    std::shared_ptr<capi::Releaser> rel;
    if (on_drain) {
      rel = std::make_shared<capi::Releaser>(release, user_data);
      cb = [on_drain, user_data, rel] { on_drain(user_data); };
    }
    int r = stream->s->set_write_limits(max_bytes, high, low, std::move(cb));
    if (r != kOk) {
      if (rel) rel->release = nullptr;  // registration failed: never released
      return r;
    }
    return kOk;
  });
}

SQUALL_API int squall_stream_write_buffer_size(const squall_stream* stream, size_t* out) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(out, "out is NULL");
    if (int r = check_stream(stream)) return r;
    *out = stream->s->write_buffer_size();
    return kOk;
  });
}

SQUALL_API int squall_stream_set_max_buffer_size(squall_stream* stream, size_t max_bytes) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    SQ_CHECK_ARG(max_bytes > 0, "max_bytes must be > 0");
    stream->s->set_max_buffer_size(max_bytes);
    return kOk;
  });
}

SQUALL_API int squall_stream_set_nodelay(squall_stream* stream, int on) {
  return guard([&]() -> int {
    if (int r = check_stream(stream)) return r;
    if (stream->s->closed()) return fail(kClosed, "stream is closed");
    stream->s->set_nodelay(on != 0);
    return kOk;
  });
}

SQUALL_API int squall_stream_close(squall_stream* stream) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(stream, "stream is NULL");
    if (stream->s->closed()) return kOk;
    if (int r = check_stream(stream)) return r;
    stream->s->close(0);
    return kOk;
  });
}

SQUALL_API int squall_stream_closed(const squall_stream* stream, int* error) {
  if (!stream) return fail(kInval, "stream is NULL");
  if (error) *error = stream->s->error();
  return stream->s->closed() ? 1 : 0;
}

SQUALL_API int squall_stream_peer(const squall_stream* stream, const char** p, size_t* len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(stream && p && len, "NULL argument");
    *p = stream->s->peer().c_str();
    *len = stream->s->peer().size();
    return kOk;
  });
}

SQUALL_API void squall_stream_free(squall_stream* stream) {
  if (!stream) return;
  capi::guard_void([&] {
    if (!stream->s->closed() && stream->s->loop() && stream->s->loop()->in_loop_thread())
      stream->s->close(0);
    delete stream;
  });
}

SQUALL_API int squall_stream_connect(squall_stream** out, squall_loop* loop, const char* host,
                                     size_t host_len, uint16_t port, squall_done_fn cb,
                                     void* user_data) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(out && loop && host, "NULL argument");
    SQ_CHECK_ARG(port > 0, "port must be 1..65535");
    if (int r = capi::check_loop(&loop->loop)) return r;
    host_len = capi::slen(host, host_len);
    IOStream::DoneCallback done;
    if (cb) done = [cb, user_data](int st) { cb(st, user_data); };
    int st = 0;
    auto s =
        IOStream::connect(&loop->loop, std::string(host, host_len), port, std::move(done), &st);
    if (!s) return st;
    *out = new squall_stream{s};
    return kOk;
  });
}

}  // extern "C"
