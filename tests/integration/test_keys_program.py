#!/usr/bin/env python3
"""test_keys_program.py - okta-sync-keys, sshd's AuthorizedKeysCommand
(issue 10: "okta-sync-keys USER"; Done-when 1's "the key program printed
nothing for them", 5's install mode).

The program is run as sshd runs it (`okta-sync-keys USER`, here with
--snapshot and --passwd pointing at the test's files) and judged on what
sshd would see: its standard output and its exit status.  The reason on
stderr is checked where the man page promises one, never syslog (the test
machine may have no syslog daemon).

Snapshots come from real syncs against the emulator (users with a profile
attribute sshPublicKey, [posix] ssh_keys_attribute = sshPublicKey) for the
account decisions a sync produces (active, suspended, tombstone,
allowed_groups), and from build/tests/mksnap for what a sync never
publishes (a stale last sync, a torn file, a corrupt or hostile 'k'
record, a user named root).  The keys are real, made by ssh-keygen.
"""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import BUILD, ROOT, case, main, run, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402

KEYS = os.path.join(BUILD, "okta-sync-keys")
MKSNAP = os.path.join(BUILD, "tests", "mksnap")
UID0 = 2000000001
DAY = 86400


def keygen(tmp, tag, kinds=("ed25519", "ecdsa", "rsa")):
    """Real public key lines, one per kind, commented tag-N@host."""
    out = []
    for i, kind in enumerate(kinds):
        path = os.path.join(tmp, "%s-%d" % (tag, i))
        args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "%s-%d@host" % (tag, i), "-f", path]
        if kind == "rsa":
            args[4:4] = ["-b", "3072"]
        run(args, check=True)
        with open(path + ".pub") as f:
            out.append(f.read().strip())
    return out


def keys(snapshot, user, passwd=None, as_nobody=False, stdout=None):
    """Run the key program as sshd would; CompletedProcess."""
    cmd = [KEYS, "--snapshot", snapshot, "--passwd", passwd or "/etc/passwd", user]
    if as_nobody:
        cmd = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"] + cmd
    if stdout is not None:
        with open(stdout, "w") as f:
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True, timeout=30)
        return p
    return run(cmd, timeout=30)


def expect(p, out, rc, err=None):
    info = "\nrc=%d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)
    assert p.returncode == rc, "exit status %d, wanted %d%s" % (p.returncode, rc, info)
    want = "".join(k + "\n" for k in out)
    assert p.stdout == want, "printed something else than %r%s" % (want, info)
    if err is not None:
        assert err in p.stderr, "stderr does not say %r%s" % (err, info)


# ---- Snapshots from a real sync ----------------------------------------

class Site:
    """An emulator org synced with [posix] ssh_keys_attribute."""

    def __init__(self, emu, tmp, pam=None):
        self.emu, self.tmp = emu, tmp
        self.conf = sc.setup(tmp, emu, sync={"max_delete": "none"},
                             posix={"ssh_keys_attribute": "sshPublicKey"}, pam=pam)
        self.passwd = os.path.join(tmp, "passwd")
        self.snapshot = os.path.join(sc.cache_dir(self.conf), "snapshot.cdb")

    def sync(self):
        p = sc.okta_sync(self.conf)
        assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])

    def keys(self, user, **kw):
        return keys(self.snapshot, user, passwd=self.passwd, **kw)


def org(emu, tmp):
    """jane (3 keys, Eng and Ops), bob (1 key, Eng); returns their keys."""
    jane = keygen(tmp, "jane")
    bob = keygen(tmp, "bob", kinds=("ed25519",))
    emu.add_group("Eng")
    emu.add_group("Ops")
    emu.add_user("jane@example.com", groups=["Eng", "Ops"], sshPublicKey=jane)
    emu.add_user("bob@example.com", groups=["Eng"], sshPublicKey=bob)
    return jane, bob


@case
def active_user_gets_exactly_their_keys():
    oktatest.need(KEYS, "ssh-keygen")
    tmp = tmpdir("okta-keys-")
    with Emulator() as emu:
        jane, bob = org(emu, tmp)
        s = Site(emu, tmp)
        s.sync()
        expect(s.keys("jane"), jane, 0)
        expect(s.keys("bob"), bob, 0)
    shutil.rmtree(tmp, ignore_errors=True)


@case
def suspended_user_gets_nothing():
    oktatest.need(KEYS, "ssh-keygen")
    tmp = tmpdir("okta-keys-")
    with Emulator() as emu:
        jane, bob = org(emu, tmp)
        s = Site(emu, tmp)
        s.sync()
        expect(s.keys("jane"), jane, 0)
        emu.set_status("jane@example.com", "SUSPENDED")
        s.sync()
        expect(s.keys("jane"), [], 0, err="user jane: denied: status SUSPENDED")
        expect(s.keys("bob"), bob, 0)
        # and back: it is the status, not a broken record
        emu.set_status("jane@example.com", "ACTIVE")
        s.sync()
        expect(s.keys("jane"), jane, 0)
    shutil.rmtree(tmp, ignore_errors=True)


@case
def tombstoned_user_gets_nothing():
    oktatest.need(KEYS, "ssh-keygen")
    tmp = tmpdir("okta-keys-")
    with Emulator() as emu:
        jane, bob = org(emu, tmp)
        s = Site(emu, tmp)
        s.sync()
        expect(s.keys("jane"), jane, 0)
        emu.delete_user("jane@example.com")
        s.sync()
        expect(s.keys("jane"), [], 0, err="user jane: denied: left this host (tombstone")
        expect(s.keys("bob"), bob, 0)
    shutil.rmtree(tmp, ignore_errors=True)


@case
def user_outside_allowed_groups_gets_nothing():
    oktatest.need(KEYS, "ssh-keygen")
    tmp = tmpdir("okta-keys-")
    with Emulator() as emu:
        jane, bob = org(emu, tmp)
        s = Site(emu, tmp, pam={"allowed_groups": "ops"})
        s.sync()
        expect(s.keys("jane"), jane, 0)
        expect(s.keys("bob"), [], 0, err="user bob: denied: status ACTIVE, not in allowed_groups")
    shutil.rmtree(tmp, ignore_errors=True)


# ---- Forged snapshots (mksnap) -----------------------------------------

LOCAL_PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Local Alice:/home/alice:/bin/bash\n"
)


class Forge:
    """A temp dir (readable by nobody) with a local passwd file and
    snapshots made by mksnap."""

    def __init__(self):
        oktatest.need(KEYS, MKSNAP, "ssh-keygen")
        self.dir = tmpdir("okta-keys-forge-")
        os.chmod(self.dir, 0o755)
        self.passwd = self.write("passwd", LOCAL_PASSWD)
        self.jane = keygen(self.dir, "jane")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def snapshot(self, extra="", last_sync=None, policy=None, name="snapshot.cdb",
                 jane_keys=True):
        """jane (ACTIVE, 3 keys), sus (SUSPENDED, 1 key), root (a forged
        Okta "root" with a key)."""
        lines = ["meta last_sync=%d generation=3" % (int(time.time()) if last_sync is None else last_sync),
                 "user jane %d %d ACTIVE - /home/jane /bin/bash" % (UID0, UID0),
                 "user sus %d %d SUSPENDED - /home/sus /bin/bash" % (UID0 + 1, UID0 + 1),
                 "user root %d %d ACTIVE - /root /bin/bash" % (UID0 + 2, UID0 + 2)]
        if policy:
            lines.append("policy " + policy)
        if jane_keys:
            lines += ["key jane " + k for k in self.jane]
        lines += ["key sus " + self.jane[0], "key root " + self.jane[1]]
        path = os.path.join(self.dir, name)
        p = run([MKSNAP, path], input="\n".join(lines) + "\n" + extra)
        assert p.returncode == 0, "mksnap: %s" % p.stderr
        return path

    def keys(self, snapshot, user, **kw):
        kw.setdefault("passwd", self.passwd)
        return keys(snapshot, user, **kw)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@case
def stale_snapshot_gets_nothing_under_deny():
    f = Forge()
    old = int(time.time()) - 10 * DAY
    s = f.snapshot(last_sync=old, policy="max_cache_age=86400 stale_policy=deny")
    expect(f.keys(s, "jane"), [], 0, err="Okta user cache out of date (last sync 10 days ago")
    # the same file under stale_policy=allow: the keys (the policy decides)
    s = f.snapshot(last_sync=old, policy="max_cache_age=86400 stale_policy=allow", name="allow.cdb")
    expect(f.keys(s, "jane"), f.jane, 0)
    # and the default policy (7 days, deny) applies without a [pam] section
    s = f.snapshot(last_sync=old, name="default.cdb")
    expect(f.keys(s, "jane"), [], 0)
    f.close()


@case
def missing_snapshot_prints_nothing_and_fails():
    f = Forge()
    missing = os.path.join(f.dir, "no-such-snapshot.cdb")
    expect(f.keys(missing, "jane"), [], 1, err="Okta user cache unavailable")
    # a local account is still answered: not ours, exit 0
    expect(f.keys(missing, "alice"), [], 0)
    expect(f.keys(missing, "root"), [], 0)
    # root never depends on the cache, not even on a readable passwd file
    expect(f.keys(missing, "root", passwd=os.path.join(f.dir, "no-such-passwd")), [], 0)
    f.close()


@case
def corrupt_snapshot_prints_nothing_and_fails():
    f = Forge()
    good = f.snapshot()
    expect(f.keys(good, "jane"), f.jane, 0)
    # a torn file: the first half of a good one
    torn = os.path.join(f.dir, "torn.cdb")
    with open(good, "rb") as src, open(torn, "wb") as dst:
        data = src.read()
        dst.write(data[:len(data) // 2])
    os.chmod(torn, 0o644)
    expect(f.keys(torn, "jane"), [], 1)
    # a corrupt 'k' record (a LF inside a line, which the reader refuses):
    # not even the good lines of the record are printed
    bad = f.snapshot(jane_keys=False, name="badk.cdb",
                     extra="rawkey jane %s\nrawkey jane %s%%0Ainjected\n" % (f.jane[0], f.jane[1]))
    expect(f.keys(bad, "jane"), [], 1, err="corrupt")
    # a 'k' record whose count promises a line that is not there
    bad = f.snapshot(jane_keys=False, name="emptyk.cdb", extra="rawkey jane %\n")
    expect(f.keys(bad, "jane"), [], 1)
    f.close()


@case
def hostile_key_lines_are_rechecked():
    # Lines the reader passes (printable ASCII) but sshd must never see:
    # each is left out, the good ones still printed.
    f = Forge()
    b64 = f.jane[0].split()[1]
    hostile = [
        'command="/bin/sh" ' + f.jane[0],                 # an option
        "ssh-rsa " + b64 + " type-and-blob-differ",       # ed25519 blob, rsa type
        f.jane[0].replace(" ", "  ", 1),                  # not canonical
        "ssh-ed25519 " + b64[:-8] + " truncated",         # broken base64
    ]
    extra = "".join("rawkey jane %s\n" % h.replace(" ", "%20") for h in
                    [f.jane[0]] + hostile + [f.jane[2]])
    s = f.snapshot(jane_keys=False, extra=extra)
    p = f.keys(s, "jane")
    expect(p, [f.jane[0], f.jane[2]], 0, err="not printed")
    assert p.stderr.count("not printed") == len(hostile), p.stderr
    for h in hostile:
        assert h not in p.stdout
    f.close()


@case
def unknown_root_and_local_users_get_nothing():
    f = Forge()
    s = f.snapshot()
    expect(f.keys(s, "nosuchuser"), [], 0)
    # the snapshot holds a forged Okta "root" with a key: rule 1 wins
    expect(f.keys(s, "root"), [], 0)
    rootless = f.write("passwd-rootless", LOCAL_PASSWD.split("\n", 1)[1])
    expect(f.keys(s, "root", passwd=rootless), [], 0)
    expect(f.keys(s, "alice"), [], 0)
    # a denied user: nothing, but an answer
    expect(f.keys(s, "sus"), [], 0, err="user sus: denied: status SUSPENDED")
    # a local twin of jane with another UID: the login is the local
    # account's, whose keys are not Okta's
    twin = f.write("passwd-twin", LOCAL_PASSWD + "jane:x:1001:1001::/home/jane:/bin/bash\n")
    expect(f.keys(s, "jane", passwd=twin), [], 0, err="the local account is not judged")
    # ... with jane's own UID (an adopted account): judged, keys printed
    adopted = f.write("passwd-adopted", LOCAL_PASSWD +
                      "jane:x:%d:%d::/home/jane:/bin/bash\n" % (UID0, UID0))
    expect(f.keys(s, "jane", passwd=adopted), f.jane, 0)
    f.close()


@case
def runs_as_nobody():
    oktatest.need_root("setpriv --reuid")
    oktatest.need("setpriv")
    f = Forge()
    s = f.snapshot()
    # what sshd's AuthorizedKeysCommandUser nobody gets: the 0644 snapshot
    # and the passwd file are readable, and that is all it needs
    p = f.keys(s, "jane", as_nobody=True)
    expect(p, f.jane, 0)
    expect(keys(s, "jane", passwd="/etc/passwd", as_nobody=True), f.jane, 0)
    expect(f.keys(s, "sus", as_nobody=True), [], 0)
    f.close()


@case
def write_error_fails():
    oktatest.need("/dev/full")
    f = Forge()
    s = f.snapshot()
    p = f.keys(s, "jane", stdout="/dev/full")
    assert p.returncode == 1, "exit %d writing to /dev/full: %s" % (p.returncode, p.stderr)
    assert "cannot write the keys" in p.stderr, p.stderr
    f.close()


@case
def usage_errors_fail():
    oktatest.need(KEYS)
    for args in ([], ["a", "b"], ["--no-such-option", "jane"], [""]):
        p = run([KEYS] + args)
        assert p.returncode == 1 and p.stdout == "", (args, p.returncode, p.stdout, p.stderr)
    p = run([KEYS, "--help"])
    assert p.returncode == 0 and "AuthorizedKeysCommand" in p.stdout, p.stdout
    p = run([KEYS, "--version"])
    assert p.returncode == 0 and re.match(r"^okta-sync-keys \d", p.stdout), p.stdout


@case
def links_only_libc():
    """common/ and libc only, linked static-pie: no shared library and no
    loader to run at each of sshd's calls (the SAN=1 build, which ASan
    keeps dynamic, is not tested here)."""
    oktatest.need(KEYS, "readelf")
    p = run(["readelf", "-d", "-h", "-l", KEYS], check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)
    assert not needed and "INTERP" not in p.stdout, \
        "okta-sync-keys is not static-pie (NEEDED %s)" % needed
    assert "DYN (" in p.stdout, "okta-sync-keys is not position-independent:\n" + p.stdout
    p = run(["nm", KEYS], check=True)
    for lib in ("curl_", "sqlite3_", "json_object"):
        assert lib not in p.stdout, "okta-sync-keys holds %s* symbols" % lib


@case
def make_install_puts_it_in_libexec():
    oktatest.need(KEYS)
    d = tmpdir("okta-keys-install-")
    run(["make", "-s", "--no-print-directory", "BUILD=" + BUILD, "install", "DESTDIR=" + d],
        cwd=ROOT, check=True, timeout=600)
    path = os.path.join(d, "usr/libexec/okta-sync/okta-sync-keys")
    st = os.stat(path)
    assert st.st_mode & 0o7777 == 0o755, "mode %o" % (st.st_mode & 0o7777)
    for p in (path, os.path.dirname(path)):
        st = os.stat(p)
        assert st.st_uid == 0 or os.geteuid() != 0, "%s is not root's" % p
        assert not st.st_mode & 0o022, "%s is writable by group or others" % p
    assert not os.path.exists(os.path.join(d, "usr/sbin/okta-sync-keys")), "also in sbin"
    shutil.rmtree(d, ignore_errors=True)


@case
def man_page_matches_help():
    oktatest.need(KEYS, "scdoc", "man")
    d = tmpdir("okta-keys-man-")
    page = os.path.join(d, "okta-sync-keys.8")
    with open(os.path.join(ROOT, "doc", "okta-sync-keys.8.scd")) as src, open(page, "w") as dst:
        subprocess.run(["scdoc"], stdin=src, stdout=dst, check=True)
    p = run(["man", "--warnings", "-l", page], env={"MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"})
    assert p.returncode == 0 and p.stderr.strip() == "", p.stderr
    text = re.sub(r".\x08", "", p.stdout)
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "SEE ALSO"):
        assert re.search(r"^%s$" % sec, text, re.M), "no %s section" % sec
    flat = " ".join(text.replace("\u2010", "-").split())
    for line in ("AuthorizedKeysCommand /usr/libexec/okta-sync/okta-sync-keys %u",
                 "AuthorizedKeysCommandUser nobody",
                 "put the policy in [pam] of okta-sync.conf"):
        assert line in flat, "the page does not show %r" % line
    helptext = run([KEYS, "--help"], check=True).stdout
    for opt in set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", helptext)):
        assert opt in flat, "okta-sync-keys.8 does not document %s" % opt
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
