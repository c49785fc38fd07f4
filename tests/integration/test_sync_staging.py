"""test_sync_staging - how the fetch stages what it lists (issue 13): the
memberships go to SQLite a batch of rows at a time, and the set of users
seen keeps short Okta ids in its slots and long ones elsewhere.  Neither
may lose a member or invent one, whatever the group's size (a batch, a
batch and a remainder, less than one batch, more than one page) and
whatever the id's length (1 to 64 characters, the longest valid).  (A
member the user listings did not return stays out: test_sync.py's
scoped_token.)"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import case, main, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

# Around the seen-user set's in-slot limit (22 characters), and the ends.
ID_LENGTHS = (1, 2, 20, 21, 22, 23, 24, 40, 63, 64)


def long_id(i, n):
    """A valid Okta id of exactly n characters, distinct for each i (for
    n <= 2: i < 52)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if n == 1:
        return letters[i % len(letters)]
    if n == 2:
        return letters[i % len(letters)] + letters[i // len(letters) % len(letters)]
    return ("L%dU%d" % (n, i) + "Z" * 64)[:n]


def org_with_long_ids():
    """2,100 users (the seen-user set grows past its first 4,096 slots,
    so its keys are moved once), every id length in ID_LENGTHS, groups
    of about 300 members (two pages of 200, nine batches and a
    remainder), one of 33, one of 31 and one of 1."""
    org = make_org(nusers=2100, ngroups=7, seed=7, memberships_per_user=1,
                   statuses=False)
    remap = {}
    per = {n: 0 for n in ID_LENGTHS}
    for i, u in enumerate(org["users"][:400]):
        n = ID_LENGTHS[i % len(ID_LENGTHS)]
        if n <= 2 and per[n] >= 40:
            continue
        remap[u["id"]] = long_id(per[n] if n <= 2 else i, n)
        per[n] += 1
        u["id"] = remap[u["id"]]
    for g in org["groups"]:
        g["members"] = sorted(remap.get(m, m) for m in g["members"])
    ids = [u["id"] for u in org["users"]]
    # Small groups: exactly one batch and one more, one less, a single
    # member; each holds ids of every length.
    org["groups"][4]["members"] = sorted(ids[:33])
    org["groups"][5]["members"] = sorted(ids[:31])
    org["groups"][6]["members"] = [ids[5]]
    return org


def expected_members(org):
    by_id = {u["id"]: sc.username(u["profile"]["login"]) for u in org["users"]}
    return {g["profile"]["name"].lower().replace(" ", "-"):
            {by_id[m] for m in g["members"]} for g in org["groups"]}


@case
def every_member_of_every_size_and_id_length():
    """Each group of the snapshot has exactly its Okta members, from a
    group of 1 to groups of two pages, with ids from 1 to 64 characters."""
    org = org_with_long_ids()
    lengths = {len(u["id"]) for u in org["users"]}
    assert set(ID_LENGTHS) <= lengths, lengths
    tmp = tmpdir()
    try:
        with Emulator(org) as emu:
            conf = sc.setup(tmp, emu)
            p = sc.okta_sync(conf, "-q")
            assert p.returncode == 0, p.stderr[-2000:]
            snap = sc.snapshot(conf)
            users = sc.snap_users(snap)
            assert len(users) == 2100, len(users)
            groups = sc.snap_groups(snap)
            want = expected_members(org)
            for name, members in want.items():
                got = set(groups[name]["members"])
                assert got == members, (name, len(got), len(members),
                                        sorted(members - got)[:5],
                                        sorted(got - members)[:5])
            sizes = sorted(len(m) for m in want.values())
            assert sizes[:3] == [1, 31, 33] and sizes[-1] > 200, sizes
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
