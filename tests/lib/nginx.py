"""nginx - a private nginx on 127.0.0.1 over TLS with the test CA, for
the fleet tests (issue 12): it serves a directory the way a web server or
CDN origin would serve a publisher's files, and accepts WebDAV PUT and
DELETE under /dav/.

    with Nginx(tmp, pki) as web:
        web.url            https://localhost:PORT/       (GET root)
        web.dav_url        https://localhost:PORT/dav/   (PUT, DELETE)
        web.root           the served directory
        web.access()       [(method, path, status)] from its access log
        web.set_broken(True)   every GET answers 500

pki is make_test_ca()'s dict (emulator.py).  The process is stopped by
stop() or the context manager; nginx runs as root (a 0700 scratch
directory is otherwise unreadable to its workers: TESTING.md).
"""
import os
import signal
import socket
import subprocess

from oktatest import wait_until

NGINX = "/usr/sbin/nginx"

CONF = """user root; daemon on; pid {t}/nginx.pid; error_log {t}/error.log;
worker_processes 1;
events {{}}
http {{
  log_format fleet '$request_method $uri $status $body_bytes_sent $bytes_sent';
  access_log {t}/access.log fleet;
  client_body_temp_path {t}/body; proxy_temp_path {t}/proxy;
  fastcgi_temp_path {t}/fcgi; uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;
  client_max_body_size 512m;
  server {{
    listen 127.0.0.1:{port} ssl; server_name localhost;
    ssl_certificate {cert}; ssl_certificate_key {key};
    root {root}; etag on;
    {broken}
    location /dav/ {{ alias {root}/; dav_methods PUT DELETE; create_full_put_path on; }}
  }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self, tmp, pki):
        self.t = os.path.join(tmp, "nginx")
        self.root = os.path.join(self.t, "pub")
        os.makedirs(self.root, exist_ok=True)
        for d in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(self.t, d), exist_ok=True)
        self.pki = pki
        self.port = free_port()
        self.url = "https://localhost:%d/" % self.port
        self.dav_url = self.url + "dav/"
        self.conf = os.path.join(self.t, "nginx.conf")
        self.pidfile = os.path.join(self.t, "nginx.pid")
        self.log = os.path.join(self.t, "access.log")
        self.broken = False
        self._write()
        p = subprocess.run([NGINX, "-c", self.conf], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("nginx did not start: %s" % p.stderr)
        wait_until(self._listening, timeout=10, what="nginx to listen")

    def _write(self):
        with open(self.conf, "w") as f:
            f.write(CONF.format(t=self.t, port=self.port, cert=self.pki["cert"],
                                key=self.pki["key"], root=self.root,
                                broken="location = /manifest { return 500; }" if self.broken else ""))

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def pid(self):
        with open(self.pidfile) as f:
            return int(f.read().strip())

    def workers(self):
        """The pids of the master's worker processes."""
        master, out = self.pid(), set()
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                            out.add(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        return out

    def set_broken(self, broken):
        """Make GET /manifest answer 500 (or stop doing so): reload, and
        wait until every worker of the old configuration has exited, so
        that no request can still reach one."""
        self.broken = broken
        self._write()
        old = self.workers()
        os.kill(self.pid(), signal.SIGHUP)
        wait_until(lambda: self.workers() and not (self.workers() & old),
                   timeout=20, what="nginx to reload")

    def access(self):
        """[(method, path, status, body bytes)] of every request so far."""
        out = []
        if not os.path.exists(self.log):
            return out
        with open(self.log) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4:
                    out.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
        return out

    def stop(self):
        try:
            os.kill(self.pid(), signal.SIGTERM)
        except (OSError, ValueError):
            return
        def gone():
            try:
                os.kill(self.pid(), 0)
                return False
            except (OSError, ValueError):
                return True
        wait_until(gone, timeout=10, what="nginx to stop")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
