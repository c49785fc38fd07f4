#!/usr/bin/env python3
"""test_tombstone.py - the snapshot remembers who is gone (issue 14, part 1;
Done-when 2).

Real syncs against the emulator; what they publish is read three ways: the
snapshot's 't' records with a small cdb walker written here (independent of
the C reader, so it checks the on-disk layout of snapshot_format.h), real
glibc NSS (getent in a private mount namespace) and real PAM (pamtester with
the documented stacking line, whose user_unknown=ignore would let a user
through to pam_permit).  Expiry is made testable without sleeping: the test
ages the tombstones in cache.db (left_at moved into the past) and syncs.
"""
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import case, main, ns_run, tmpdir, wait_until, write_nsswitch  # noqa: E402
from emulator import Emulator  # noqa: E402

MODULE = os.path.join(oktatest.BUILD, "pam_okta.so")
STACK = ("account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
         "account required pam_permit.so\n")
DAY = 86400
REMOVED, OUT_OF_SCOPE, DEPROVISIONED, REJECTED = 1, 2, 3, 4


def read_snapshot(path):
    """{"version": N, "tombstones": {name: {...}}, "users": set of names}
    straight from the cdb data section."""
    with open(path, "rb") as f:
        data = f.read()
    dend = struct.unpack_from("<I", data, 0)[0]
    pos, tombs, users, version = 2048, {}, set(), None
    while pos < dend:
        kl, vl = struct.unpack_from("<II", data, pos)
        k = data[pos + 8:pos + 8 + kl]
        v = data[pos + 8 + kl:pos + 8 + kl + vl]
        pos += 8 + kl + vl
        if k == b"M":
            version = struct.unpack_from("<I", v, 8)[0]
        elif k[:1] == b"p":
            users.add(k[1:].decode())
        elif k[:1] == b"t":
            uid, reason = struct.unpack_from("<IB", v, 0)
            left_at, expires = struct.unpack_from("<qq", v, 8)
            nl = struct.unpack_from("<H", v, 24)[0]
            name = v[26:26 + nl].decode()
            yl = struct.unpack_from("<H", v, 26 + nl)[0]
            why = v[28 + nl:28 + nl + yl].decode()
            assert name == k[1:].decode(), (k, name)
            assert 28 + nl + yl == len(v), "tombstone %s: %d bytes left over" % (name, len(v))
            tombs[name] = {"uid": uid, "reason": reason, "left_at": left_at,
                           "expires": expires, "why": why}
    return {"version": version, "tombstones": tombs, "users": users}


class Site:
    """An emulator org, a config (members_only of Eng, deprovisioned =
    remove, no deletion guard) and the namespace runner over its cache."""

    def __init__(self, emu, tmp, sync=None):
        self.emu = emu
        self.tmp = tmp
        s = {"groups": "Eng", "members_only": "yes", "deprovisioned": "remove",
             "max_delete": "none"}
        s.update(sync or {})
        # The host's real passwd and group are the local files, as glibc
        # resolves them inside the namespace.
        self.conf = sc.write_config(tmp, emu, sync=s, posix={
            "local_passwd": "/etc/passwd", "local_group": "/etc/group"})
        self.cache = sc.cache_dir(self.conf)
        self.nss = write_nsswitch(os.path.join(tmp, "nsswitch.conf"))
        self.pamd = os.path.join(tmp, "pam.d")
        shutil.copytree("/etc/pam.d", self.pamd, symlinks=True)
        with open(os.path.join(self.pamd, "okta-tomb"), "w") as f:
            f.write(STACK % MODULE)

    def sync(self, *args):
        p = sc.okta_sync(self.conf, *args)
        assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])
        return p

    def snap(self):
        return read_snapshot(os.path.join(self.cache, "snapshot.cdb"))

    def uids(self):
        return {u["name"]: u["uid"] for u in sc.snapshot(self.conf)["users"]}

    def db(self, sql, args=()):
        con = sqlite3.connect(os.path.join(self.cache, "cache.db"))
        try:
            with con:
                return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def sh(self, script):
        return ns_run(script, self.cache, nsswitch=self.nss,
                      extra_binds=[(self.pamd, "/etc/pam.d")], timeout=60)

    def getent(self, *keys):
        """{key: getent's exit status and output line} for passwd keys."""
        script = "; ".join("x=$(getent passwd %s); echo \"== %s $x rc=$?\"" % (k, k)
                           for k in keys)
        p = self.sh(script)
        out = {}
        for line in p.stdout.splitlines():
            if line.startswith("== "):
                k, rest = line[3:].split(" ", 1)
                out[k] = rest
        assert set(out) == set(str(k) for k in keys), p.stdout + p.stderr
        return out

    def pam(self, user):
        p = self.sh("pamtester okta-tomb %s acct_mgmt 2>&1; echo rc=$?" % user)
        return p.stdout + p.stderr


def org(emu):
    emu.add_group("Eng")
    for login in ("alice", "bob", "carol", "erin", "frank"):
        emu.add_user(login + "@example.com", groups=["Eng"])
    emu.add_user("dave@example.com")          # never in scope


def depart(emu):
    """alice deleted, bob out of scope, carol deprovisioned, erin rejected
    (renamed onto the local account "daemon"), frank stays."""
    emu.delete_user("alice@example.com")
    emu.remove_member("Eng", "bob@example.com")
    emu.set_status("carol@example.com", "DEPROVISIONED")
    # (set_profile's own first argument is called login.)
    emu._call("set_profile", login="erin@example.com",
              attrs={"login": "daemon@example.com"})


@case
def tombstones_are_written_and_never_resolve():
    oktatest.need_root("mount namespaces")
    oktatest.need("pamtester", MODULE)
    tmp = tmpdir("okta-tomb-")
    with Emulator() as emu:
        org(emu)
        s = Site(emu, tmp)
        s.sync()
        before = s.uids()
        assert set(before) == {"alice", "bob", "carol", "erin", "frank"}, before
        snap = s.snap()
        assert snap["version"] == 4 and snap["tombstones"] == {}, snap
        depart(emu)
        # The plan says who becomes a tombstone; a dry run writes none.
        p = s.sync("--dry-run")
        assert "tombstones: 4 new (users who leave the host; pam_okta denies " \
            "them for 30 days)" in p.stdout, p.stdout
        doc = sc.plan(s.conf, "--dry-run")
        assert doc["tombstones"] == {"new": 4, "days": 30}, doc.get("tombstones")
        assert s.snap()["tombstones"] == {}
        t0 = int(time.time())
        s.sync()
    snap = s.snap()
    tombs = snap["tombstones"]
    assert set(tombs) == {"alice", "bob", "carol", "erin"}, tombs
    assert snap["users"] == {"frank"}, snap["users"]
    # Under members_only the users come from the groups' member listings:
    # deleted (alice) and taken out of Eng (bob) both left the scope.
    want = {"alice": OUT_OF_SCOPE, "bob": OUT_OF_SCOPE, "carol": DEPROVISIONED,
            "erin": REJECTED}
    for name, reason in want.items():
        t = tombs[name]
        assert t["uid"] == before[name], (name, t, before)
        assert t["reason"] == reason, (name, t)
        assert t0 - 5 <= t["left_at"] <= t0 + 60, (name, t, t0)
        assert t["expires"] == t["left_at"] + 30 * DAY, (name, t)
    assert "daemon" in tombs["erin"]["why"], tombs["erin"]
    assert "synced groups" in tombs["bob"]["why"], tombs["bob"]
    # NSS never serves a tombstone: not by name, not by UID.
    keys = ["alice", "bob", "carol", "erin", str(before["alice"]), str(before["bob"])]
    got = s.getent(*keys, "frank")
    for k in keys:
        assert got[k].endswith("rc=2"), "getent passwd %s resolved a tombstone: %s" % (k, got[k])
    assert got["frank"].startswith("frank:*:%d:" % before["frank"]), got["frank"]
    # PAM denies a tombstone (the stacking line would ignore PAM_USER_UNKNOWN
    # and let pam_permit admit her) and tells the user why.
    out = s.pam("alice")
    assert "Your Okta account no longer grants access to this host." in out, out
    assert "pamtester: User account has expired\nrc=1" in out, out
    out = s.pam("frank")
    assert "account management done.\nrc=0" in out, out
    # A local account is never judged, whatever the snapshot says: root,
    # and "daemon" (erin's new name was rejected; daemon is no tombstone).
    out = s.pam("root")
    assert "account management done.\nrc=0" in out, out
    # dave was never on the host: no tombstone, left to the stack.
    out = s.pam("dave")
    assert "account management done.\nrc=0" in out, out
    # status counts them.
    p = oktatest.run([oktatest.OKTA_SYNC, "-c", s.conf, "status"], check=True)
    assert "tombstones:" in p.stdout and " 4 (users who left the host" in p.stdout, p.stdout
    shutil.rmtree(tmp, ignore_errors=True)


@case
def removed_from_okta_without_members_only():
    """Every user synced (no [sync] groups): one deleted in Okta is a
    tombstone "removed from Okta" with the plan's own reason."""
    oktatest.need_root("mount namespaces")
    tmp = tmpdir("okta-tomb-del-")
    with Emulator() as emu:
        org(emu)
        s = Site(emu, tmp, sync={"groups": None, "members_only": None})
        s.sync()
        uid = s.uids()["alice"]
        emu.delete_user("alice@example.com")
        s.sync()
    tombs = s.snap()["tombstones"]
    assert set(tombs) == {"alice"}, tombs
    assert tombs["alice"]["reason"] == REMOVED and tombs["alice"]["uid"] == uid, tombs
    assert tombs["alice"]["why"] == "no longer in Okta (deleted, or not visible to the token)"
    assert s.getent("alice")["alice"].endswith("rc=2")
    assert "User account has expired" in s.pam("alice")
    shutil.rmtree(tmp, ignore_errors=True)


@case
def tombstones_expire_after_their_time():
    """Aged in cache.db, no sleeping: one day short of expiry a tombstone is
    still published; past it, the next sync drops it from the snapshot and
    from cache.db.  [sync] tombstone_days sets the time."""
    oktatest.need_root("mount namespaces")
    tmp = tmpdir("okta-tomb-exp-")
    with Emulator() as emu:
        org(emu)
        s = Site(emu, tmp, sync={"tombstone_days": "3"})
        s.sync()
        depart(emu)
        s.sync()
        assert set(s.snap()["tombstones"]) == {"alice", "bob", "carol", "erin"}
        left = {n: t["left_at"] for n, t in s.snap()["tombstones"].items()}
        assert all(t["expires"] == t["left_at"] + 3 * DAY
                   for t in s.snap()["tombstones"].values()), s.snap()
        # alice: 2 days and 23 hours ago (kept); bob: 3 days and a minute
        # ago (expired).
        s.db("UPDATE tombstones SET left_at = left_at - ? WHERE name = 'alice'",
             (3 * DAY - 3600,))
        s.db("UPDATE tombstones SET left_at = left_at - ? WHERE name = 'bob'",
             (3 * DAY + 60,))
        s.sync()
    tombs = s.snap()["tombstones"]
    assert set(tombs) == {"alice", "carol", "erin"}, tombs
    assert tombs["alice"]["left_at"] == left["alice"] - (3 * DAY - 3600), tombs
    assert s.db("SELECT count(*) FROM tombstones WHERE name = 'bob'") == [(0,)]
    # The expired tombstone does not come back, and NSS still does not know bob.
    got = s.getent("bob")
    assert got["bob"].endswith("rc=2"), got
    # Out of its time, bob is left to the rest of the stack again.
    out = s.pam("bob")
    assert "account management done.\nrc=0" in out, out
    shutil.rmtree(tmp, ignore_errors=True)


@case
def check_config_bounds_tombstone_days():
    tmp = tmpdir("okta-tomb-conf-")
    for value, ok in (("0", False), ("1", True), ("30", True), ("3650", True),
                      ("3651", False), ("1d", False), ("-5", False)):
        conf = sc.write_config(os.path.join(tmp, value), None, okta={
            "domain": "example.okta.com"}, token="x" * 40, sync={"tombstone_days": value})
        p = oktatest.run([oktatest.OKTA_SYNC, "-c", conf, "check-config"])
        if ok:
            assert p.returncode == 0, (value, p.stdout, p.stderr)
        else:
            assert p.returncode != 0 and "tombstone_days must be a number of days " \
                "between 1 and 3650" in p.stderr + p.stdout, (value, p.stdout, p.stderr)
    shutil.rmtree(tmp, ignore_errors=True)


def generation(s):
    return sc.snapshot(s.conf)["meta"]["generation"]


def start_daemon(s, log):
    f = open(log, "a")
    proc = subprocess.Popen([oktatest.OKTA_SYNCD, "-c", s.conf, "--interval", "1"],
                            stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    f.close()
    return proc


def stop_daemon(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise AssertionError("okta-syncd did not stop on SIGTERM")


@case
def tombstones_survive_a_daemon_restart():
    """okta-syncd makes the tombstone (bob taken out of Eng), is stopped and
    started again: its next publishes still carry bob's tombstone, with the
    same UID and time, and NSS still does not serve him."""
    oktatest.need_root("mount namespaces")
    oktatest.need(oktatest.OKTA_SYNCD)
    tmp = tmpdir("okta-tomb-daemon-")
    log = os.path.join(tmp, "okta-syncd.log")
    proc = None
    with Emulator() as emu:
        org(emu)
        s = Site(emu, tmp)
        s.sync()
        bob_uid = s.uids()["bob"]
        emu.remove_member("Eng", "bob@example.com")
        try:
            proc = start_daemon(s, log)
            wait_until(lambda: "bob" in s.snap()["tombstones"], timeout=60,
                       what="okta-syncd to publish bob's tombstone")
            first = s.snap()["tombstones"]["bob"]
            stop_daemon(proc)
            gen = generation(s)
            proc = start_daemon(s, log)
            wait_until(lambda: generation(s) >= gen + 2, timeout=60,
                       what="two publishes of the restarted okta-syncd")
            stop_daemon(proc)
        finally:
            if proc is not None:
                stop_daemon(proc)
    tombs = s.snap()["tombstones"]
    assert tombs.get("bob") == first, (tombs, first)
    assert first["uid"] == bob_uid and first["reason"] == OUT_OF_SCOPE, first
    got = s.getent("bob")
    assert got["bob"].endswith("rc=2"), got
    out = s.pam("bob")
    assert "User account has expired" in out, out
    shutil.rmtree(tmp, ignore_errors=True)


@case
def a_returning_user_gets_the_old_uid_and_is_no_tombstone():
    """Rule 4: bob back in Eng, carol active again: both resolve with the
    UID they had, and neither is a tombstone any more."""
    oktatest.need_root("mount namespaces")
    tmp = tmpdir("okta-tomb-back-")
    with Emulator() as emu:
        org(emu)
        s = Site(emu, tmp)
        s.sync()
        before = s.uids()
        depart(emu)
        s.sync()
        assert {"bob", "carol"} <= set(s.snap()["tombstones"])
        emu.add_member("Eng", "bob@example.com")
        emu.set_status("carol@example.com", "ACTIVE")
        s.sync("--full")
    snap = s.snap()
    assert set(snap["tombstones"]) == {"alice", "erin"}, snap["tombstones"]
    assert {"bob", "carol"} <= snap["users"], snap["users"]
    after = s.uids()
    assert after["bob"] == before["bob"] and after["carol"] == before["carol"], (before, after)
    assert s.db("SELECT name FROM tombstones ORDER BY name") == [("alice",), ("erin",)]
    got = s.getent("bob", "carol")
    assert got["bob"].startswith("bob:*:%d:" % before["bob"]), got
    assert got["carol"].startswith("carol:*:%d:" % before["carol"]), got
    out = s.pam("bob")
    assert "account management done.\nrc=0" in out, out
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
