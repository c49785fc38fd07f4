"""test_sync - `okta-sync sync` against the emulator: dry run, apply,
changes field by field, a scoped token, the token never leaking, stable
IDs, the deletion guard and the lock (issue 2, Done-when 2, 3, 4, 7, 9)."""
import fcntl
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402


def visible_users(org):
    """Every user a full-rights token sees (deprovisioned included)."""
    return {sc.username(u["profile"]["login"]): u for u in org["users"]}


def expected_members(org):
    """{group name: set of user names} from the org dict."""
    by_id = {u["id"]: sc.username(u["profile"]["login"]) for u in org["users"]}
    out = {}
    for g in org["groups"]:
        name = g["profile"]["name"].lower().replace(" ", "-")
        out[name] = {by_id[m] for m in g["members"]}
    return out


def strip_result(doc):
    d = dict(doc)
    d.pop("result", None)
    d.pop("dry_run", None)
    return d


@case
def dry_run_then_apply_1000():
    """Done-when 2: the dry run lists the additions and writes nothing; sync
    applies exactly that plan; a second dry run shows all unchanged."""
    org = make_org(nusers=1000, ngroups=50, seed=1)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            cache = sc.cache_dir(conf)
            before = sc.hash_dir(cache, keep_errors_log=True)
            assert before == {}, before
            p = sc.okta_sync(conf, "--dry-run")
            assert p.returncode == 0, p.stderr
            assert "users: 1000 added, 0 modified, 0 removed, 0 unchanged, 0 rejected" in p.stdout, p.stdout[-500:]
            assert "groups: 50 added" in p.stdout
            dry = sc.plan(conf, "--dry-run")
            assert sc.hash_dir(cache, keep_errors_log=True) == before, "the dry run wrote to the cache dir"
            assert dry["dry_run"] is True and dry["result"]["applied"] is False
            want = visible_users(org)
            added = {u["name"]: u for u in dry["users"]["added"]}
            assert set(added) == set(want), set(added) ^ set(want)
            assert dry["counts"]["users"] == {"added": 1000, "modified": 0, "removed": 0,
                                              "unchanged": 0, "rejected": 0}
            assert dry["counts"]["memberships"]["added"] == 2000

            applied = sc.plan(conf)
            assert applied["result"]["applied"] is True and applied["result"]["ok"] is True
            assert strip_result(applied) == strip_result(dry), "sync applied a different plan"
            st = os.stat(os.path.join(cache, "cache.db"))
            assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
            assert os.stat(os.path.join(cache, "snapshot.cdb")).st_mode & 0o777 == 0o644

            # The snapshot holds exactly the plan.
            snap = sc.snapshot(conf)
            su = sc.snap_users(snap)
            assert set(su) == set(added)
            for name, a in added.items():
                s = su[name]
                for k_plan, k_snap in (("uid", "uid"), ("gid", "gid"), ("gecos", "gecos"),
                                       ("home", "dir"), ("shell", "shell"), ("status", "status")):
                    assert a[k_plan] == s[k_snap], (name, k_plan, a, s)
                assert s["status"] == want[name]["status"], (name, s)
            sg = sc.snap_groups(snap)
            gid_of = {g["name"]: g["gid"] for g in applied["groups"]["added"]}
            for gname, members in expected_members(org).items():
                assert gname in sg, gname
                assert set(sg[gname]["members"]) == members, gname
                assert sg[gname]["gid"] == gid_of[gname]
                for m in members:
                    assert gid_of[gname] in su[m]["gids"], (m, gname)
            # Each user has its private group, GID = UID.
            for name, s in su.items():
                assert sg[name]["gid"] == s["uid"] == s["gid"], name
            assert snap["meta"]["generation"] == 1
            assert snap["meta"]["nusers"] == 1000
            sc.check_snapshot_safe(snap)

            # The cache recorded the run.
            runs = sc.db_rows(conf, "SELECT result, users_added, requests FROM sync_runs")
            assert runs == [("success", 1000, applied["result"]["requests"])], runs

            # Again: everything unchanged, nothing written by the dry run.
            before = sc.hash_dir(cache)
            again = sc.plan(conf, "--dry-run")
            assert sc.hash_dir(cache) == before
            assert again["counts"]["users"] == {"added": 0, "modified": 0, "removed": 0,
                                                "unchanged": 1000, "rejected": 0}
            assert again["counts"]["groups"]["unchanged"] == 50
            assert again["counts"]["memberships"] == {"added": 0, "removed": 0}

            # Real glibc NSS sees the published users.
            oktatest.need(os.path.join(oktatest.BUILD, "libnss_okta.so.2"))
            ns = oktatest.write_nsswitch(os.path.join(tmp, "nsswitch.conf"))
            name = sorted(added)[0]
            p = oktatest.ns_run("getent passwd %s; id -G %s" % (name, name), cache,
                                nsswitch=ns)
            assert p.returncode == 0, p.stderr
            line = p.stdout.splitlines()[0].split(":")
            assert line[0] == name and int(line[2]) == added[name]["uid"], p.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def changes_field_by_field():
    """Done-when 3: change an attribute, suspend, remove a member, delete and
    add a user: the dry run shows exactly those changes; sync applies them."""
    org = make_org(nusers=300, ngroups=10, seed=2, statuses=False)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sc.plan(conf)
            users = org["users"]
            by_id = {u["id"]: u for u in users}
            eng = org["groups"][0]   # "Engineering"
            a, b, d = users[10], users[11], users[12]
            c = by_id[eng["members"][0]]
            if c["id"] in (a["id"], b["id"], d["id"]):
                c = by_id[eng["members"][1]]
            la, lb, lc, ld = (u["profile"]["login"] for u in (a, b, c, d))
            emu.set_profile(la, lastName="Changed")
            emu.set_status(lb, "SUSPENDED")
            emu.remove_member("Engineering", lc)
            emu.delete_user(ld)
            emu.add_user("new.person@example.com", firstName="New", lastName="Person")

            cache = sc.cache_dir(conf)
            before = sc.hash_dir(cache)
            dry = sc.plan(conf, "--dry-run")
            assert sc.hash_dir(cache) == before
            na, nb, nc, nd = (sc.username(x) for x in (la, lb, lc, ld))
            assert [u["name"] for u in dry["users"]["added"]] == ["new.person"], dry["users"]["added"]
            new = dry["users"]["added"][0]
            assert new["gecos"] == "New Person" and new["status"] == "ACTIVE"
            mods = {m["name"]: m["changes"] for m in dry["users"]["modified"]}
            assert mods == {
                na: {"gecos": {"old": "%s %s" % (a["profile"]["firstName"], a["profile"]["lastName"]),
                               "new": "%s Changed" % a["profile"]["firstName"]}},
                nb: {"status": {"old": "ACTIVE", "new": "SUSPENDED"}},
            }, mods
            assert [(r["name"], r["okta_id"]) for r in dry["users"]["removed"]] == [(nd, d["id"])]
            assert "no longer in Okta" in dry["users"]["removed"][0]["reason"]
            removed = {(m["group"], m["user"]) for m in dry["memberships"]["removed"]}
            d_groups = {g["profile"]["name"].lower().replace(" ", "-")
                        for g in org["groups"] if d["id"] in g["members"]}
            assert removed == {("engineering", nc)} | {(g, nd) for g in d_groups}, removed
            assert dry["memberships"]["added"] == []
            assert dry["counts"]["users"] == {"added": 1, "modified": 2, "removed": 1,
                                              "unchanged": 297, "rejected": 0}
            assert dry["groups"]["added"] == [] and dry["groups"]["modified"] == []

            applied = sc.plan(conf)
            assert strip_result(applied) == strip_result(dry)
            su = sc.snap_users(sc.snapshot(conf))
            assert su[na]["gecos"].endswith(" Changed")
            assert su[nb]["status"] == "SUSPENDED"
            assert nd not in su and "new.person" in su
            sg = sc.snap_groups(sc.snapshot(conf))
            assert nc not in sg["engineering"]["members"]
            again = sc.plan(conf, "--dry-run")
            assert again["counts"]["users"]["unchanged"] == 300
            assert again["counts"]["memberships"] == {"added": 0, "removed": 0}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def scoped_token():
    """Done-when 4: a token scoped to one group syncs only its users."""
    org = make_org(nusers=200, ngroups=5, seed=3)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            token = emu.add_token(groups=["Engineering"])
            conf = sc.setup(tmp, emu, token=token)
            doc = sc.plan(conf)
            eng = [g for g in org["groups"] if g["profile"]["name"] == "Engineering"][0]
            by_id = {u["id"]: sc.username(u["profile"]["login"]) for u in org["users"]}
            want = {by_id[m] for m in eng["members"]}
            assert want and len(want) < 200
            snap = sc.snapshot(conf)
            assert set(sc.snap_users(snap)) == want, set(sc.snap_users(snap)) ^ want
            assert set(sc.snap_groups(snap)["engineering"]["members"]) == want
            assert doc["counts"]["users"]["added"] == len(want)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def members_only_and_groups_filter():
    """[sync] groups + members_only: only those groups, only their members;
    an unknown group name is a warning in the plan."""
    org = make_org(nusers=200, ngroups=5, seed=4)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, sync={"groups": "Sales, No Such Group",
                                            "members_only": "yes"})
            doc = sc.plan(conf)
            sales = [g for g in org["groups"] if g["profile"]["name"] == "Sales"][0]
            by_id = {u["id"]: sc.username(u["profile"]["login"]) for u in org["users"]}
            snap = sc.snapshot(conf)
            assert set(sc.snap_users(snap)) == {by_id[m] for m in sales["members"]}
            okta_groups = [g["name"] for g in doc["groups"]["added"]]
            assert okta_groups == ["sales"], okta_groups
            assert any("No Such Group" in w for w in doc["warnings"]), doc["warnings"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def token_never_leaks():
    """Done-when 7: the token is in no output, log, cache or snapshot; a
    token file readable by others is refused."""
    org = make_org(nusers=50, ngroups=3, seed=5)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            outs = []
            for args in (("--dry-run",), ("--dry-run", "--json"), ("-v",), ("--json", "-v")):
                p = sc.okta_sync(conf, *args)
                assert p.returncode == 0, p.stderr
                outs.append(p.stdout + p.stderr)
            # A failing run (401) too: its error message must not echo it.
            emu.fault("401", count=5)
            p = sc.okta_sync(conf, "-v")
            assert p.returncode != 0
            outs.append(p.stdout + p.stderr)
            tok = emu.token
            for o in outs:
                assert tok not in o
                assert tok[:12] not in o
            for root, _, files in os.walk(sc.cache_dir(conf)):
                for n in files:
                    with open(os.path.join(root, n), "rb") as f:
                        data = f.read()
                    assert tok.encode() not in data, n
                    assert tok[:12].encode() not in data, n
            # A token file others can read is refused, with exit 78.
            os.chmod(os.path.join(tmp, "token"), 0o644)
            before = sc.hash_dir(sc.cache_dir(conf))
            p = sc.okta_sync(conf)
            assert p.returncode == 78, (p.returncode, p.stderr)
            assert "token" in p.stderr.lower(), p.stderr
            assert tok not in p.stdout + p.stderr
            assert sc.hash_dir(sc.cache_dir(conf)) == before
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def ids_stable_and_never_reused():
    """Done-when 9: two fresh caches get the same IDs; a deleted user's UID
    stays reserved and is never handed to anyone else."""
    org = make_org(nusers=300, ngroups=10, seed=6, statuses=False)
    t1, t2 = tmpdir(), tmpdir()
    try:
        with Emulator(org) as emu:
            c1 = sc.setup(t1, emu, posix={"uid_attribute": "uidNumber"})
            c2 = sc.setup(t2, emu, posix={"uid_attribute": "uidNumber"})
            sc.plan(c1)
            sc.plan(c2)
            s1, s2 = sc.snapshot(c1), sc.snapshot(c2)
            ids1 = sorted((u["name"], u["uid"], u["gid"]) for u in s1["users"])
            ids2 = sorted((u["name"], u["uid"], u["gid"]) for u in s2["users"])
            assert ids1 == ids2
            g1 = sorted((g["name"], g["gid"]) for g in s1["groups"])
            assert g1 == sorted((g["name"], g["gid"]) for g in s2["groups"])
            assert len({u["uid"] for u in s1["users"]}) == 300

            victim = org["users"][20]
            vname = sc.username(victim["profile"]["login"])
            vuid = sc.snap_users(s1)[vname]["uid"]
            emu.delete_user(victim["profile"]["login"])
            doc = sc.plan(c1)
            assert [r["name"] for r in doc["users"]["removed"]] == [vname]
            assert vname not in sc.snap_users(sc.snapshot(c1))
            rows = sc.db_rows(c1, "SELECT okta_id, kind FROM allocations WHERE id = ?", (vuid,))
            assert rows == [(victim["id"], "user")], rows
            # A new user asking for that UID through the attribute is refused...
            emu.add_user("thief@example.com", firstName="T", lastName="Hief", uidNumber=vuid)
            # ...and new users never get it.
            for i in range(20):
                emu.add_user("fresh%02d@example.com" % i, firstName="F", lastName="R")
            doc = sc.plan(c1)
            rej = {r["login"]: r["reason"] for r in doc["users"]["rejected"]}
            assert "thief@example.com" in rej, doc["users"]["rejected"]
            assert "already used" in rej["thief@example.com"], rej
            su = sc.snap_users(sc.snapshot(c1))
            assert "thief" not in su
            assert vuid not in {u["uid"] for u in su.values()}
            assert vuid not in {g["gid"] for g in sc.snapshot(c1)["groups"]}
            # The user comes back (same Okta id cannot, but re-adding the
            # login makes a new id): it gets a new UID, the old one stays.
            rows = sc.db_rows(c1, "SELECT okta_id FROM allocations WHERE id = ?", (vuid,))
            assert rows == [(victim["id"],)]
    finally:
        shutil.rmtree(t1, ignore_errors=True)
        shutil.rmtree(t2, ignore_errors=True)


@case
def changed_range_never_keeps_outside_ids():
    """Rule 1: after [posix] uid/gid ranges change, no entry keeps an ID
    outside them; the plan shows each new ID, the old ones stay reserved."""
    org = make_org(nusers=40, ngroups=3, seed=12)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sc.plan(conf)
            old = {u["name"]: u["uid"] for u in sc.snapshot(conf)["users"]}
            rng = {"uid_min": "2100000000", "uid_max": "2100099999",
                   "gid_min": "2100000000", "gid_max": "2100099999"}
            conf = sc.setup(tmp, emu, posix=rng)
            doc = sc.plan(conf)
            assert doc["counts"]["users"]["modified"] == 40, doc["counts"]
            for m in doc["users"]["modified"]:
                assert m["changes"]["uid"]["old"] == old[m["name"]]
                assert 2100000000 <= m["changes"]["uid"]["new"] <= 2100099999
            snap = sc.snapshot(conf)
            sc.check_snapshot_safe(snap, uid_min=2100000000, uid_max=2100099999)
            n = sc.db_rows(conf, "SELECT count(*) FROM allocations WHERE id < 2100000000")
            assert n == [(40 + 3,)], n
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def deprovisioned_policy():
    """deprovisioned = keep: resolvable, marked; remove: absent, UID kept."""
    org = make_org(nusers=200, ngroups=3, seed=7)
    dep = [u for u in org["users"] if u["status"] == "DEPROVISIONED"]
    assert dep
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sc.plan(conf)
            su = sc.snap_users(sc.snapshot(conf))
            for u in dep:
                assert su[sc.username(u["profile"]["login"])]["status"] == "DEPROVISIONED"
            conf = sc.setup(tmp, emu, sync={"deprovisioned": "remove"})
            sc.plan(conf)
            snap = sc.snapshot(conf)
            su = sc.snap_users(snap)
            # Removed users are in no group's member list either: a local
            # account of the same name must not inherit their groups.
            listed = {m for g in snap["groups"] for m in g["members"]}
            dep_ids = {u["id"] for u in dep}
            assert any(dep_ids & set(g["members"]) for g in org["groups"])
            for u in dep:
                n = sc.username(u["profile"]["login"])
                assert n not in su
                assert n not in sc.snap_groups(snap)
                assert n not in listed, (n, "still listed as a group member")
                rows = sc.db_rows(conf, "SELECT count(*) FROM allocations WHERE okta_id = ?",
                                  (u["id"],))
                assert rows == [(1,)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def deletion_guard():
    """Rule 5: more than max_delete removals is refused unless --force; an
    empty answer from Okta is always refused."""
    org = make_org(nusers=100, ngroups=3, seed=8, statuses=False)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, sync={"max_delete": "2"})
            sc.plan(conf)
            for u in org["users"][:3]:
                emu.delete_user(u["profile"]["login"])
            cache = sc.cache_dir(conf)
            before = sc.hash_dir(cache)
            p = sc.okta_sync(conf)
            assert p.returncode == 3, (p.returncode, p.stderr)
            assert "max_delete" in p.stdout + p.stderr
            assert sc.hash_dir(cache) == before
            doc = sc.plan(conf, "--force")
            assert doc["counts"]["users"]["removed"] == 3
            for u in org["users"][3:]:
                emu.delete_user(u["profile"]["login"])
            before = sc.hash_dir(cache)
            p = sc.okta_sync(conf, "--force")
            assert p.returncode == 3, (p.returncode, p.stderr)
            assert "empty answer" in p.stdout + p.stderr
            assert sc.hash_dir(cache) == before
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def one_sync_at_a_time():
    """A second sync while one holds the lock fails at once (exit 75) and
    names the holder."""
    org = make_org(nusers=20, ngroups=2, seed=9)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sc.plan(conf)
            holder = subprocess.Popen(
                [sys.executable, "-c",
                 "import fcntl,sys,time\n"
                 "f=open(sys.argv[1],'r+')\n"
                 "fcntl.lockf(f, fcntl.LOCK_EX)\n"
                 "print('locked', flush=True)\n"
                 "sys.stdin.read()\n",
                 os.path.join(sc.cache_dir(conf), "sync.lock")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                assert holder.stdout.readline().strip() == "locked"
                p = sc.okta_sync(conf)
                assert p.returncode == 75, (p.returncode, p.stderr)
                assert "pid %d" % holder.pid in p.stderr, p.stderr
                # A dry run needs no lock.
                assert sc.okta_sync(conf, "--dry-run").returncode == 0
            finally:
                holder.stdin.close()
                holder.wait(timeout=30)
            assert sc.okta_sync(conf).returncode == 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    _ = fcntl
    main()
