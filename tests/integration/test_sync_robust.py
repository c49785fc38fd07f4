"""Robustness of the sync against its own kind: two syncs started at once
(issue 5, Done-when 6) and kill -9 at each of the sync's kill points
(common/crashpoint.h: before the cache commit, after it, before the
snapshot's rename, after it): the cache always passes PRAGMA
integrity_check, the snapshot is the old one or the new one as each point
requires, and the next sync brings the snapshot level with the cache."""
import os
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, case, main, tmpdir, wait_until  # noqa: E402
from emulator import Emulator, make_org  # noqa: E402


def integrity(conf):
    path = os.path.join(sc.cache_dir(conf), "cache.db")
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def cache_generation(conf):
    path = os.path.join(sc.cache_dir(conf), "cache.db")
    con = sqlite3.connect(path)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def start_sync(conf, *args):
    return subprocess.Popen([OKTA_SYNC, "-c", conf, "sync"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@case
def two_syncs_at_once_one_runs_the_other_says_so():
    t = tmpdir()
    org = make_org(nusers=300, ngroups=10, seed=3)
    login = [u["profile"]["login"] for u in org["users"] if u["status"] == "ACTIVE"][0]
    with Emulator(org) as emu:
        conf = sc.setup(t, emu)
        # The first sync stalls on its first groups page, holding the lock.
        emu.fault("slow", path="/api/v1/groups", count=1, delay=4)
        first = start_sync(conf)
        try:
            wait_until(lambda: any("/api/v1/groups" in r[1] for r in emu.requests()),
                       timeout=30, what="the first sync to reach the groups")
            second = sc.okta_sync(conf)
            assert second.returncode == 75, (second.returncode, second.stderr)
            assert "another okta-sync sync or okta-syncd is running (pid %d)" % first.pid \
                in second.stderr, second.stderr
            out, err = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 0, err
        assert integrity(conf) == "ok"
        snap = sc.snapshot(conf)
        assert snap["meta"]["generation"] == 1
        # --wait queues behind the running sync instead of giving up.
        emu.set_profile(login, firstName="Queued")
        emu.reset_requests()
        emu.fault("slow", path="/api/v1/groups", count=1, delay=3)
        first = start_sync(conf)
        wait_until(lambda: any("/api/v1/groups" in r[1] for r in emu.requests()),
                   timeout=30, what="the sync to reach the groups again")
        waited = sc.okta_sync(conf, "--wait")
        first.communicate(timeout=120)
        assert first.returncode == 0
        assert waited.returncode == 0, waited.stderr
        assert integrity(conf) == "ok"
        assert sc.snapshot(conf)["meta"]["generation"] == 3


# The test-hook build (make TEST_HOOKS=1 BUILD=build/hooks, which make
# check makes): the same okta-sync with the kill points of
# common/crashpoint.h compiled in.
HOOKED = os.path.join(os.environ.get("OKTA_HOOKS_BUILD") or
                      os.path.join(oktatest.ROOT, "build", "hooks"), "okta-sync")

# Each kill point, and what it must leave: whether cache.db holds the new
# generation, and whether the published snapshot does.
KILL_POINTS = (
    ("before-commit", False, False),
    ("after-commit", True, False),
    ("before-rename", True, False),
    ("after-rename", True, True),
)


def killed_at(conf, point):
    """Run the hooked okta-sync sync with the kill point armed; it must die
    of SIGKILL there."""
    p = oktatest.run([HOOKED, "-c", conf, "sync"], env={"OKTA_SYNC_CRASH_AT": point},
                     timeout=300)
    assert p.returncode == -signal.SIGKILL, \
        "okta-sync was not killed at %s (exit %d):\n%s" % (point, p.returncode, p.stderr)


def whole(conf):
    """The snapshot (read by the real reader, which refuses a torn file),
    after checking cache.db's integrity."""
    assert integrity(conf) == "ok"
    snap = sc.snapshot(conf)
    meta = snap["meta"]
    assert meta["nusers"] == len(snap["users"]) and meta["ngroups"] == len(snap["groups"]), meta
    return snap


def gecos_of(snap, name):
    return sc.snap_users(snap)[name]["gecos"]


@case
def kill_9_at_each_point_leaves_old_or_new_and_the_next_sync_repairs():
    oktatest.need(HOOKED)
    t = tmpdir()
    org = make_org(nusers=300, ngroups=10, seed=9, statuses=False)
    login = org["users"][0]["profile"]["login"]
    with Emulator(org) as emu:
        conf = sc.setup(t, emu)
        p = sc.okta_sync(conf)
        assert p.returncode == 0, p.stderr
        name = sc.username(login)
        for n, (point, cache_new, snap_new) in enumerate(KILL_POINTS):
            old = whole(conf)
            g = old["meta"]["generation"]
            assert cache_generation(conf) == g
            emu.set_profile(login, firstName="Kill%d" % n, lastName="Point")
            killed_at(conf, point)
            snap = whole(conf)
            assert cache_generation(conf) == (g + 1 if cache_new else g), \
                (point, cache_generation(conf), g)
            if snap_new:
                assert snap["meta"]["generation"] == g + 1, (point, snap["meta"])
                assert gecos_of(snap, name).startswith("Kill%d Point" % n), (point, gecos_of(snap, name))
            else:
                assert snap == old, "the snapshot changed after a kill at %s" % point
            # The next sync, not killed, publishes what the cache holds.
            p = sc.okta_sync(conf)
            assert p.returncode == 0, p.stderr
            snap = whole(conf)
            assert snap["meta"]["generation"] == cache_generation(conf), (point, snap["meta"])
            assert gecos_of(snap, name).startswith("Kill%d Point" % n), (point, gecos_of(snap, name))
            leftovers = [f for f in os.listdir(sc.cache_dir(conf))
                         if f not in ("cache.db", "cache.db-wal", "cache.db-shm",
                                      "snapshot.cdb", "sync.lock")]
            assert not leftovers, "files left behind after a kill at %s: %s" % (point, leftovers)
        # Two kills in a row after the commit leave the snapshot two
        # generations behind; one good sync brings it level again.
        g = whole(conf)["meta"]["generation"]
        for i in range(2):
            emu.set_profile(login, firstName="Twice%d" % i)
            killed_at(conf, "after-commit")
        assert cache_generation(conf) == g + 2 and whole(conf)["meta"]["generation"] == g
        p = sc.okta_sync(conf)
        assert p.returncode == 0, p.stderr
        final = whole(conf)
        assert final["meta"]["generation"] == cache_generation(conf) == g + 3
        # And it holds what a fresh sync of the same org would publish.
        fresh = sc.setup(tmpdir(), emu)
        assert sc.okta_sync(fresh).returncode == 0
        want = sc.snapshot(fresh)
        assert final["users"] == want["users"]
        assert final["groups"] == want["groups"]


if __name__ == "__main__":
    main()
