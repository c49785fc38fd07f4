"""test_sync_hostile - a hostile Okta org (orgdata.make_hostile_org) is
rejected or sanitised as documented in syncd/engine/map.h and common/names.h,
with the reason in the plan, and nothing dangerous reaches the snapshot
(issue 2, Done-when 5)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import HOSTILE_USERS, HOSTILE_GROUPS, make_hostile_org  # noqa: E402

# key -> a fragment the rejection reason must hold (None: accepted).
USER_EXPECT = {
    "root": "collides with a local account",
    "local_daemon": "collides with a local account",
    "colon": "contains ':'",
    "slash": "contains '/'",
    "newline": "line break",
    "space": "white space",
    "upper": None,                         # lower-cased: upper.case
    "dup_a": "more than one Okta user",
    "dup_b": "more than one Okta user",
    "unicode_login": "non-ASCII",
    "unicode_gecos": None,
    "gecos_evil": None,                    # GECOS sanitised
    "uid_zero": "is 0",
    "uid_negative": "negative",
    "uid_huge": "outside the configured range",
    "uid_system": "system range",
    "uid_string": "not a whole number",
    "uid_valid": None,
    "shell_evil": "not in allowed_shells",
    "too_long": "longer than 32",
    "dash": "starts with '-'",
    "normal": None,
}

GROUP_EXPECT = {
    "hostile": ("hostile", None),
    "sudo": (None, "collides with a local group"),
    "root": (None, "collides with a local group"),
    "colon": (None, "more than one Okta group"),     # bad:group and bad\ngroup
    "newline": (None, "more than one Okta group"),   # both derive bad-group
    "unicode": ("d-veloppeurs", None),
    "spaces": ("engineering-team", None),
    "big": ("big-group", None),
}


@case
def hostile_org():
    assert set(USER_EXPECT) == set(HOSTILE_USERS), set(USER_EXPECT) ^ set(HOSTILE_USERS)
    assert set(GROUP_EXPECT) == set(HOSTILE_GROUPS)
    org = make_hostile_org(big_members=10000)
    ids = {u["profile"]["login"]: u["id"] for u in org["users"]}
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu, posix={"uid_attribute": "uidNumber",
                                             "shell_attribute": "loginShell"})
            cache = sc.cache_dir(conf)
            # The table form escapes every hostile byte: no line of it can
            # be forged by a login holding a newline.
            p = sc.okta_sync(conf, "--dry-run")
            assert p.returncode == 0, p.stderr
            for line in p.stdout.splitlines():
                assert not line.startswith("line@"), line
            assert "new\\nline@example.com" in p.stdout
            assert sc.hash_dir(cache) == {}

            doc = sc.plan(conf)
            rejected = {r["okta_id"]: r["reason"] for r in doc["users"]["rejected"]}
            added = {u["okta_id"]: u for u in doc["users"]["added"]}
            for key, frag in USER_EXPECT.items():
                login = HOSTILE_USERS[key][0]
                oid = ids[login]
                if frag is None:
                    assert oid in added, (key, rejected.get(oid))
                else:
                    assert oid in rejected, (key, login)
                    assert frag in rejected[oid], (key, rejected[oid])
                    assert oid not in added
            assert added[ids["UPPER.Case@example.com"]]["name"] == "upper.case"
            zoe = added[ids["zoe.unicode@example.com"]]
            assert zoe["gecos"] == "Zo\u00eb \u00d1\u00fa\u00f1ez \u674e", zoe
            evil = added[ids["gecos.evil@example.com"]]
            assert evil["gecos"] == "Evex00 Evil root00//bin/sh", evil
            assert added[ids["uid.valid@example.com"]]["uid"] == 2000000500
            assert doc["counts"]["users"]["rejected"] == len([f for f in USER_EXPECT.values() if f])

            grej = {r["okta_name"]: r["reason"] for r in doc["groups"]["rejected"]}
            gadd = {g["okta_name"]: g for g in doc["groups"]["added"]}
            for key, (name, frag) in GROUP_EXPECT.items():
                okta_name = HOSTILE_GROUPS[key]
                if frag is None:
                    assert okta_name in gadd, (key, grej.get(okta_name))
                    assert gadd[okta_name]["name"] == name, gadd[okta_name]
                else:
                    assert okta_name in grej, key
                    assert frag in grej[okta_name], (key, grej[okta_name])

            snap = sc.snapshot(conf)
            sc.check_snapshot_safe(snap, shells=("/bin/bash",))
            su, sg = sc.snap_users(snap), sc.snap_groups(snap)
            assert len(sg["big-group"]["members"]) == 10000
            assert sg["big-group"]["gid"] in su["big.user00001"]["gids"]
            assert "upper.case" in sg["hostile"]["members"]
            for bad in ("root", "daemon", "sudo", "bad-group"):
                assert bad not in sg and (bad not in su or bad == "root"), bad
            assert "root" not in su
            # Rejections are kept in the cache for `okta-sync show`.
            n = sc.db_rows(conf, "SELECT count(*) FROM rejects")[0][0]
            assert n == doc["counts"]["users"]["rejected"] + doc["counts"]["groups"]["rejected"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def strip_domain_and_private_group_clash():
    """strip_domain: another domain is rejected; a user named like a local
    group cannot get a private group and is rejected; an Okta group named
    like a user is rejected, and the user keeps the name (issue 14)."""
    tmp = tmpdir()
    try:
        with Emulator({"users": [], "groups": []}) as emu:
            emu.add_user("jane@example.com", firstName="Jane", lastName="Doe")
            emu.add_user("jane@other.org", firstName="Jane", lastName="Other")
            emu.add_user("ops@example.com", firstName="Ops", lastName="Person")
            emu.add_user("users@example.com", firstName="Users", lastName="Person")
            emu.add_group("Ops")
            conf = sc.setup(tmp, emu, posix={"strip_domain": "example.com"})
            doc = sc.plan(conf)
            rej = {r["login"]: r["reason"] for r in doc["users"]["rejected"]}
            assert "domain other than example.com" in rej["jane@other.org"], rej
            assert "ops@example.com" not in rej, rej
            assert "local group" in rej["users@example.com"], rej
            assert sorted(u["name"] for u in doc["users"]["added"]) == ["jane", "ops"]
            grej = {r["okta_name"]: r["reason"] for r in doc["groups"]["rejected"]}
            assert "is taken by the Okta user ops" in grej["Ops"], grej
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
