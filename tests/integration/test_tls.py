"""Integration: HTTPS with real clients -- Python's ssl + http.client, curl
and openssl s_client -- against build/tests/tls_server and build/demo.

Certificates are made at test time by tests/util/make_certs.sh (a
throwaway CA; no private key is committed).  Servers run on ephemeral
ports on 127.0.0.1 and are stopped by PID.
"""

import http.client
import os
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
BUILD_DIR = os.environ.get("SQUALL_BUILD_DIR", os.path.join(SRC, "build"))
TIMEOUT = 30


class Server:
    """A running tls_server (or demo): its port, stdout and stderr lines."""

    def __init__(self, args, exe=None, banner=r"^port (\d+)$"):
        exe = exe or os.path.join(BUILD_DIR, "tests", "tls_server")
        self.proc = subprocess.Popen(
            [exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.out = queue.Queue()
        self.err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append),
                         daemon=True).start()
        line = self.next_line()
        m = re.search(banner, line)
        if not m:
            self.stop()
            raise RuntimeError("server did not start: %r %r" % (line, self.err))
        self.port = int(m.group(1))

    @staticmethod
    def _pump(f, put):
        for line in f:
            put(line.rstrip("\n"))

    def next_line(self, timeout=TIMEOUT):
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def errors(self, text, timeout=5.0):
        """Wait until an error-hook line containing text was printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in e for e in self.err):
                return True
            time.sleep(0.02)
        return False


def client_context(certs, **kw):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def run(cmd, timeout=TIMEOUT, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)


class TLSBase(unittest.TestCase):
    args = []

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="squall-tls-")
        subprocess.run(["bash", os.path.join(SRC, "tests", "util", "make_certs.sh"),
                        cls.certs], check=True)
        cls.srv = Server(["--port", "0", *cls.server_args()])
        cls.port = cls.srv.port

    @classmethod
    def server_args(cls):
        c = cls.certs
        return ["--cert", os.path.join(c, "server.pem"),
                "--key", os.path.join(c, "server.key"),
                "--cert", os.path.join(c, "other.pem"),
                "--key", os.path.join(c, "other.key"),
                "--handshake-timeout-ms", "700", *cls.args]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.certs, name)

    def conn(self, host="localhost", **kw):
        return http.client.HTTPSConnection(
            host, self.port, timeout=TIMEOUT, context=client_context(self.certs, **kw))

    def s_client(self, *args, data=b"", timeout=TIMEOUT):
        return run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                    "-CAfile", self.path("ca.pem"), *args], input=data, timeout=timeout)


class HTTPSWithPythonClient(TLSBase):
    def test_get_over_tls13_and_tls12(self):
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            c = self.conn(maximum_version=version)
            c.request("GET", "/hello?x=1")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"You requested /hello?x=1\n")
            self.assertEqual(r.getheader("X-Protocol"), "https")
            self.assertEqual(r.getheader("X-Full-URL"),
                             "https://localhost:%d/hello?x=1" % self.port)
            want = "TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2"
            self.assertEqual(r.getheader("X-TLS-Version"), want)
            self.assertEqual(r.getheader("X-TLS-Cipher"), c.sock.cipher()[0])
            self.assertEqual(r.getheader("X-TLS-SNI"), "localhost")
            c.close()

    def test_alpn_http11(self):
        c = self.conn()
        c._context.set_alpn_protocols(["h2", "http/1.1"])
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        self.assertEqual(c.sock.selected_alpn_protocol(), "http/1.1")
        self.assertEqual(r.getheader("X-TLS-ALPN"), "http/1.1")
        c.close()

    def test_keep_alive_reuses_the_tls_session(self):
        c = self.conn()
        socks = set()
        for i in range(5):
            c.request("GET", "/k%d" % i)
            r = c.getresponse()
            self.assertEqual(r.read(), b"You requested /k%d\n" % i)
            socks.add(id(c.sock))
        self.assertEqual(len(socks), 1)
        c.close()

    def test_chunked_upload_and_large_bodies(self):
        c = self.conn()
        body = os.urandom(1 << 20)
        pieces = (body[i:i + 70000] for i in range(0, len(body), 70000))
        c.request("POST", "/echo", body=pieces, encode_chunked=True)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read(), body)
        # Content-Length upload of 3 MiB and a 5 MiB response on one connection.
        body = os.urandom(3 << 20)
        c.request("POST", "/echo", body=body)
        self.assertEqual(c.getresponse().read(), body)
        c.request("GET", "/big?%d" % (5 << 20))
        self.assertEqual(c.getresponse().read(), b"x" * (5 << 20))
        c.close()

    def test_pipelined_requests_in_one_record(self):
        ctx = client_context(self.certs)
        with socket.create_connection(("127.0.0.1", self.port), TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                reqs = b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
                                for i in range(32))
                s.sendall(reqs)
                buf = b""
                while buf.count(b"You requested /p") < 32:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                got = re.findall(rb"You requested /p(\d+)", buf)
                self.assertEqual([int(x) for x in got], list(range(32)))

    def test_sni_picks_the_certificate(self):
        for name, cn in (("other.test", "other.test"), ("a.other.test", "other.test"),
                         ("localhost", "localhost")):
            ctx = client_context(self.certs)
            with socket.create_connection(("127.0.0.1", self.port), TIMEOUT) as raw:
                with ctx.wrap_socket(raw, server_hostname=name) as s:
                    subject = dict(x[0] for x in s.getpeercert()["subject"])
                    self.assertEqual(subject["commonName"], cn)
                    s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                              % name.encode())
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.assertIn(b"X-TLS-SNI: " + name.encode(), data)

    def test_no_client_certificate_asked(self):
        c = self.conn()
        c.request("GET", "/pem")
        self.assertEqual(c.getresponse().read(), b"")
        c.close()


class HTTPSWithCurlAndOpenSSL(TLSBase):
    def curl(self, *args):
        r = run(["curl", "-sS", "--http1.1", "--cacert", self.path("ca.pem"), *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_curl_get_post_chunked_keep_alive(self):
        base = "https://localhost:%d" % self.port
        self.assertEqual(self.curl(base + "/a").stdout, b"You requested /a\n")
        data = os.urandom(200000)
        r = run(["curl", "-sS", "--http1.1", "--cacert", self.path("ca.pem"),
                 "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                 base + "/echo"], input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, data)
        r = self.curl("-v", base + "/one", base + "/two")
        self.assertEqual(r.stdout, b"You requested /one\nYou requested /two\n")
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_plain_http_to_the_tls_port_gets_400(self):
        r = run(["curl", "-sS", "-i", "http://127.0.0.1:%d/" % self.port])
        self.assertIn(b"400 Bad Request", r.stdout)
        self.assertIn(b"plain HTTP request was sent to a TLS port", r.stdout)
        self.assertTrue(self.srv.errors("plain HTTP request sent to the TLS port"))
        # ... and the server goes on serving.
        self.assertEqual(self.curl("https://localhost:%d/x" % self.port).stdout,
                         b"You requested /x\n")

    def test_alpn_h2_only_gets_an_alert(self):
        r = self.s_client("-alpn", "h2", "-servername", "localhost", timeout=10)
        out = r.stdout + r.stderr
        self.assertIn(b"no application protocol", out)
        self.assertTrue(self.srv.errors("no application protocol"))

    def test_tls11_refused(self):
        r = self.s_client("-tls1_1", timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"Cipher is (NONE)", r.stdout)
        self.assertTrue(self.srv.errors("unsupported protocol"))

    def test_sni_with_s_client(self):
        r = self.s_client("-servername", "x.other.test", data=b"Q\n", timeout=10)
        self.assertRegex(r.stdout, rb"subject=CN\s*=\s*other.test")

    def test_session_resumption_with_tickets(self):
        sess = os.path.join(self.certs, "sess.pem")
        req = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        first = self.s_client("-servername", "localhost", "-sess_out", sess,
                              "-ign_eof", data=req)
        self.assertIn(b"You requested /", first.stdout)
        self.assertIn(b"X-TLS-Resumed: 0", first.stdout)
        second = self.s_client("-servername", "localhost", "-sess_in", sess,
                               "-ign_eof", data=req)
        self.assertIn(b"Reused, TLSv1.3", second.stdout)
        self.assertIn(b"X-TLS-Resumed: 1", second.stdout)

    def test_stalled_handshake_times_out_while_others_are_served(self):
        before = self.stat()
        with socket.create_connection(("127.0.0.1", self.port), TIMEOUT) as stalled:
            stalled.sendall(b"\x16\x03\x01\x00\xff\x01")  # half a ClientHello
            t0 = time.monotonic()
            # Others are served meanwhile.
            self.assertEqual(self.curl("https://localhost:%d/m" % self.port).stdout,
                             b"You requested /m\n")
            stalled.settimeout(10)
            try:
                got = stalled.recv(100)
            except ConnectionResetError:
                got = b""
            waited = time.monotonic() - t0
        self.assertEqual(got, b"")
        self.assertLess(waited, 5)
        self.assertTrue(self.srv.errors("TLS handshake timed out"))
        self.assertGreater(self.stat(), before)

    def stat(self):
        out = self.curl("https://localhost:%d/stats" % self.port).stdout
        return int(out.split(b"=")[1])


class ClientCertificates(TLSBase):
    args = []

    @classmethod
    def server_args(cls):
        return super().server_args() + ["--ca", os.path.join(cls.certs, "ca.pem"),
                                        "--client-auth", "2"]

    def test_required_and_missing_is_refused(self):
        r = self.s_client("-servername", "localhost",
                          data=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=10)
        self.assertNotIn(b"You requested", r.stdout)
        self.assertTrue(self.srv.errors("certificate"))

    def test_verified_certificate_reaches_the_request(self):
        ctx = client_context(self.certs)
        ctx.load_cert_chain(self.path("client.pem"), self.path("client.key"))
        c = http.client.HTTPSConnection("localhost", self.port, timeout=TIMEOUT,
                                        context=ctx)
        c.request("GET", "/who")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.getheader("X-TLS-Subject"), "O=squall,CN=squall test client")
        c.request("GET", "/pem")
        pem = c.getresponse().read().decode()
        with open(self.path("client.pem")) as f:
            self.assertEqual(pem.strip(), f.read().strip())
        c.close()

    def test_curl_with_client_certificate(self):
        r = run(["curl", "-sS", "--cacert", self.path("ca.pem"), "--cert",
                 self.path("client.pem"), "--key", self.path("client.key"),
                 "https://localhost:%d/c" % self.port])
        self.assertEqual(r.stdout, b"You requested /c\n", r.stderr)


class Reload(TLSBase):
    @classmethod
    def server_args(cls):
        # Serve copies of the files, which the test then replaces.
        for src, dst in (("server.pem", "live.pem"), ("server.key", "live.key")):
            shutil.copy(os.path.join(cls.certs, src), os.path.join(cls.certs, dst))
        return ["--cert", os.path.join(cls.certs, "live.pem"),
                "--key", os.path.join(cls.certs, "live.key")]

    def subject_o(self):
        ctx = client_context(self.certs)
        with socket.create_connection(("127.0.0.1", self.port), TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                subject = dict(x[0] for x in s.getpeercert()["subject"])
                return subject.get("organizationName")

    def reload(self):
        self.srv.proc.send_signal(signal.SIGHUP)
        return self.srv.next_line()

    def test_reload_swaps_certificates_and_keeps_open_connections(self):
        self.assertIsNone(self.subject_o())
        old = self.conn()
        old.request("GET", "/before")
        self.assertEqual(old.getresponse().read(), b"You requested /before\n")
        # A bad new certificate: refused, the old one keeps serving.
        with open(self.path("live.pem"), "w") as f:
            f.write("not a certificate\n")
        self.assertTrue(self.reload().startswith("reload failed:"))
        self.assertIsNone(self.subject_o())
        # A key that does not match its certificate: refused too.
        shutil.copy(self.path("server2.pem"), self.path("live.pem"))
        self.assertIn("does not match", self.reload())
        # The new pair: new handshakes get it, the open connection goes on.
        shutil.copy(self.path("server2.key"), self.path("live.key"))
        self.assertEqual(self.reload(), "reloaded")
        self.assertEqual(self.subject_o(), "reloaded")
        old.request("GET", "/after")
        self.assertEqual(old.getresponse().read(), b"You requested /after\n")
        old.close()


class DemoOverTLS(unittest.TestCase):
    def test_demo_serves_https(self):
        certs = tempfile.mkdtemp(prefix="squall-tls-")
        try:
            subprocess.run(["bash", os.path.join(SRC, "tests", "util", "make_certs.sh"),
                            certs], check=True)
            srv = Server(["--port", "0", "--tls-cert", os.path.join(certs, "rsa.pem"),
                          "--tls-key", os.path.join(certs, "rsa.key")],
                         exe=os.path.join(BUILD_DIR, "demo"),
                         banner=r"listening on https://127\.0\.0\.1:(\d+)/")
            try:
                r = run(["curl", "-sS", "--cacert", os.path.join(certs, "ca.pem"),
                         "https://localhost:%d/demo" % srv.port])
                self.assertEqual(r.stdout, b"You requested /demo\n", r.stderr)
            finally:
                srv.stop()
            bad = run([os.path.join(BUILD_DIR, "demo"), "--port", "0", "--tls-cert",
                       os.path.join(certs, "rsa.pem"), "--tls-key",
                       os.path.join(certs, "server.key")], timeout=10)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn(b"does not match", bad.stderr)
        finally:
            shutil.rmtree(certs, ignore_errors=True)


if __name__ == "__main__":
    import faulthandler
    faulthandler.dump_traceback_later(240, exit=True)  # a hang shows where
    unittest.main(verbosity=2)
