"""test_sudo - sudo rules for Okta groups work through NSS as they are.

A sudoers.d file with `%linux-admins ALL=(ALL) ALL` (bind-mounted over
/etc/sudoers.d in a private namespace, with nsswitch.conf `files okta`)
gives the rule to a member of the Okta group "Linux Admins" and not to a
non-member; removed from the group in Okta and synced, the member loses it.
okta-sync ships no sudo rules: this is the admin's choice, and whoever can
change that Okta group's membership holds root on the hosts (README).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
import oktatest  # noqa: E402
from oktatest import case, main, ns_run, tmpdir, write_nsswitch  # noqa: E402
from emulator import Emulator  # noqa: E402
from orgdata import make_org  # noqa: E402

RULE = "%linux-admins ALL=(ALL) ALL\n"


def sudo_l(tmp, cache, sudoers_d, user):
    nss = write_nsswitch(os.path.join(tmp, "nsswitch.conf"))
    p = ns_run("sudo -n -l -U %s 2>&1; echo rc=$?" % user, cache, nsswitch=nss,
               extra_binds=[(sudoers_d, "/etc/sudoers.d")])
    return p.stdout + p.stderr


@case
def okta_group_rule_follows_okta_membership():
    oktatest.need("sudo")
    org = make_org(nusers=10, ngroups=2, seed=71, statuses=False)
    logins = [u["profile"]["login"] for u in org["users"]]
    tmp = tmpdir("okta-sudo-")
    try:
        sudoers_d = os.path.join(tmp, "sudoers.d")
        os.mkdir(sudoers_d, 0o755)
        rule = os.path.join(sudoers_d, "okta-admins")
        with open(rule, "w") as f:
            f.write(RULE)
        os.chmod(rule, 0o440)
        with Emulator(org) as emu:
            emu.add_group("Linux Admins")
            emu.add_member("Linux Admins", logins[0])
            member, other = sc.username(logins[0]), sc.username(logins[1])
            conf = sc.setup(tmp, emu)
            sc.plan(conf)
            cache = sc.cache_dir(conf)

            out = sudo_l(tmp, cache, sudoers_d, member)
            assert "User %s may run the following commands" % member in out, out
            assert "(ALL) ALL" in out, out
            out = sudo_l(tmp, cache, sudoers_d, other)
            assert "User %s is not allowed to run sudo" % other in out, out

            # Out of the group in Okta, then a sync: the rule is gone.
            emu.remove_member("Linux Admins", logins[0])
            sc.plan(conf)
            out = sudo_l(tmp, cache, sudoers_d, member)
            assert "User %s is not allowed to run sudo" % member in out, out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
