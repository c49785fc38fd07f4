#!/usr/bin/env python3
"""test_auth_broker.py - okta-syncd's auth socket (issue 11, "Done when" 5,
and the daemon's side of the conversation) against the emulator.

A real okta-syncd with [auth] serves a test socket ([auth] socket = a
temporary path); the cases talk to it as pam_okta would, through
tests/lib/authproto.py:

  - a non-root peer gets RESULT AUTHINFO_UNAVAIL "okta-syncd serves root
    only" and Okta sees nothing;
  - garbage, an oversize frame and another version each close only their
    own connection, with a log line that never quotes their bytes, while a
    login in flight completes;
  - 20 concurrent logins complete;
  - the password grant (right, wrong: exactly one token request; a 500:
    never sent twice), TOTP, push with number matching and rejected, the
    device flow, an ID token for another user refused, the offline
    credential while Okta is down, the local-failure delay (MAXTRIES
    without a request), logins of one user spaced within Okta's rate
    limit, a suspended user and a local user refused before any request,
    and SIGTERM ending a login in flight and removing the socket.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import authproto as ap  # noqa: E402
from emulator import Emulator, totp  # noqa: E402
from oktaconf import write_config  # noqa: E402
from oktatest import OKTA_SYNC, OKTA_SYNCD, case, main, need, run, tmpdir, wait_until  # noqa: E402

CLIENT_ID = "0oabrokertest0001"
PASSWORDS = {}
NUSERS = 20


class Env:
    """An emulator with NUSERS users u00..u19 (passwords known) plus a
    suspended one, a synced cache, and okta-syncd serving [auth]."""

    def __init__(self, auth=None, mfa_required=False):
        need(OKTA_SYNC, OKTA_SYNCD)
        self.t = tmpdir("okta-auth-broker-")
        self.emu = Emulator()
        self.proc = None
        try:
            self._setup(auth or {}, mfa_required)
        except BaseException:
            self.close()
            raise

    def _setup(self, auth, mfa_required):
        emu = self.emu
        emu.auth_add_app(CLIENT_ID, mfa_required=mfa_required)
        emu.auth_settings(oob_interval=1)
        for i in range(NUSERS):
            login = "u%02d@example.com" % i
            emu.add_user(login, "U%02d" % i, "Test")
            PASSWORDS[login] = "pw-%02d-S3cret!" % i
            emu.set_password(login, PASSWORDS[login])
        emu.add_user("sus@example.com", "Sus", "Pended")
        emu.set_password("sus@example.com", "pw-sus-S3cret!")
        emu.set_status("sus@example.com", "SUSPENDED")
        os.chmod(self.t, 0o755)     # so that a non-root peer reaches the socket
        self.passwd = os.path.join(self.t, "passwd")
        with open(self.passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/bash\n"
                    "alice:x:1000:1000:Local Alice:/home/alice:/bin/bash\n")
        self.sock = os.path.join(self.t, "run", "auth.sock")
        a = {"client_id": CLIENT_ID, "socket": self.sock}
        a.update(auth)
        extra = "[auth]\n" + "".join("%s = %s\n" % kv for kv in a.items())
        self.conf = write_config(self.t, emu, sync={"schedule": "0 3 * * *"},
                                 posix={"strip_domain": "example.com",
                                        "local_passwd": self.passwd},
                                 pam={"max_cache_age": "0"}, extra=extra)
        p = run([OKTA_SYNC, "-c", self.conf, "sync"], timeout=120)
        assert p.returncode == 0, p.stderr
        self.log_path = os.path.join(self.t, "okta-syncd.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([OKTA_SYNCD, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        wait_until(lambda: os.path.exists(self.sock) or self.proc.poll() is not None,
                   timeout=60, what="the auth socket")
        assert self.proc.poll() is None, self.log()
        emu.auth_reset_counts()

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("okta-syncd did not stop on SIGTERM")
            log = self.log()
            assert self.proc.returncode == 0, "okta-syncd exited %d:\n%s" % (
                self.proc.returncode, log)
            assert "Sanitizer" not in log and "runtime error" not in log, log

    def close(self):
        try:
            self.stop()
        finally:
            if getattr(self, "log_file", None):
                self.log_file.close()
            self.emu.stop()
            shutil.rmtree(self.t, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None and os.path.exists(self.log_path):
            print("okta-syncd's log:\n" + self.log())
        self.close()

    def assert_no_secret_logged(self):
        log = self.log()
        s = self.emu.auth_secrets()
        for secret in list(PASSWORDS.values()) + s["issued"] + s["received"]:
            assert secret not in log, "okta-syncd logged a secret:\n" + log


def closed(client):
    """The daemon closed the connection without a frame (a reset, when it
    left bytes of ours unread, is a close too)."""
    try:
        return client.recv() is None
    except (ConnectionResetError, BrokenPipeError):
        return True


def login(env, user, answers, **kw):
    return ap.converse(env.sock, user, answers, **kw)


@case
def non_root_peer_is_refused():
    """A process that is not root connects: RESULT AUTHINFO_UNAVAIL with
    "okta-syncd serves root only", then the connection closes; Okta sees
    nothing."""
    with Env() as env:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            out = "ERR"
            try:
                os.setgid(65534)
                os.setuid(65534)
                with ap.Client(env.sock, 10) as c:
                    c.hello("sshd", "u00")
                    m = c.recv()
                    after = c.recv()
                    out = "%s|%s|%s|%s" % (m.type, m.code, m.message, after)
            except Exception as e:  # reported to the parent
                out = "EXC %r" % (e,)
            os.write(w, out.encode())
            os._exit(0)
        os.close(w)
        got = b""
        while True:
            b = os.read(r, 4096)
            if not b:
                break
            got += b
        os.close(r)
        os.waitpid(pid, 0)
        got = got.decode()
        assert got == "%d|%d|okta-syncd serves root only|None" % (ap.RESULT, ap.AUTHINFO_UNAVAIL), got
        assert env.emu.auth_counts("u00@example.com")["token"] == 0
        assert "refused a connection from uid 65534" in env.log(), env.log()


@case
def garbage_and_oversize_frames_are_dropped_without_harming_a_login():
    """A login waits at its password prompt while other clients send
    garbage, an oversize frame, another version and an ANSWER before any
    HELLO: each of those connections is closed (and logged without its
    bytes); the login then completes."""
    with Env() as env:
        c = ap.Client(env.sock, 30)
        c.hello("sshd", "u01")
        m = c.recv()
        assert m.type == ap.PROMPT and m.kind == ap.KIND_PASSWORD, m
        bad = [
            b"GARBAGE-NOT-A-FRAME-XYZZY" * 3,
            ap.raw_frame(ap.HELLO, b"", length=1 << 20),                 # oversize
            ap.raw_frame(ap.HELLO, ap.raw_fields([]), version=9),        # another version
            ap.answer(1, "PLAINTEXT-XYZZY"),                             # no HELLO first
            ap.raw_frame(ap.HELLO, b"\x01\x00\xff\xff" + b"Q" * 40),     # a broken field
        ]
        for b in bad:
            with ap.Client(env.sock, 10) as g:
                g.send_raw(b)
                assert closed(g), "the daemon answered a bad frame"
        c.answer(m.prompt_id, PASSWORDS["u01@example.com"])
        res = c.recv()
        c.close()
        assert res is not None and res.type == ap.RESULT and res.code == ap.SUCCESS, res
        log = env.log()
        assert log.count("auth: dropped a connection") >= len(bad), log
        assert "XYZZY" not in log and "QQQQ" not in log, log
        env.assert_no_secret_logged()


@case
def twenty_concurrent_logins_complete():
    """20 logins at once, each of another user: every one succeeds."""
    with Env() as env:
        results = {}

        def one(i):
            u = "u%02d" % i
            try:
                results[u] = login(env, u, [PASSWORDS[u + "@example.com"]]).code
            except Exception as e:
                results[u] = repr(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(NUSERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert results == {"u%02d" % i: ap.SUCCESS for i in range(NUSERS)}, results
        env.assert_no_secret_logged()


@case
def password_right_and_wrong():
    """The right password: SUCCESS, the ID token checked; a wrong one:
    AUTH_ERR after exactly one token request (never retried), and the
    daemon sent the login the cache holds (u02@example.com), not the
    name typed."""
    with Env() as env:
        conv = login(env, "u02", [PASSWORDS["u02@example.com"]])
        assert conv.code == ap.SUCCESS, conv
        assert [p.text for p in conv.prompts] == ["Okta password: "], conv
        env.emu.auth_reset_counts()
        conv = login(env, "u02", ["wrong-password"])
        assert conv.code == ap.AUTH_ERR, conv
        assert env.emu.auth_counts("u02@example.com") == {"token": 1, "challenge": 0}
        log = env.log()
        assert "user=u02 service=test rhost=- outcome=success method=password" in log, log
        assert "outcome=auth_err method=password" in log, log
        env.assert_no_secret_logged()


@case
def totp_and_push_with_number_matching():
    """With MFA: a TOTP code; then Enter for a push whose number the
    prompt shows, approved with that number through the emulator."""
    with Env(mfa_required=True) as env:
        secret = env.emu.enroll_totp("u03@example.com")
        conv = login(env, "u03", [PASSWORDS["u03@example.com"], totp(secret)])
        assert conv.code == ap.SUCCESS, conv
        assert [p.text for p in conv.prompts] == [
            "Okta password: ", "Okta Verify code, or press Enter for a push: "], conv
        assert conv.prompts[1].kind == ap.KIND_MFA and conv.prompts[1].style == ap.ECHO_OFF

        env.emu.enroll_push("u04@example.com", number_matching=True)
        import re

        def answers(m):
            if m.kind == ap.KIND_PASSWORD:
                return PASSWORDS["u04@example.com"]
            if m.kind == ap.KIND_MFA:
                return ""
            code = re.match(r"Tap (\d+) in Okta Verify, then press Enter: $", m.text)
            assert code, m.text
            assert env.emu.push_respond("u04@example.com", "approve", code.group(1)) == "approved"
            return ""
        conv = login(env, "u04", answers)
        assert conv.code == ap.SUCCESS, conv
        assert conv.prompts[2].style == ap.ECHO_ON and conv.prompts[2].kind == ap.KIND_CONFIRM

        env.emu.enroll_push("u05@example.com")

        def reject(m):
            if m.kind == ap.KIND_PASSWORD:
                return PASSWORDS["u05@example.com"]
            if m.kind == ap.KIND_CONFIRM:
                assert m.text == "Approve the push in Okta Verify, then press Enter: ", m.text
                env.emu.push_respond("u05@example.com", "reject")
            return ""
        conv = login(env, "u05", reject)
        assert conv.code == ap.AUTH_ERR, conv
        assert "outcome=success method=push" in env.log()
        env.assert_no_secret_logged()


@case
def refused_before_any_request():
    """A suspended Okta user: PERM_DENIED; a local user and an unknown
    name: USER_UNKNOWN; none of them reaches Okta, and no prompt is
    shown."""
    with Env() as env:
        conv = login(env, "sus", ["pw-sus-S3cret!"])
        assert conv.code == ap.PERM_DENIED and conv.prompts == [], conv
        for name in ("alice", "nosuchuser", "root"):
            conv = login(env, name, ["whatever"])
            assert conv.code == ap.USER_UNKNOWN and conv.prompts == [], (name, conv)
        assert env.emu.auth_counts() == {}, env.emu.auth_counts()


@case
def local_failures_delay_further_attempts():
    """failed_login_attempts = 2: after two wrong passwords the third
    attempt, even with the right password, is MAXTRIES without a request
    to Okta."""
    with Env(auth={"failed_login_attempts": "2", "failed_login_delay": "1h"}) as env:
        for _ in range(2):
            assert login(env, "u06", ["wrong"]).code == ap.AUTH_ERR
        env.emu.auth_reset_counts()
        conv = login(env, "u06", [PASSWORDS["u06@example.com"]])
        assert conv.code == ap.MAXTRIES and conv.prompts == [], conv
        assert env.emu.auth_counts("u06@example.com")["token"] == 0
        # Another user is not affected.
        assert login(env, "u07", [PASSWORDS["u07@example.com"]]).code == ap.SUCCESS


@case
def a_password_is_never_sent_twice():
    """Okta answers the password grant with a 500 (and would again): the
    login is AUTHINFO_UNAVAIL after exactly one POST to the token
    endpoint; a client that retried would send the password again."""
    with Env() as env:
        env.emu.fault("500", path="/oauth2/v1/token", count=4)
        env.emu.reset_requests()
        conv = login(env, "u17", [PASSWORDS["u17@example.com"]])
        assert conv.code == ap.AUTHINFO_UNAVAIL, conv
        posts = [r for r in env.emu.requests() if r[0] == "POST" and r[1] == "/oauth2/v1/token"]
        assert len(posts) == 1, env.emu.requests()
        env.emu.clear_faults()


@case
def logins_of_one_user_keep_within_oktas_rate_limit():
    """Eight logins of the same user at once (Okta allows 4 requests a
    second per user, and the emulator answers the fifth in a second with
    429): the daemon spaces them, so every one succeeds."""
    with Env() as env:
        results = []

        def one():
            try:
                results.append(login(env, "u16", [PASSWORDS["u16@example.com"]]).code)
            except Exception as e:
                results.append(repr(e))
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert results == [ap.SUCCESS] * 8, results


@case
def sigterm_ends_a_login_in_flight():
    """SIGTERM while a login waits at its password prompt: the client gets
    AUTHINFO_UNAVAIL "okta-syncd is stopping; try again", okta-syncd
    exits 0 and removes its socket."""
    with Env() as env:
        with ap.Client(env.sock, 30) as c:
            c.hello("sshd", "u18")
            m = c.recv()
            assert m.type == ap.PROMPT, m
            env.proc.send_signal(signal.SIGTERM)
            res = c.recv()
            assert res is not None and res.type == ap.RESULT, res
            assert (res.code, res.message) == (ap.AUTHINFO_UNAVAIL,
                                               "okta-syncd is stopping; try again"), res
        env.proc.wait(30)
        env.stop()
        assert not os.path.exists(env.sock)


@case
def okta_unreachable_is_authinfo_unavail_and_sigterm_removes_the_socket():
    """Okta stopped: AUTHINFO_UNAVAIL (no offline credential configured);
    SIGTERM: okta-syncd exits 0 and the socket is gone."""
    with Env() as env:
        env.emu.stop()
        conv = login(env, "u08", [PASSWORDS["u08@example.com"]])
        assert conv.code == ap.AUTHINFO_UNAVAIL, conv
        env.stop()
        assert env.proc.returncode == 0, env.log()
        assert not os.path.exists(env.sock), "the socket is left behind"
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(env.sock)
                raise AssertionError("something still listens on the socket")
            except OSError:
                pass


@case
def id_token_for_another_user_is_refused():
    """The emulator issues u09's login an ID token whose sub is u10's
    Okta ID: AUTH_ERR by the sub check; the next, honest token works."""
    with Env() as env:
        env.emu.auth_forge_next("other_sub", other="u10@example.com")
        conv = login(env, "u09", [PASSWORDS["u09@example.com"]])
        assert conv.code == ap.AUTH_ERR, conv
        assert "ID token refused" in env.log(), env.log()
        assert login(env, "u09", [PASSWORDS["u09@example.com"]]).code == ap.SUCCESS


@case
def device_flow_for_the_right_user_only():
    """device_flow = yes and an empty password: the prompt shows the
    verification URI and the user code; approved by the right user:
    SUCCESS; approved by another user: AUTH_ERR (the sub check)."""
    import re
    with Env(auth={"device_flow": "yes"}) as env:
        env.emu.auth_settings(device_interval=1)

        def approve_as(who):
            def answers(m):
                if m.kind == ap.KIND_PASSWORD:
                    return ""
                got = re.match(r"Open (https://\S+) and check the code ([A-Z]+), then press "
                               r"Enter: $", m.text)
                assert got and m.kind == ap.KIND_CONFIRM, m.text
                env.emu.device_approve(got.group(2), who)
                return ""
            return answers
        conv = login(env, "u11", approve_as("u11@example.com"))
        assert conv.code == ap.SUCCESS, conv
        conv = login(env, "u12", approve_as("u13@example.com"))
        assert conv.code == ap.AUTH_ERR, conv
        assert "outcome=success method=device" in env.log()
        env.assert_no_secret_logged()


@case
def offline_credential_when_okta_cannot_be_reached():
    """offline_credentials = yes: after one online login, with the
    emulator stopped, the right password logs in offline (offline=1 and
    the message), a wrong one fails."""
    with Env(auth={"offline_credentials": "yes"}) as env:
        assert login(env, "u14", [PASSWORDS["u14@example.com"]]).code == ap.SUCCESS
        env.emu.stop()
        conv = login(env, "u14", [PASSWORDS["u14@example.com"]])
        assert conv.code == ap.SUCCESS and conv.result.offline == 1, conv
        assert conv.result.message == "Offline login: Okta cannot be reached; MFA skipped", conv
        conv = login(env, "u14", ["not-the-password"])
        assert conv.code == ap.AUTH_ERR and conv.result.offline == 0, conv
        # Never logged in online: nothing stored, so no offline login.
        assert login(env, "u15", [PASSWORDS["u15@example.com"]]).code == ap.AUTHINFO_UNAVAIL
        log = env.log()
        assert "outcome=success method=offline offline=1" in log, log
        for p in PASSWORDS.values():
            assert p not in log


@case
def okta_sync_test_checks_the_auth_client():
    """`okta-sync test` ends with an "auth" line: ok when Okta's keys
    endpoint answers and the client_id is accepted for the password
    grant; FAIL with what to check for a client_id Okta does not know."""
    with Env() as env:
        p = run([OKTA_SYNC, "-c", env.conf, "test"], timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        assert re.search(r"^  ok +auth +client_id %s accepted, 1 signing key" % CLIENT_ID,
                         p.stdout, re.M), p.stdout
        bad = env.conf + ".bad"
        with open(env.conf) as f, open(bad, "w") as g:
            g.write(f.read().replace(CLIENT_ID, "0oaunknownclient9"))
        p = run([OKTA_SYNC, "-c", bad, "test"], timeout=120)
        assert p.returncode == 1, p.stdout + p.stderr
        assert re.search(r"^  FAIL +auth +Okta does not accept client_id 0oaunknownclient9: "
                         r"check \[auth\] client_id", p.stdout, re.M), p.stdout


if __name__ == "__main__":
    main()
