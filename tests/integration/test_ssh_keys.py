#!/usr/bin/env python3
"""test_ssh_keys.py - SSH key login from Okta, end to end through a real
sshd on 127.0.0.1 (issue 10, Done-when 1 and 4).

The setup is tests/lib/sshd.py's: sshd in a private mount namespace with
the shipped drop-in packaging/sshd/okta-sync.conf Included as it is
(AuthorizedKeysCommand /usr/libexec/okta-sync/okta-sync-keys %u, as
nobody), the build's key program laid over /usr/libexec at that packaged
path, `AuthorizedKeysFile none` (so the key lives only in the emulator's
profile attribute, nowhere on disk), and pam.d/sshd made from the shipped
pam-auth-update profile (pam_okta in account, pam_mkhomedir in session).
The config has `[posix] ssh_keys_attribute = sshPublicKey`; every change
happens in the emulator and reaches the host by `okta-sync sync`.

- key_login_follows_okta (Done-when 1 and 4): the user's home does not
  exist; the first login with the key from Okta works, `id` shows the Okta
  UID and group, and the home now exists, owned by the Okta UID and
  primary GID, mode 0700 (the profile's pam_mkhomedir).  Key removed in
  Okta: refused.  Put back: works.  User suspended: refused at the key
  (sshd never reaches PAM's account phase), and the key program, run as
  nobody, prints nothing.  User deleted in Okta: a tombstone, refused.
- file_keys_survive_a_missing_key_program: the drop-in enabled but the
  program gone (the package removed, not purged): a local user still logs
  in with ~/.ssh/authorized_keys, which is what packaging/debian/postrm
  relies on when `remove` leaves an admin's copy of the drop-in.
"""
import json
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import OKTA_SYNC, case, main, run, wait_until  # noqa: E402
from emulator import Emulator  # noqa: E402
from sshd import Sshd, KEYS_PATH, LOCAL_USER, LOCAL_UID  # noqa: E402

LOGIN = "jane@example.com"
USER = "jane"
GROUP = "engineering"
ATTR = "sshPublicKey"


def keys_as_nobody(s, user=USER):
    """The key program, as sshd runs it: as nobody, at the packaged path,
    in the namespace (the snapshot at /var/lib/okta-sync)."""
    p = s.ns("exec setpriv --reuid=nobody --regid=nogroup --clear-groups %s %s"
             % (KEYS_PATH, user))
    return p


def refused(s, why):
    p = s.ssh("id")
    info = s.info(p)
    assert p.returncode == 255, "login not refused (%s)" % why + info
    assert "uid=" not in p.stdout, info
    return p


def tombstones(s):
    p = run([OKTA_SYNC, "-c", s.conf, "status", "--json"])
    assert p.returncode in (0, 1, 2), p.stderr
    return json.loads(p.stdout).get("tombstones")


@case
def key_login_follows_okta():
    with Emulator() as emu:
        emu.add_group(GROUP)
        s = Sshd(emu, login=LOGIN, user=USER, group=GROUP,
                 posix={"ssh_keys_attribute": ATTR},
                 pam_profile=True, dropin=True, keys_program=True,
                 authorized_keys_file="none")
        try:
            blob = s.pubkey.split()[1]
            emu.add_user(login=LOGIN, firstName="Jane", lastName="Doe", groups=[GROUP],
                         **{ATTR: [s.pubkey]})
            # a colleague, so that removing Jane is not "every user gone"
            emu.add_user(login="max@example.com", firstName="Max", lastName="Roe",
                         groups=[GROUP])
            s.publish()
            s.resolve(make_home=False)
            assert not os.path.exists(s.home), "the home exists before the first login"
            s.start()

            # The key program serves the key from Okta (so that "prints
            # nothing" below means something).
            p = keys_as_nobody(s)
            assert p.returncode == 0 and blob in p.stdout, \
                "the key program (as nobody) does not print Jane's key:\n%s\n%s" % (p.stdout, p.stderr)

            # Done-when 1 and 4: the first login works and makes the home.
            s.login_works()
            assert os.path.isdir(s.home), \
                "the first login made no home directory (pam_mkhomedir in the profile)"
            st = os.stat(s.home)
            assert (st.st_uid, st.st_gid) == (s.uid, s.gid), \
                "home owned by %d:%d, want the Okta UID and primary GID %d:%d" % (
                    st.st_uid, st.st_gid, s.uid, s.gid)
            assert stat.S_IMODE(st.st_mode) == 0o700, "home mode %o, want 0700" % stat.S_IMODE(st.st_mode)
            print("first login made %s: owner %d:%d, mode %o"
                  % (s.home, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)))
            p = s.ssh("pwd")
            assert p.stdout.strip() == s.home, "the session did not start in the home" + s.info(p)

            # The key removed in Okta: refused.
            emu.set_profile(LOGIN, **{ATTR: None})
            s.publish()
            p = refused(s, "key removed in Okta")
            assert "Permission denied (publickey)" in p.stderr, s.info(p)
            # Put back: works.
            emu.set_profile(LOGIN, **{ATTR: [s.pubkey]})
            s.publish()
            s.login_works()

            # Suspended: refused at the key, before PAM's account phase
            # (pam_okta's reason never shows), and the program prints
            # nothing for Jane.
            s.publish_state("SUSPENDED")
            p = refused(s, "suspended")
            assert "Permission denied (publickey)" in p.stderr, s.info(p)
            assert "suspended" not in p.stderr, \
                "sshd got as far as PAM's account phase with the key" + s.info(p)
            p = keys_as_nobody(s)
            assert p.stdout == "", "the key program printed for a suspended user:\n" + p.stdout
            assert blob not in p.stderr, p.stderr

            # Active again, then deleted in Okta: a tombstone, refused.
            s.publish_state("ACTIVE")
            s.login_works()
            emu.delete_user(LOGIN)
            s.publish(force=True)
            assert tombstones(s) == 1, "Jane is not a tombstone after her deletion"
            p = refused(s, "deleted in Okta (tombstone)")
            p = keys_as_nobody(s)
            assert p.stdout == "", "the key program printed for a tombstone:\n" + p.stdout
        finally:
            s.close()


@case
def file_keys_survive_a_missing_key_program():
    with Emulator() as emu:
        emu.add_group(GROUP)
        s = Sshd(emu, login=LOGIN, user=USER, group=GROUP,
                 pam_profile=True, dropin=True, keys_program=False)
        try:
            emu.add_user(login=LOGIN, firstName="Jane", lastName="Doe", groups=[GROUP])
            s.publish()
            s.resolve(make_home=False)
            s.start()
            # The Okta user has no authorized_keys: sshd asks the missing
            # program, says so in its log, and refuses.
            refused(s, "no key program, no authorized_keys")
            wait_until(lambda: "AuthorizedKeysCommand" in s.sshd_log(), timeout=10,
                       what="sshd's complaint about the missing key program")
            line = [ln for ln in s.sshd_log().splitlines() if "AuthorizedKeysCommand" in ln][0]
            print("sshd without the program: %s" % line.strip())
            # A local user's ~/.ssh/authorized_keys works as before.
            p = s.ssh("id", user=LOCAL_USER)
            assert p.returncode == 0 and "uid=%d(%s)" % (LOCAL_UID, LOCAL_USER) in p.stdout, \
                "a local user's authorized_keys stopped working without the key program" + s.info(p)
        finally:
            s.close()


if __name__ == "__main__":
    main()
