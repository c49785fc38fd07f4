"""test_status - `okta-sync status` and `okta-sync show` against a known
state made by real syncs against the emulator, in human form and --json
(issue 5, Done-when 8), plus the latest errors from sync-errors.log.

Times are checked in UTC (TZ=UTC in the environment); the next sync of a
fixed schedule is computed here independently of the C cron code."""
import datetime
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

ENV = {"TZ": "UTC"}
SCHEDULE = "0 3 * * *"
FULL_SCHEDULE = "30 4 * * 0"   # Sundays 04:30
MKSNAP = os.path.join(oktatest.BUILD, "tests", "mksnap")
ROOT_LOGIN = "root@example.com"


def cli(conf, *args, expect_rc=0):
    p = oktatest.run([oktatest.OKTA_SYNC, "-c", conf] + list(args), env=ENV)
    if expect_rc is not None and p.returncode != expect_rc:
        raise AssertionError("okta-sync %s exited %d (expected %d)\nstdout:\n%s\n"
                             "stderr:\n%s" % (" ".join(args), p.returncode, expect_rc,
                                              p.stdout[-3000:], p.stderr[-3000:]))
    return p


def cli_json(conf, *args, expect_rc=0):
    p = cli(conf, *(list(args) + ["--json"]), expect_rc=expect_rc)
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise AssertionError("not JSON:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))


def utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def iso(epoch):
    return utc(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_daily(after, hour, minute):
    """The next hh:mm UTC strictly after `after` (epoch s)."""
    d = utc(after).replace(hour=hour, minute=minute, second=0, microsecond=0)
    if d.timestamp() <= after:
        d += datetime.timedelta(days=1)
    return int(d.timestamp())


def next_weekly(after, weekday, hour, minute):
    """weekday: Monday 0 .. Sunday 6 (Python's)."""
    d = utc(after).replace(hour=hour, minute=minute, second=0, microsecond=0)
    d += datetime.timedelta(days=(weekday - d.weekday()) % 7)
    if d.timestamp() <= after:
        d += datetime.timedelta(days=7)
    return int(d.timestamp())


def field(out, key):
    """The value of an aligned "key: value" line of the human form."""
    m = re.search(r"^\s*%s:\s+(.*)$" % re.escape(key), out, re.M)
    assert m, "no %r line in:\n%s" % (key, out)
    return m.group(1)


def expected(org):
    """Names, Okta fields and group memberships the known org must give."""
    users = {sc.username(u["profile"]["login"]): u for u in org["users"]}
    by_id = {u["id"]: sc.username(u["profile"]["login"]) for u in org["users"]}
    groups = {}
    for g in org["groups"]:
        groups[g["profile"]["name"].lower().replace(" ", "-")] = (
            g, sorted(by_id[m] for m in g["members"]))
    return users, groups


def check_schedule(doc, before, after):
    want = {next_daily(before, 3, 0), next_daily(after, 3, 0)}
    assert doc["schedule"] == SCHEDULE, doc["schedule"]
    assert doc["next_sync_epoch"] in want, (doc["next_sync_epoch"], want)
    assert doc["next_sync"] == iso(doc["next_sync_epoch"])
    want = {next_weekly(before, 6, 4, 30), next_weekly(after, 6, 4, 30)}
    assert doc["full_sync_schedule"] == FULL_SCHEDULE
    assert doc["next_full_sync_epoch"] in want, (doc["next_full_sync_epoch"], want)
    assert doc["next_full_sync"] == iso(doc["next_full_sync_epoch"])
    assert doc["stale_after_seconds"] == 2 * 86400, doc["stale_after_seconds"]


@case
def no_sync_yet():
    """Without a cache or snapshot: exit 0, "no sync has run yet", the
    schedule still computed, and nothing written to the cache dir."""
    tmp = tmpdir()
    try:
        conf = sc.setup(tmp, None, okta={"domain": "localhost:9"},
                        sync={"schedule": SCHEDULE, "full_sync_schedule": FULL_SCHEDULE},
                        token="not-a-real-token")
        cache = sc.cache_dir(conf)
        before_files = sc.hash_dir(cache, keep_errors_log=True)
        t0 = int(time.time())
        p = cli(conf, "status")
        t1 = int(time.time())
        assert "no sync has run yet" in field(p.stdout, "last sync"), p.stdout
        assert field(p.stdout, "data age") == "no data yet", p.stdout
        assert "no snapshot yet" in p.stdout, p.stdout
        assert field(p.stdout, "latest errors") == "none", p.stdout
        nxt = field(p.stdout, "next sync")
        assert nxt.startswith(utc(next_daily(t0, 3, 0)).strftime("%Y-%m-%d 03:00:00 UTC")) or \
            nxt.startswith(utc(next_daily(t1, 3, 0)).strftime("%Y-%m-%d 03:00:00 UTC")), nxt
        assert "not-a-real-token" not in p.stdout + p.stderr

        doc = cli_json(conf, "status")
        t1 = int(time.time())
        assert doc["last_sync"] is None, doc
        assert doc["cache"]["readable"] is True and doc["cache"]["error"] is None
        assert doc["data_age_seconds"] is None and doc["data_stale"] is False
        assert doc["snapshot"]["present"] is False and doc["snapshot"]["generation"] is None
        assert doc["snapshot_matches_cache"] is None
        assert doc["errors"] == [] and doc["errors_readable"] is True
        check_schedule(doc, t0, t1)
        assert sc.hash_dir(cache, keep_errors_log=True) == before_files, "status wrote to the cache dir"

        # Without a schedule.
        conf2 = sc.setup(os.path.join(tmp, "b"), None, okta={"domain": "localhost:9"},
                         token="x")
        p = cli(conf2, "status")
        assert field(p.stdout, "next sync") == "not scheduled", p.stdout
        doc = cli_json(conf2, "status")
        assert doc["next_sync"] is None and doc["next_sync_epoch"] is None
        assert doc["schedule"] is None and doc["stale_after_seconds"] == 86400
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def status_and_show_after_syncs():
    """A known org (20 users, 3 groups, plus a rejected root@example.com):
    exact counts, generation 1 then 2, the schedule, show user/group, the
    rejected user's reason and an unknown name."""
    org = make_org(nusers=20, ngroups=3, seed=1)
    users, groups = expected(org)
    nmembers = sum(len(g["members"]) for g in org["groups"])
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            root_id = emu.add_user(login=ROOT_LOGIN, firstName="Root", lastName="Admin")
            conf = sc.setup(tmp, emu, sync={"schedule": SCHEDULE,
                                            "full_sync_schedule": FULL_SCHEDULE})
            cache = sc.cache_dir(conf)
            emu.reset_requests()
            t_start = int(time.time())
            p = sc.okta_sync(conf, "-q")
            assert p.returncode == 0, p.stdout + p.stderr
            nreq = len(emu.requests())
            t_end = int(time.time())

            files = sc.hash_dir(cache, keep_errors_log=True)
            doc = cli_json(conf, "status")
            t1 = int(time.time())
            assert sc.hash_dir(cache, keep_errors_log=True) == files, "status changed the cache dir"
            ls = doc["last_sync"]
            assert ls is not None, doc
            assert ls["result"] == "success", ls
            assert t_start <= ls["started_epoch"] <= ls["finished_epoch"] <= t_end, ls
            assert ls["started"] == iso(ls["started_epoch"])
            assert ls["finished"] == iso(ls["finished_epoch"])
            assert ls["duration_seconds"] == ls["finished_epoch"] - ls["started_epoch"]
            assert ls["users"] == {"added": len(users), "modified": 0, "removed": 0,
                                   "unchanged": 0, "rejected": 1}, ls["users"]
            assert ls["groups"] == {"added": len(groups), "modified": 0, "removed": 0,
                                    "unchanged": 0, "rejected": 0}, ls["groups"]
            assert ls["memberships"] == {"added": nmembers, "removed": 0}, ls["memberships"]
            assert ls["requests"] == nreq, (ls["requests"], nreq)
            assert doc["last_attempt_failed"] is False
            check_schedule(doc, t_end, t1)
            snap = doc["snapshot"]
            assert snap["present"] is True and snap["error"] is None
            assert snap["path"] == os.path.join(cache, "snapshot.cdb")
            assert snap["generation"] == 1 and doc["cache_generation"] == 1
            assert doc["snapshot_matches_cache"] is True
            # user-private groups are groups too.
            assert snap["users"] == len(users), snap
            assert snap["groups"] == len(users) + len(groups), snap
            assert t_start <= snap["last_sync_epoch"] <= t_end
            assert snap["last_sync"] == iso(snap["last_sync_epoch"])
            assert doc["last_success_epoch"] == snap["last_sync_epoch"]
            assert 0 <= doc["data_age_seconds"] <= t1 - snap["last_sync_epoch"]
            assert doc["data_stale"] is False
            assert doc["errors"] == []
            dump = sc.snapshot(conf)
            assert dump["meta"]["generation"] == 1, dump["meta"]

            # The human form says the same.
            p = cli(conf, "status")
            out = p.stdout
            assert field(out, "last sync") == "success (full)", out
            assert field(out, "users") == "%d added, 0 modified, 0 removed, 0 unchanged, " \
                "1 rejected" % len(users), out
            assert field(out, "groups") == "%d added, 0 modified, 0 removed, 0 unchanged, " \
                "0 rejected" % len(groups), out
            assert field(out, "memberships") == "%d added, 0 removed" % nmembers, out
            assert field(out, "requests") == str(nreq), out
            assert field(out, "generation") == "1 (cache.db agrees)", out
            assert field(out, "started").startswith(
                utc(ls["started_epoch"]).strftime("%Y-%m-%d %H:%M:%S UTC")), out
            assert field(out, "next sync").startswith(
                utc(doc["next_sync_epoch"]).strftime("%Y-%m-%d %H:%M:%S UTC")), out
            assert '"0 3 * * *"' in field(out, "next sync"), out
            assert field(out, "next full sync").startswith(
                utc(doc["next_full_sync_epoch"]).strftime("%Y-%m-%d 04:30:00 UTC")), out
            assert re.match(r"\d+ s ago \(last successful sync ", field(out, "data age")), out
            assert field(out, "latest errors") == "none", out
            assert emu.token not in out + p.stderr

            # show user: raw fields, the passwd line, the groups.
            name = sorted(users)[0]
            u = users[name]
            su = sc.snap_users(dump)[name]
            want_groups = sorted(g for g, (_, m) in groups.items() if name in m)
            d = cli_json(conf, "show", "user", name)
            assert d["kind"] == "user"
            assert d["okta"] == {"id": u["id"], "login": u["profile"]["login"],
                                 "email": u["profile"]["email"],
                                 "first_name": u["profile"]["firstName"],
                                 "last_name": u["profile"]["lastName"],
                                 "status": u["status"],
                                 "last_updated": u["lastUpdated"]}, d["okta"]
            pw = "%s:*:%d:%d:%s %s:/home/%s:/bin/bash" % (
                name, su["uid"], su["gid"], u["profile"]["firstName"],
                u["profile"]["lastName"], name)
            assert d["linux"]["passwd"] == pw, (d["linux"]["passwd"], pw)
            assert d["linux"]["primary_group"] == {"name": name, "gid": su["uid"]}
            assert [g["name"] for g in d["linux"]["groups"]] == want_groups, d["linux"]
            gids = {g["name"]: g["gid"] for g in dump["groups"]}
            assert sorted(d["snapshot"]["gids"]) == sorted(gids[g] for g in want_groups)
            assert d["snapshot"]["published"] is True and d["snapshot"]["passwd"] == pw
            assert d["rejected"] == []
            # The same user by login and by Okta id.
            for q in (u["profile"]["login"].upper(), u["id"]):
                assert cli_json(conf, "show", "user", q)["linux"]["passwd"] == pw, q
            p = cli(conf, "show", "user", name)
            assert field(p.stdout, "login") == u["profile"]["login"], p.stdout
            assert field(p.stdout, "passwd").startswith(pw), p.stdout
            idl = field(p.stdout, "id")
            for g in want_groups:
                assert "%d(%s)" % (gids[g], g) in idl, idl
            assert "published, same as above" in p.stdout, p.stdout

            # show group: raw fields, the group line with members.
            gname = sorted(groups)[0]
            g, members = groups[gname]
            d = cli_json(conf, "show", "group", g["profile"]["name"])
            assert d["okta"]["id"] == g["id"] and d["okta"]["name"] == g["profile"]["name"]
            assert d["okta"]["last_updated"] == g["lastUpdated"]
            assert d["okta"]["last_membership_updated"] == g["lastMembershipUpdated"]
            line = "%s:*:%d:%s" % (gname, gids[gname], ",".join(members))
            assert d["linux"]["group"] == line, (d["linux"]["group"], line)
            assert d["linux"]["members"] == members
            assert d["snapshot"]["published"] is True
            assert sorted(d["snapshot"]["members"]) == members
            p = cli(conf, "show", "group", gname)
            assert field(p.stdout, "group").startswith(line), p.stdout
            assert "published, same as above" in p.stdout, p.stdout

            # The rejected user, by its derived name, its login and its id.
            for q in ("root", ROOT_LOGIN, root_id):
                d = cli_json(conf, "show", "user", q)
                assert d["okta"] is None and d["linux"] is None, d
                assert d["snapshot"]["published"] is False
                assert len(d["rejected"]) == 1, d["rejected"]
                r = d["rejected"][0]
                assert r["okta_id"] == root_id and r["okta_name"] == ROOT_LOGIN, r
                assert "collides with a local account" in r["reason"], r
            p = cli(conf, "show", "user", ROOT_LOGIN)
            assert "Rejected by the last sync" in p.stdout, p.stdout
            assert 'user name "root" collides with a local account' in p.stdout, p.stdout

            # Unknown names.
            for kind in ("user", "group"):
                p = cli(conf, "show", kind, "no.such.name", expect_rc=1)
                assert "no Okta user or group named no.such.name in the cache " \
                    "(rejected entries are listed by their Okta login)" in p.stderr, p.stderr
                assert p.stdout == "", p.stdout
            p = cli(conf, "show", "group", name, expect_rc=1)
            assert "private group" in p.stderr, p.stderr

            # A second sync with one change: generation 2, one modified.
            login = u["profile"]["login"]
            emu.set_profile(login, lastName="Changed")
            emu.reset_requests()
            p = sc.okta_sync(conf, "-q")
            assert p.returncode == 0, p.stdout + p.stderr
            doc = cli_json(conf, "status")
            ls = doc["last_sync"]
            assert ls["users"] == {"added": 0, "modified": 1, "removed": 0,
                                   "unchanged": len(users) - 1, "rejected": 1}, ls["users"]
            assert ls["groups"]["unchanged"] == len(groups), ls["groups"]
            assert ls["memberships"] == {"added": 0, "removed": 0}
            assert ls["requests"] == len(emu.requests())
            assert doc["snapshot"]["generation"] == 2 and doc["cache_generation"] == 2
            assert doc["snapshot_matches_cache"] is True
            p = cli(conf, "status")
            assert field(p.stdout, "generation") == "2 (cache.db agrees)", p.stdout
            d = cli_json(conf, "show", "user", name)
            assert d["okta"]["last_name"] == "Changed"
            assert d["linux"]["gecos"] == "%s Changed" % u["profile"]["firstName"]
            assert d["snapshot"]["passwd"] == d["linux"]["passwd"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_errors(cache, entries):
    path = os.path.join(cache, "sync-errors.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    return path


@case
def latest_errors_from_the_log():
    """Errors from sync-errors.log (written here directly: the format of
    runlog.h), newest first, with the admin's sentence; the last good sync
    is still reported."""
    org = make_org(nusers=5, ngroups=2, seed=3)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, sync={"schedule": SCHEDULE})
            cache = sc.cache_dir(conf)
            p = sc.okta_sync(conf, "-q")
            assert p.returncode == 0, p.stdout + p.stderr
            good = cli_json(conf, "status")
            fin = good["last_sync"]["finished_epoch"]
            write_errors(cache, [
                {"time": fin - 100, "error": "OK_ERR_AUTH", "message": "older one"},
                {"time": fin + 5, "error": "OK_ERR_SERVER",
                 "message": "HTTP 503 from /api/v1/users\nsecond line"},
            ])
            doc = cli_json(conf, "status")
            errs = doc["errors"]
            assert [e["error"] for e in errs] == ["OK_ERR_SERVER", "OK_ERR_AUTH"], errs
            assert errs[0]["time_epoch"] == fin + 5 and errs[0]["time"] == iso(fin + 5)
            assert errs[0]["message"] == "HTTP 503 from /api/v1/users\nsecond line"
            assert errs[0]["sentence"].startswith("Okta kept answering with server errors")
            assert doc["last_attempt_failed"] is True
            assert doc["last_sync"] == good["last_sync"]
            p = cli(conf, "status")
            assert field(p.stdout, "latest errors").startswith("2 recorded"), p.stdout
            assert "OK_ERR_SERVER: Okta kept answering with server errors" in p.stdout
            assert "HTTP 503 from /api/v1/users\\nsecond line" in p.stdout, p.stdout
            assert field(p.stdout, "last attempt").startswith("FAILED at "), p.stdout
            assert p.stdout.index("OK_ERR_SERVER") < p.stdout.index("OK_ERR_AUTH")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def failed_sync_is_recorded():
    """A real failed sync (401) leaves cache.db and the snapshot unchanged,
    status still reports the last good sync, and the failure is the newest
    error (once sync.c calls runlog_record_failure)."""
    org = make_org(nusers=5, ngroups=2, seed=3)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, sync={"schedule": SCHEDULE})
            cache = sc.cache_dir(conf)
            p = sc.okta_sync(conf, "-q")
            assert p.returncode == 0, p.stdout + p.stderr
            good = cli_json(conf, "status")
            before = {k: v for k, v in sc.hash_dir(cache).items()
                      if k in ("cache.db", "snapshot.cdb")}
            emu.fault("401", count=100)
            p = sc.okta_sync(conf, "-q")
            assert p.returncode != 0, p.stdout
            emu.clear_faults()
            after = {k: v for k, v in sc.hash_dir(cache).items()
                     if k in ("cache.db", "snapshot.cdb")}
            assert after == before, "a failed sync changed cache.db or the snapshot"
            doc = cli_json(conf, "status")
            assert doc["last_sync"] == good["last_sync"]
            assert doc["snapshot"]["generation"] == 1
            assert os.path.exists(os.path.join(cache, "sync-errors.log")), \
                "the failed sync was not recorded in sync-errors.log"
            assert os.stat(os.path.join(cache, "sync-errors.log")).st_mode & 0o777 == 0o600
            assert doc["errors"][0]["error"] == "OK_ERR_AUTH", doc["errors"]
            assert doc["last_attempt_failed"] is True
            assert emu.token not in json.dumps(doc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def stale_data_warns():
    """A snapshot older than twice the schedule's interval is reported
    stale (the cache is missing: the snapshot alone gives the age)."""
    tmp = tmpdir()
    try:
        conf = sc.setup(tmp, None, okta={"domain": "localhost:9"}, token="x",
                        sync={"schedule": SCHEDULE})
        cache = sc.cache_dir(conf)
        old = int(time.time()) - 3 * 86400
        oktatest.run([MKSNAP, os.path.join(cache, "snapshot.cdb")], check=True,
                     input="meta last_sync=%d generation=7\n"
                           "user jane 2000000001 2000000001 ACTIVE Jane /home/jane /bin/bash\n"
                           "group jane 2000000001 -\n" % old)
        doc = cli_json(conf, "status")
        assert doc["snapshot"]["generation"] == 7 and doc["snapshot"]["last_sync_epoch"] == old
        assert doc["last_success_epoch"] == old
        assert doc["data_age_seconds"] >= 3 * 86400
        assert doc["data_stale"] is True
        assert doc["cache_generation"] == 0 and doc["snapshot_matches_cache"] is False
        p = cli(conf, "status")
        assert field(p.stdout, "data age").startswith("3 days 0 h ago"), p.stdout
        assert "WARNING: the data is older than 2 days" in p.stdout, p.stdout

        # Hourly schedule: stale after two hours.
        conf = sc.setup(tmp, None, okta={"domain": "localhost:9"}, token="x",
                        sync={"schedule": "15 * * * *"})
        doc = cli_json(conf, "status")
        assert doc["stale_after_seconds"] == 7200 and doc["data_stale"] is True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def non_root_sees_the_snapshot():
    """A user who cannot read cache.db (0600) is told so clearly and still
    sees the snapshot part; exit 0."""
    org = make_org(nusers=4, ngroups=1, seed=5)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            p = sc.okta_sync(conf, "-q")
            assert p.returncode == 0, p.stdout + p.stderr
        cache = sc.cache_dir(conf)
        write_errors(cache, [{"time": 1, "error": "OK_ERR_TLS", "message": "m"}])
        os.chmod(tmp, 0o755)
        os.chmod(conf, 0o644)
        runas = ["runuser", "-u", "nobody", "--", oktatest.OKTA_SYNC, "-c", conf]
        p = oktatest.run(runas + ["status"], env=ENV)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "permission denied (it is readable by root only)" in field(p.stdout, "last sync"), p.stdout
        assert "readable by root only" in field(p.stdout, "latest errors"), p.stdout
        assert field(p.stdout, "generation") == "1 (cache.db not readable: not compared)", p.stdout
        assert field(p.stdout, "users") == "4", p.stdout
        p = oktatest.run(runas + ["status", "--json"], env=ENV)
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["cache"]["readable"] is False and "root only" in doc["cache"]["error"]
        assert doc["last_sync"] is None and doc["snapshot"]["generation"] == 1
        assert doc["errors_readable"] is False and doc["errors"] == []
        assert doc["data_age_seconds"] is not None
        p = oktatest.run(runas + ["show", "user", "x"], env=ENV)
        assert p.returncode == 1 and "root only" in p.stderr, p.stdout + p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def snapshot_replaced_without_a_publish_warns():
    """Issue 14 part 6: the identity of the published file is kept in
    cache.db; a file put in place by hand (new inode) or overwritten in
    place (cp over it) is reported, and the next publish clears it."""
    org = make_org(nusers=3, ngroups=1, seed=11)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            assert sc.okta_sync(conf, "-q").returncode == 0
            snap = os.path.join(sc.cache_dir(conf), "snapshot.cdb")
            backup = os.path.join(tmp, "backup.cdb")
            shutil.copyfile(snap, backup)
            doc = cli_json(conf, "status")
            assert doc["snapshot_replaced"] is False, doc
            assert "was replaced" not in cli(conf, "status").stdout

            # The same bytes under a new inode (install + mv, by hand).
            shutil.copyfile(snap, snap + ".new")
            os.rename(snap + ".new", snap)
            p = cli(conf, "status")
            assert "WARNING: %s was replaced without a publish" % snap in p.stdout, p.stdout
            doc = cli_json(conf, "status")
            assert doc["snapshot_replaced"] is True, doc
            assert "inode changed" in doc["snapshot_replaced_detail"], doc

            # A publish puts okta-sync's own file back: no warning.
            assert sc.okta_sync(conf, "-q").returncode == 0
            doc = cli_json(conf, "status")
            assert doc["snapshot_replaced"] is False, doc

            # cp over the file: same inode, written in place.
            ino = os.stat(snap).st_ino
            with open(backup, "rb") as src, open(snap, "r+b") as dst:
                dst.truncate(0)
                dst.write(src.read())
            assert os.stat(snap).st_ino == ino
            p = cli(conf, "status")
            assert "WARNING: %s was changed in place" % snap in p.stdout, p.stdout
            assert "SIGBUS" in p.stdout, p.stdout

            # `okta-sync restore` is the way to put a copy back: it tells
            # cache.db, so status has nothing to warn about.
            p = cli(conf, "restore", backup)
            assert p.returncode == 0, p.stderr
            doc = cli_json(conf, "status")
            assert doc["snapshot_replaced"] is False, doc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def usage_errors():
    tmp = tmpdir()
    try:
        conf = sc.setup(tmp, None, okta={"domain": "localhost:9"}, token="x")
        assert cli(conf, "status", "--bogus", expect_rc=2).stderr
        assert cli(conf, "show", "user", expect_rc=2).stderr
        assert cli(conf, "show", "thing", "x", expect_rc=2).stderr
        assert "--json" in cli(conf, "status", "--help").stdout
        p = cli(conf, "show", "user", "x", expect_rc=1)
        assert "no sync has run yet" in p.stderr, p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
