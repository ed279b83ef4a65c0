"""Integration: the real demo server (build/demo) driven by the real curl.

Covers keep-alive reuse across URLs in one curl run, HTTP/1.0 (no reuse),
chunked uploads, 100-continue with a large body, HEAD, and absolute-form
targets (curl as a proxy client).  The demo is started on an ephemeral port
by the test and stopped by PID; nothing is mocked.

Needs: curl on PATH, SQUALL_BUILD_DIR pointing at the build directory.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get(
    "SQUALL_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
TIMEOUT = 60  # per curl run; generous for a loaded machine


def start_demo(*extra):
    """Start build/demo on port 0; return (process, port)."""
    exe = os.path.join(BUILD_DIR, "demo")
    proc = subprocess.Popen([exe, "--address", "127.0.0.1", "--port", "0", "--quiet",
                             *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = []

    def read_line():
        line.append(proc.stdout.readline().decode("utf-8", "replace"))

    t = threading.Thread(target=read_line, daemon=True)
    t.start()
    t.join(30)
    if not line or not line[0]:
        proc.kill()
        proc.wait()
        raise RuntimeError("demo did not report its port: %r (stderr: %r)" %
                           (line, proc.stderr.read()))
    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line[0])
    if not m:
        proc.kill()
        proc.wait()
        raise RuntimeError("unexpected demo banner: %r" % line[0])
    return proc, int(m.group(1))


def stop_demo(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    proc.stderr.close()


def curl(*args):
    """Run curl; return (returncode, stdout bytes, stderr text)."""
    p = subprocess.run(["curl", "--silent", "--show-error", "--max-time",
                        str(TIMEOUT), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT + 30)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


class CurlAgainstDemo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A missing curl is a missing install step, not a reason to pass.
        if not shutil.which("curl"):
            raise RuntimeError("curl is required for this test (apt-get install curl)")
        cls.proc, cls.port = start_demo()
        cls.base = "http://127.0.0.1:%d" % cls.port
        cls.tmp = tempfile.mkdtemp(prefix="squall-curl-")

    @classmethod
    def tearDownClass(cls):
        stop_demo(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertIsNone(self.proc.poll(), "demo exited during the test")

    def write_file(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_get(self):
        rc, out, err = curl(self.base + "/hello?x=1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"You requested /hello?x=1\n")

    def test_keep_alive_reuse(self):
        # Two URLs in one invocation: the second reuses the connection.
        rc, out, err = curl("-v", "--write-out", "connects=%{num_connects}\n",
                            self.base + "/a", self.base + "/b")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"You requested /a\nconnects=1\n"
                              b"You requested /b\nconnects=0\n")
        self.assertIn("Re-using existing connection", err)

    def test_keep_alive_many(self):
        urls = [self.base + "/n%d" % i for i in range(20)]
        rc, out, err = curl("--write-out", "[%{num_connects}]\n", *urls)
        self.assertEqual(rc, 0, err)
        want = b"".join(b"You requested /n%d\n[%d]\n" % (i, 1 if i == 0 else 0)
                        for i in range(20))
        self.assertEqual(out, want)

    def test_http10_does_not_reuse(self):
        rc, out, err = curl("-0", "--write-out", "connects=%{num_connects}\n",
                            self.base + "/a", self.base + "/b")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"You requested /a\nconnects=1\n"
                              b"You requested /b\nconnects=1\n")

    def test_chunked_upload(self):
        data = bytes((i * 7 + 3) % 256 for i in range(300 * 1024))
        path = self.write_file("chunked.bin", data)
        rc, out, err = curl("-v", "-H", "Transfer-Encoding: chunked",
                            "-H", "Content-Type: application/octet-stream",
                            "--data-binary", "@" + path, self.base + "/echo")
        self.assertEqual(rc, 0, err)
        self.assertIn("> Transfer-Encoding: chunked", err)
        self.assertEqual(len(out), len(data))
        self.assertEqual(out, data)

    def test_chunked_upload_text_with_d(self):
        # -d @file (curl strips CR/LF from the file): what arrives is echoed.
        path = self.write_file("form.txt", b"a=1&b=two+words&c=%41")
        rc, out, err = curl("-H", "Transfer-Encoding: chunked",
                            "-d", "@" + path, self.base + "/echo")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"a=1&b=two+words&c=%41")

    def test_100_continue_large_body(self):
        data = os.urandom(3 * 1024 * 1024)
        path = self.write_file("big.bin", data)
        rc, out, err = curl("-v", "-H", "Expect: 100-continue",
                            "--expect100-timeout", "30",
                            "--data-binary", "@" + path, self.base + "/echo")
        self.assertEqual(rc, 0, err)
        self.assertIn("> Expect: 100-continue", err)
        # The server sent the interim response; curl waited for it (the
        # timeout above is long, so without a 100 this run would be slow
        # and the line below would be missing).
        self.assertRegex(err, r"< HTTP/1\.1 100 Continue")
        self.assertEqual(out, data)

    def test_100_continue_put(self):
        data = b"put body " * 1000
        path = self.write_file("put.bin", data)
        rc, out, err = curl("-v", "-X", "PUT", "-H", "Expect: 100-continue",
                            "--expect100-timeout", "30",
                            "--data-binary", "@" + path, self.base + "/echo")
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"< HTTP/1\.1 100 Continue")
        self.assertEqual(out, data)

    def test_head(self):
        rc, out, err = curl("-v", "--head", self.base + "/h")
        self.assertEqual(rc, 0, err)
        text = out.decode("latin-1")
        self.assertTrue(text.startswith("HTTP/1.1 200"), text)
        self.assertNotIn("You requested", text)
        # Content-Length, if present, is what GET would send.
        m = re.search(r"(?im)^content-length:\s*(\d+)", text)
        if m:
            self.assertEqual(int(m.group(1)), len(b"You requested /h\n"))

    def test_absolute_form_through_proxy_syntax(self):
        # curl -x sends absolute-form targets; routing uses the path.
        rc, out, err = curl("-x", self.base, "http://example.invalid/p?q=1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"You requested http://example.invalid/p?q=1\n")
        rc, out, err = curl("-x", self.base, "--data-binary", "abs",
                            "http://example.invalid/echo")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"abs")

    def test_bad_request_from_raw_curl_header(self):
        # A header curl sends verbatim with a space before the colon: 400.
        rc, out, err = curl("-v", "-H", "X-Bad : value", self.base + "/x")
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"< HTTP/1\.1 400")


if __name__ == "__main__":
    unittest.main(verbosity=2)
