#!/usr/bin/env python3
"""test_name_clash.py - an Okta group named like an Okta user (issue 14,
part 8, Done-when 8).

With user-private groups, a user "jane" owns the group "jane".  Whoever may
create groups in Okta must not be able to push jane off the hosts by
creating a group "Jane": the user keeps the name and the private group, and
the group is rejected with the reason, in the plan and in `okta-sync
status`.  Everything goes through the emulator and a real sync; "able to
log in" is glibc resolving jane (getent, id) and pamtester's acct_mgmt
through pam_okta.so passing, inside a private mount namespace.
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import oktatest  # noqa: E402
from oktatest import case, main, ns_run, tmpdir, write_nsswitch  # noqa: E402
import sync_common as sc  # noqa: E402
from emulator import Emulator  # noqa: E402

MODULE = os.path.join(oktatest.BUILD, "pam_okta.so")
REASON = "is taken by the Okta user jane"


def pam_dir(tmp):
    """A copy of /etc/pam.d with a service judged by pam_okta alone."""
    d = os.path.join(tmp, "pam.d")
    if os.path.isdir(d):
        return d
    shutil.copytree("/etc/pam.d", d, symlinks=True)
    with open(os.path.join(d, "okta-test"), "w") as f:
        f.write("account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
                "account required pam_permit.so\n" % MODULE)
    return d


def logs_in(conf, tmp, user):
    """getent, id and pamtester acct_mgmt for user, in a namespace over the
    sync's cache dir.  Returns the combined output."""
    nss = write_nsswitch(os.path.join(tmp, "nsswitch.conf"))
    script = ("getent passwd %s; echo rc=$?; id -Gn %s; "
              "pamtester okta-test %s acct_mgmt 2>&1; echo rc=$?" % (user, user, user))
    p = ns_run(script, sc.cache_dir(conf), nsswitch=nss,
               extra_binds=[(pam_dir(tmp), "/etc/pam.d")], timeout=60)
    return p.stdout + p.stderr


def assert_jane_kept(conf, tmp, uid):
    snap = sc.snapshot(conf)
    users, groups = sc.snap_users(snap), sc.snap_groups(snap)
    assert "jane" in users, "the user jane was pushed off the host: %s" % sorted(users)
    assert users["jane"]["uid"] == uid, (users["jane"], uid)
    # The one group "jane" is her private group (GID = UID, no members).
    assert groups["jane"]["gid"] == uid and groups["jane"]["members"] == [], groups["jane"]
    out = logs_in(conf, tmp, "jane")
    assert "jane:*:%d:%d:" % (uid, uid) in out and "rc=0" in out.splitlines()[1], \
        "getent passwd jane does not resolve her:\n" + out
    assert "pamtester: account management done.\nrc=0" in out, \
        "jane cannot log in (pam_okta acct_mgmt):\n" + out
    return out


def assert_reason_in_status(conf):
    p = oktatest.run([oktatest.OKTA_SYNC, "-c", conf, "status"])
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if REASON in ln]
    assert lines and lines[0].lstrip().startswith("group"), \
        "status does not say why the group was rejected:\n" + p.stdout
    p = oktatest.run([oktatest.OKTA_SYNC, "-c", conf, "status", "--json"])
    doc = json.loads(p.stdout)
    rej = [r for r in doc["rejected"] if r["kind"] == "group"]
    assert rej and rej[0]["okta_name"] == "Jane" and REASON in rej[0]["reason"], doc["rejected"]


@case
def group_named_like_a_user_is_rejected_and_the_user_keeps_her_name():
    oktatest.need(oktatest.OKTA_SYNC, sc.SNAPDUMP, MODULE, "pamtester")
    tmp = tmpdir("okta-clash-")
    with Emulator() as emu:
        emu.add_group("Eng")
        emu.add_user("jane@example.com", "Jane", "Doe", groups=["Eng"])
        emu.add_user("mallory@example.com", "Mal", "Lory", groups=["Eng"])
        conf = sc.setup(tmp, emu)
        p = sc.okta_sync(conf)
        assert p.returncode == 0, p.stderr
        uid = sc.snap_users(sc.snapshot(conf))["jane"]["uid"]

        # Someone who may create groups names one after jane.
        emu.add_group("Jane")
        emu.add_member("Jane", "mallory@example.com")

        # The plan says which entry loses, and why.
        p = sc.okta_sync(conf, "--dry-run", "--full")
        assert p.returncode == 0, p.stderr
        hits = [ln for ln in p.stdout.splitlines() if REASON in ln]
        assert hits and hits[0].lstrip().startswith("! group"), \
            "the dry run does not reject the group with the reason:\n" + p.stdout
        assert "user" not in " ".join(ln for ln in p.stdout.splitlines()
                                      if ln.lstrip().startswith("! user")), p.stdout
        doc = sc.plan(conf, "--dry-run", "--full")
        assert doc["users"]["rejected"] == [], doc["users"]["rejected"]
        assert [g["okta_name"] for g in doc["groups"]["rejected"]] == ["Jane"], doc["groups"]
        assert REASON in doc["groups"]["rejected"][0]["reason"], doc["groups"]["rejected"]

        p = sc.okta_sync(conf, "--full")
        assert p.returncode == 0, p.stderr
        out = assert_jane_kept(conf, tmp, uid)
        assert "eng" in out.splitlines()[2].split(), "jane lost her Okta groups:\n" + out
        assert_reason_in_status(conf)

        # Later incremental syncs keep deciding the same way.
        emu.set_profile("jane@example.com", firstName="Janet")
        p = sc.okta_sync(conf, "--incremental")
        assert p.returncode == 0, p.stderr
        assert_jane_kept(conf, tmp, uid)
    shutil.rmtree(tmp, ignore_errors=True)


@case
def user_arriving_after_the_group_takes_the_name():
    """The group held the name first; a user of that name arrives: the
    user wins all the same (no first-come rule an attacker could race)."""
    oktatest.need(oktatest.OKTA_SYNC, sc.SNAPDUMP, MODULE, "pamtester")
    tmp = tmpdir("okta-clash2-")
    with Emulator() as emu:
        emu.add_group("Jane")
        emu.add_user("bob@example.com", "Bob", "B", groups=["Jane"])
        conf = sc.setup(tmp, emu)
        p = sc.okta_sync(conf)
        assert p.returncode == 0, p.stderr
        assert "jane" in sc.snap_groups(sc.snapshot(conf))
        emu.add_user("jane@example.com", "Jane", "Doe")
        p = sc.okta_sync(conf, "--full")
        assert p.returncode == 0, p.stderr
        uid = sc.snap_users(sc.snapshot(conf))["jane"]["uid"]
        assert_jane_kept(conf, tmp, uid)
        assert_reason_in_status(conf)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
