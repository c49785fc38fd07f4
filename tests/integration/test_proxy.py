"""test_proxy - [okta] proxy: every request through a real forward proxy
(tinyproxy, from Debian, on 127.0.0.1), with its credentials from a
root-only file; and `okta-sync test` naming the proxy when it is down.

libcurl's own https_proxy/no_proxy variables are cleared for these runs,
so that what is tested is the config file's setting (a systemd unit
inherits no environment).
"""
import os
import shutil
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, case, main, run, tmpdir, wait_until  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

NO_PROXY_ENV = {k: "" for k in ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                 "ALL_PROXY", "no_proxy", "NO_PROXY")}
USER, PASSWORD = "okta", "pr0xy-s3cret-word"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Tinyproxy:
    def __init__(self, tmp, auth=False):
        oktatest.need("tinyproxy")
        self.port = free_port()
        self.log = os.path.join(tmp, "tp.log")
        self.pidfile = os.path.join(tmp, "tp.pid")
        conf = os.path.join(tmp, "tp.conf")
        with open(conf, "w") as f:
            f.write("User root\nGroup root\nPort %d\nListen 127.0.0.1\n"
                    "LogFile \"%s\"\nLogLevel Connect\nPidFile \"%s\"\nAllow 127.0.0.1\n"
                    % (self.port, self.log, self.pidfile))
            if auth:
                f.write("BasicAuth %s %s\n" % (USER, PASSWORD))
        p = run(["tinyproxy", "-c", conf])
        assert p.returncode == 0, p.stderr
        wait_until(lambda: listening(self.port) and os.path.exists(self.pidfile),
                   timeout=20, what="tinyproxy on port %d" % self.port)
        self.url = "http://127.0.0.1:%d" % self.port

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            return
        wait_until(lambda: not listening(self.port), timeout=20, what="tinyproxy to stop")


def okta_sync(conf, *args):
    return run([OKTA_SYNC, "-c", conf] + list(args), env=NO_PROXY_ENV, timeout=300)


def credentials_file(tmp, mode=0o600):
    path = os.path.join(tmp, "proxy-credentials")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("%s:%s\n" % (USER, PASSWORD))
    os.chmod(path, mode)
    return path


@case
def sync_through_a_real_proxy_then_proxy_down():
    tmp = tmpdir("okta-proxy-")
    proxy = None
    try:
        with Emulator(make_org(nusers=250, ngroups=3, seed=51, statuses=False)) as emu:
            proxy = Tinyproxy(tmp, auth=True)
            creds = credentials_file(tmp)
            conf = sc.setup(tmp, emu, okta={"proxy": proxy.url,
                                            "proxy_credentials_file": creds})
            p = okta_sync(conf, "sync", "--json")
            assert p.returncode == 0, p.stderr
            log = proxy.log_text()
            assert "CONNECT %s" % emu.domain in log, log[-2000:]
            assert len(sc.snapshot(conf)["users"]) > 0
            assert PASSWORD not in p.stdout + p.stderr
            p = okta_sync(conf, "test")
            assert p.returncode == 0, p.stdout + p.stderr
            assert "connected to the proxy 127.0.0.1 port %d" % proxy.port in p.stdout, p.stdout

            # The proxy goes away: the test says so, naming it.
            proxy.stop()
            p = okta_sync(conf, "test")
            assert p.returncode != 0, p.stdout
            assert "the proxy %s is unreachable" % proxy.url in p.stdout, p.stdout
    finally:
        if proxy is not None:
            proxy.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@case
def proxy_wanting_credentials_says_what_to_set():
    tmp = tmpdir("okta-proxy-")
    proxy = None
    try:
        with Emulator(make_org(nusers=20, ngroups=2, seed=52, statuses=False)) as emu:
            proxy = Tinyproxy(tmp, auth=True)
            conf = sc.setup(tmp, emu, okta={"proxy": proxy.url})
            p = okta_sync(conf, "sync")
            assert p.returncode != 0, p.stdout
            assert "the proxy %s asks for credentials (407): set [okta] " \
                "proxy_credentials_file" % proxy.url in p.stderr, p.stderr
    finally:
        if proxy is not None:
            proxy.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@case
def proxy_credentials_readable_by_others_are_refused():
    tmp = tmpdir("okta-proxy-")
    try:
        creds = credentials_file(tmp, mode=0o644)
        conf = sc.setup(tmp, None, token="x", okta={"domain": "dev-1.okta.com",
                                                    "proxy": "http://127.0.0.1:3128",
                                                    "proxy_credentials_file": creds})
        p = okta_sync(conf, "check-config")
        assert p.returncode == 78, (p.returncode, p.stderr)
        assert "[okta] proxy_credentials_file:" in p.stderr, p.stderr
        p = okta_sync(conf, "sync")
        assert p.returncode == 78, (p.returncode, p.stderr)
        assert PASSWORD not in p.stdout + p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def proxy_with_credentials_in_the_url_is_refused():
    tmp = tmpdir("okta-proxy-")
    try:
        conf = sc.setup(tmp, None, token="x", okta={"domain": "dev-1.okta.com",
                                                    "proxy": "http://u:p@proxy.example.com:3128"})
        p = okta_sync(conf, "check-config")
        assert p.returncode == 78, (p.returncode, p.stderr)
        assert "credentials go into proxy_credentials_file" in p.stderr, p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
