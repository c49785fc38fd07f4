#!/usr/bin/env python3
"""test_auth_sshd.py - password + Okta MFA through a real sshd (issue 11,
Done-when 2).

sshd runs on 127.0.0.1 with KbdInteractiveAuthentication yes (password
and public-key authentication off) in the private mount namespace of
tests/lib/authenv.py: the Debian common-auth stack written by
pam-auth-update with the shipped profile, the build's pam_okta.so, a real
okta-syncd and the Okta emulator.  The real ssh client runs on a pty and
answers each keyboard-interactive prompt as it appears (sshd sends one
prompt per round, so the push's number must be inside the prompt: the test
reads it there).  Jane logs in with password + TOTP, and with password +
push with number matching; `id` shows her Okta UID.  A wrong TOTP is
refused.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case, main, need, run  # noqa: E402
from emulator import Emulator, totp  # noqa: E402
from authenv import (AuthEnv, JANE, JANE_LOGIN, JANE_PASSWORD, P_PASSWORD, P_MFA,  # noqa: E402
                     binding_code, drive)
from sshd import SSHD, free_port, sshd_config, wait_for_sshd  # noqa: E402

_emu = None
_env = None


class SshEnv:
    def __init__(self):
        need(SSHD, shutil.which("ssh"))
        self.emu = Emulator()
        self.auth = AuthEnv(self.emu, auth={"failed_login_attempts": 100})
        e = self.auth
        p = e.ns("getent passwd %s" % JANE)
        assert p.returncode == 0, "jane does not resolve: %s %s" % (p.stdout, p.stderr)
        self.uid = int(p.stdout.split(":")[2])
        with open(os.path.join(e.pamd, "sshd"), "w") as f:
            f.write("@include common-auth\n@include common-account\n"
                    "session required pam_permit.so\npassword required pam_deny.so\n")
        self.port = free_port()
        self.hostkey = os.path.join(e.dir, "hostkey")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey], check=True)
        conf = sshd_config(os.path.join(e.dir, "sshd_config"), self.port, self.hostkey,
                           os.path.join(e.dir, "sshd.pid"))
        text = open(conf).read()
        text = text.replace("KbdInteractiveAuthentication no", "KbdInteractiveAuthentication yes")
        text = text.replace("PubkeyAuthentication yes", "PubkeyAuthentication no")
        with open(conf, "w") as f:
            f.write(text)
        os.makedirs("/run/sshd", exist_ok=True)
        self.log = os.path.join(e.dir, "sshd.log")
        logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             e.ns_script("mount -t tmpfs -o mode=0755 tmpfs /run/sshd && exec %s -D -e -f %s"
                         % (SSHD, conf))],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        wait_for_sshd(self.proc, self.port, self.log)

    def ssh(self, answers):
        cmd = ["ssh", "-p", str(self.port), "-o", "StrictHostKeyChecking=no",
               "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
               "-o", "PreferredAuthentications=keyboard-interactive", "-o", "NumberOfPasswordPrompts=1",
               "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "%s@127.0.0.1" % JANE, "id"]
        return drive(cmd, answers, timeout=90)

    def info(self, r):
        return "\n%r\nsshd log (end):\n%s\nokta-syncd log (end):\n%s" % (
            r, open(self.log).read()[-2000:], self.auth.daemon_log()[-2000:])

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.auth.close()
        self.emu.stop()


def env():
    global _env
    if _env is None:
        _env = SshEnv()
    return _env


@case
def password_and_totp():
    s = env()
    s.emu.auth_require_mfa(JANE_LOGIN, True)
    secret = s.emu.enroll_totp(JANE_LOGIN)
    r = s.ssh({P_PASSWORD: JANE_PASSWORD, P_MFA: lambda p: totp(secret)})
    assert r.rc == 0 and "uid=%d(%s)" % (s.uid, JANE) in r.text, "login failed" + s.info(r)
    assert r.prompts == [P_PASSWORD, P_MFA], r.prompts


@case
def password_and_push_with_number_matching():
    s = env()
    s.emu.auth_require_mfa(JANE_LOGIN, True)
    s.emu.enroll_push(JANE_LOGIN, number_matching=True)

    def tap(prompt):
        s.emu.push_respond(JANE_LOGIN, "approve", code=binding_code(prompt))
        return ""
    r = s.ssh({P_PASSWORD: JANE_PASSWORD, P_MFA: "", "Tap *": tap})
    assert r.rc == 0 and "uid=%d(%s)" % (s.uid, JANE) in r.text, "login failed" + s.info(r)
    assert len(r.prompts) == 3 and r.prompts[2].startswith("Tap "), r.prompts


@case
def wrong_totp_refused():
    s = env()
    s.emu.auth_require_mfa(JANE_LOGIN, True)
    secret = s.emu.enroll_totp(JANE_LOGIN)
    good = {totp(secret, step_offset=d) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in good)
    r = s.ssh({P_PASSWORD: JANE_PASSWORD, P_MFA: wrong})
    assert r.rc != 0 and "uid=" not in r.text, "a wrong code logged in" + s.info(r)


if __name__ == "__main__":
    try:
        main()
    finally:
        if _env is not None:
            _env.close()
