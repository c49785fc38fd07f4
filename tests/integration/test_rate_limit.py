"""test_rate_limit - rate-limit manners (issue 5, Done-when 4): with a limit
of 50 requests per window and [sync] rate_limit_reserve = 20 %, a sync that
needs well over 50 requests succeeds without the emulator ever seeing
X-Rate-Limit-Remaining drop below 10 and without a single 429: the client
waits for the window's reset (measured against the server's Date) before a
request would eat into the reserve."""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import OKTA_SYNC, case, main, tmpdir, wait_until  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402


def polite_sync(reserve_conf, clock_skew=0):
    # 300 users in 80 small groups: 3 user pages, 1 group page and 80
    # member listings, 84 requests against a limit of 50 per window.
    org = make_org(nusers=300, ngroups=80, memberships_per_user=1, seed=11)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, sync=reserve_conf)
            if clock_skew:
                emu.set_clock_skew(clock_skew)
            emu.set_rate_limit(50, window_seconds=3)
            emu.reset_requests()
            doc = sc.plan(conf)
            assert doc["result"]["ok"] is True, doc["result"]
            n = len(emu.requests())
            assert n > 80, n
            assert doc["counts"]["users"]["added"] == 300, doc["counts"]
            assert emu.count_429() == 0, emu.count_429()
            low = emu.min_remaining()
            assert low is not None and low >= 10, low
            # The result is the whole org.
            assert doc["counts"]["groups"]["added"] == 80, doc["counts"]
            assert len(sc.snapshot(conf)["users"]) == 300
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def reserve_20_percent_of_50():
    """Done-when 4: Remaining never below 10, never a 429."""
    polite_sync({"rate_limit_reserve": "20%"})


@case
def reserve_is_the_default():
    """20 % is the default reserve."""
    polite_sync({})


@case
def reserve_against_a_skewed_server_clock():
    """The reset is measured against the server's Date, not our clock: a
    server clock an hour ahead changes nothing."""
    polite_sync({"rate_limit_reserve": "20%"}, clock_skew=3600)


def stopped_while_waiting(prepare, waiting):
    """Start a sync, let prepare(emu) make it wait, SIGTERM it once
    waiting(emu) holds: it must end long before the wait would (the emulator
    makes it a minute), as interrupted, with nothing changed."""
    org = make_org(nusers=300, ngroups=10, seed=12)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sc.plan(conf)
            cache = sc.cache_dir(conf)
            before = sc.hash_dir(cache)
            prepare(emu)
            emu.reset_requests()
            proc = subprocess.Popen([OKTA_SYNC, "-c", conf, "sync"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            try:
                wait_until(lambda: waiting(emu), timeout=30, what="the sync to wait")
                proc.send_signal(signal.SIGTERM)
                out, err = proc.communicate(timeout=20)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            assert proc.returncode not in (0, 3), (proc.returncode, err)
            assert "stopped" in err, err
            assert "nothing was changed" in err, err
            assert sc.hash_dir(cache) == before
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def sigterm_ends_a_slow_request():
    """A request that hangs is abandoned at once on SIGTERM."""
    stopped_while_waiting(
        lambda emu: emu.fault("slow", path="/api/v1/groups", count=1, delay=60),
        lambda emu: any("/api/v1/groups" in r[1] for r in emu.requests()))


@case
def sigterm_ends_a_rate_limit_wait():
    """A wait for the rate limit's reset ends at once on SIGTERM."""
    stopped_while_waiting(
        lambda emu: emu.set_rate_limit(5, window_seconds=60),
        lambda emu: len(emu.requests()) >= 4)


if __name__ == "__main__":
    main()
