"""Integration: the demo's log on stderr (build/demo), Tornado's shape.

Each answered request gives one access line, "200 GET /hello (127.0.0.1)
0.52ms" behind "[I yymmdd hh:mm:ss demo]" (W for 4xx, E for 5xx); a request
squall itself refuses (400, 413, 431) gives a "refused" line saying why.
--quiet drops the access lines but keeps the refusals; --log-format json
writes one JSON object a line.  Real demo on an ephemeral port, real
sockets (http.client and raw), stopped by PID.
"""

import http.client
import json
import os
import queue
import re
import socket
import subprocess
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get(
    "SQUALL_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
WAIT = 30  # seconds for a line to appear; generous for a loaded machine

ACCESS = re.compile(
    r"^\[([IWE]) \d{6} \d\d:\d\d:\d\d demo\] (\d{3}) (\S+) (\S+) "
    r"\(([^)]*)\) (\d+\.\d\d)ms$")
REFUSED = re.compile(
    r"^\[([IWE]) \d{6} \d\d:\d\d:\d\d demo\] (\d{3}) refused "
    r"\(([^)]*)\): ([a-z ]+): (.+)$")


class Demo:
    """build/demo on port 0 with its stderr read line by line."""

    def __init__(self, *extra):
        exe = os.path.join(BUILD_DIR, "demo")
        self.proc = subprocess.Popen(
            [exe, "--address", "127.0.0.1", "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        banner = queue.Queue()
        threading.Thread(target=lambda: banner.put(self.proc.stdout.readline()),
                         daemon=True).start()
        try:
            first = banner.get(timeout=WAIT).decode()
        except queue.Empty:
            self.stop()
            raise RuntimeError("demo did not print its banner")
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", first)
        if not m:
            self.stop()
            raise RuntimeError("unexpected demo banner: %r" % first)
        self.port = int(m.group(1))

    def _pump(self):
        for raw in self.proc.stderr:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))

    def next_line(self):
        try:
            return self.lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError("no log line within %d s" % WAIT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pump.join(WAIT)  # EOF once the demo is gone
        self.proc.stdout.close()
        self.proc.stderr.close()

    # Clients.
    def get(self, method, path, headers=None, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def raw(self, data):
        """Send raw bytes, return the status line squall answers."""
        with socket.create_connection(("127.0.0.1", self.port), WAIT) as s:
            s.sendall(data)
            got = b""
            while b"\r\n" not in got:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            return got.split(b"\r\n", 1)[0].decode()


BIG_HEAD = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 70000 + b"\r\n\r\n"


class TextLog(unittest.TestCase):
    def setUp(self):
        self.demo = Demo()

    def tearDown(self):
        self.demo.stop()

    def access(self, level, status, method, uri):
        line = self.demo.next_line()
        m = ACCESS.match(line)
        self.assertIsNotNone(m, "not an access line: %r" % line)
        self.assertEqual(m.group(1, 2, 3, 4, 5),
                         (level, str(status), method, uri, "127.0.0.1"), line)
        self.assertLess(float(m.group(6)), WAIT * 1000.0, line)

    def refused(self, status, kind):
        line = self.demo.next_line()
        m = REFUSED.match(line)
        self.assertIsNotNone(m, "not a refusal line: %r" % line)
        self.assertEqual(m.group(1, 2, 3, 4),
                         ("E" if status >= 500 else "W", str(status),
                          "127.0.0.1", kind), line)
        return m.group(5)

    def test_200_405_400_413_431(self):
        d = self.demo
        self.assertEqual(d.get("GET", "/hello?x=1"), 200)
        self.access("I", 200, "GET", "/hello?x=1")
        self.assertEqual(d.get("DELETE", "/thing"), 405)
        self.access("W", 405, "DELETE", "/thing")
        self.assertEqual(d.get("HEAD", "/h"), 200)
        self.access("I", 200, "HEAD", "/h")
        self.assertIn(" 400 ", d.raw(b"BAD\r\n\r\n"))
        self.refused(400, "malformed request")
        self.assertIn(" 431 ", d.raw(BIG_HEAD))
        self.refused(431, "limit")
        # 413: the declared body is over the default 100 MiB.
        self.assertIn(" 413 ", d.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\n"
                                     b"Content-Length: 200000000\r\n\r\n"))
        self.assertIn("max_body_size", self.refused(413, "limit"))
        # The server still serves and logs after the refusals.
        self.assertEqual(d.get("POST", "/echo", body=b"abc"), 200)
        self.access("I", 200, "POST", "/echo")

    def test_quiet_keeps_refusals_only(self):
        self.demo.stop()
        self.demo = Demo("--quiet")
        d = self.demo
        self.assertEqual(d.get("GET", "/hello"), 200)
        self.assertEqual(d.get("DELETE", "/x"), 405)
        self.assertIn(" 431 ", d.raw(BIG_HEAD))
        # The loop is single-threaded: had the two requests been logged,
        # their lines would come before this one.
        self.refused(431, "limit")


class JsonLog(unittest.TestCase):
    def test_one_object_per_line(self):
        d = Demo("--log-format", "json")
        try:
            self.assertEqual(d.get("GET", '/q?a="b"'), 200)
            a = json.loads(d.next_line())
            self.assertEqual(
                (a["level"], a["status"], a["method"], a["uri"], a["remote_ip"]),
                ("info", 200, "GET", '/q?a="b"', "127.0.0.1"))
            self.assertIsInstance(a["duration_ms"], float)
            self.assertGreater(a["bytes"], 0)
            self.assertRegex(a["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(" 431 ", d.raw(BIG_HEAD))
            e = json.loads(d.next_line())
            self.assertEqual(
                (e["level"], e["event"], e["status"], e["kind"], e["remote_ip"]),
                ("warning", "refused", 431, "limit", "127.0.0.1"))
            self.assertTrue(e["message"])
        finally:
            d.stop()

    def test_long_target_cut_line_still_json(self):
        d = Demo("--log-format", "json")
        try:
            path = "/" + 'x"' * 3000  # 6001 bytes, and '"' is escaped as 2
            self.assertEqual(d.get("GET", path), 200)
            a = json.loads(d.next_line())
            self.assertEqual(a["status"], 200)
            self.assertTrue(a["uri"].endswith("..."), a["uri"][-20:])
            self.assertLess(len(a["uri"]), 2100)
        finally:
            d.stop()

    def test_bad_format_is_a_usage_error(self):
        p = subprocess.run([os.path.join(BUILD_DIR, "demo"), "--log-format", "xml"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=WAIT)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--log-format text|json", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
