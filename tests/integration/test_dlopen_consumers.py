"""Integration: the consumers that load libsquall at run time, driven by curl.

The same suite runs against
  - build/dlopen_demo (examples/dlopen_demo.c: dlopen + dlsym, no link), and
  - bindings/python-ctypes/squall_demo.py (ctypes, no compiler),
both started with --test-routes on an ephemeral port, found through
LD_LIBRARY_PATH=<build dir> (the loader's search, as a user would), and
stopped by PID.  Covered: GET, POST/PUT echo of 1 MiB, headers in and out,
keep-alive, pipelining (a raw socket: curl no longer pipelines), a failing
handler (500, the server keeps serving, the failure reaches the error
hook), a response completed later from a timer, 20,000 requests without
growth of live objects or RSS, and the server freed while requests are
pending (clean exit, release callbacks ran, on_done saw the close).

Needs: curl on PATH, SQUALL_BUILD_DIR pointing at the build directory.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("SQUALL_SOURCE_DIR", os.path.join(HERE, "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get(
    "SQUALL_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
TIMEOUT = 120
RSS_GROWTH_BOUND_KB = 8 * 1024   # after warm-up, over 20,000 requests
OBJECT_GROWTH_BOUND = 200        # Python gc objects, same window


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


class Server:
    """One consumer process on an ephemeral port."""

    def __init__(self, argv, stop_path=None):
        self.stop_path = stop_path
        self.errfile = tempfile.TemporaryFile()
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = BUILD_DIR + (
            ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        self.proc = subprocess.Popen(argv + ["--port", "0", "--test-routes"],
                                     stdout=subprocess.PIPE,
                                     stderr=self.errfile, env=env)
        line = []
        t = threading.Thread(
            target=lambda: line.append(self.proc.stdout.readline().decode()),
            daemon=True)
        t.start()
        t.join(60)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/",
                      line[0] if line else "")
        if not m:
            self.kill()
            raise RuntimeError("no banner from %s: %r, stderr %r"
                               % (argv, line, self.stderr()))
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d" % self.port

    def stderr(self):
        if self.errfile.closed:
            return ""
        self.errfile.seek(0)
        return self.errfile.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM (or GET stop_path); returns (exit code, rest of stdout)."""
        if self.proc.poll() is None:
            if self.stop_path:
                curl(self.url + self.stop_path)
            else:
                self.proc.send_signal(signal.SIGTERM)
        try:
            out = self.proc.stdout.read().decode()
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self.proc.stdout.close()
        self.errfile.close()
        return code, out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stats(self):
        rc, out, err = curl(self.url + "/stats")
        if rc != 0:
            raise RuntimeError("stats: " + err)
        return {k: int(v) for k, v in
                (l.split() for l in out.decode().splitlines())}


def curl(*args, timeout=TIMEOUT):
    p = subprocess.run(["curl", "--silent", "--show-error", "--max-time",
                        str(timeout), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 30)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def read_responses(sock, n):
    """Read n HTTP/1.1 responses framed by Content-Length; return bodies."""
    buf, bodies = b"", []
    while len(bodies) < n:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].decode()
            m = re.search(r"(?im)^content-length:\s*(\d+)", head)
            assert m, head
            end = head_end + 4 + int(m.group(1))
            if len(buf) >= end:
                bodies.append((head.split("\r\n")[0], buf[head_end + 4:end]))
                buf = buf[end:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("closed after %d responses" % len(bodies))
        buf += chunk
    return bodies


class ConsumerSuite:
    """Mixed into one unittest.TestCase per consumer (argv())."""

    STOP_PATH = None  # a route that stops the server, where signals cannot

    @classmethod
    def argv(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        if not shutil.which("curl"):
            raise RuntimeError("curl is required (apt-get install curl)")
        cls.server = Server(cls.argv(), cls.STOP_PATH)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_get(self):
        rc, out, err = curl("-i", self.server.url + "/some/where?x=1")
        self.assertEqual(rc, 0, err)
        head, body = out.split(b"\r\n\r\n", 1)
        self.assertIn(b"HTTP/1.1 200", head)
        self.assertRegex(head.decode(), r"(?im)^content-type: text/plain")
        self.assertEqual(body, b"You requested /some/where?x=1\n")

    def test_echo_one_mib(self):
        data = os.urandom(1 << 20)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            for method in ("POST", "PUT"):
                rc, out, err = curl("-X", method, "--data-binary", "@" + f.name,
                                    "-H", "Content-Type: application/x-bin",
                                    self.server.url + "/echo")
                self.assertEqual(rc, 0, err)
                self.assertEqual(len(out), len(data), method)
                self.assertTrue(out == data, method)

    def test_headers_in_and_out(self):
        rc, out, err = curl("-i", "-H", "X-Echo: caf\u00e9 ok",  # UTF-8 on the wire
                            self.server.url + "/headers")
        self.assertEqual(rc, 0, err)
        head = out.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        self.assertRegex(head, r"(?im)^x-echo-back: caf\xc3\xa9 ok\r?$")
        self.assertRegex(head, r"(?im)^server: squall")
        self.assertRegex(head, r"(?im)^date: ")
        rc, out, err = curl("-i", "-X", "DELETE", self.server.url + "/x")
        self.assertIn(b"405", out.split(b"\r\n", 1)[0])
        self.assertRegex(out.decode(), r"(?im)^allow: GET, HEAD, POST, PUT")

    def test_keep_alive(self):
        urls = [self.server.url + "/k%d" % i for i in range(10)]
        rc, out, err = curl("-w", "%{num_connects}\n", *urls)
        self.assertEqual(rc, 0, err)
        text = out.decode()
        for i in range(10):
            self.assertIn("You requested /k%d\n" % i, text)
        connects = [int(l) for l in text.splitlines() if l.isdigit()]
        self.assertEqual(sum(connects), 1, text)  # one connection, reused

    def test_pipelining(self):
        n = 32
        with socket.create_connection(("127.0.0.1", self.server.port),
                                      timeout=30) as s:
            s.sendall(b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
                               for i in range(n)))
            got = read_responses(s, n)
        self.assertEqual([b for _, b in got],
                         [b"You requested /p%d\n" % i for i in range(n)])

    def test_handler_error(self):
        rc, out, err = curl("-i", self.server.url + "/fail")
        self.assertEqual(rc, 0, err)
        self.assertIn(b" 500 ", out.split(b"\r\n", 1)[0])
        rc, out, err = curl(self.server.url + "/after-fail")
        self.assertEqual(out, b"You requested /after-fail\n")
        deadline = time.time() + 10
        while "failed on purpose" not in self.server.stderr():
            self.assertLess(time.time(), deadline, self.server.stderr())
            time.sleep(0.05)
        self.assertIn("error hook: kind=6 status=500", self.server.stderr())

    def test_response_later(self):
        result = {}

        def slow():
            t0 = time.monotonic()
            result["later"] = curl(self.server.url + "/later?ms=400")
            result["later_t"] = time.monotonic() - t0

        t = threading.Thread(target=slow)
        t.start()
        # The loop is not blocked while the timer runs.
        rc, out, err = curl(self.server.url + "/meanwhile")
        self.assertEqual(out, b"You requested /meanwhile\n")
        self.assertTrue(t.is_alive(), "the later response came early")
        t.join(60)
        self.assertEqual(result["later"][1], b"later\n")
        self.assertGreaterEqual(result["later_t"], 0.35)

    def test_many_requests_no_growth(self):
        def burst(n, tag):
            rc, out, err = curl("-o", "/dev/null", "-w", "%{http_code}\n",
                                self.server.url + "/%s[1-%d]" % (tag, n))
            self.assertEqual(rc, 0, err)
            self.assertEqual(out.decode().split().count("200"), n)

        burst(2000, "warm")
        for _ in range(5):  # let timers and on_done of earlier tests settle
            before = self.server.stats()
            if before["requests"] == 0 and before["timers"] == 0:
                break
            time.sleep(0.2)
        rss0 = rss_kb(self.server.proc.pid)
        burst(20000, "n")
        after = self.server.stats()
        rss1 = rss_kb(self.server.proc.pid)
        self.assertEqual(after["requests"], 0, after)
        self.assertEqual(after["timers"], 0, after)
        if "objects" in before:
            self.assertLess(after["objects"] - before["objects"],
                            OBJECT_GROWTH_BOUND, (before, after))
        if not os.environ.get("SQUALL_UNDER_ASAN"):  # ASan's quarantine
            self.assertLess(rss1 - rss0, RSS_GROWTH_BOUND_KB, (rss0, rss1))

    def test_free_with_pending_requests(self):
        srv = Server(self.argv(), self.STOP_PATH)
        clients = []
        try:
            for i in range(3):
                clients.append(subprocess.Popen(
                    ["curl", "--silent", "--max-time", "60", srv.url + "/hold"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            deadline = time.time() + 30
            while srv.stats()["held"] < 3:
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            code, out = srv.stop()
        finally:
            srv.kill()
        self.assertEqual(code, 0, srv.stderr())
        m = re.search(r"freed: server released (\d+), hook released (\d+), "
                      r"held (\d+), done ok \d+, done closed (\d+), "
                      r"live requests (\d+)", out)
        self.assertTrue(m, out)
        released, hook, held, closed, live = map(int, m.groups())
        self.assertEqual((released, hook, held, live), (1, 1, 3, 0), out)
        # The held three saw the close (a /stats exchange racing the stop
        # may too).
        self.assertGreaterEqual(closed, 3, out)
        for c in clients:  # each client saw its connection close
            c.wait(30)
            self.assertNotEqual(c.returncode, 0)
            c.stdout.close()
            c.stderr.close()


class CDlopen(ConsumerSuite, unittest.TestCase):
    @classmethod
    def argv(cls):
        return [os.path.join(BUILD_DIR, "dlopen_demo")]

    def test_not_linked(self):
        out = subprocess.run(["readelf", "-d", self.argv()[0]],
                             stdout=subprocess.PIPE, check=True).stdout
        self.assertNotIn(b"libsquall", out)

    def test_wrong_library(self):
        p = subprocess.run(self.argv() + ["--lib", "libc.so.6"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"has no squall_version", p.stderr)


class PythonCtypes(ConsumerSuite, unittest.TestCase):
    @classmethod
    def argv(cls):
        return [sys.executable, os.path.join(SOURCE_DIR, "bindings",
                                             "python-ctypes", "squall_demo.py")]


@unittest.skipUnless(os.environ.get("SQUALL_LUA_CPATH"),
                     "run by bindings/lua/ctest.sh, which builds the module")
class LuaSwig(ConsumerSuite, unittest.TestCase):
    """bindings/lua/examples/demo.lua; ctest.sh sets LUA_CPATH / LUA_PATH."""
    STOP_PATH = "/quit"

    @classmethod
    def argv(cls):
        # SQUALL_LUA: the interpreter, with a launcher prefix if any
        # ("env LD_PRELOAD=... lua5.4" for an ASan build).
        return os.environ.get("SQUALL_LUA", "lua5.4").split() + [
            os.path.join(SOURCE_DIR, "bindings", "lua", "examples",
                         "demo.lua")]


if __name__ == "__main__":
    unittest.main(verbosity=2)
