#!/usr/bin/env python3
"""test_pam_sshd.py - pam_okta end to end through a real sshd (issue 4,
Done-when 2).

sshd runs on 127.0.0.1 (a free high port) in a private mount namespace:
a tmpfs on /run/sshd, our nsswitch.conf ("passwd: files okta") over
/etc/nsswitch.conf, our pam.d (pam_okta in the account phase) over
/etc/pam.d, the test's cache directory at /var/lib/okta-sync, and
LD_LIBRARY_PATH at the build so that glibc loads build/libnss_okta.so.2.
The client is the real ssh with a key.  The snapshot comes from a real
`okta-sync sync` against the Okta emulator.

An ACTIVE Okta user logs in and runs `id` (Okta UID and groups shown); the
emulator suspends the user, a sync runs, and the next login is refused by
PAM's account phase (the user sees why); the emulator unsuspends the user,
a sync runs, and the login works again.  Last, with the snapshot deleted,
the Okta user is refused and a local account (added to a copy of
/etc/passwd inside the namespace) still logs in (rule 8).

State changes go through publish_state(status): emulator.set_status, then
okta-sync sync.  The namespace and sshd are tests/lib/sshd.py's (shared
with test_ssh_keys.py).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case, main, wait_until  # noqa: E402
from emulator import Emulator  # noqa: E402
from sshd import Sshd, LOCAL_USER, LOCAL_UID  # noqa: E402

LOGIN = "jane@example.com"   # in Okta
USER = "jane"                # on the host (strip_domain = example.com)
GROUP = "engineering"


@case
def suspend_and_unsuspend_through_sshd():
    with Emulator() as emu:
        emu.add_user(login=LOGIN, firstName="Jane", lastName="Doe")
        emu.add_group(GROUP)
        emu.add_member(GROUP, LOGIN)
        s = Sshd(emu, login=LOGIN, user=USER, group=GROUP)
        try:
            scenario(s)
        finally:
            s.close()


def scenario(s):
    """The steps of Done-when 2, then rule 8 end to end."""
    s.publish_state("ACTIVE")
    s.resolve()
    s.start()
    s.login_works()

    s.publish_state("SUSPENDED")
    p = s.ssh("id")
    info = s.info(p)
    assert p.returncode == 255, "login not refused" + info
    assert "uid=" not in p.stdout, info
    # What the user sees: the module's reason, sent by sshd as a banner.
    assert "Your account is suspended in Okta. Contact your administrator." in p.stderr, info
    # PAM's account phase is what refused it.
    wait_until(lambda: "Access denied for user %s by PAM account configuration" % USER
               in s.sshd_log(), timeout=10, what="sshd's PAM account refusal in its log")

    s.publish_state("ACTIVE")
    s.login_works()

    # Rule 8 end to end: with the cache gone, the Okta user is out
    # and a local account still logs in.
    os.unlink(s.snapshot)
    p = s.ssh("id")
    assert p.returncode == 255 and "uid=" not in p.stdout, \
        "Okta user logged in without a cache: %s %s" % (p.stdout, p.stderr)
    p = s.ssh("id", user=LOCAL_USER)
    assert p.returncode == 0 and "uid=%d(%s)" % (LOCAL_UID, LOCAL_USER) in p.stdout, \
        "local user refused without a cache:\n%s\n%s\n%s" % (p.stdout, p.stderr, s.sshd_log()[-2000:])


if __name__ == "__main__":
    main()
