#!/usr/bin/env python3
"""test_pam_sshd.py - pam_okta end to end through a real sshd (issue 4,
Done-when 2).

sshd runs on 127.0.0.1 (a free high port) in a private mount namespace:
a tmpfs on /run/sshd, our nsswitch.conf ("passwd: files okta") over
/etc/nsswitch.conf, our pam.d (pam_okta in the account phase) over
/etc/pam.d, the test's cache directory at /var/lib/okta-sync, and
LD_LIBRARY_PATH at the build so that glibc loads build/libnss_okta.so.2.
The client is the real ssh with a key.  The snapshot comes from a real
`okta-sync sync` against the Okta emulator.

An ACTIVE Okta user logs in and runs `id` (Okta UID and groups shown); the
emulator suspends the user, a sync runs, and the next login is refused by
PAM's account phase (the user sees why); the emulator unsuspends the user,
a sync runs, and the login works again.  Last, with the snapshot deleted,
the Okta user is refused and a local account (added to a copy of
/etc/passwd inside the namespace) still logs in (rule 8).

State changes go through publish_state(status): emulator.set_status, then
okta-sync sync.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import (BUILD, OKTA_SYNC, need, case, main, ns_run, run, tmpdir,  # noqa: E402
                      wait_until, write_nsswitch, _q)
from emulator import Emulator  # noqa: E402
from oktaconf import write_config  # noqa: E402

MODULE = os.path.join(BUILD, "pam_okta.so")
SSHD = "/usr/sbin/sshd"

LOGIN = "jane@example.com"   # in Okta
USER = "jane"                # on the host (strip_domain = example.com)
GROUP = "engineering"
# A local account (added to a copy of /etc/passwd inside the namespace).
LOCAL_USER = "oktalocal"
LOCAL_UID = 1999


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def sshd_ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
            c.settimeout(1)
            return c.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class Sshd:
    """The whole setup: files in a temp dir, sshd in a namespace."""

    def __init__(self, emu):
        for tool in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen"), OKTA_SYNC, MODULE):
            need(tool)
        self.emu = emu
        self.proc = None
        self.dir = tmpdir("okta-sshd-")
        os.chmod(self.dir, 0o755)          # the user walks to its home
        self.conf = write_config(self.dir, emu, posix={
            "home": os.path.join(self.dir, "home", "%u"), "strip_domain": "example.com"})
        self.cache = os.path.join(self.dir, "cache")   # made by write_config
        os.chmod(self.cache, 0o755)
        self.snapshot = os.path.join(self.cache, "snapshot.cdb")
        self.uid = self.gid = self.eng_gid = None
        self.port = free_port()
        self.log = os.path.join(self.dir, "sshd.log")

        # Homes owned by their users, as StrictModes wants.  The Okta
        # user's is made once the first sync has given it a UID.
        self.key = os.path.join(self.dir, "id_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key], check=True)
        self.home = os.path.join(self.dir, "home", USER)
        local_home = self.make_home(LOCAL_USER, LOCAL_UID, LOCAL_UID)
        self.passwd = os.path.join(self.dir, "passwd")
        with open("/etc/passwd") as src, open(self.passwd, "w") as f:
            f.write(src.read() + "%s:x:%d:%d:Local Test:%s:/bin/sh\n"
                    % (LOCAL_USER, LOCAL_UID, LOCAL_UID, local_home))

        self.hostkey = os.path.join(self.dir, "hostkey")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey], check=True)
        self.nsswitch = write_nsswitch(os.path.join(self.dir, "nsswitch.conf"))
        self.pamd = os.path.join(self.dir, "pam.d")
        os.mkdir(self.pamd)
        with open(os.path.join(self.pamd, "sshd"), "w") as f:
            # Public-key logins skip PAM auth; sshd still calls setcred.
            f.write("auth required pam_permit.so\n"
                    "account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
                    "account required pam_permit.so\n"
                    "session required pam_permit.so\n"
                    "password required pam_deny.so\n" % MODULE)
        with open(os.path.join(self.pamd, "other"), "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n"
                    "session required pam_deny.so\npassword required pam_deny.so\n")
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n"
                    "UsePAM yes\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nStrictModes yes\n"
                    "AuthorizedKeysFile .ssh/authorized_keys\n"
                    "SetEnv LD_LIBRARY_PATH=%s\n"
                    "LogLevel VERBOSE\n"
                    % (self.port, self.hostkey, os.path.join(self.dir, "sshd.pid"), BUILD))

    def make_home(self, user, uid, gid):
        home = os.path.join(self.dir, "home", user)
        os.makedirs(os.path.join(home, ".ssh"))
        os.chmod(os.path.join(self.dir, "home"), 0o755)
        ak = os.path.join(home, ".ssh", "authorized_keys")
        shutil.copy(self.key + ".pub", ak)
        os.chmod(ak, 0o600)
        os.chmod(os.path.join(home, ".ssh"), 0o700)
        os.chmod(home, 0o755)
        for p in (home, os.path.join(home, ".ssh"), ak):
            os.chown(p, uid, gid)
        return home

    def publish_state(self, status):
        """Okta changes the user's status, and a sync brings it to the host
        (a new snapshot in self.cache, which sshd's namespace sees at
        /var/lib/okta-sync)."""
        self.emu.set_status(LOGIN, status)
        p = run([OKTA_SYNC, "-c", self.conf, "sync"], timeout=120)
        assert p.returncode == 0, "okta-sync sync exited %d:\n%s\n%s" % (
            p.returncode, p.stdout, p.stderr)

    def resolve(self):
        """After the first sync: the user's UID, GID and home as glibc
        (files okta) resolves them, and a home owned by that UID."""
        p = ns_run("getent passwd %s && getent group %s" % (USER, GROUP),
                   self.cache, nsswitch=self.nsswitch)
        assert p.returncode == 0, "Okta user does not resolve: %s %s" % (p.stdout, p.stderr)
        pw, gr = p.stdout.splitlines()[:2]
        f = pw.split(":")
        self.uid, self.gid = int(f[2]), int(f[3])
        assert f[5] == self.home, "home %s, wanted %s" % (f[5], self.home)
        self.eng_gid = int(gr.split(":")[2])
        self.make_home(USER, self.uid, self.gid)

    def start(self):
        os.makedirs("/var/lib/okta-sync", exist_ok=True)
        script = " && ".join([
            "mount --bind %s /var/lib/okta-sync" % _q(self.cache),
            "mount --bind %s /etc/nsswitch.conf" % _q(self.nsswitch),
            "mount --bind %s /etc/passwd" % _q(self.passwd),
            "mount --bind %s /etc/pam.d" % _q(self.pamd),
            "mount -t tmpfs -o mode=0755 tmpfs /run/sshd",
            "export LD_LIBRARY_PATH=%s" % _q(BUILD),
            # Check that glibc sees the Okta user before starting sshd.
            "(getent passwd %s >&2 || echo 'NSS: %s does not resolve' >&2)" % (USER, USER),
            "exec %s -D -e -f %s" % (SSHD, _q(self.config)),
        ])
        os.makedirs("/run/sshd", exist_ok=True)
        logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        try:
            wait_until(lambda: self.proc.poll() is not None or sshd_ready(self.port),
                       timeout=20, what="sshd on port %d" % self.port)
        except AssertionError:
            raise AssertionError("sshd did not start:\n" + self.sshd_log())
        if self.proc.poll() is not None:
            raise AssertionError("sshd exited %d:\n%s" % (self.proc.returncode, self.sshd_log()))
        assert "does not resolve" not in self.sshd_log(), \
            "libnss_okta.so.2 does not resolve %s:\n%s" % (USER, self.sshd_log())

    def ssh(self, command="id", user=USER):
        return run(["ssh", "-i", self.key, "-p", str(self.port),
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                    "-o", "ConnectTimeout=10",
                    "%s@127.0.0.1" % user, command], timeout=60)

    def sshd_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def login_works(s):
    p = s.ssh("id")
    info = "\nssh exit %d\nstdout: %s\nstderr: %s\nsshd log:\n%s" % (
        p.returncode, p.stdout, p.stderr, s.sshd_log()[-3000:])
    assert p.returncode == 0, "login refused" + info
    out = p.stdout
    assert "uid=%d(%s)" % (s.uid, USER) in out, "id shows no Okta UID" + info
    assert "%d(%s)" % (s.eng_gid, GROUP) in out, "id shows no Okta group" + info


@case
def suspend_and_unsuspend_through_sshd():
    with Emulator() as emu:
        emu.add_user(login=LOGIN, firstName="Jane", lastName="Doe")
        emu.add_group(GROUP)
        emu.add_member(GROUP, LOGIN)
        s = Sshd(emu)
        try:
            scenario(s)
        finally:
            s.close()


def scenario(s):
    """The steps of Done-when 2, then rule 8 end to end."""
    s.publish_state("ACTIVE")
    s.resolve()
    s.start()
    login_works(s)

    s.publish_state("SUSPENDED")
    p = s.ssh("id")
    info = "\nssh exit %d\nstdout: %s\nstderr: %s\nsshd log:\n%s" % (
        p.returncode, p.stdout, p.stderr, s.sshd_log()[-3000:])
    assert p.returncode == 255, "login not refused" + info
    assert "uid=" not in p.stdout, info
    # What the user sees: the module's reason, sent by sshd as a banner.
    assert "Your account is suspended in Okta. Contact your administrator." in p.stderr, info
    # PAM's account phase is what refused it.
    wait_until(lambda: "Access denied for user %s by PAM account configuration" % USER
               in s.sshd_log(), timeout=10, what="sshd's PAM account refusal in its log")

    s.publish_state("ACTIVE")
    login_works(s)

    # Rule 8 end to end: with the cache gone, the Okta user is out
    # and a local account still logs in.
    os.unlink(s.snapshot)
    p = s.ssh("id")
    assert p.returncode == 255 and "uid=" not in p.stdout, \
        "Okta user logged in without a cache: %s %s" % (p.stdout, p.stderr)
    p = s.ssh("id", user=LOCAL_USER)
    assert p.returncode == 0 and "uid=%d(%s)" % (LOCAL_UID, LOCAL_USER) in p.stdout, \
        "local user refused without a cache:\n%s\n%s\n%s" % (p.stdout, p.stderr, s.sshd_log()[-2000:])


if __name__ == "__main__":
    main()
