"""test_id_attributes - UIDs from an Okta profile attribute, as real Okta
sends them, through `okta-sync sync` and `check-config`.

An Okta custom attribute of type "number" arrives as a JSON double
(1500.0): a whole-valued one is that ID; a fraction or a value out of range
is rejected with its reason.  With user-private groups a UID is also its
group's GID, so a UID inside the UID range but outside the GID range is
rejected with a reason that names the GID and the GID range (not the UID
range), and check-config warns about such a configuration beforehand.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from oktatest import OKTA_SYNC, case, main, run, tmpdir  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402


def rejected_reasons(doc, emu, logins):
    by_id = {r["okta_id"]: r["reason"] for r in doc["users"]["rejected"]}
    return {login: by_id.get(emu.user_id(login)) for login in logins}


@case
def number_typed_uid_attribute():
    org = make_org(nusers=3, ngroups=1, seed=31, statuses=False)
    tmp = tmpdir("okta-idattr-")
    try:
        with Emulator(org) as emu:
            emu.add_user("whole@example.com", uidNumber=1500.0)
            emu.add_user("fraction@example.com", uidNumber=1500.5)
            emu.add_user("huge@example.com", uidNumber=1e12)
            conf = sc.setup(tmp, emu, posix={"uid_attribute": "uidNumber",
                                             "uid_min": "1000", "uid_max": "60000",
                                             "gid_min": "1000", "gid_max": "60000"})
            doc = sc.plan(conf)
            users = sc.snap_users(sc.snapshot(conf))
            assert users["whole"]["uid"] == 1500, users["whole"]
            why = rejected_reasons(doc, emu, ("fraction@example.com", "huge@example.com"))
            assert "uid attribute uidNumber (1500.5) is not a whole number" in \
                why["fraction@example.com"], why
            assert "(1000000000000) is outside the configured range 1000-60000" in \
                why["huge@example.com"], why
            assert "fraction" not in users and "huge" not in users
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def uid_outside_the_gid_range_names_the_gid_range():
    org = make_org(nusers=3, ngroups=1, seed=32, statuses=False)
    tmp = tmpdir("okta-idattr-")
    try:
        with Emulator(org) as emu:
            emu.add_user("sevenhundred@example.com", uidNumber=1700)
            # The UID range starts at 1000; the GID range is left at its
            # default, which does not hold 1700.
            conf = sc.setup(tmp, emu, posix={"uid_attribute": "uidNumber",
                                             "uid_min": "1000"})
            p = run([OKTA_SYNC, "-c", conf, "check-config"])
            assert p.returncode == 0, p.stderr
            assert "uid_attribute UIDs outside the GID range 2000000000-2099999999 " \
                "are rejected" in p.stdout, p.stdout
            doc = sc.plan(conf)
            why = rejected_reasons(doc, emu, ("sevenhundred@example.com",))
            assert "its user-private group's GID 1700 is outside the GID range " \
                "2000000000-2099999999" in why["sevenhundred@example.com"], why
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
