"""test_sync_faults - Okta misbehaving during a sync (issue 2, Done-when 6):
a 429 with a reset time is waited out and a 500 retried, and the sync
completes; truncated JSON, a reset connection, a Link loop, a wrong content
type or a 401 in the middle of a sync fail it with a clear message, and the
cache directory (cache.db and the snapshot) is byte-for-byte unchanged."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

ORG = make_org(nusers=450, ngroups=6, seed=11, statuses=False)


class Env:
    """One emulator and one synced cache shared by the cases."""
    emu = None
    conf = None
    tmp = None


def env():
    if Env.emu is None:
        Env.tmp = tmpdir()
        Env.emu = Emulator(ORG)
        Env.conf = sc.setup(Env.tmp, Env.emu)
        sc.plan(Env.conf)
    Env.emu.clear_faults()
    Env.emu.reset_requests()
    return Env.emu, Env.conf


def fails_cleanly(kind, path, count, words):
    """Inject the fault, run a sync that changes something, and check that
    it fails with a message holding one of `words` and changes nothing."""
    emu, conf = env()
    # A change waits in Okta, so that a sync that wrongly went through
    # would alter the cache.
    emu.add_user("pending.%s@example.com" % kind, firstName="Pending", lastName=kind)
    cache = sc.cache_dir(conf)
    before = sc.hash_dir(cache)
    emu.fault(kind, path=path, count=count)
    p = sc.okta_sync(conf)
    emu.clear_faults()
    assert p.returncode not in (0, 3, 75, 78), (p.returncode, p.stdout[-500:], p.stderr)
    err = p.stderr.lower()
    assert any(w in err for w in words), p.stderr
    assert "nothing was changed" in err, p.stderr
    assert sc.hash_dir(cache) == before, "the failed sync changed the cache dir"
    with open(os.path.join(cache, sc.ERRORS_LOG)) as f:
        assert f.read().strip(), "the failure was not recorded for okta-sync status"
    assert emu.token not in p.stdout + p.stderr
    # And the next sync, without the fault, applies the change.
    doc = sc.plan(conf)
    assert doc["counts"]["users"]["added"] == 1, doc["counts"]


@case
def rate_limited_429_waits_and_completes():
    """A 429 is waited out until the reset it announced, and no request
    comes before then.  With no rate-limit reserve, so that the wait after
    the 429 itself is what is tested (the reserve would also hold back a
    request on a bucket whose Remaining is 0)."""
    emu, _ = env()
    tmp = tmpdir("okta-429-")
    try:
        conf = sc.setup(tmp, emu, sync={"rate_limit_reserve": "0%"})
        emu.reset_requests()
        emu.fault("429", path="/api/v1/users", count=1, delay=2)
        doc = sc.plan(conf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert doc["result"]["ok"] is True
    assert doc["counts"]["users"]["added"] == len(ORG["users"]), doc["counts"]
    reqs = emu.requests()
    statuses = [s for (_, path, s) in reqs if path.startswith("/api/v1/users")]
    assert 429 in statuses, reqs[:5]
    i = statuses.index(429)
    assert statuses[i + 1] == 200, statuses
    # The emulator answers 429 again to anything before the announced
    # reset, and counts it: a client that did not wait fails here.
    assert emu.early_requests() == 0, "requests before the announced reset: %d" % emu.early_requests()
    assert emu.count_429() == 1, emu.count_429()


@case
def per_token_429_with_plenty_remaining_waits_for_the_reset():
    """A 429 while the headers still show plenty left (a token or OAuth app
    capped at a share of the org's limit): the sync says so, waits for the
    reset, makes no early request, and completes."""
    emu, _ = env()
    tmp = tmpdir("okta-429-")
    try:
        conf = sc.setup(tmp, emu, sync={"rate_limit_reserve": "0%"})
        emu.reset_requests()
        emu.fault("429", path="/api/v1/groups", count=1, delay=2, remaining=450)
        p = sc.okta_sync(conf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert p.returncode == 0, p.stderr
    assert "429 although 450 of 500 requests are left" in p.stderr, p.stderr
    assert "smaller limit of its own" in p.stderr, p.stderr
    assert emu.early_requests() == 0 and emu.count_429() == 1, emu.stats()


@case
def server_error_500_is_retried():
    emu, conf = env()
    emu.fault("500", path="/api/v1/groups", count=2)
    doc = sc.plan(conf)
    assert doc["result"]["ok"] is True
    statuses = [s for (_, _, s) in emu.requests()]
    assert statuses.count(500) == 2, statuses


@case
def truncated_json_fails_cleanly():
    fails_cleanly("truncated", "/api/v1/groups", 20, ("understood", "json", "protocol"))


@case
def reset_connection_fails_cleanly():
    fails_cleanly("reset", "/api/v1/users", 50, ("understood", "reset", "connect", "protocol"))


@case
def link_loop_fails_cleanly():
    fails_cleanly("link_loop", "/api/v1/users", 1, ("loop", "understood"))


@case
def wrong_content_type_fails_cleanly():
    fails_cleanly("content_type", "/api/v1/groups", 20, ("content", "understood"))


@case
def unauthorized_mid_sync_fails_cleanly():
    # The member listings come last: a 401 there is "mid-sync".
    emu, _ = env()
    gid = emu.group_id("Sales")
    fails_cleanly("401", "/api/v1/groups/%s/users" % gid, 1, ("401", "token"))


if __name__ == "__main__":
    try:
        main()
    finally:
        if Env.emu is not None:
            Env.emu.stop()
            shutil.rmtree(Env.tmp, ignore_errors=True)
