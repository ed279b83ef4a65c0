"""Integration: the real demo server (build/demo) driven by Python's
http.client: keep-alive reuse, chunked uploads (encode_chunked=True),
Expect: 100-continue, pipelined raw requests over a plain socket, HTTP/1.0.

The demo is started on an ephemeral port by the test and stopped by PID.
Needs SQUALL_BUILD_DIR pointing at the build directory.
"""

import http.client
import os
import re
import socket
import subprocess
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get(
    "SQUALL_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
TIMEOUT = 30


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
        raise RuntimeError("demo did not report its port: %r" % (line,))
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


def recv_until(sock, marker, limit=1 << 20):
    buf = b""
    while marker not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            break
    return buf


class HttpClientAgainstDemo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_demo()

    @classmethod
    def tearDownClass(cls):
        stop_demo(cls.proc)

    def tearDown(self):
        self.assertIsNone(self.proc.poll(), "demo exited during the test")

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=TIMEOUT)

    def test_keep_alive_reuse(self):
        c = self.conn()
        try:
            c.request("GET", "/first")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type").split(";")[0],
                             "text/plain")
            self.assertEqual(r.read(), b"You requested /first\n")
            self.assertFalse(r.will_close)
            sock = c.sock
            local = sock.getsockname()
            for i in range(10):
                c.request("GET", "/again/%d" % i)
                r = c.getresponse()
                self.assertEqual(r.read(), b"You requested /again/%d\n" % i)
                # Same socket object, same local port: no reconnect.
                self.assertIs(c.sock, sock)
                self.assertEqual(c.sock.getsockname(), local)
        finally:
            c.close()

    def test_post_put_echo(self):
        c = self.conn()
        try:
            body = bytes(range(256)) * 100
            for method in ("POST", "PUT"):
                c.request(method, "/echo", body=body,
                          headers={"Content-Type": "application/octet-stream"})
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.read(), body)
        finally:
            c.close()

    def test_chunked_upload(self):
        chunks = [b"first piece,", b"", b"x" * 70000, bytes(range(256)),
                  b"\r\n0\r\n\r\n", b"last"]
        # An empty bytes object would end the chunked body early in
        # http.client's encoder; it skips them, so the body is the join.
        want = b"".join(chunks)
        c = self.conn()
        try:
            c.request("POST", "/echo", body=iter(chunks), encode_chunked=True,
                      headers={"Transfer-Encoding": "chunked"})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), want)
            sock = c.sock
            # The connection survives a chunked upload.
            c.request("GET", "/after-chunked")
            r = c.getresponse()
            self.assertEqual(r.read(), b"You requested /after-chunked\n")
            self.assertIs(c.sock, sock)
        finally:
            c.close()

    def test_expect_100_continue(self):
        body = os.urandom(512 * 1024)
        c = self.conn()
        try:
            c.putrequest("POST", "/echo")
            c.putheader("Content-Length", str(len(body)))
            c.putheader("Expect", "100-continue")
            c.endheaders()
            # Wait for the interim response before sending the body.
            interim = recv_until(c.sock, b"\r\n\r\n")
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            self.assertTrue(interim.endswith(b"\r\n\r\n"), interim)
            c.send(body)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), body)
            # And again on the same connection.
            c.putrequest("PUT", "/echo")
            c.putheader("Content-Length", "5")
            c.putheader("Expect", "100-continue")
            c.endheaders()
            interim = recv_until(c.sock, b"\r\n\r\n")
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            c.send(b"again")
            r = c.getresponse()
            self.assertEqual(r.read(), b"again")
        finally:
            c.close()

    def test_expect_100_continue_body_sent_at_once(self):
        # http.client's own flow: body sent without waiting; the 100 (if
        # any) is skipped by getresponse.
        c = self.conn()
        try:
            c.request("POST", "/echo", body=b"eager",
                      headers={"Expect": "100-continue"})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"eager")
            c.request("GET", "/next")
            self.assertEqual(c.getresponse().read(), b"You requested /next\n")
        finally:
            c.close()

    def test_http10_closes(self):
        c = self.conn()
        c._http_vsn = 10
        c._http_vsn_str = "HTTP/1.0"
        try:
            c.request("GET", "/old")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"You requested /old\n")
            # HTTP/1.0 without keep-alive: the server closes.
            if c.sock is not None:
                self.assertEqual(c.sock.recv(1), b"")
        finally:
            c.close()

    def test_pipelined_raw(self):
        n = 50
        req = b"".join(b"GET /pipe/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i
                       for i in range(n))
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=TIMEOUT) as s:
            s.sendall(req)
            f = s.makefile("rb")
            for i in range(n):
                status = f.readline()
                self.assertTrue(status.startswith(b"HTTP/1.1 200 "), status)
                length = None
                while True:
                    line = f.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                self.assertIsNotNone(length)
                self.assertEqual(f.read(length),
                                 b"You requested /pipe/%d\n" % i)
            f.close()


class HttpClientXHeaders(unittest.TestCase):
    """The demo started with --xheaders serves requests carrying proxy
    headers (remote_ip/protocol themselves are checked in the C tests)."""

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_demo("--xheaders")

    @classmethod
    def tearDownClass(cls):
        stop_demo(cls.proc)

    def test_serves_with_proxy_headers(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            c.request("GET", "/x", headers={"X-Real-IP": "1.2.3.4",
                                            "X-Forwarded-Proto": "https"})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"You requested /x\n")
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
