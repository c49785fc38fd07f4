"""sshd - a real sshd on 127.0.0.1 in a private mount namespace, for the
end-to-end login tests (test_pam_sshd, test_ssh_keys) and `make demo`.

    s = Sshd(emu, posix={...}, pam_profile=True, keys_program=True,
             authorized_keys_file="none")
    s.publish(); s.resolve(); s.start(); p = s.ssh("id"); s.close()

Inside the namespace (`unshare -m`, mounts gone when it exits):
- the test's cache directory at /var/lib/okta-sync, its nsswitch.conf
  ("passwd: files okta"), a copy of /etc/passwd with one local account,
  its own /etc/pam.d, and a tmpfs on /run/sshd (sshd's privsep dir);
- with keys_program: the build's okta-sync-keys at the packaged path,
  /usr/libexec/okta-sync/okta-sync-keys (a read-only overlay on
  /usr/libexec: sshd wants the command and every directory above it
  root-owned and not writable by group or others, which /tmp is not);
- with dropin: sshd_config Includes the shipped drop-in
  packaging/sshd/okta-sync.conf itself;
- with pam_profile: pam.d/sshd takes its account and session lines from
  the shipped pam-auth-update profile packaging/pam-configs/okta (with the
  build's pam_okta.so), and the build's libnss_okta.so.2 is laid over the
  multiarch library directory, where the package puts it: pam_mkhomedir
  runs mkhomedir_helper with an empty environment (no LD_LIBRARY_PATH),
  and the helper must resolve the Okta user as an installed host would.

The pieces the demo needs on their own (pam_from_profile, keys_overlay,
nss_overlay, sshd_config, ssh_command, wait_for_sshd) are functions.
"""
import os
import re
import shutil
import signal
import socket
import subprocess

from oktatest import (BUILD, OKTA_SYNC, ROOT, need, run, tmpdir, wait_until,  # noqa: E402
                      write_nsswitch, _q)
from oktaconf import write_config  # noqa: E402

SSHD = "/usr/sbin/sshd"
MODULE = os.path.join(BUILD, "pam_okta.so")
KEYS_PROGRAM = os.path.join(BUILD, "okta-sync-keys")
PROFILE = os.path.join(ROOT, "packaging", "pam-configs", "okta")
DROPIN = os.path.join(ROOT, "packaging", "sshd", "okta-sync.conf")
LIBEXEC = "/usr/libexec"
KEYS_PATH = "/usr/libexec/okta-sync/okta-sync-keys"   # what the drop-in names

LOCAL_USER = "oktalocal"      # a local account, in the copy of /etc/passwd
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


def profile_lines(phase, profile=None):
    """The module lines of one phase ("Account", "Session") of a
    pam-auth-update profile, as pam-auth-update writes them: "control
    module args" (the field's continuation lines, tab-separated)."""
    lines, field = [], None
    for line in open(profile or PROFILE):
        m = re.match(r"^(\S+):\s*(.*)$", line)
        if m:
            field = m.group(1)
            continue
        if field == phase and line.strip():
            lines.append(" ".join(line.split()))
    return lines


def pam_from_profile(module=None, profile=None):
    """pam.d/sshd text: the shipped profile's account and session lines
    (pam_okta.so replaced by `module`), each phase ending with pam_permit
    as Debian's common-* do; auth passes (public keys skip PAM auth; sshd
    still calls setcred), password is denied."""
    module = module or MODULE
    acct = profile_lines("Account", profile)
    sess = profile_lines("Session", profile)
    if not acct:
        raise AssertionError("%s has no Account: lines" % (profile or PROFILE))
    out = ["auth required pam_permit.so"]
    out += ["account " + ln.replace("pam_okta.so", module) for ln in acct]
    out += ["account required pam_permit.so"]
    out += ["session " + ln for ln in sess]
    out += ["session required pam_permit.so", "password required pam_deny.so"]
    return "\n".join(out) + "\n"


def keys_overlay(tmp, program=None):
    """Copy the key program into tmp/libexec/okta-sync (root, 0755, as the
    package installs it); return the shell command that lays it over
    /usr/libexec in the current mount namespace."""
    program = program or KEYS_PROGRAM
    need(program)
    if not os.path.isdir(LIBEXEC):
        raise AssertionError("%s does not exist: the overlay needs it" % LIBEXEC)
    d = os.path.join(tmp, "libexec", "okta-sync")
    os.makedirs(d, exist_ok=True)
    shutil.copy(program, os.path.join(d, "okta-sync-keys"))
    for p in (os.path.join(tmp, "libexec"), d, os.path.join(d, "okta-sync-keys")):
        os.chown(p, 0, 0)
        os.chmod(p, 0o755)
    return "mount -t overlay okta-libexec -o lowerdir=%s:%s %s" % (
        _q(os.path.join(tmp, "libexec")), LIBEXEC, LIBEXEC)


def nss_overlay(tmp, module=None):
    """Copy the build's libnss_okta.so.2 into tmp/nsslib; return the shell
    command that lays it over the multiarch library directory, where the
    package installs it.  Processes without LD_LIBRARY_PATH then find it
    as on an installed host: mkhomedir_helper, which pam_mkhomedir runs
    with an empty environment, and a user's session when the build
    directory is not readable by that user (a checkout under /root)."""
    module = module or os.path.join(BUILD, "libnss_okta.so.2")
    need(module)
    arch = run(["cc", "-print-multiarch"], check=True).stdout.strip()
    libdir = "/usr/lib/%s" % arch if arch else "/usr/lib"
    if not os.path.isfile(os.path.join(libdir, "libnss_files.so.2")):
        raise AssertionError("%s holds no libnss_files.so.2: not glibc's NSS directory" % libdir)
    d = os.path.join(tmp, "nsslib")
    os.makedirs(d, exist_ok=True)
    shutil.copy(module, os.path.join(d, "libnss_okta.so.2"))
    for p in (d, os.path.join(d, "libnss_okta.so.2")):
        os.chown(p, 0, 0)
        os.chmod(p, 0o755)
    return "mount -t overlay okta-nsslib -o lowerdir=%s:%s %s" % (_q(d), libdir, libdir)


def sshd_config(path, port, hostkey, pidfile, authorized_keys_file=".ssh/authorized_keys",
                dropin=False):
    with open(path, "w") as f:
        f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n"
                "UsePAM yes\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nStrictModes yes\n"
                "AuthorizedKeysFile %s\n"
                "SetEnv LD_LIBRARY_PATH=%s\n"
                "LogLevel VERBOSE\n"
                % (port, hostkey, pidfile, authorized_keys_file, BUILD))
        if dropin:
            # the shipped file, as an admin enables it
            f.write("Include %s\n" % DROPIN)
    return path


def ssh_command(key, port, user, command):
    return ["ssh", "-i", key, "-p", str(port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
            "%s@127.0.0.1" % user, command]


def wait_for_sshd(proc, port, log):
    """Wait (with a deadline) until sshd answers on port, or fail with its log."""
    def text():
        try:
            with open(log) as f:
                return f.read()
        except OSError:
            return ""
    try:
        wait_until(lambda: proc.poll() is not None or sshd_ready(port),
                   timeout=20, what="sshd on port %d" % port)
    except AssertionError:
        raise AssertionError("sshd did not start:\n" + text())
    if proc.poll() is not None:
        raise AssertionError("sshd exited %d:\n%s" % (proc.returncode, text()))


class Sshd:
    """The whole setup: files in a temp dir, sshd in a namespace.

    emu: the Okta emulator; login/user/group: the Okta user, its Linux
    name (strip_domain = example.com) and an Okta group it is in.
    posix: extra [posix] keys.  pam_profile: pam.d/sshd from the shipped
    profile (else pam_okta's documented hand-written account line only).
    dropin / keys_program: Include the shipped drop-in / put the key
    program at its packaged path.  authorized_keys_file: sshd's
    AuthorizedKeysFile ("none": keys come only from the key program)."""

    def __init__(self, emu, login="jane@example.com", user="jane", group="engineering",
                 posix=None, pam_profile=False, dropin=False, keys_program=False,
                 authorized_keys_file=".ssh/authorized_keys"):
        for tool in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen"), OKTA_SYNC, MODULE):
            need(tool)
        self.emu, self.login, self.user, self.group = emu, login, user, group
        self.proc = None
        self.dir = tmpdir("okta-sshd-")
        os.chmod(self.dir, 0o755)          # the user walks to its home
        os.makedirs(os.path.join(self.dir, "home"), 0o755)
        os.chmod(os.path.join(self.dir, "home"), 0o755)
        px = {"home": os.path.join(self.dir, "home", "%u"), "strip_domain": "example.com"}
        px.update(posix or {})
        self.conf = write_config(self.dir, emu, posix=px)
        self.cache = os.path.join(self.dir, "cache")   # made by write_config
        os.chmod(self.cache, 0o755)
        self.snapshot = os.path.join(self.cache, "snapshot.cdb")
        self.uid = self.gid = self.group_gid = None
        self.port = free_port()
        self.log = os.path.join(self.dir, "sshd.log")

        self.key = os.path.join(self.dir, "id_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "okta-test", "-f", self.key],
            check=True)
        with open(self.key + ".pub") as f:
            self.pubkey = f.read().strip()
        self.home = os.path.join(self.dir, "home", user)
        self.local_home = self.make_home(LOCAL_USER, LOCAL_UID, LOCAL_UID)
        self.passwd = os.path.join(self.dir, "passwd")
        with open("/etc/passwd") as src, open(self.passwd, "w") as f:
            f.write(src.read() + "%s:x:%d:%d:Local Test:%s:/bin/sh\n"
                    % (LOCAL_USER, LOCAL_UID, LOCAL_UID, self.local_home))

        self.hostkey = os.path.join(self.dir, "hostkey")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey], check=True)
        self.nsswitch = write_nsswitch(os.path.join(self.dir, "nsswitch.conf"))
        self.pamd = os.path.join(self.dir, "pam.d")
        os.mkdir(self.pamd)
        with open(os.path.join(self.pamd, "sshd"), "w") as f:
            if pam_profile:
                f.write(pam_from_profile())
            else:
                # Public-key logins skip PAM auth; sshd still calls setcred.
                f.write("auth required pam_permit.so\n"
                        "account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
                        "account required pam_permit.so\n"
                        "session required pam_permit.so\n"
                        "password required pam_deny.so\n" % MODULE)
        with open(os.path.join(self.pamd, "other"), "w") as f:
            f.write("auth required pam_deny.so\naccount required pam_deny.so\n"
                    "session required pam_deny.so\npassword required pam_deny.so\n")
        self.mounts = [
            "mount --bind %s /var/lib/okta-sync" % _q(self.cache),
            "mount --bind %s /etc/nsswitch.conf" % _q(self.nsswitch),
            "mount --bind %s /etc/passwd" % _q(self.passwd),
            "mount --bind %s /etc/pam.d" % _q(self.pamd),
        ]
        if pam_profile:
            self.mounts.append(nss_overlay(self.dir))
        if keys_program:
            self.mounts.append(keys_overlay(self.dir))
        self.config = sshd_config(os.path.join(self.dir, "sshd_config"), self.port,
                                  self.hostkey, os.path.join(self.dir, "sshd.pid"),
                                  authorized_keys_file, dropin)

    def make_home(self, user, uid, gid):
        """A home with the test key in .ssh/authorized_keys, owned by the
        user, as StrictModes wants."""
        home = os.path.join(self.dir, "home", user)
        os.makedirs(os.path.join(home, ".ssh"))
        ak = os.path.join(home, ".ssh", "authorized_keys")
        shutil.copy(self.key + ".pub", ak)
        os.chmod(ak, 0o600)
        os.chmod(os.path.join(home, ".ssh"), 0o700)
        os.chmod(home, 0o755)
        for p in (home, os.path.join(home, ".ssh"), ak):
            os.chown(p, uid, gid)
        return home

    def publish(self, force=False):
        """okta-sync sync: what Okta holds now becomes a new snapshot in
        self.cache, which the namespace sees at /var/lib/okta-sync."""
        p = run([OKTA_SYNC, "-c", self.conf, "sync"] + (["--force"] if force else []),
                timeout=120)
        assert p.returncode == 0, "okta-sync sync exited %d:\n%s\n%s" % (
            p.returncode, p.stdout, p.stderr)
        return p

    def publish_state(self, status):
        """Okta changes the user's status, and a sync brings it here."""
        self.emu.set_status(self.login, status)
        self.publish()

    def ns(self, script, timeout=60):
        """Run a shell script in a namespace set up as sshd's."""
        os.makedirs("/var/lib/okta-sync", exist_ok=True)
        full = " && ".join(self.mounts + ["export LD_LIBRARY_PATH=%s" % _q(BUILD), script])
        return run(["unshare", "-m", "--propagation", "private", "sh", "-c", full],
                   timeout=timeout)

    def resolve(self, make_home=True):
        """After the first sync: the user's UID, primary GID and the
        group's GID as glibc (files okta) resolves them; with make_home, a
        home with the test key owned by that UID."""
        p = self.ns("getent passwd %s && getent group %s" % (self.user, self.group))
        assert p.returncode == 0, "Okta user does not resolve: %s %s" % (p.stdout, p.stderr)
        pw, gr = p.stdout.splitlines()[:2]
        f = pw.split(":")
        self.uid, self.gid = int(f[2]), int(f[3])
        assert f[5] == self.home, "home %s, wanted %s" % (f[5], self.home)
        self.group_gid = int(gr.split(":")[2])
        if make_home:
            self.make_home(self.user, self.uid, self.gid)

    def start(self):
        os.makedirs("/var/lib/okta-sync", exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)
        script = " && ".join(self.mounts + [
            "mount -t tmpfs -o mode=0755 tmpfs /run/sshd",
            "export LD_LIBRARY_PATH=%s" % _q(BUILD),
            # Check that glibc sees the Okta user before starting sshd.
            "(getent passwd %s >&2 || echo 'NSS: %s does not resolve' >&2)"
            % (self.user, self.user),
            "exec %s -D -e -f %s" % (SSHD, _q(self.config)),
        ])
        logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        wait_for_sshd(self.proc, self.port, self.log)
        assert "does not resolve" not in self.sshd_log(), \
            "libnss_okta.so.2 does not resolve %s:\n%s" % (self.user, self.sshd_log())

    def ssh(self, command="id", user=None):
        return run(ssh_command(self.key, self.port, user or self.user, command), timeout=60)

    def sshd_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def info(self, p):
        """ssh's result and the end of sshd's log, for an assertion."""
        return "\nssh exit %d\nstdout: %s\nstderr: %s\nsshd log:\n%s" % (
            p.returncode, p.stdout, p.stderr, self.sshd_log()[-3000:])

    def login_works(self):
        """The Okta user logs in with the key; `id` shows the Okta UID and
        the Okta group."""
        p = self.ssh("id")
        assert p.returncode == 0, "login refused" + self.info(p)
        assert "uid=%d(%s)" % (self.uid, self.user) in p.stdout, "id shows no Okta UID" + self.info(p)
        assert "%d(%s)" % (self.group_gid, self.group) in p.stdout, \
            "id shows no Okta group" + self.info(p)
        return p

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
