#!/usr/bin/env python3
"""test_packaging - okta-sync installs like a real Linux component.

- `make install DESTDIR=... PREFIX=...` puts every file where Debian's glibc,
  PAM and systemd look, with the right modes, and keeps an edited config.
- `make deb` builds a .deb that lintian passes (no error, no warning that
  is not overridden with a reason); `make rpm` builds an RPM with the same
  files, modes and directories (modulo /usr/lib64 vs the multiarch libdir).
- The systemd unit is hardened (the directives the issue asks for, and
  systemd-analyze's offline score).
- In a Debian 12 chroot (debootstrap --variant=minbase, cached between runs
  in /var/cache/okta-sync-tests and copied fresh for each run), `dpkg -i`
  wires okta into nsswitch.conf and the PAM stack, `okta-sync sync` against
  the emulator on 127.0.0.1 works with nothing but the domain, the token
  file and the test CA set, `getent passwd` lists the Okta users, and
  `dpkg -r` then `dpkg --purge` leave nsswitch.conf and /etc/pam.d
  byte-identical to before.  Twice: with the minbase nsswitch.conf, and with
  Debian's systemd default ("passwd: files systemd").
- SSH keys and homes (issue 10, Done-when 5): the package installs the key
  program /usr/libexec/okta-sync/okta-sync-keys (root, 0755, as sshd
  requires) and the sshd drop-in, shipped but not enabled, at
  /usr/share/okta-sync/sshd_config.d/okta-sync.conf; in the chroot the
  installed program, run as nobody, prints an Okta user's key from the
  synced snapshot; Debian's common-session (the profile's pam_mkhomedir)
  makes an Okta user's home at the first session, owned by the Okta UID
  and primary GID, mode 0700.  An admin's unmodified copy of the drop-in
  in /etc/ssh/sshd_config.d survives `dpkg -r` and goes with `--purge`;
  an edited copy survives both.

The .deb and .rpm are built in $OKTA_BUILD (default build/), so that a
run against another build directory does not touch build/.

Every chroot command runs in a private mount namespace (unshare -m) with
/proc mounted inside it, so nothing outlives the command.
"""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import BUILD, ROOT, case, main, run, tmpdir, Skip  # noqa: E402

VERSION = re.search(r"^VERSION\s*:=\s*(\S+)", open(os.path.join(ROOT, "Makefile")).read(), re.M).group(1)
DEB = os.path.join(BUILD, "okta-sync_%s_amd64.deb" % VERSION)
RPM = os.path.join(BUILD, "okta-sync-%s-1.x86_64.rpm" % VERSION)
UNIT = os.path.join(ROOT, "packaging", "systemd", "okta-syncd.service")
KEYS = "/usr/libexec/okta-sync/okta-sync-keys"
DROPIN_SHIPPED = "/usr/share/okta-sync/sshd_config.d/okta-sync.conf"
DROPIN_ETC = "/etc/ssh/sshd_config.d/okta-sync.conf"
DROPIN_SRC = os.path.join(ROOT, "packaging", "sshd", "okta-sync.conf")

# The chroot: minbase plus the package's run-time dependencies (there is no
# network in the chroot's dpkg, so they must be there before `dpkg -i`).
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
INCLUDE = ("libcurl4,libjson-c5,libsqlite3-0,libinih1,libsystemd0,libpam0g,"
           "libpam-runtime,libpam-modules,libcdb1")
CACHE_DIR = os.environ.get("OKTA_CHROOT_CACHE", "/var/cache/okta-sync-tests")
CACHE = os.path.join(CACHE_DIR, "%s-minbase-%s" % (SUITE, hashlib.sha1(
    ("%s minbase %s" % (SUITE, INCLUDE)).encode()).hexdigest()[:10]))

_built = {}


def make(target):
    """Run `make TARGET` once per test run (the later cases reuse it)."""
    if target not in _built:
        p = run(["make", "-s", "--no-print-directory", "BUILD=" + BUILD, target],
                cwd=ROOT, timeout=600)
        _built[target] = p
    p = _built[target]
    assert p.returncode == 0, "make %s failed (%d):\n%s\n%s" % (
        target, p.returncode, p.stdout[-3000:], p.stderr[-3000:])


# ---- make install ---------------------------------------------------------

@case
def make_install_layout():
    d = tmpdir("okta-install-")
    try:
        run(["make", "-s", "--no-print-directory", "BUILD=" + BUILD, "install", "DESTDIR=" + d,
             "PREFIX=/usr"], cwd=ROOT, check=True, timeout=600)
        multiarch = run(["gcc", "-print-multiarch"], check=True).stdout.strip()
        want = {
            "usr/sbin/okta-sync": 0o755,
            "usr/sbin/okta-syncd": 0o755,
            "usr/libexec/okta-sync/okta-sync-keys": 0o755,
            "usr/libexec/okta-sync": 0o755,
            "usr/share/okta-sync/sshd_config.d/okta-sync.conf": 0o644,
            "usr/lib/%s/libnss_okta.so.2" % multiarch: 0o644,
            "usr/lib/%s/security/pam_okta.so" % multiarch: 0o644,
            "etc/okta-sync/okta-sync.conf": 0o600,
            "usr/share/pam-configs/okta": 0o644,
            "usr/share/okta-sync/okta-sync.conf.example": 0o644,
            "usr/share/man/man8/okta-sync.8": 0o644,
            "usr/share/man/man8/okta-syncd.8": 0o644,
            "usr/share/man/man8/pam_okta.8": 0o644,
            "usr/share/man/man8/libnss_okta.8": 0o644,
            "usr/share/man/man5/okta-sync.conf.5": 0o644,
            "var/lib/okta-sync": 0o755,
        }
        unitdir = run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"]).stdout.strip() \
            or "/usr/lib/systemd/system"
        want[unitdir.lstrip("/") + "/okta-syncd.service"] = 0o644
        for rel, mode in want.items():
            p = os.path.join(d, rel)
            assert os.path.exists(p), "make install did not create /%s" % rel
            got = os.stat(p).st_mode & 0o7777
            assert got == mode, "/%s has mode %o, want %o" % (rel, got, mode)
        assert os.path.isdir(os.path.join(d, "var/lib/okta-sync"))
        # an edited config survives a second install
        conf = os.path.join(d, "etc/okta-sync/okta-sync.conf")
        with open(conf, "a") as f:
            f.write("# edited by the admin\n")
        run(["make", "-s", "--no-print-directory", "BUILD=" + BUILD, "install", "DESTDIR=" + d,
             "PREFIX=/usr"], cwd=ROOT, check=True, timeout=600)
        assert open(conf).read().endswith("# edited by the admin\n"), "make install overwrote the config"
        # PREFIX moves the programs; LIBDIR/PAMDIR are overridable (RPM)
        d2 = os.path.join(d, "local")
        run(["make", "-s", "--no-print-directory", "BUILD=" + BUILD, "install", "DESTDIR=" + d2,
             "PREFIX=/usr/local",
             "LIBDIR=/usr/lib64", "PAMDIR=/usr/lib64/security"], cwd=ROOT, check=True, timeout=600)
        for rel in ("usr/local/sbin/okta-sync", "usr/local/libexec/okta-sync/okta-sync-keys",
                    "usr/lib64/libnss_okta.so.2",
                    "usr/lib64/security/pam_okta.so", "usr/local/share/man/man8/okta-sync.8"):
            assert os.path.exists(os.path.join(d2, rel)), "PREFIX/LIBDIR install lacks /%s" % rel
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- the systemd unit -------------------------------------------------------

def unit_settings():
    s = {}
    for line in open(UNIT):
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            s.setdefault(k.strip(), []).append(v.strip())
    return s


@case
def systemd_unit_hardened():
    s = unit_settings()
    want = {
        "Type": "notify", "NotifyAccess": "main", "ExecStart": "/usr/sbin/okta-syncd",
        "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes", "PrivateDevices": "yes", "StateDirectory": "okta-sync",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "SystemCallArchitectures": "native", "CapabilityBoundingSet": "",
        "ConditionPathExists": "/etc/okta-sync/okta-sync.conf",
        "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes", "MemoryDenyWriteExecute": "yes",
    }
    for k, v in want.items():
        assert v in s.get(k, []), "%s=%s missing from the unit (has %s)" % (k, v, s.get(k))
    assert "/var/lib/okta-sync" in s.get("ReadWritePaths", [])
    assert "@system-service" in s.get("SystemCallFilter", [])
    assert any(w.startswith("WatchdogSec") for w in s), "no WatchdogSec="
    # systemd parses every line (no unknown key, no bad value); the only
    # complaint allowed is that the programs are not installed on this host
    p = run(["systemd-analyze", "verify", "--man=no", UNIT])
    noise = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip() and not re.search(
        r"Command /usr/sbin/okta-syncd? is not executable", ln)]
    assert not noise, "systemd-analyze verify:\n%s" % "\n".join(noise)
    p = run(["systemd-analyze", "security", "--offline=yes", UNIT])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    assert m, "systemd-analyze security gave no score:\n%s\n%s" % (p.stdout[-2000:], p.stderr)
    print("systemd-analyze security --offline=yes: %s" % m.group(1))
    assert float(m.group(1)) <= 2.0, "exposure %s is above 2.0" % m.group(1)


# ---- the .deb and the .rpm ----------------------------------------------------

@case
def deb_builds_and_lintian_is_clean():
    make("deb")
    assert os.path.exists(DEB), "make deb did not leave %s" % DEB
    info = run(["dpkg-deb", "-f", DEB], check=True).stdout
    assert re.search(r"^Depends:.*libc6", info, re.M), info
    assert re.search(r"^Recommends:.*libpam-runtime", info, re.M), info
    conffiles = run(["dpkg-deb", "-I", DEB, "conffiles"], check=True).stdout.split()
    assert conffiles == ["/etc/okta-sync/okta-sync.conf"], conffiles
    # lintian: no error, and no warning that is not overridden with a reason
    p = run(["lintian", "--fail-on", "error,warning", DEB], timeout=300)
    assert p.returncode == 0, "lintian:\n%s\n%s" % (p.stdout, p.stderr)
    # every override carries its reason: a comment right above it (or above
    # the block of overrides it belongs to)
    reason = False
    for line in open(os.path.join(ROOT, "packaging/debian/okta-sync.lintian-overrides")):
        if line.startswith("#"):
            reason = True
        elif not line.strip():
            reason = False
        else:
            assert reason, "override without a reason: %s" % line


def deb_layout():
    """{path: perms} of the .deb's files, plus its two state/config dirs."""
    out = run(["dpkg-deb", "-c", DEB], check=True).stdout
    files = {}
    for line in out.splitlines():
        f = line.split()
        perms, path = f[0], f[-1]
        if f[-2] == "->":
            perms, path = f[0], f[-3]
        path = path[1:].rstrip("/") or "/"
        files[path] = perms
    return files


def rpm_layout():
    out = run(["rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]", RPM], check=True).stdout
    files = {}
    for line in out.splitlines():
        perms, path = line.split(" ", 1)
        files[path] = perms
    return files


def normalise(files, kind):
    """Map both layouts onto one: the libdir, the unit dir, compressed man
    pages; drop what each packaging system adds of its own (docs, build-id
    links, lintian overrides, pam-auth-update profiles, parent dirs)."""
    multiarch = "/usr/lib/x86_64-linux-gnu"
    out = {}
    for path, perms in files.items():
        if path.startswith(("/usr/share/doc", "/usr/lib/.build-id", "/usr/share/lintian",
                            "/usr/share/pam-configs")):
            continue
        if perms.startswith("d") and path not in ("/etc/okta-sync", "/var/lib/okta-sync"):
            continue
        if path.startswith("/usr/lib64"):
            path = multiarch + path[len("/usr/lib64"):]
        if path.startswith("/lib/systemd/"):
            path = "/usr" + path
        if path.endswith(".gz"):
            path = path[:-3]
        out[path] = perms
    return out


@case
def rpm_builds_with_the_debs_layout():
    make("rpm")
    assert os.path.exists(RPM), "make rpm did not leave %s" % RPM
    make("deb")
    d = normalise(deb_layout(), "deb")
    r = normalise(rpm_layout(), "rpm")
    only_deb = sorted(set(d) - set(r))
    only_rpm = sorted(set(r) - set(d))
    assert not only_deb and not only_rpm, "layouts differ: only in .deb %s; only in .rpm %s" % (
        only_deb, only_rpm)
    for path in d:
        assert d[path] == r[path], "%s: .deb %s, .rpm %s" % (path, d[path], r[path])
    assert "/usr/lib/x86_64-linux-gnu/libnss_okta.so.2" in d
    assert d["/etc/okta-sync/okta-sync.conf"] == "-rw-------"
    # the RPM's config is %config(noreplace), and %post says what to do
    # about authselect
    cfg = run(["rpm", "-qp", "--configfiles", RPM], check=True).stdout
    assert "/etc/okta-sync/okta-sync.conf" in cfg
    scripts = run(["rpm", "-qp", "--scripts", RPM], check=True).stdout
    assert "authselect" in scripts and "nsswitch.conf" in scripts


# ---- the Debian 12 chroot -------------------------------------------------------

def cached_chroot():
    """The pristine minbase chroot, made once (about 35 s) and kept."""
    if os.path.isfile(os.path.join(CACHE, "etc", "debian_version")):
        return CACHE
    if not shutil.which("debootstrap"):
        raise AssertionError("debootstrap is not installed (scripts/install-deps package)")
    os.makedirs(CACHE_DIR, exist_ok=True)
    tmp = CACHE + ".tmp-%d" % os.getpid()
    shutil.rmtree(tmp, ignore_errors=True)
    p = run(["debootstrap", "--variant=minbase", "--include=" + INCLUDE, SUITE, tmp, MIRROR],
            timeout=900)
    if p.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AssertionError("debootstrap failed:\n%s\n%s" % (p.stdout[-3000:], p.stderr[-3000:]))
    os.rename(tmp, CACHE)
    return CACHE


class Chroot:
    """A fresh copy of the cached chroot, removed by close()."""

    def __init__(self):
        src = cached_chroot()
        self.top = tmpdir("okta-chroot-")
        self.root = os.path.join(self.top, "root")
        run(["cp", "-a", src, self.root], check=True, timeout=300)
        # name resolution of "localhost" (the emulator's domain) in the chroot
        with open(self.path("/etc/hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n")

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def sh(self, script, timeout=300, check=True):
        """Run `script` with /bin/sh inside the chroot, in a private mount
        namespace with /proc mounted (gone when the command ends)."""
        r = self.root.replace("'", "'\\''")
        full = ("mount -t proc proc '%s/proc' && exec chroot '%s' /usr/bin/env -i "
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "
                "/bin/sh -ec \"$1\"" % (r, r))
        p = run(["unshare", "-m", "--propagation", "private", "sh", "-c", full, "sh", script],
                timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("in the chroot: %s\nexit %d\nstdout:\n%s\nstderr:\n%s" % (
                script, p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
        return p

    def read(self, p):
        with open(self.path(p), "rb") as f:
            return f.read()

    def write(self, p, data, mode=0o644):
        with open(self.path(p), "wb") as f:
            f.write(data)
        os.chmod(self.path(p), mode)

    def hashes(self):
        """sha256 of nsswitch.conf and of every file under /etc/pam.d."""
        h = {}
        for p in ["/etc/nsswitch.conf"] + sorted(
                "/etc/pam.d/" + n for n in os.listdir(self.path("/etc/pam.d"))):
            h[p] = hashlib.sha256(self.read(p)).hexdigest()
        return h

    def close(self):
        shutil.rmtree(self.top, ignore_errors=True)


def nss_line(text, db):
    m = re.search(r"^%s:(.*)$" % db, text, re.M)
    return m.group(1).split() if m else None


def install_cycle(ch, expect_passwd, expect_group, sync_check=None):
    """dpkg -i, check the wiring (and run sync_check), dpkg -r, dpkg --purge;
    nsswitch.conf and /etc/pam.d must end byte-identical."""
    before = ch.hashes()
    shutil.copy(DEB, ch.path("/tmp/okta-sync.deb"))
    ch.sh("dpkg -i /tmp/okta-sync.deb")
    nss = ch.read("/etc/nsswitch.conf").decode()
    assert nss_line(nss, "passwd") == expect_passwd, nss
    assert nss_line(nss, "group") == expect_group, nss
    # idempotent: configuring again changes nothing
    ch.sh("/var/lib/dpkg/info/okta-sync.postinst configure")
    assert ch.read("/etc/nsswitch.conf").decode() == nss, "a second configure changed nsswitch.conf"
    # the PAM profile is registered and in the stack
    assert os.path.exists(ch.path("/usr/share/pam-configs/okta"))
    seen = ch.read("/var/lib/pam/seen").decode().split()
    assert "okta" in seen, "pam-auth-update did not register the profile: %s" % seen
    acct = ch.read("/etc/pam.d/common-account").decode()
    assert re.search(r"^account\s+\[success=ok user_unknown=ignore ignore=ignore default=bad\]\s+pam_okta\.so",
                     acct, re.M), acct
    # homes at the first login, interactive sessions only (as Debian's own
    # mkhomedir profile)
    sess = ch.read("/etc/pam.d/common-session").decode()
    assert re.search(r"^session\s+optional\s+pam_mkhomedir\.so\s+umask=0077\s*$", sess, re.M), sess
    assert "pam_mkhomedir" not in ch.read("/etc/pam.d/common-session-noninteractive").decode()
    ch.sh("pam-auth-update --package")   # lists/applies profiles without complaint
    # installed files
    for p in ("/usr/sbin/okta-sync", "/usr/sbin/okta-syncd",
              "/usr/lib/x86_64-linux-gnu/libnss_okta.so.2",
              "/usr/lib/x86_64-linux-gnu/security/pam_okta.so",
              "/lib/systemd/system/okta-syncd.service"):
        assert os.path.exists(ch.path(p)), "%s not installed" % p
    assert os.stat(ch.path("/etc/okta-sync/okta-sync.conf")).st_mode & 0o777 == 0o600
    check_ssh_files(ch)
    # The admin enables key login as README.md says: a copy in
    # /etc/ssh/sshd_config.d (minbase has no sshd; the directory is made).
    ch.sh("mkdir -p /etc/ssh/sshd_config.d && cp %s %s" % (DROPIN_SHIPPED, DROPIN_ETC))
    assert os.path.islink(ch.path("/etc/systemd/system/multi-user.target.wants/okta-syncd.service")), \
        "the unit is not enabled"
    # the programs and modules find every library they need in the chroot
    # (the package's Depends pulled them in)
    for p in ("/usr/sbin/okta-sync", "/usr/sbin/okta-syncd",
              "/usr/lib/x86_64-linux-gnu/libnss_okta.so.2",
              "/usr/lib/x86_64-linux-gnu/security/pam_okta.so"):
        out = ch.sh("ldd %s" % p).stdout
        assert "not found" not in out, "%s in the chroot:\n%s" % (p, out)
    ch.sh("okta-sync --version")
    out = ch.sh("ldd %s" % KEYS).stdout
    assert "not found" not in out, "%s in the chroot:\n%s" % (KEYS, out)
    ch.sh("%s --version" % KEYS)
    if sync_check:
        sync_check(ch)
    ch.sh("dpkg -r okta-sync")
    after_r = ch.hashes()
    assert after_r == before, "dpkg -r left changes: %s" % diff_hashes(before, after_r)
    assert not os.path.exists(ch.path("/usr/lib/x86_64-linux-gnu/libnss_okta.so.2"))
    for p in (KEYS, DROPIN_SHIPPED):
        assert not os.path.exists(ch.path(p)), "dpkg -r left %s" % p
    # the admin's copy is not the package's: remove leaves it
    assert os.path.exists(ch.path(DROPIN_ETC)), "dpkg -r removed the admin's %s" % DROPIN_ETC
    ch.sh("dpkg --purge okta-sync")
    after_p = ch.hashes()
    assert after_p == before, "dpkg --purge left changes: %s" % diff_hashes(before, after_p)
    assert not os.path.exists(ch.path("/var/lib/okta-sync")), "purge left /var/lib/okta-sync"
    # an unmodified copy of the drop-in goes with the purge, so that sshd
    # is not left pointing at a program that is gone
    assert not os.path.exists(ch.path(DROPIN_ETC)), "dpkg --purge left %s" % DROPIN_ETC
    assert not os.path.exists(ch.path("/usr/libexec/okta-sync")), "purge left /usr/libexec/okta-sync"
    assert "okta" not in ch.read("/var/lib/pam/seen").decode().split()


def check_ssh_files(ch):
    """The key program and the drop-in, as installed by dpkg: root-owned,
    0755 and 0644, the program's directories root's and not writable by
    group or others (sshd refuses the AuthorizedKeysCommand otherwise),
    the drop-in the shipped text, and nothing in /etc/ssh (not enabled)."""
    st = os.stat(ch.path(KEYS))
    assert (st.st_uid, st.st_gid) == (0, 0), "%s owned by %d:%d" % (KEYS, st.st_uid, st.st_gid)
    assert st.st_mode & 0o7777 == 0o755, "%s has mode %o, want 755" % (KEYS, st.st_mode & 0o7777)
    d = os.path.dirname(KEYS)
    while d != "/":
        st = os.stat(ch.path(d))
        assert st.st_uid == 0 and not st.st_mode & 0o022, \
            "%s: owner %d, mode %o; sshd wants root and no group/other write" % (
                d, st.st_uid, st.st_mode & 0o7777)
        d = os.path.dirname(d)
    st = os.stat(ch.path(DROPIN_SHIPPED))
    assert st.st_uid == 0 and st.st_mode & 0o7777 == 0o644, "%s: %d %o" % (
        DROPIN_SHIPPED, st.st_uid, st.st_mode & 0o7777)
    text = ch.read(DROPIN_SHIPPED).decode()
    assert text == open(DROPIN_SRC).read(), "the installed drop-in differs from packaging/sshd"
    for line in ("AuthorizedKeysCommand %s %%u" % KEYS, "AuthorizedKeysCommandUser nobody"):
        assert re.search(r"^%s$" % re.escape(line), text, re.M), "the drop-in lacks %r" % line
    assert not os.path.exists(ch.path(DROPIN_ETC)), "the package enabled the sshd drop-in itself"


def diff_hashes(a, b):
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def check_debian_pam_stack(ch, active, suspended):
    """Debian's own account stack (/etc/pam.d/other includes
    common-account: pam_unix in the Primary block, then pam_okta from the
    profile) lets an ACTIVE Okta user and root through and refuses a
    SUSPENDED one, saying why.  pamtester is copied in: minbase has none,
    and it needs only libpam."""
    shutil.copy("/usr/bin/pamtester", ch.path("/usr/local/bin/pamtester"))
    try:
        for user, want in ((active.split("@")[0], 0), (suspended.split("@")[0], 1), ("root", 0)):
            p = ch.sh("/usr/local/bin/pamtester okta-pkg-test %s acct_mgmt" % user, check=False)
            hint = ""
            pw = ch.sh("getent passwd %s" % user, check=False).stdout.split(":")
            if p.returncode != want and len(pw) > 1 and pw[1] == "x":
                hint = ("\n(the passwd field is \"x\" and there is no shadow entry: pam_unix's "
                        "account check then answers PAM_AUTHINFO_UNAVAIL, and common-account's "
                        "pam_deny refuses; sssd and LDAP modules give \"*\")")
            assert p.returncode == want, (
                "pamtester okta-pkg-test %s acct_mgmt (Debian's common-account) in the chroot: "
                "exit %d, want %d\n%s%s%s" % (user, p.returncode, want, p.stdout, p.stderr, hint))
            if want:
                assert "suspended" in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
        # Debian's common-session, with the profile's pam_mkhomedir: the
        # first session makes the active user's home, owned by the Okta
        # UID and primary GID, mode 0700.
        user = active.split("@")[0]
        pw = ch.sh("getent passwd %s" % user).stdout.strip().split(":")
        uid, gid, home = int(pw[2]), int(pw[3]), pw[5]
        assert not os.path.exists(ch.path(home)), "%s exists before the first session" % home
        p = ch.sh("/usr/local/bin/pamtester okta-pkg-test %s open_session close_session" % user,
                  check=False)
        assert p.returncode == 0, "open_session through common-session: %s%s" % (p.stdout, p.stderr)
        st = os.stat(ch.path(home))
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (uid, gid, 0o700), \
            "%s: owner %d:%d mode %o, want %d:%d 0700" % (
                home, st.st_uid, st.st_gid, st.st_mode & 0o7777, uid, gid)
        print("first session in the chroot made %s: %d:%d mode %o" % (home, uid, gid, 0o700))
    finally:
        os.unlink(ch.path("/usr/local/bin/pamtester"))


def sync_against_emulator(ch, pam_check=False):
    """Only the domain, the token file and (for the test CA) ca_file are
    set: the rest is the shipped config."""
    from emulator import Emulator, make_org
    org = make_org(nusers=30, ngroups=4, seed=6, statuses=False)
    logins = [u["profile"]["login"] for u in org["users"]]
    suspended, active = logins[3], logins[0]
    keydir = tmpdir("okta-pkg-key-")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(keydir, "k")], check=True)
    pubkey = open(os.path.join(keydir, "k.pub")).read().strip()
    shutil.rmtree(keydir, ignore_errors=True)
    with Emulator(org) as emu:
        emu.set_status(suspended, "SUSPENDED")
        emu.set_profile(active, sshPublicKey=[pubkey])
        emu.set_profile(suspended, sshPublicKey=[pubkey])
        shutil.copy(emu.ca_file, ch.path("/etc/okta-sync/ca.pem"))
        conf = ch.read("/etc/okta-sync/okta-sync.conf").decode()
        assert "\n#domain = " in conf, "the shipped config has no commented domain line"
        conf = conf.replace("\n#domain = ", "\ndomain = %s\n#was: " % emu.domain, 1)
        conf = conf.replace("\n#ca_file =", "\nca_file = /etc/okta-sync/ca.pem\n#was:", 1)
        conf = conf.replace("\n#strip_domain = example.com",
                            "\nstrip_domain = example.com\nssh_keys_attribute = sshPublicKey", 1)
        ch.write("/etc/okta-sync/okta-sync.conf", conf.encode(), 0o600)
        ch.write("/etc/okta-sync/token", (emu.token + "\n").encode(), 0o600)
        ch.sh("okta-sync check-config")
        p = ch.sh("okta-sync sync", timeout=300)
        assert "not implemented" not in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
        st = os.stat(ch.path("/var/lib/okta-sync/cache.db"))
        assert st.st_mode & 0o777 == 0o600, "cache.db has mode %o" % (st.st_mode & 0o777)
        out = ch.sh("getent passwd").stdout
        names = {line.split(":")[0] for line in out.splitlines()}
        want = {lg.split("@")[0].lower() for lg in logins}
        missing = sorted(want - names)
        assert not missing, "getent passwd in the chroot lacks %s\n%s" % (missing[:5], out[-2000:])
        assert "root" in names
        grp = ch.sh("getent group").stdout
        for g in org["groups"]:
            gname = g["profile"]["name"].lower().replace(" ", "-")
            assert re.search(r"^%s:" % re.escape(gname), grp, re.M) or g["profile"]["name"] in grp, \
                "getent group lacks %s" % g["profile"]["name"]
        # The installed key program, as sshd runs it (as nobody), serves
        # the active user's key and nothing for the suspended one.
        for login, want in ((active, pubkey.split()[1]), (suspended, None)):
            p = ch.sh("setpriv --reuid=nobody --regid=nogroup --clear-groups %s %s"
                      % (KEYS, login.split("@")[0]), check=False)
            assert p.returncode == 0, "%s as nobody: exit %d\n%s" % (KEYS, p.returncode, p.stderr)
            if want:
                assert want in p.stdout, "%s printed no key for %s:\n%s%s" % (
                    KEYS, login, p.stdout, p.stderr)
            else:
                assert p.stdout == "", "%s printed keys for suspended %s:\n%s" % (KEYS, login, p.stdout)
        if pam_check:
            check_debian_pam_stack(ch, active, suspended)
    ch.write("/etc/okta-sync/token", b"", 0o600)


@case
def chroot_install_sync_remove_purge():
    if os.geteuid() != 0:
        raise Skip("needs root (chroot, mount namespaces)")
    make("deb")
    ch = Chroot()
    try:
        nss = ch.read("/etc/nsswitch.conf").decode()
        assert nss_line(nss, "passwd") == ["files"], nss
        install_cycle(ch, ["files", "okta"], ["files", "okta"], sync_check=sync_against_emulator)
        # the token file is the admin's: purge leaves it (and so /etc/okta-sync)
        os.unlink(ch.path("/etc/okta-sync/token"))
        for extra in ("ca.pem",):
            if os.path.exists(ch.path("/etc/okta-sync/" + extra)):
                os.unlink(ch.path("/etc/okta-sync/" + extra))
    finally:
        ch.close()


@case
def chroot_debian_pam_stack_judges_okta_users():
    """After `dpkg -i` and a sync, Debian's standard PAM account stack (not
    a hand-written one) admits an active Okta user and refuses a suspended
    one: what sshd on an installed host does."""
    if os.geteuid() != 0:
        raise Skip("needs root (chroot, mount namespaces)")
    make("deb")
    ch = Chroot()
    try:
        shutil.copy(DEB, ch.path("/tmp/okta-sync.deb"))
        ch.sh("dpkg -i /tmp/okta-sync.deb")
        sync_against_emulator(ch, pam_check=True)
    finally:
        ch.close()


@case
def chroot_nsswitch_with_systemd_line():
    """Debian's default with libnss-systemd, odd spacing and no final
    newline: okta goes right after files, and purge restores every byte."""
    if os.geteuid() != 0:
        raise Skip("needs root (chroot, mount namespaces)")
    make("deb")
    ch = Chroot()
    try:
        orig = ch.read("/etc/nsswitch.conf").decode()
        orig = re.sub(r"^passwd:.*$", "passwd:\tfiles systemd", orig, flags=re.M)
        orig = re.sub(r"^group:.*$", "group:          files [SUCCESS=merge] systemd", orig, flags=re.M)
        orig = orig.rstrip("\n") + "\n# no newline at the end"
        ch.write("/etc/nsswitch.conf", orig.encode())
        install_cycle(ch, ["files", "okta", "systemd"], ["files", "[SUCCESS=merge]", "okta", "systemd"])
        assert ch.read("/etc/nsswitch.conf").decode() == orig
    finally:
        ch.close()


@case
def chroot_admin_edit_survives_removal():
    """An admin edits nsswitch.conf after the install: removal takes only
    the word okta out again and keeps the edit.  An edited copy of the sshd
    drop-in survives the purge."""
    if os.geteuid() != 0:
        raise Skip("needs root (chroot, mount namespaces)")
    make("deb")
    ch = Chroot()
    try:
        orig = ch.read("/etc/nsswitch.conf").decode()
        shutil.copy(DEB, ch.path("/tmp/okta-sync.deb"))
        ch.sh("dpkg -i /tmp/okta-sync.deb")
        edited = ch.read("/etc/nsswitch.conf").decode() + "# added by the admin\n"
        ch.write("/etc/nsswitch.conf", edited.encode())
        # an edited copy of the sshd drop-in is the admin's: purge keeps it
        dropin = ch.read(DROPIN_SHIPPED) + b"# edited by the admin\n"
        ch.sh("mkdir -p /etc/ssh/sshd_config.d")
        ch.write(DROPIN_ETC, dropin)
        ch.sh("dpkg -r okta-sync")
        assert ch.read("/etc/nsswitch.conf").decode() == orig + "# added by the admin\n"
        ch.sh("dpkg --purge okta-sync")
        assert ch.read("/etc/nsswitch.conf").decode() == orig + "# added by the admin\n"
        assert os.path.exists(ch.path(DROPIN_ETC)), "purge removed the admin's edited %s" % DROPIN_ETC
        assert ch.read(DROPIN_ETC) == dropin, "purge changed the admin's edited %s" % DROPIN_ETC
    finally:
        ch.close()


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    main()
