"""test_guard - the deletion guard (issue 5, Done-when 5; DESIGN.md rule 5):
when Okta drops half of the users, `okta-sync sync` is refused (exit 3)
with a message that says how to proceed (--force) and changes nothing --
cache.db and snapshot.cdb stay byte for byte as they were, only the failure
log (sync-errors.log) records the refusal; with --force the sync applies;
an empty user list is refused even with --force, by a full and by an
incremental sync.  (test_sync.py's deletion_guard covers max_delete as a
count.)"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402


def errors_log(cache):
    p = os.path.join(cache, sc.ERRORS_LOG)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [json.loads(line) for line in f if line.strip()]


def refused(conf, cache, *args):
    """Run a sync that the guard must refuse; check that nothing but the
    failure log changed.  Returns the combined output."""
    before = sc.hash_dir(cache)
    assert "cache.db" in before and "snapshot.cdb" in before, sorted(before)
    nlog = len(errors_log(cache))
    p = sc.okta_sync(conf, *args)
    out = p.stdout + p.stderr
    assert p.returncode == 3, (p.returncode, out[-2000:])
    assert sc.hash_dir(cache) == before, "a refused sync changed the cache dir"
    log = errors_log(cache)
    assert len(log) == nlog + 1, log
    assert log[-1]["error"] == "OK_ERR_REFUSED", log[-1]
    assert "nothing was changed" in p.stderr, p.stderr
    return out


@case
def half_the_users_gone():
    """Done-when 5: 50 % of the users vanish: refused with a hint at
    --force, nothing changed; --force applies."""
    org = make_org(nusers=200, ngroups=5, seed=21, statuses=False)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)      # max_delete: the default (10 %)
            cache = sc.cache_dir(conf)
            sc.plan(conf)
            snap = sc.snapshot(conf)
            gone = org["users"][::2]
            for u in gone:
                emu.delete_user(u["profile"]["login"])
            out = refused(conf, cache)
            assert "--force" in out, out[-2000:]
            assert "remove 100 of 200 users" in out, out[-2000:]
            # The dry run shows the same refusal, and also writes nothing.
            p = sc.okta_sync(conf, "--dry-run")
            assert p.returncode == 3 and "--force" in p.stdout + p.stderr
            # The snapshot still serves everybody.
            assert sc.snapshot(conf)["users"] == snap["users"]

            doc = sc.plan(conf, "--force")
            assert doc["result"]["applied"] is True
            assert doc["counts"]["users"]["removed"] == 100, doc["counts"]
            names = set(sc.snap_users(sc.snapshot(conf)))
            assert names == {sc.username(u["profile"]["login"]) for u in org["users"][1::2]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def empty_answer_always_refused():
    """An empty user list never empties the host, --force or not, full or
    incremental."""
    org = make_org(nusers=50, ngroups=3, seed=22, statuses=False)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            cache = sc.cache_dir(conf)
            sc.plan(conf)
            for u in org["users"]:
                emu.delete_user(u["profile"]["login"])
            out = refused(conf, cache)
            assert "--force" in out
            out = refused(conf, cache, "--force")
            assert "empty answer" in out, out[-2000:]
            # An incremental sync cannot see hard deletions at all; it
            # changes nothing either.
            p = sc.okta_sync(conf, "--incremental", "--force")
            assert p.returncode == 0, p.stderr
            assert len(sc.snapshot(conf)["users"]) == 50
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
