"""test_incremental - incremental syncs against the emulator (issue 5,
Done-when 2): after 10 changes in an org of 10,000 users, `okta-sync sync
--incremental` makes at most 10 requests and leaves exactly the snapshot a
full sync from scratch gives; a change in the same second as the previous
sync is not missed (the overlap window); a hard deletion waits for the next
full sync, which removes the user and keeps the UID reserved."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402


def sync_json(conf, *args):
    doc = sc.plan(conf, *args)
    assert doc["result"]["ok"] is True, doc["result"]
    return doc


def entries(snap):
    """Users and groups of a snapshot, entry by entry (members sorted)."""
    users = {u["name"]: u for u in snap["users"]}
    groups = {}
    for g in snap["groups"]:
        g = dict(g)
        g["members"] = sorted(g["members"])
        groups[g["name"]] = g
    return users, groups


def assert_same_as_full(conf, emu, tmp, keep_local=False, sync=None):
    """The snapshot of conf equals, entry by entry, the one a full sync into
    a fresh cache gives now (the generation aside).  keep_local: tmp/fresh
    already holds the local passwd and group files to use."""
    fresh_dir = os.path.join(tmp, "fresh")
    if keep_local:
        from oktaconf import write_config
        fresh = write_config(fresh_dir, emu, posix={
            "local_passwd": os.path.join(fresh_dir, "passwd"),
            "local_group": os.path.join(fresh_dir, "group")})
    else:
        fresh = sc.setup(fresh_dir, emu, sync=sync)
    sync_json(fresh)
    mine_u, mine_g = entries(sc.snapshot(conf))
    full_u, full_g = entries(sc.snapshot(fresh))
    assert set(mine_u) == set(full_u), sorted(set(mine_u) ^ set(full_u))[:10]
    for n in full_u:
        assert mine_u[n] == full_u[n], (mine_u[n], full_u[n])
    assert set(mine_g) == set(full_g), sorted(set(mine_g) ^ set(full_g))[:10]
    for n in full_g:
        assert mine_g[n] == full_g[n], (n, set(mine_g[n]["members"]) ^ set(full_g[n]["members"]))
    shutil.rmtree(os.path.dirname(fresh))


def mode_of_last_run(conf):
    return sc.db_rows(conf, "SELECT mode FROM sync_runs ORDER BY id DESC LIMIT 1")[0][0]


@case
def ten_changes_ten_requests_10000():
    """Done-when 2: 10 changes; the incremental sync makes at most 10
    requests; its snapshot equals a fresh full sync's, entry by entry."""
    org = make_org(nusers=10000, ngroups=50, seed=5)
    logins = [u["profile"]["login"] for u in org["users"] if u["status"] == "ACTIVE"]
    gname = [g["profile"]["name"] for g in org["groups"]]
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sync_json(conf)
            assert mode_of_last_run(conf) == "full"
            # Ten changes of every kind.
            emu.set_profile(logins[0], firstName="Renamed")
            emu.set_profile(logins[1], lastName="Changed")
            emu.set_status(logins[2], "SUSPENDED")
            emu.set_status(logins[3], "DEPROVISIONED")
            emu.set_status(logins[4], "LOCKED_OUT")
            # A rename (the profile's "login" is the user name's source).
            emu._call("set_profile", login=logins[5],
                      attrs={"login": "renamed.user@example.com",
                             "email": "renamed.user@example.com"})
            emu.add_member(gname[0], logins[6])
            emu.remove_member(gname[0], logins[7])
            emu.add_user("brand.new@example.com", firstName="Brand", lastName="New",
                         groups=[gname[0]])
            emu.set_profile(logins[8], firstName="Again")
            emu.reset_requests()
            doc = sync_json(conf, "--incremental")
            reqs = emu.requests()
            print("incremental: %d requests" % len(reqs))
            assert doc["result"]["mode"] == "incremental", doc["result"]
            assert mode_of_last_run(conf) == "incremental"
            assert len(reqs) <= 10, "%d requests:\n%s" % (len(reqs), "\n".join(r[1] for r in reqs))
            c = doc["counts"]
            assert c["users"]["added"] == 1, c         # brand.new
            assert c["users"]["modified"] == 7, c      # the rename is one too
            assert c["users"]["removed"] == 0, c
            assert c["memberships"]["added"] >= 2, c
            assert_same_as_full(conf, emu, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def change_in_the_same_second():
    """The overlap window: changes made right after a sync (in the same
    second as its watermark) come with the next incremental sync."""
    org = make_org(nusers=300, ngroups=10, seed=6)
    logins = [u["profile"]["login"] for u in org["users"] if u["status"] == "ACTIVE"]
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sync_json(conf)
            for i in range(3):
                # Each change lands right after the previous sync: in its
                # second, or the next.
                emu.set_profile(logins[i], firstName="Quick%d" % i)
                emu.add_member(org["groups"][i]["profile"]["name"], logins[10 + i])
                doc = sync_json(conf, "--incremental")
                assert doc["result"]["mode"] == "incremental"
                u = sc.snap_users(sc.snapshot(conf))[sc.username(logins[i])]
                assert u["gecos"].startswith("Quick%d " % i), u
                assert doc["counts"]["memberships"]["added"] == 1, doc["counts"]
            # Nothing changed: an incremental sync changes nothing (the
            # groups changed within the overlap window are listed again:
            # one listing each, plus the users and groups listings).
            emu.reset_requests()
            doc = sync_json(conf, "--incremental")
            assert len(emu.requests()) <= 2 + 3, emu.requests()
            for k in ("added", "modified", "removed"):
                assert doc["counts"]["users"][k] == 0, doc["counts"]
            assert_same_as_full(conf, emu, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def hard_deletion_waits_for_full_sync():
    """A user deleted in Okta stays after an incremental sync (leaving its
    groups); the next full sync removes it; its UID is never reused."""
    org = make_org(nusers=300, ngroups=10, seed=7)
    victim = [u for u in org["users"] if u["status"] == "ACTIVE"][0]
    name = sc.username(victim["profile"]["login"])
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            sync_json(conf)
            uid = sc.snap_users(sc.snapshot(conf))[name]["uid"]
            emu.delete_user(victim["profile"]["login"])
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "incremental"
            snap = sc.snapshot(conf)
            assert name in sc.snap_users(snap), "an incremental sync cannot see a hard deletion"
            for g in snap["groups"]:
                assert name not in g["members"], g["name"]
            doc = sync_json(conf)
            assert doc["result"]["mode"] == "full"
            assert [u["name"] for u in doc["users"]["removed"]] == [name], doc["users"]["removed"]
            assert name not in sc.snap_users(sc.snapshot(conf))
            rows = sc.db_rows(conf, "SELECT okta_id, kind FROM allocations WHERE id = ?", (uid,))
            assert rows == [(victim["id"], "user")], rows
            # A new user never gets it, by either kind of sync.
            emu.add_user("later.user@example.com", firstName="Later", lastName="User")
            sync_json(conf, "--incremental")
            sync_json(conf)
            snap = sc.snapshot(conf)
            assert uid not in {u["uid"] for u in snap["users"]}
            assert uid not in {g["gid"] for g in snap["groups"]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def rejected_entries_are_judged_again():
    """Entries the last sync rejected are not in the cache: an incremental
    sync fetches them again by id, so that when the reason goes (here a
    local account), the result is still a full sync's -- the user with
    its groups."""
    org = make_org(nusers=300, ngroups=10, seed=9)
    groups = [g["profile"]["name"] for g in org["groups"]]
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            # "alice" is a local account: the Okta user alice is rejected.
            emu.add_user("alice@example.com", firstName="Alice", lastName="Okta",
                         groups=groups[:2])
            doc = sync_json(conf)
            assert doc["counts"]["users"]["rejected"] == 1, doc["counts"]
            emu.reset_requests()
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "incremental"
            assert doc["counts"]["users"]["rejected"] == 1, doc["counts"]
            assert [u["login"] for u in doc["users"]["rejected"]] == ["alice@example.com"]
            assert len(emu.requests()) <= 10, emu.requests()
            # The local account goes; the next incremental sync takes the
            # Okta user, with its two groups.
            with open(os.path.join(tmp, "passwd"), "w") as f:
                f.write(sc.LOCAL_PASSWD.replace("alice:x:1000:1000:Alice Local:/home/alice:/bin/bash\n", ""))
            with open(os.path.join(tmp, "group"), "w") as f:
                f.write(sc.LOCAL_GROUP.replace("alice:x:1000:\n", ""))
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "incremental"
            assert [u["name"] for u in doc["users"]["added"]] == ["alice"], doc["users"]
            assert doc["counts"]["memberships"]["added"] == 2, doc["counts"]
            fresh = os.path.join(tmp, "fresh")
            os.makedirs(fresh)
            for n in ("passwd", "group"):
                shutil.copy(os.path.join(tmp, n), os.path.join(fresh, n))
            assert_same_as_full(conf, emu, tmp, keep_local=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def members_only_scope_changes():
    """[sync] groups + members_only: a user joining a synced group comes in
    (from the member listing: its own entry did not change), one leaving
    goes, a group renamed out of [sync] groups goes with its members -- as
    a full sync has it."""
    org = make_org(nusers=400, ngroups=10, seed=10, memberships_per_user=1)
    names = [g["profile"]["name"] for g in org["groups"]]
    sync = {"groups": "%s, %s, %s" % tuple(names[:3]), "members_only": "yes"}
    in_g = {g["profile"]["name"]: set(g["members"]) for g in org["groups"]}
    login = {u["id"]: u["profile"]["login"] for u in org["users"]}
    outsider = sorted(in_g[names[5]])[0]
    leaver = sorted(in_g[names[0]])[0]
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, sync=sync)
            sync_json(conf)
            assert sc.username(login[outsider]) not in sc.snap_users(sc.snapshot(conf))
            emu.add_member(names[1], login[outsider])
            emu.remove_member(names[0], login[leaver])
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "incremental"
            assert [u["name"] for u in doc["users"]["added"]] == [sc.username(login[outsider])]
            assert [u["name"] for u in doc["users"]["removed"]] == [sc.username(login[leaver])]
            assert_same_as_full(conf, emu, tmp, sync=sync)
            # (set_group(name, name=...) clashes in emulator.py.)
            emu._call("set_group", name=names[2], attrs={"name": "Renamed Away"})
            doc = sync_json(conf, "--incremental", "--force")
            assert doc["result"]["mode"] == "incremental"
            assert [g["okta_id"] for g in doc["groups"]["removed"]] == [org["groups"][2]["id"]]
            assert doc["counts"]["users"]["removed"] == len(in_g[names[2]]), doc["counts"]
            assert_same_as_full(conf, emu, tmp, sync=sync)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def falls_back_to_full():
    """--incremental without a watermark, or after the mapping settings
    changed, runs a full sync (and says so in the run record)."""
    org = make_org(nusers=200, ngroups=5, seed=8)
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "full"
            assert mode_of_last_run(conf) == "full"
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "incremental"
            conf = sc.setup(tmp, emu, posix={"default_shell": "/bin/sh"})
            doc = sync_json(conf, "--incremental")
            assert doc["result"]["mode"] == "full"
            assert doc["counts"]["users"]["modified"] == 200, doc["counts"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
