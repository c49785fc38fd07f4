#!/usr/bin/env python3
"""test_auth_module.py - pam_okta's auth phase by itself (issue 11), against
a fake okta-syncd (tests/lib/authproto.py's FakeBroker) on a test socket.

pamtester runs `authenticate` through real libpam with pam_wrapper (a
private service directory, syslog captured), answering prompts from stdin.
The fake daemon plays a scripted conversation, so each case shows one
behaviour of the module: the prompts relayed as the daemon sent them and
the answers sent back, every RESULT code mapped to its PAM code and its
message shown, PAM_AUTHTOK used and set, local and unknown users left to
the stack without a connection, Okta users refused by the snapshot without
a connection, a missing daemon, a daemon not run by root, and a daemon
that sends garbage.  The real daemon is tests/integration/test_auth_pam.py.

With OKTA_BUILD at a sanitizer build (make SAN=1), the same cases run
pam_okta under ASan+UBSan (the runtime preloaded into pamtester); any
report fails the case.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import authproto as ap  # noqa: E402
import oktatest  # noqa: E402
from oktatest import BUILD, case, main, run, tmpdir  # noqa: E402

MODULE = os.path.join(BUILD, "pam_okta.so")
MKSNAP = os.path.join(BUILD, "tests", "mksnap")
PWRAP_DIR = "/usr/lib/x86_64-linux-gnu/pam_wrapper"

PASSWORD_PROMPT = "Okta password: "
MFA_PROMPT = "Okta Verify code, or press Enter for a push: "

# What pamtester says for each PAM code (pam_strerror).
PAM_TEXT = {
    "SUCCESS": "successfully",        # authenticated / set (setcred)
    "AUTH_ERR": "Authentication failure",
    "USER_UNKNOWN": "User not known to the underlying authentication module",
    "AUTHINFO_UNAVAIL": "Authentication service cannot retrieve authentication info",
    "MAXTRIES": "Have exhausted maximum number of retries for service",
    "ACCT_EXPIRED": "User account has expired",
    "PERM_DENIED": "Permission denied",
    "SERVICE_ERR": "Error in service module",
    "CONV_ERR": "Conversation error",
}

# A sanitizer build (OKTA_BUILD=build/san): the ASan runtime must come
# first in pamtester, which is not built with it; any report fails the case.
SAN_OPTIONS = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:halt_on_error=1",
               "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


ASAN_RUNTIME = oktatest.asan_runtime(MODULE)

LOCAL_PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
                "alice:x:1000:1000:Local Alice:/home/alice:/bin/bash\n")


def snapshot_desc():
    return ("meta last_sync=%d generation=3\n"
            "user jane 2000000001 2000000001 ACTIVE Jane /home/jane /bin/bash\n"
            "user bob 2000000002 2000000002 ACTIVE Bob /home/bob /bin/bash\n"
            "user u_suspended 2000000003 2000000003 SUSPENDED - /home/s /bin/bash\n"
            "user u_deprov 2000000004 2000000004 DEPROVISIONED - /home/d /bin/bash\n"
            % int(time.time()))


class Env:
    """A temp dir with a snapshot, a passwd file, a pam.d for pam_wrapper
    and the fake daemon's socket path."""

    def __init__(self):
        oktatest.need(MODULE, MKSNAP, "pamtester", os.path.join(PWRAP_DIR, "pam_set_items.so"))
        self.dir = tmpdir("okta-authmod-")
        os.chmod(self.dir, 0o755)
        self.passwd = os.path.join(self.dir, "passwd")
        with open(self.passwd, "w") as f:
            f.write(LOCAL_PASSWD)
        self.snapshot = os.path.join(self.dir, "snapshot.cdb")
        p = run([MKSNAP, self.snapshot], input=snapshot_desc())
        assert p.returncode == 0, "mksnap: " + p.stderr
        self.pamd = os.path.join(self.dir, "pam.d")
        os.mkdir(self.pamd)
        with open(os.path.join(self.pamd, "other"), "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n")
        self.sock = os.path.join(self.dir, "auth.sock")
        self.broker = None

    def serve(self, script):
        self.broker = ap.FakeBroker(self.sock, script)
        return self.broker

    def stack(self, opts="", before="", after=""):
        """The service file: `before` lines, pam_okta, `after` lines."""
        line = "auth [success=done default=die] %s snapshot=%s passwd=%s socket=%s %s\n" % (
            MODULE, self.snapshot, self.passwd, self.sock, opts)
        with open(os.path.join(self.pamd, "okta-test"), "w") as f:
            f.write(before + line + after + "account required pam_permit.so\n")

    def pamtester(self, user, answers="", op="authenticate", items=(), env=None, stdin=None):
        e = {"LD_PRELOAD": "libpam_wrapper.so", "PAM_WRAPPER": "1",
             "PAM_WRAPPER_SERVICE_DIR": self.pamd, "PAM_WRAPPER_DEBUGLEVEL": "3"}
        if ASAN_RUNTIME:
            e.update(SAN_OPTIONS, LD_PRELOAD=ASAN_RUNTIME + " libpam_wrapper.so")
        e.update(env or {})
        cmd = ["pamtester"] + ["-I%s" % i for i in items] + ["okta-test", user, op]
        if stdin is not None:
            p = subprocess.run(cmd, env=e, stdin=stdin, capture_output=True, text=True, timeout=60)
        else:
            p = run(cmd, env=e, input=answers, timeout=60)
        r = Result(p)
        for word in ("AddressSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"):
            assert word not in r.raw, r.raw[-4000:]
        return r

    def close(self):
        if self.broker is not None:
            self.broker.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Result:
    """pamtester's outcome: exit status, final line, what the user saw
    (prompts and messages), and pam_syslog's lines."""

    def __init__(self, p):
        self.rc = p.returncode
        self.logs = []
        self.last = ""
        self.raw = p.stdout + p.stderr
        seen = []
        for line in self.raw.splitlines():
            if "SYSLOG(" in line:
                self.logs.append(line.split("SYSLOG(", 1)[1].partition("): ")[2])
            elif line.startswith("PWRAP_") or not line.strip():
                continue
            elif "pamtester: " in line:
                self.last = line.split("pamtester: ", 1)[1]
                if line.split("pamtester: ", 1)[0]:
                    seen.append(line.split("pamtester: ", 1)[0])
            else:
                seen.append(line)
        self.seen = "\n".join(seen)

    def log_text(self):
        return "\n".join(self.logs)

    def check(self, code, seen=(), log=None, not_seen=()):
        info = "\nrc=%d last=%r\nseen=%r\nlogs=%r" % (self.rc, self.last, self.seen, self.logs)
        assert PAM_TEXT[code] in self.last, "pamtester said %r, wanted %r%s" % (self.last, PAM_TEXT[code], info)
        assert (self.rc == 0) == (code == "SUCCESS"), "exit status %d%s" % (self.rc, info)
        for s in seen:
            assert s in self.seen, "the user did not see %r%s" % (s, info)
        for s in not_seen:
            assert s not in self.raw, "the user saw %r%s" % (s, info)
        if log is not None:
            assert log in self.log_text(), "syslog has no %r%s" % (log, info)
        return self


def with_env(fn):
    env = Env()
    try:
        fn(env)
    finally:
        env.close()


def answers_of(broker):
    assert broker.sessions, "the module never connected to the daemon"
    s = broker.sessions[-1]
    assert s.error is None, "fake daemon: " + s.error
    return [t for _, t in s.answers]


FULL_LOGIN = [("prompt", ap.ECHO_OFF, ap.KIND_PASSWORD, PASSWORD_PROMPT),
              ("prompt", ap.ECHO_OFF, ap.KIND_MFA, MFA_PROMPT),
              ("prompt", ap.ECHO_ON, ap.KIND_CONFIRM, "Tap 42 in Okta Verify, then press Enter: "),
              ("result", ap.SUCCESS, 0, "")]


@case
def prompts_relayed_and_answers_sent():
    """Each PROMPT reaches the user as the daemon wrote it, each answer
    reaches the daemon as typed (one per prompt, ids matched), and the
    HELLO names the service, the Linux user, rhost and tty."""
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        r = env.pamtester("jane", "s3cret pw\n123456\n\n", items=("rhost=192.0.2.7", "tty=pts/3"))
        r.check("SUCCESS", seen=(PASSWORD_PROMPT, MFA_PROMPT, "Tap 42 in Okta Verify, then press Enter: "),
                log="user jane from 192.0.2.7: authenticated by Okta")
        assert answers_of(fb) == ["s3cret pw", "123456", ""], answers_of(fb)
        h = fb.sessions[0].hello
        assert (h.service, h.user, h.rhost, h.tty) == ("okta-test", "jane", "192.0.2.7", "pts/3"), h
        assert h.client == "0.1.0" or h.client, h
        assert fb.connections == 1
    with_env(body)


@case
def info_and_error_prompts_shown_and_answered_empty():
    def body(env):
        fb = env.serve([("prompt", ap.INFO, ap.KIND_OTHER, "Push sent, waiting"),
                        ("prompt", ap.ERROR, ap.KIND_OTHER, "That code was wrong"),
                        ("result", ap.AUTH_ERR, 0, "")])
        env.stack()
        r = env.pamtester("jane", "")
        r.check("AUTH_ERR", seen=("Push sent, waiting", "That code was wrong"))
        assert answers_of(fb) == ["", ""]
    with_env(body)


def code_case(code_name, offline, message):
    def t():
        def body(env):
            env.serve([("prompt", ap.ECHO_OFF, ap.KIND_PASSWORD, PASSWORD_PROMPT),
                       ("result", getattr(ap, code_name), offline, message)])
            env.stack()
            r = env.pamtester("jane", "pw\n")
            r.check(code_name, seen=(message,) if message else ())
            if code_name == "SUCCESS":
                want = "user jane: authenticated by Okta%s" % (
                    " with an offline credential (Okta unreachable)" if offline else "")
            else:
                want = "user jane: refused by okta-syncd: %s" % PAM_TEXT[code_name]
            assert want in r.log_text(), "syslog has no %r: %r" % (want, r.logs)
        with_env(body)
    t.__name__ = "result_%s%s" % (code_name.lower(), "_offline" if offline else "")
    return t


for _code, _off, _msg in [("SUCCESS", 0, ""),
                          ("SUCCESS", 1, "Offline login: Okta cannot be reached; MFA skipped"),
                          ("AUTH_ERR", 0, "Wrong password or code."),
                          ("USER_UNKNOWN", 0, ""),
                          ("AUTHINFO_UNAVAIL", 0, "Okta cannot be reached."),
                          ("MAXTRIES", 0, "Too many failed logins: wait 5 minutes."),
                          ("ACCT_EXPIRED", 0, "Your account has been deactivated in Okta."),
                          ("PERM_DENIED", 0, "Your account is suspended in Okta."),
                          ("SERVICE_ERR", 0, "")]:
    case(code_case(_code, _off, _msg))


@case
def local_root_and_unknown_users_never_reach_the_daemon():
    """Not an Okta user: PAM_USER_UNKNOWN at once (the stack goes on to
    pam_unix), and no connection to the daemon."""
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        for user in ("alice", "root", "nosuchuser"):
            env.pamtester(user, "pw\n").check("USER_UNKNOWN", not_seen=(PASSWORD_PROMPT,))
        assert fb.connections == 0, "the daemon was asked about a non-Okta user"
        env.pamtester("jane", "pw\n123456\n\n").check("SUCCESS")
        assert fb.connections == 1
    with_env(body)


@case
def suspended_and_deactivated_refused_by_the_snapshot():
    """Refused before any request: no connection to the daemon; the user
    sees the account phase's message."""
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        env.pamtester("u_suspended", "pw\n").check(
            "PERM_DENIED", seen=("Your account is suspended in Okta. Contact your administrator.",),
            not_seen=(PASSWORD_PROMPT,), log="user u_suspended: refused before asking Okta")
        env.pamtester("u_deprov", "pw\n").check(
            "ACCT_EXPIRED", seen=("Your account has been deactivated in Okta.",))
        assert fb.connections == 0
    with_env(body)


@case
def daemon_not_running():
    def body(env):
        env.stack()
        r = env.pamtester("jane", "pw\n")
        r.check("AUTHINFO_UNAVAIL", seen=("Okta sign-in is unavailable on this host",),
                log="okta-syncd is not running, or runs without [auth] client_id (nothing listens on %s"
                % env.sock, not_seen=(PASSWORD_PROMPT,))
        assert "systemctl restart okta-syncd" in r.log_text(), r.logs
        # A socket file with nobody listening (a daemon that died) is the same.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(env.sock)
        s.close()
        env.pamtester("jane", "pw\n").check("AUTHINFO_UNAVAIL", log="okta-syncd is not running")
    with_env(body)


def serve_as_nobody(path, report_fd):
    """In a forked child: listen on path as uid 65534 and play a password
    prompt; write to report_fd what came back.  Never returns."""
    try:
        os.setgid(65534)
        os.setuid(65534)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(4)
        os.write(report_fd, b"ready\n")
        c, _ = s.accept()
        f = ap.read_frame(c, 20)
        os.write(report_fd, b"hello\n" if f else b"eof\n")
        c.sendall(ap.prompt(1, ap.ECHO_OFF, ap.KIND_PASSWORD, "Okta password: "))
        f = ap.read_frame(c, 20)
        os.write(report_fd, ("got %s\n" % (ap.decode(f, ap.TO_DAEMON).name if f else "EOF")).encode())
    except Exception as e:
        os.write(report_fd, ("error %s\n" % type(e).__name__).encode())
    os._exit(0)


@case
def a_socket_not_served_by_root_gets_no_password():
    """Whoever listens on the socket is about to get a password: the
    module checks SO_PEERCRED and talks only to root."""
    def body(env):
        sockdir = os.path.join(env.dir, "nobody")
        os.mkdir(sockdir)
        os.chown(sockdir, 65534, 65534)
        env.sock = os.path.join(sockdir, "auth.sock")
        env.stack()
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            serve_as_nobody(env.sock, wfd)
        os.close(wfd)
        rf = os.fdopen(rfd)
        try:
            assert rf.readline().strip() == "ready"
            r = env.pamtester("jane", "secret-for-nobody\n")
            r.check("AUTHINFO_UNAVAIL", log="is not served by root but by uid 65534",
                    not_seen=(PASSWORD_PROMPT,))
        finally:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            out = rf.read()
            rf.close()
        assert "hello" not in out and "got" not in out, "the module talked to nobody's socket: " + out
    with_env(body)


def garbage_case(name, script, log):
    def t():
        def body(env):
            env.serve(script)
            env.stack()
            r = env.pamtester("jane", "pw\n\n")
            r.check("AUTHINFO_UNAVAIL", log=log, not_seen=("\x1b[2J",))
        with_env(body)
    t.__name__ = "daemon_garbage_" + name
    return t


_ESC_PROMPT = ap.raw_frame(ap.PROMPT, ap.raw_fields([(1, b"\1\0\0\0"), (2, b"\2"), (3, b"\0"),
                                                     (4, b"pwned\x1b[2J")]))
for _n, _s, _l in [
        ("bad_magic", [("raw", b"HTTP/1.1 200 OK\r\n\r\n")], "bad magic"),
        ("other_version", [("raw", ap.raw_frame(ap.RESULT, b"", version=2))], "version 2"),
        ("oversize", [("raw", ap.raw_frame(ap.PROMPT, b"", length=1 << 20))], "over the 8192-byte limit"),
        ("escape_sequence", [("raw", _ESC_PROMPT)], "holds a control character"),
        ("echoed_password_prompt", [("raw", ap.raw_frame(ap.PROMPT, ap.raw_fields(
            [(1, b"\1\0\0\0"), (2, b"\2"), (3, b"\1"), (4, b"Okta password: ")])))],
         "a password prompt must not echo"),
        ("message_to_daemon", [("raw", ap.answer(1, "x"))], "ANSWER is not sent to the module"),
        ("cut_frame", [("raw", ap.prompt(1, ap.ECHO_ON, 0, "hello")[:-2])], "in the middle of a frame"),
        ("close_without_result", [("prompt", ap.ECHO_OFF, ap.KIND_PASSWORD, PASSWORD_PROMPT)],
         "closed the connection without a decision")]:
    case(garbage_case(_n, _s, _l))


@case
def try_first_pass_uses_an_earlier_password():
    """A password an earlier module read answers "Okta password:" without
    a prompt; the MFA prompt is still asked."""
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack("try_first_pass", before="auth optional %s/pam_set_items.so\n" % PWRAP_DIR)
        r = env.pamtester("jane", "654321\n\n", env={"PAM_AUTHTOK": "earlier pw"})
        r.check("SUCCESS", seen=(MFA_PROMPT,), not_seen=(PASSWORD_PROMPT,))
        assert answers_of(fb) == ["earlier pw", "654321", ""], answers_of(fb)
        # No earlier password: try_first_pass prompts.
        env.stack("try_first_pass")
        env.pamtester("jane", "typed\n1\n\n").check("SUCCESS", seen=(PASSWORD_PROMPT,))
        assert answers_of(fb) == ["typed", "1", ""], answers_of(fb)
    with_env(body)


@case
def use_first_pass_without_a_password_cancels():
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack("use_first_pass")
        r = env.pamtester("jane", "typed\n")
        r.check("AUTH_ERR", not_seen=(PASSWORD_PROMPT,), log="use_first_pass, but no earlier module read a password")
        oktatest.wait_until(lambda: fb.sessions and fb.sessions[0].cancelled, what="a CANCEL")
        assert answers_of(fb) == []
    with_env(body)


@case
def typed_password_becomes_pam_authtok():
    """The next module in the stack gets the typed Okta password
    (pam_exec expose_authtok would prompt again if PAM_AUTHTOK were
    unset)."""
    def body(env):
        env.serve(FULL_LOGIN)
        out = os.path.join(env.dir, "authtok")
        hook = os.path.join(env.dir, "hook.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\ncat > %s\n" % out)
        os.chmod(hook, 0o755)
        with open(os.path.join(env.pamd, "okta-test"), "w") as f:
            f.write("auth requisite %s snapshot=%s passwd=%s socket=%s\n"
                    "auth required pam_exec.so expose_authtok quiet %s\n"
                    "account required pam_permit.so\n" % (MODULE, env.snapshot, env.passwd, env.sock, hook))
        r = env.pamtester("jane", "typed pw\n123456\n\n")
        r.check("SUCCESS")
        got = open(out).read().rstrip("\0")
        assert got == "typed pw", "PAM_AUTHTOK after pam_okta: %r" % got
    with_env(body)


@case
def conversation_failure_cancels():
    """The user gives up (end of input: misc_conv's Ctrl-D, no reply at
    all): the module sends CANCEL and fails with PAM_CONV_ERR; nothing is
    sent as an answer."""
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        r = env.pamtester("jane", stdin=subprocess.DEVNULL)
        r.check("CONV_ERR", log="the conversation ended")
        oktatest.wait_until(lambda: fb.sessions and fb.sessions[0].cancelled, what="a CANCEL")
        assert answers_of(fb) == []
    with_env(body)


@case
def overlong_answer_refused_locally():
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        r = env.pamtester("jane", "x" * 1025 + "\n")
        r.check("AUTH_ERR", log="an answer longer than 1024 bytes")
        oktatest.wait_until(lambda: fb.sessions and fb.sessions[0].cancelled, what="a CANCEL")
        assert answers_of(fb) == []
    with_env(body)


@case
def setcred_success_for_okta_users_user_unknown_for_others():
    def body(env):
        env.stack()
        env.pamtester("jane", op="setcred").check("SUCCESS")
        env.pamtester("alice", op="setcred").check("USER_UNKNOWN")
        env.pamtester("root", op="setcred").check("USER_UNKNOWN")
    with_env(body)


@case
def odd_rhost_does_not_stop_a_login():
    """A PAM_RHOST the wire format refuses (a control character, as a
    hostile reverse DNS could give) is left out of the HELLO; the login
    goes on."""
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        env.pamtester("jane", "pw\n1\n\n", items=("rhost=evil\x1b[2Jhost", "tty=pts/1")).check("SUCCESS")
        h = fb.sessions[0].hello
        assert (h.user, h.rhost, h.tty) == ("jane", "", "pts/1"), h
    with_env(body)


@case
def bad_socket_option_fails_closed_for_okta_users_only():
    def body(env):
        fb = env.serve(FULL_LOGIN)
        env.stack()
        with open(os.path.join(env.pamd, "okta-test"), "w") as f:
            f.write("auth [success=done default=die] %s snapshot=%s passwd=%s socket=relative/auth.sock\n"
                    % (MODULE, env.snapshot, env.passwd))
        env.pamtester("jane", "pw\n").check(
            "SERVICE_ERR", seen=("Okta access rules on this host are misconfigured.",),
            log='bad option "socket=relative/auth.sock"')
        env.pamtester("alice", "pw\n").check("USER_UNKNOWN")
        assert fb.connections == 0
    with_env(body)


@case
def secrets_never_in_the_module_log():
    def body(env):
        env.serve(FULL_LOGIN[:2] + [("result", ap.AUTH_ERR, 0, "Wrong password or code.")])
        env.stack("debug")
        r = env.pamtester("jane", "Pw-7c1d9e\n918273\n")
        r.check("AUTH_ERR")
        for secret in ("Pw-7c1d9e", "918273"):
            assert secret not in r.log_text(), "syslog holds a secret: %r" % r.logs
    with_env(body)


if __name__ == "__main__":
    main()
