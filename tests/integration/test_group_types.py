"""test_group_types - [sync] group_types: which of Okta's group types the
sync lists.

Okta has OKTA_GROUP, APP_GROUP (imported from an app, AD or LDAP) and
BUILT_IN (Everyone: every user of the org).  By default the sync lists
OKTA_GROUP and APP_GROUP only, with a `type eq` filter: Everyone never
becomes a Linux group, and its member pages (the whole directory, again at
every full sync) are never fetched.  Naming BUILT_IN brings it back.
"""
import math
import os
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

NUSERS = 450
ORG = make_org(nusers=NUSERS, ngroups=4, seed=41, statuses=False, everyone=True)


def group_requests(emu):
    return [urllib.parse.unquote_plus(r[1]) for r in emu.requests()
            if r[1].startswith("/api/v1/groups")]


def member_pages(reqs, gid):
    return [r for r in reqs if r.startswith("/api/v1/groups/%s/users" % gid)]


@case
def everyone_is_left_out_by_default():
    tmp = tmpdir("okta-gtypes-")
    try:
        with Emulator(ORG) as emu:
            emu.add_group("AD Admins", type="APP_GROUP")
            emu.add_member("AD Admins", ORG["users"][0]["profile"]["login"])
            everyone = emu.group_id("Everyone")
            conf = sc.setup(tmp, emu)
            emu.reset_requests()
            doc = sc.plan(conf)
            reqs = group_requests(emu)
            groups = sc.snap_groups(sc.snapshot(conf))
            assert "everyone" not in groups, sorted(groups)
            assert "ad-admins" in groups, sorted(groups)
            assert doc["counts"]["groups"]["added"] == 5, doc["counts"]["groups"]
            listing = [r for r in reqs if r.startswith("/api/v1/groups?")]
            assert listing and all('type eq "OKTA_GROUP" or type eq "APP_GROUP"' in r
                                   for r in listing), listing
            # Everyone's member pages, the whole directory, never fetched.
            skipped = math.ceil(NUSERS / 200)
            assert member_pages(reqs, everyone) == [], member_pages(reqs, everyone)
            print("Everyone left out: %d member pages not fetched" % skipped)

            # An incremental sync keeps the type filter beside its time filter.
            emu.add_member("AD Admins", ORG["users"][1]["profile"]["login"])
            emu.reset_requests()
            sc.plan(conf, "--incremental")
            inc = [r for r in group_requests(emu) if r.startswith("/api/v1/groups?")]
            assert inc and all('and (type eq "OKTA_GROUP" or type eq "APP_GROUP")' in r
                               for r in inc), inc
            assert member_pages(group_requests(emu), everyone) == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def built_in_brings_everyone_back():
    tmp = tmpdir("okta-gtypes-")
    try:
        with Emulator(ORG) as emu:
            everyone = emu.group_id("Everyone")
            conf = sc.setup(tmp, emu, sync={"group_types": "OKTA_GROUP, APP_GROUP, BUILT_IN"})
            emu.reset_requests()
            sc.plan(conf)
            reqs = group_requests(emu)
            groups = sc.snap_groups(sc.snapshot(conf))
            assert len(groups["everyone"]["members"]) == NUSERS, len(groups["everyone"]["members"])
            # Every type named: no type filter at all.
            assert all("type eq" not in r for r in reqs), reqs
            assert len(member_pages(reqs, everyone)) == math.ceil(NUSERS / 200), \
                member_pages(reqs, everyone)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def unknown_group_type_is_a_config_problem():
    tmp = tmpdir("okta-gtypes-")
    try:
        conf = sc.setup(tmp, None, token="x", okta={"domain": "dev-1.okta.com"},
                        sync={"group_types": "OKTA_GROUP, EVERYONE"})
        p = sc.oktatest.run([sc.oktatest.OKTA_SYNC, "-c", conf, "check-config"])
        assert p.returncode == 78, (p.returncode, p.stderr)
        assert 'unknown group type "EVERYONE"; write any of OKTA_GROUP, APP_GROUP, BUILT_IN' \
            in p.stderr, p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
