"""test_members_only - [sync] members_only = yes fetches its users through
the synced groups' member listings (whole user objects) and never lists
the org's users.

Two groups of 50 in a 10,000-user org cost a handful of requests, not the
whole directory, and the result is the one the whole listing filtered
locally gives: the same users, with the same fields and IDs, the same
groups and members.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

NUSERS = 10000


@case
def two_groups_of_50_in_10000_users():
    org = make_org(nusers=NUSERS, ngroups=20, seed=61)
    logins = [u["profile"]["login"] for u in org["users"]]
    tmp = tmpdir("okta-members-only-")
    try:
        with Emulator(org) as emu:
            # Two groups of 50, overlapping by 10; DEPROVISIONED and
            # SUSPENDED members among them, as the statuses fall.
            for name, first in (("Linux Admins", 100), ("Linux Users", 140)):
                emu.add_group(name)
                for login in logins[first:first + 50]:
                    emu.add_member(name, login)
            groups = "Linux Admins, Linux Users"
            scoped = sc.setup(os.path.join(tmp, "scoped"), emu,
                              sync={"groups": groups, "members_only": "yes",
                                    "deprovisioned": "keep"})
            emu.reset_requests()
            plan = sc.plan(scoped)
            reqs = emu.requests()
            print("members_only: %d requests for two groups of 50 in %d users"
                  % (len(reqs), NUSERS))
            assert len(reqs) <= 10, [r[1] for r in reqs]
            assert not any(r[1].startswith("/api/v1/users") for r in reqs), \
                [r[1] for r in reqs]

            # The same groups, every user listed, then filtered locally.
            whole = sc.setup(os.path.join(tmp, "whole"), emu,
                             sync={"groups": groups, "members_only": "no",
                                   "deprovisioned": "keep"})
            sc.plan(whole)
            a, b = sc.snapshot(scoped), sc.snapshot(whole)
            members = set()
            for g in b["groups"]:
                members |= set(g["members"])
            want = [u for u in b["users"] if u["name"] in members]
            assert len(want) == 90, len(want)
            assert a["users"] == want, "members_only users differ from the filtered listing"
            # The two Okta groups, and the private groups of their members.
            want_groups = [g for g in b["groups"]
                           if g["name"] in members or g["name"] in ("linux-admins", "linux-users")]
            assert len(want_groups) == 92, len(want_groups)
            assert a["groups"] == want_groups, "members_only groups differ"
            assert plan["counts"]["users"]["added"] == 90 - plan["counts"]["users"]["rejected"], \
                plan["counts"]["users"]

            # Taken out of the synced groups: removed, and the plan says
            # why without claiming the user left Okta.
            gone = sc.username(logins[100])
            assert gone in {u["name"] for u in a["users"]}
            emu.remove_member("Linux Admins", logins[100])
            dry = sc.plan(scoped, "--dry-run")
            removed = {r["name"]: r["reason"] for r in dry["users"]["removed"]}
            assert removed == {gone: "no longer a member of a synced group (or no longer in Okta)"}, \
                removed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
