"""test_sync_links - `okta-sync sync` against next links that Okta's Link
headers may carry, and ones an attacker (or a broken proxy) may put there.

The same-origin check on rel="next" is what keeps the API token from being
sent to another host: a foreign or plain-http next link must fail the sync,
change nothing, and never reach the other listener.  To show the last part,
the link points at a listener of this test's own on a second port (TLS with
the emulator's certificate, valid for localhost, so a client that did follow
would complete the handshake and hand over its Authorization header; or
plain TCP for http://), and the test asserts it saw no connection at all.
Comma-joined Link fields and short pages with a next link are legal and the
sync must fetch every user through them.
"""
import os
import shutil
import socket
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

# More users than one page (200), so that every listing has a next link.
ORG = make_org(nusers=450, ngroups=4, seed=23, statuses=False)


class Listener:
    """A TCP listener on 127.0.0.1 (TLS when cert/key are given) that
    records every connection and every byte a client sends it."""

    def __init__(self, cert=None, key=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self.connections = 0
        self.received = b""
        self.lock = threading.Lock()
        self.closing = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            try:
                c.settimeout(2)
                if self.ctx:
                    c = self.ctx.wrap_socket(c, server_side=True)
                data = c.recv(65536)
                with self.lock:
                    self.received += data
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()

    def seen(self):
        with self.lock:
            return self.connections, self.received

    def stop(self):
        self.closing = True
        self.sock.close()
        self.thread.join(5)


class Env:
    emu = None
    conf = None
    tmp = None


def env():
    if Env.emu is None:
        Env.tmp = tmpdir("okta-links-")
        Env.emu = Emulator(ORG)
        Env.conf = sc.setup(Env.tmp, Env.emu)
        doc = sc.plan(Env.conf)
        assert doc["counts"]["users"]["added"] == 450, doc["counts"]
    Env.emu.clear_faults()
    Env.emu.reset_requests()
    return Env.emu, Env.conf


def refused_and_nothing_sent(kind, listener, scheme):
    emu, conf = env()
    # A change waits in Okta, so that a sync that wrongly went on would
    # alter the cache.
    emu.add_user("pending.%s@example.com" % kind, firstName="Pending", lastName="Link")
    cache = sc.cache_dir(conf)
    before = sc.hash_dir(cache)
    target = "%s://localhost:%d" % (scheme, listener.port)
    try:
        emu.fault(kind, path="/api/v1/users", count=1, target=target)
        p = sc.okta_sync(conf)
    finally:
        emu.clear_faults()
        listener.stop()
    assert p.returncode not in (0, 3), (p.returncode, p.stdout[-500:], p.stderr)
    assert "not following it" in p.stderr and target in p.stderr, p.stderr
    assert "nothing was changed" in p.stderr, p.stderr
    assert sc.hash_dir(cache) == before, "the refused sync changed the cache dir"
    conns, data = listener.seen()
    assert conns == 0, "the client connected to %s (%d connection(s)), sending %r" % (
        target, conns, data[:200])
    assert emu.token.encode() not in data
    # The next sync, with honest links, applies the waiting change.
    doc = sc.plan(conf)
    assert doc["counts"]["users"]["added"] == 1, doc["counts"]


@case
def foreign_next_link_is_not_followed():
    emu, _ = env()
    refused_and_nothing_sent("link_foreign", Listener(emu.cert_file, emu.key_file), "https")


@case
def plain_http_next_link_is_not_followed():
    refused_and_nothing_sent("link_http", Listener(), "http")


def every_user_through(kind):
    emu, conf = env()
    login = "extra.%s@example.com" % kind
    emu.add_user(login, firstName="Extra", lastName="Paging")
    emu.fault(kind, path="/api/v1/users", count=100)
    doc = sc.plan(conf, "--full")
    emu.clear_faults()
    assert doc["result"]["ok"] is True, doc["result"]
    users = doc["counts"]["users"]
    assert users["added"] == 1 and users["removed"] == 0, users
    assert users["added"] + users["unchanged"] + users["modified"] == emu.counts()["users"], users
    return emu.requests()


@case
def comma_joined_link_fields_are_followed():
    reqs = every_user_through("link_joined")
    pages = [r for r in reqs if r[1].startswith("/api/v1/users?") and "after=" in r[1]]
    assert len(pages) >= 2, reqs


@case
def short_pages_with_a_next_link_are_followed():
    reqs = every_user_through("short_page")
    # Half pages: at least 5 pages for 451 users at limit 200.
    pages = [r for r in reqs if r[1].startswith("/api/v1/users?") and "filter=" not in r[1]]
    assert len(pages) >= 5, [r[1] for r in reqs]


if __name__ == "__main__":
    try:
        main()
    finally:
        if Env.emu is not None:
            Env.emu.stop()
            shutil.rmtree(Env.tmp, ignore_errors=True)
