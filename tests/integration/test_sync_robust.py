"""Robustness of the sync against its own kind: two syncs started at once
(issue 5, Done-when 6) and kill -9 at random points during a sync
(Done-when 9): the cache always passes PRAGMA integrity_check and the
snapshot is always whole, the old one or the new one."""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
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


@case
def kill_9_at_20_points_leaves_cache_and_snapshot_whole():
    t = tmpdir()
    rng = random.Random(20261128)
    org = make_org(nusers=1500, ngroups=30, seed=9)
    logins = [u["profile"]["login"] for u in org["users"] if u["status"] == "ACTIVE"]
    with Emulator(org) as emu:
        conf = sc.setup(t, emu)
        p = sc.okta_sync(conf)
        assert p.returncode == 0, p.stderr
        # How long a sync that has something to apply takes once the cache
        # exists: the span the kill points are drawn from.
        emu.set_profile(logins[-1], firstName="Measured")
        t0 = time.monotonic()
        p = sc.okta_sync(conf)
        duration = time.monotonic() - t0
        assert p.returncode == 0, p.stderr
        seen = {}                       # generation -> snapshot dump
        snap = sc.snapshot(conf)
        seen[snap["meta"]["generation"]] = snap
        kills = 0
        for i in range(20):
            # Something to apply each time, so the kill can land in the
            # apply and publish steps too.
            emu.set_profile(logins[i], firstName="Changed%d" % i)
            proc = start_sync(conf)
            # A random point in the sync's life; one that finishes first
            # (a loaded machine) is fine, as long as most are killed.
            try:
                proc.communicate(timeout=rng.uniform(0.0, duration * 0.95))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                kills += 1
                proc.communicate(timeout=60)
            assert integrity(conf) == "ok", "cache.db corrupt after kill %d" % i
            snap = sc.snapshot(conf)     # snapdump fails on a torn file
            meta = snap["meta"]
            assert meta["nusers"] == len(snap["users"]), meta
            assert meta["ngroups"] == len(snap["groups"]), meta
            g = meta["generation"]
            # The snapshot is the last one published: the cache's
            # generation, or behind it when kills fell between a commit
            # and its rename (twice in a row puts it two behind); the
            # next sync that runs to its end republishes in full.
            assert 0 <= cache_generation(conf) - g, (cache_generation(conf), g)
            if g in seen:
                assert snap == seen[g], "generation %d changed content" % g
            else:
                seen[g] = snap
        assert kills >= 10, "only %d of 20 syncs were killed mid-way" % kills
        # Recovery: the next sync succeeds and publishes what a fresh cache
        # would hold.
        p = sc.okta_sync(conf)
        assert p.returncode == 0, p.stderr
        assert integrity(conf) == "ok"
        final = sc.snapshot(conf)
        assert cache_generation(conf) == final["meta"]["generation"]
        fresh = sc.setup(tmpdir(), emu)
        assert sc.okta_sync(fresh).returncode == 0
        want = sc.snapshot(fresh)
        assert final["users"] == want["users"]
        assert final["groups"] == want["groups"]
        leftovers = [n for n in os.listdir(sc.cache_dir(conf))
                     if n not in ("cache.db", "cache.db-wal", "cache.db-shm",
                                  "snapshot.cdb", "sync.lock")]
        assert not leftovers, "files left behind by killed syncs: %s" % leftovers


if __name__ == "__main__":
    main()
