// The structs behind the opaque C handles.
#pragma once

#include <memory>

#include "core/ioloop.h"
#include "core/iostream.h"

struct squall_loop {
  squall::IOLoop loop;
};

struct squall_stream {
  squall::IOStreamPtr s;
};

struct squall_timer {
  squall::TimerPtr t;
};
