"""Integration: scaling out with real processes -- prefork (build/demo
--processes), N loops on N threads (--threads), graceful drain on SIGTERM,
zero-downtime restart on SIGUSR2, systemd socket activation with
examples/deploy's units, and Debian's nginx in front of two instances with
examples/deploy/nginx-squall.conf.  127.0.0.1 only; every process is
stopped by PID.
"""

import collections
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD_DIR = os.environ.get("SQUALL_BUILD_DIR", os.path.join(SRC, "build"))
DEMO = os.path.join(BUILD_DIR, "demo")
TIMEOUT = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A started program; stdout/stderr collected by threads."""

    def __init__(self, args, env=None):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env, start_new_session=True)
        self.out, self.err = [], []
        self.pumps = []
        for f, dst in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            t = threading.Thread(target=self._pump, args=(f, dst), daemon=True)
            t.start()
            self.pumps.append(t)

    @staticmethod
    def _pump(f, dst):
        for line in f:
            dst.append(line.rstrip("\n"))

    def wait_line(self, pattern, timeout=TIMEOUT, stream="out"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(getattr(self, stream)):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.p.poll() is not None and stream == "out":
                time.sleep(0.05)
            time.sleep(0.01)
        raise AssertionError("no line %r in %r / %r" % (pattern, self.out, self.err))

    def stop(self):
        # The whole process group: children, and a successor started by a
        # restart (it inherited the group and these pipes).
        try:
            os.killpg(self.p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
        deadline = time.monotonic() + 10
        for t in self.pumps:  # EOF once every holder of the pipes is gone
            t.join(max(0.1, deadline - time.monotonic()))
        if all(not t.is_alive() for t in self.pumps):
            self.p.stdout.close()
            self.p.stderr.close()
        else:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def start_demo(*args, env=None):
    d = Proc([DEMO, "--port", "0", *args], env=env)
    port = int(d.wait_line(r"listening on http://127\.0\.0\.1:(\d+)/").group(1))
    return d, port


def get(port, path="/whoami", timeout=5, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode(), dict(r.getheaders())
    finally:
        c.close()


def fields(body):
    return dict(line.split("=", 1) for line in body.splitlines() if "=" in line)


def wait_ok(port, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return get(port)
        except OSError:
            time.sleep(0.02)
    raise AssertionError("server on %d never answered" % port)


class Prefork(unittest.TestCase):
    def test_children_serve_and_are_restarted(self):
        d, port = start_demo("--processes", "2")
        try:
            pids = set()
            deadline = time.monotonic() + 10
            while len(pids) < 2 and time.monotonic() < deadline:
                pids.add(fields(get(port)[1])["pid"])
            self.assertEqual(len(pids), 2, pids)
            victim = int(sorted(pids)[0])
            os.kill(victim, signal.SIGKILL)
            # Requests go on; within a second a new child serves.
            t0 = time.monotonic()
            seen, failures = set(), 0
            while time.monotonic() - t0 < 3:
                try:
                    seen.add(int(fields(get(port)[1])["pid"]))
                except OSError:
                    failures += 1
                if len(seen - {int(p) for p in pids}) >= 1 and time.monotonic() - t0 > 0.3:
                    break
            self.assertTrue(seen - {int(p) for p in pids}, "no restarted child served")
            self.assertLess(time.monotonic() - t0, 1.5)
            d.wait_line(r"killed by signal 9, restarting", stream="err")
            self.assertNotIn(victim, seen)
        finally:
            d.stop()

    def test_too_many_restarts_exit_nonzero(self):
        d, port = start_demo("--processes", "2", "--max-restarts", "1")
        try:
            for _ in range(2):
                pid = int(fields(wait_ok(port)[1])["pid"])
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            d.p.wait(10)
            self.assertNotEqual(d.p.returncode, 0)
            d.wait_line(r"too many child restarts", stream="err")
        finally:
            d.stop()


class Threads(unittest.TestCase):
    def test_two_loops_share_the_load(self):
        d, port = start_demo("--threads", "2")
        counts = collections.Counter()
        lock = threading.Lock()
        errors = []

        def client():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
                local = collections.Counter()
                for _ in range(200):
                    c.request("GET", "/whoami")
                    local[fields(c.getresponse().read().decode())["loop"]] += 1
                c.close()
                with lock:
                    counts.update(local)
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(e)

        try:
            ts = [threading.Thread(target=client) for _ in range(50)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(errors, [])
            total = sum(counts.values())
            self.assertEqual(total, 10000)
            for loop in ("0", "1"):
                share = counts[loop] / total
                self.assertGreaterEqual(share, 0.4, counts)
                self.assertLessEqual(share, 0.6, counts)
        finally:
            d.stop()


class Drain(unittest.TestCase):
    def test_sigterm_lets_requests_in_flight_finish(self):
        d, port = start_demo("--threads", "2", "--grace-ms", "5000")
        results = []

        def slow():
            try:
                results.append(get(port, "/sleep?ms=700", timeout=10))
            except OSError as e:
                results.append(e)

        try:
            ts = [threading.Thread(target=slow) for _ in range(20)]
            for t in ts:
                t.start()
            time.sleep(0.3)  # all 20 are in flight (they take 700 ms)
            t0 = time.monotonic()
            d.p.send_signal(signal.SIGTERM)
            for t in ts:
                t.join()
            d.p.wait(10)
            elapsed = time.monotonic() - t0
            self.assertEqual(d.p.returncode, 0)
            self.assertLess(elapsed, 5)
            self.assertEqual(len(results), 20)
            for r in results:
                self.assertIsInstance(r, tuple, r)
                self.assertEqual(r[0], 200)
                self.assertEqual(r[1], "slept\n")
                self.assertEqual(r[2].get("Connection"), "close")
            # New connections are refused once the listener closed.
            with self.assertRaises(OSError):
                get(port, timeout=1)
        finally:
            d.stop()


class ZeroDowntimeRestart(unittest.TestCase):
    def test_sigusr2_refuses_nothing(self):
        d, port = start_demo("--threads", "2")
        new_pid = None
        try:
            old_pid = int(fields(get(port)[1])["pid"])
            stop = threading.Event()
            failures, pids = [], collections.Counter()

            def loop():
                while not stop.is_set():
                    try:
                        pids[int(fields(get(port)[1])["pid"])] += 1
                    except OSError as e:
                        failures.append(repr(e))

            ts = [threading.Thread(target=loop) for _ in range(4)]
            for t in ts:
                t.start()
            time.sleep(0.3)
            d.p.send_signal(signal.SIGUSR2)
            d.p.wait(15)  # the old process drains and exits
            time.sleep(0.3)
            stop.set()
            for t in ts:
                t.join()
            self.assertEqual(failures, [])
            self.assertEqual(d.p.returncode, 0)
            new = [p for p in pids if p != old_pid]
            self.assertEqual(len(new), 1, pids)
            new_pid = new[0]
            self.assertEqual(int(fields(get(port)[1])["pid"]), new_pid)
        finally:
            if new_pid:
                os.kill(new_pid, signal.SIGTERM)
            d.stop()


def unit_value(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    raise AssertionError("%s has no %s" % (path, key))


class SocketActivation(unittest.TestCase):
    def test_systemd_units_serve(self):
        deploy = os.path.join(SRC, "examples", "deploy")
        listen = unit_value(os.path.join(deploy, "squall-demo.socket"), "ListenStream")
        exec_start = unit_value(os.path.join(deploy, "squall-demo.service"), "ExecStart").split()
        self.assertEqual(os.path.basename(exec_start[0]), "demo")
        port = free_port()
        addr = listen.rsplit(":", 1)[0] + ":%d" % port
        cmd = [DEMO, *exec_start[1:]]
        activate = shutil.which("systemd-socket-activate")
        if activate:
            p = Proc([activate, "-l", addr, *cmd])
        else:  # a launcher doing what systemd does: bind, set LISTEN_*, exec
            launcher = ("import os,socket,sys\n"
                        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,"
                        "socket.SO_REUSEADDR,1); s.bind(('127.0.0.1',%d)); s.listen(128)\n"
                        "os.dup2(s.fileno(),3); os.environ['LISTEN_FDS']='1'\n"
                        "os.environ['LISTEN_PID']=str(os.getpid())\n"
                        "os.execv(sys.argv[1], sys.argv[1:])\n" % port)
            p = Proc(["python3", "-c", launcher, *cmd])
        try:
            status, body, _ = wait_ok(port, timeout=10)
            self.assertEqual(status, 200)
            self.assertIn("remote_ip=127.0.0.1", body)
            self.assertEqual(get(port, "/x")[1], "You requested /x\n")
        finally:
            p.stop()


NGINX_MAIN = """
worker_processes 1;
daemon off;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {p}/body;
  proxy_temp_path {p}/proxy;
  fastcgi_temp_path {p}/fastcgi;
  uwsgi_temp_path {p}/uwsgi;
  scgi_temp_path {p}/scgi;
  include {p}/squall.conf;
}}
"""


@unittest.skipUnless(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"),
                     "nginx is not installed")
class BehindNginx(unittest.TestCase):
    def test_nginx_balances_and_passes_the_client_address(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        prefix = tempfile.mkdtemp(prefix="squall-nginx-")
        a, pa = start_demo("--xheaders")
        b, pb = start_demo("--xheaders")
        front = free_port()
        with open(os.path.join(SRC, "examples", "deploy", "nginx-squall.conf")) as f:
            conf = f.read()
        conf = conf.replace("127.0.0.1:8081", "127.0.0.1:%d" % pa)
        conf = conf.replace("127.0.0.1:8082", "127.0.0.1:%d" % pb)
        conf = conf.replace("listen 80;", "listen 127.0.0.1:%d;" % front)
        with open(os.path.join(prefix, "squall.conf"), "w") as f:
            f.write(conf)
        main = NGINX_MAIN.format(p=prefix)
        if os.geteuid() == 0:
            main = "user root;\n" + main
        with open(os.path.join(prefix, "nginx.conf"), "w") as f:
            f.write(main)
        n = Proc([nginx, "-p", prefix, "-c", os.path.join(prefix, "nginx.conf"),
                  "-e", os.path.join(prefix, "error.log")])
        try:
            wait_ok(front)
            pids = collections.Counter()
            for _ in range(20):
                st, body, _ = get(front, headers={"X-Real-IP": "6.6.6.6",
                                                  "X-Forwarded-For": "7.7.7.7"})
                f = fields(body)
                self.assertEqual(st, 200)
                self.assertEqual(f["remote_ip"], "127.0.0.1")  # not the spoofed ones
                self.assertEqual(f["protocol"], "http")
                pids[f["pid"]] += 1
            self.assertEqual(len(pids), 2, pids)
            a.stop()
            for _ in range(20):
                st, body, _ = get(front)
                self.assertEqual(st, 200, body)
        finally:
            n.stop()
            a.stop()
            b.stop()
            shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    import faulthandler
    faulthandler.dump_traceback_later(240, exit=True)  # a hang shows where
    unittest.main(verbosity=2)
