"""Helpers of the stress tests: the server child, /proc figures, clients.

Each test runs stress_server (built next to the other tests) as a child on
127.0.0.1, measures what it claims from /proc/<pid>, prints its figures,
and stops the child by its PID.  SQUALL_STRESS=0 skips them all (exit 77,
which ctest reports as skipped).
"""
import os
import resource
import socket
import subprocess
import sys
import time

SKIP = 77
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def skip_if_disabled():
    if os.environ.get("SQUALL_STRESS", "1").lower() in ("0", "off", "no", "false"):
        print("SKIP: SQUALL_STRESS=0")
        sys.exit(SKIP)


def server_binary():
    build = os.environ.get("SQUALL_BUILD_DIR")
    if not build:
        sys.exit("SQUALL_BUILD_DIR is not set (run through ctest)")
    return os.path.join(build, "tests", "stress_server")


def raise_nofile(want):
    """Raise this process's soft RLIMIT_NOFILE to want (within the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        return hard
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


class Server:
    """stress_server as a child; options: dict of squall option number -> int."""

    def __init__(self, options=None, nofile=None):
        args = [server_binary()]
        if nofile:
            args += ["-n", str(nofile)]
        for k, v in (options or {}).items():
            args += ["-o", "%d=%d" % (k, v)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            sys.exit("stress_server did not start: %r" % line)
        self.port = int(line.split()[1])
        self.pid = self.proc.pid

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime

    def rss_bytes(self):
        with open("/proc/%d/statm" % self.pid) as f:
            return int(f.read().split()[1]) * PAGE

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, buf=b""):
    """Reads one Content-Length-framed response; returns (status, body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed before a response head")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed inside a body")
        rest += d
    return status, rest[:length], rest[length:]


def get(s, path="/"):
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    status, body, rest = read_response(s)
    assert not rest, rest
    return status, body


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100.0))]


def wait_until(cond, timeout, step=0.05):
    """Polls cond() until true or timeout; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def report(name, **figures):
    parts = ["%s=%s" % (k, ("%.3f" % v) if isinstance(v, float) else v)
             for k, v in figures.items()]
    print("STRESS %s: %s" % (name, " ".join(parts)), flush=True)
