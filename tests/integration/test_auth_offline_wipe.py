#!/usr/bin/env python3
"""test_auth_offline_wipe.py - the sync wipes offline credentials (issue 11,
Done-when 3, last item; DESIGN.md rule 9).

An offline credential (syncd/auth/offline.h) is a yescrypt hash of a user's
password in cache.db's offline_creds, keyed by the Okta user ID.  Here it
is stored by tests/tools/offline_seed, which calls the real offline_store
(the login path that stores it after an online login is the broker's, and
tested with it).  Then the user changes in the emulator, the real
`okta-sync sync` runs, and the test reads cache.db and
`okta-sync show user`: the row of a user suspended, deprovisioned, locked
out, removed from Okta, or whose passwordChanged moved is gone; the row of
a user nothing happened to stays, through full and incremental syncs, and okta-syncd's System Log follower
(which applies through the same sync) wipes too.
"""
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, case, main, run, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

SEED = os.path.join(oktatest.BUILD, "tests", "offline_seed")
PASSWORD = "Tr0ub4dor&3 offline"
LOGINS = ("jane@example.com", "bob@example.com", "carl@example.com")


class Site:
    """An emulator org with jane, bob and carl, a config, and a first sync."""

    def __init__(self, emu, tmp):
        oktatest.need(SEED)
        self.emu = emu
        self.ids = {}
        for login in LOGINS:
            self.ids[sc.username(login)] = emu.add_user(login)
        self.conf = sc.setup(tmp, emu)
        self.cache = sc.cache_dir(self.conf)
        self.sync("--full")

    def sync(self, *args):
        p = sc.okta_sync(self.conf, *args)
        assert p.returncode == 0, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
        return p

    def seed(self, name):
        p = run([SEED, self.cache, self.ids[name]], input=PASSWORD + "\n")
        assert p.returncode == 0, (p.stdout, p.stderr)

    def stored(self):
        """{name: hash} of the offline_creds rows."""
        by_id = {v: k for k, v in self.ids.items()}
        rows = sc.db_rows(self.conf, "SELECT okta_id, hash FROM offline_creds")
        return {by_id.get(i, i): h for i, h in rows}

    def show(self, name):
        p = run([OKTA_SYNC, "-c", self.conf, "show", "user", name])
        assert p.returncode == 0, (p.stdout, p.stderr)
        lines = [" ".join(ln.split()) for ln in p.stdout.splitlines()
                 if "offline credential:" in ln]
        assert len(lines) == 1, p.stdout
        return lines[0]


def in_site(prefix, fn):
    tmp = tmpdir(prefix)
    try:
        with Emulator(make_org(nusers=2, ngroups=1, seed=111, statuses=False)) as emu:
            fn(Site(emu, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def seed_all(s):
    for name in ("jane", "bob", "carl"):
        s.seed(name)
    got = s.stored()
    assert set(got) == {"jane", "bob", "carl"}, got
    for h in got.values():
        assert h.startswith("$y$") and PASSWORD not in h, h


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 5))


# ---- Cases -----------------------------------------------------------------

@case
def seeded_hash_survives_syncs_and_show_says_so():
    """Nothing happened to anyone: full and incremental syncs keep every
    hash, and `show user` prints when it was stored."""
    def body(s):
        seed_all(s)
        before = s.stored()
        s.sync("--full")
        s.sync("--incremental")
        s.sync()
        assert s.stored() == before, (s.stored(), before)
        # Users changed long ago (before the rest of the org): an
        # incremental sync does not fetch them again but takes them,
        # passwordChanged included, from the cache.
        for login in LOGINS:
            s.emu.set_user(login, lastUpdated="2020-01-01T00:00:00.000Z")
        s.sync("--full")
        doc = sc.plan(s.conf, "--incremental")
        assert doc["result"]["mode"] == "incremental", doc["result"]
        assert s.stored() == before, (s.stored(), before)
        line = s.show("jane")
        assert line.startswith("offline credential: stored 20"), line
        assert line.endswith(" UTC"), line
        assert PASSWORD not in line
    in_site("okta-offwipe-keep-", body)


@case
def suspended_user_hash_wiped():
    """Done-when 3: after the user is suspended and a sync runs, the hash
    is gone from cache.db; the others' stay."""
    def body(s):
        seed_all(s)
        s.emu.set_status("jane@example.com", "SUSPENDED")
        p = s.sync("--incremental")
        assert set(s.stored()) == {"bob", "carl"}, s.stored()
        assert "wiped 1 offline credential" in p.stderr, p.stderr[-2000:]
        assert s.show("jane") == "offline credential: none", s.show("jane")
        assert s.show("bob").startswith("offline credential: stored ")
        # Unsuspended, the hash does not come back (a new online login
        # stores one).
        s.emu.set_status("jane@example.com", "ACTIVE")
        s.sync("--full")
        assert set(s.stored()) == {"bob", "carl"}, s.stored()
    in_site("okta-offwipe-susp-", body)


@case
def deprovisioned_and_locked_out_hashes_wiped():
    def body(s):
        seed_all(s)
        s.emu.set_status("jane@example.com", "DEPROVISIONED")
        s.emu.set_status("bob@example.com", "LOCKED_OUT")
        s.sync("--incremental")
        assert set(s.stored()) == {"carl"}, s.stored()
        assert s.show("bob") == "offline credential: none"
    in_site("okta-offwipe-deprov-", body)


@case
def password_changed_moved_hash_wiped():
    """passwordChanged moved in Okta (the user changed or was given a new
    password): that user's hash goes, seen by an incremental sync (Okta
    bumps lastUpdated with it) and by a full one."""
    def body(s):
        seed_all(s)
        t = now_iso()
        s.emu.set_user("jane@example.com", passwordChanged=t, lastUpdated=t)
        s.sync("--incremental")
        assert set(s.stored()) == {"bob", "carl"}, s.stored()
        got = sc.db_rows(s.conf, "SELECT password_changed FROM users"
                         " WHERE okta_id = ?", (s.ids["jane"],))
        assert got == [(t,)], got
        # Without a lastUpdated bump only a full sync sees it.
        s.emu.set_user("bob@example.com", passwordChanged="2030-01-01T00:00:00.000Z")
        s.sync("--full")
        assert set(s.stored()) == {"carl"}, s.stored()
    in_site("okta-offwipe-pwchg-", body)


@case
def removed_user_hash_wiped():
    """Deleted in Okta (a full sync sees it; the user becomes a
    tombstone): the hash goes with the user."""
    def body(s):
        seed_all(s)
        s.emu.delete_user("jane@example.com")
        s.sync("--full", "--force")     # 1 of 5 users: over max_delete
        assert set(s.stored()) == {"bob", "carl"}, s.stored()
        rows = sc.db_rows(s.conf, "SELECT okta_id FROM tombstones")
        assert (s.ids["jane"],) in rows, rows
    in_site("okta-offwipe-del-", body)


@case
def dry_run_wipes_nothing():
    """A dry run changes no byte of cache.db, offline_creds included."""
    def body(s):
        seed_all(s)
        s.emu.set_status("jane@example.com", "SUSPENDED")
        p = sc.okta_sync(s.conf, "--dry-run")
        assert p.returncode == 0, p.stderr
        assert set(s.stored()) == {"jane", "bob", "carl"}, s.stored()
        s.sync()
        assert set(s.stored()) == {"bob", "carl"}, s.stored()
    in_site("okta-offwipe-dry-", body)


# okta-syncd's log line for a scheduled (or start-up) sync, as
# test_events.py reads it; the follower's runs do not print it.
SCHEDULED_SYNC = r"sync ok \((?:incremental|full)\)"


def events_config(tmp, emu):
    """Events on with a 1 s interval, the schedules twelve hours away:
    after the start-up sync only the System Log follower runs."""
    h = (time.gmtime().tm_hour + 12) % 24
    return sc.setup(tmp, emu, sync={
        "schedule": "0 %d * * *" % h, "full_sync_schedule": "30 %d * * *" % h,
        "events": "yes", "event_interval": "1s"})


@case
def events_follower_wipes_suspended_hash():
    """okta-syncd following the System Log (no scheduled sync in
    between) wipes the hash of a user suspended in Okta, and only it."""
    oktatest.need(oktatest.OKTA_SYNCD, SEED)
    tmp = tmpdir("okta-offwipe-ev-")
    log_path = os.path.join(tmp, "okta-syncd.log")
    proc = None

    def log():
        with open(log_path, errors="replace") as f:
            return f.read()

    def rows(cache):
        con = sqlite3.connect(os.path.join(cache, "cache.db"), timeout=10)
        try:
            return {r[0] for r in con.execute("SELECT okta_id FROM offline_creds")}
        finally:
            con.close()
    try:
        with Emulator(make_org(nusers=2, ngroups=1, seed=112, statuses=False)) as emu:
            ids = {sc.username(lg): emu.add_user(lg) for lg in LOGINS}
            conf = events_config(tmp, emu)
            cache = sc.cache_dir(conf)
            env = {k: v for k, v in os.environ.items() if k not in (
                "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                "OKTA_SYNCD_TEST_INTERVAL")}
            with open(log_path, "w") as lf:
                proc = subprocess.Popen([oktatest.OKTA_SYNCD, "-c", conf],
                                        stdin=subprocess.DEVNULL, stdout=lf,
                                        stderr=subprocess.STDOUT, env=env)
            oktatest.wait_until(lambda: re.search(SCHEDULED_SYNC, log())
                                or proc.poll() is not None, timeout=60,
                                what="okta-syncd's start-up sync")
            assert proc.poll() is None, log()
            for name in ("jane", "bob"):
                p = run([SEED, cache, ids[name]], input=PASSWORD + "\n")
                assert p.returncode == 0, p.stderr
            assert rows(cache) == {ids["jane"], ids["bob"]}
            syncs = len(re.findall(SCHEDULED_SYNC, log()))
            emu.set_status("jane@example.com", "SUSPENDED")
            try:
                oktatest.wait_until(lambda: ids["jane"] not in rows(cache),
                                    timeout=30, interval=0.2,
                                    what="the follower to wipe jane's hash")
            except AssertionError as e:
                raise AssertionError("%s\nlog:\n%s" % (e, log())) from None
            assert rows(cache) == {ids["bob"]}, rows(cache)
            assert len(re.findall(SCHEDULED_SYNC, log())) == syncs, log()
            assert "wiped 1 offline credential" in log(), log()
            assert PASSWORD not in log()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
