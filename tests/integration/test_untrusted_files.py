#!/usr/bin/env python3
"""test_untrusted_files.py - pam_okta's snapshot= and passwd= files get the
trust checks of the default paths (issue 16 finding 9, issue 14 part 2).

A file that decides who is an Okta user (snapshot=) or who is a local
account (passwd=) must be a regular file owned by root and not writable by
group or others.  Otherwise whoever can write it decides who logs in:
a forged snapshot hands out users, a forged passwd file makes a suspended
Okta user "local", so that pam_okta leaves them to the rest of the stack.

What "refused" means here, asserted through real libpam (pamtester with
pam_wrapper, as test_pam.py runs it):
- snapshot= untrusted (not root's, group- or other-writable, a FIFO): as a
  missing snapshot: Okta users denied ("cache unavailable"), local users
  (in a trusted passwd file) pass on to the rest of the stack;
- passwd= untrusted: the options are broken, so every Okta user is denied
  ("misconfigured"), and the fallback never believes the file: with no
  usable snapshot a name it lists is denied, not waved through as local,
  and a suspended Okta user it lists as a local twin is judged (denied).
Each case first shows the same setup with a trusted file giving the
opposite answer, so that it fails when the check is removed.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import oktatest  # noqa: E402
from oktatest import BUILD, case, main, run, tmpdir  # noqa: E402

MODULE = os.path.join(BUILD, "pam_okta.so")
MKSNAP = os.path.join(BUILD, "tests", "mksnap")
STACK = "account [success=ok user_unknown=ignore ignore=ignore default=bad] %s %s\n" \
        "account required pam_permit.so\n"
MSG_UNAVAILABLE = ("The Okta user cache on this host is unavailable, so Okta "
                   "users cannot log in. Contact your administrator.")
MSG_MISCONFIGURED = "Okta access rules on this host are misconfigured. Contact your administrator."
LOCAL_PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
                "localuser:x:1000:1000::/home/localuser:/bin/bash\n")
# A passwd file someone forged: the suspended Okta user "twin" made local.
FORGED_PASSWD = LOCAL_PASSWD + "twin:x:1001:1001::/home/twin:/bin/bash\n"
SNAPSHOT = ("meta last_sync=%d generation=3\n"
            "user oktauser 2000000001 2000000001 ACTIVE - /home/oktauser /bin/bash\n"
            "user twin 2000000002 2000000002 SUSPENDED - /home/twin /bin/bash\n"
            "group eng 2000000100 oktauser\n")


class Env:
    def __init__(self):
        oktatest.need(MKSNAP, "pamtester")
        self.dir = tmpdir("okta-untrusted-")
        self.pamd = os.path.join(self.dir, "pam.d")
        os.mkdir(self.pamd)
        with open(os.path.join(self.pamd, "other"), "w") as f:
            f.write("account required pam_deny.so\n")
        self.snapshot = os.path.join(self.dir, "snapshot.cdb")
        run([MKSNAP, self.snapshot], input=SNAPSHOT % int(time.time()), check=True)
        self.passwd = self.write("passwd", LOCAL_PASSWD)
        self.forged = self.write("forged-passwd", FORGED_PASSWD)

    def write(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
        return p

    def acct(self, user, snapshot=None, passwd=None):
        """(pamtester exit status, what the user saw, syslog text)."""
        args = "snapshot=%s passwd=%s" % (snapshot or self.snapshot, passwd or self.passwd)
        with open(os.path.join(self.pamd, "okta-test"), "w") as f:
            f.write(STACK % (MODULE, args))
        env = {"LD_PRELOAD": "libpam_wrapper.so", "PAM_WRAPPER": "1",
               "PAM_WRAPPER_SERVICE_DIR": self.pamd, "PAM_WRAPPER_DEBUGLEVEL": "3"}
        p = run(["pamtester", "okta-test", user, "acct_mgmt"], env=env, timeout=30)
        logs, seen = [], []
        for line in (p.stderr + p.stdout).splitlines():
            if "SYSLOG(" in line:
                logs.append(line.split("SYSLOG(", 1)[1].partition("): ")[2])
            elif line.startswith("PWRAP_") or line.startswith("pamtester: ") \
                    or not line.strip():
                continue
            else:
                seen.append(line)
        return p.returncode, seen, "\n".join(logs)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def untrust(path, how):
    if how == "not root's":
        os.chown(path, 65534, 65534)
    elif how == "group-writable":
        os.chmod(path, 0o664)
    elif how == "other-writable":
        os.chmod(path, 0o646)
    elif how == "fifo":
        os.unlink(path)
        os.mkfifo(path, 0o644)
    else:
        raise ValueError(how)


WAYS = ("not root's", "group-writable", "other-writable", "fifo")


def with_env(fn):
    env = Env()
    try:
        fn(env)
    finally:
        env.close()


@case
def untrusted_snapshot_option_is_a_broken_snapshot():
    def body(env):
        # Trusted: the Okta user is allowed, the local user passes on.
        rc, seen, log = env.acct("oktauser")
        assert rc == 0 and seen == [], (rc, seen, log)
        for how in WAYS:
            bad = os.path.join(env.dir, "snap-%s.cdb" % how.replace(" ", "_").replace("'", ""))
            shutil.copy(env.snapshot, bad)
            os.chmod(bad, 0o644)
            untrust(bad, how)
            t0 = time.monotonic()
            rc, seen, log = env.acct("oktauser", snapshot=bad)
            took = time.monotonic() - t0
            assert rc != 0 and MSG_UNAVAILABLE in seen, (how, rc, seen, log)
            assert "user oktauser: denied" in log, (how, log)
            # The file option itself is named in the log, with the reason.
            assert bad in log, (how, log)
            rc, seen, log = env.acct("localuser", snapshot=bad)
            assert rc == 0 and seen == [], (how, rc, seen, log)
            print("snapshot= %s: Okta user denied, local user passes (%.2f s)" % (how, took))
    with_env(body)


@case
def untrusted_passwd_option_denies_okta_users():
    def body(env):
        rc, seen, log = env.acct("oktauser")
        assert rc == 0, (rc, seen, log)
        for how in WAYS[:3]:
            bad = env.write("passwd-" + how.replace(" ", "_").replace("'", ""), LOCAL_PASSWD)
            untrust(bad, how)
            rc, seen, log = env.acct("oktauser", passwd=bad)
            assert rc != 0 and MSG_MISCONFIGURED in seen, (how, rc, seen, log)
            assert "passwd=%s" % bad in log and "Okta users are denied" in log, (how, log)
            # A user the snapshot does not know is not judged at all.
            rc, seen, log = env.acct("localuser", passwd=bad)
            assert rc == 0 and seen == [], (how, rc, seen, log)
            print("passwd= %s: Okta users denied" % how)
    with_env(body)


@case
def forged_local_twin_is_not_believed():
    # The attack: a suspended Okta user listed as a local account in a
    # writable passwd file would be left to pam_unix and let in.
    def body(env):
        # A trusted file with the twin: the local account wins (rule 2),
        # pam_okta ignores the login and the stack allows it.  That is
        # what an attacker who can write the file would get.
        rc, seen, log = env.acct("twin", passwd=env.forged)
        assert rc == 0 and "local account (UID 1001" in log, (rc, seen, log)
        for how in WAYS[:3]:
            bad = env.write("forged-" + how.replace(" ", "_").replace("'", ""), FORGED_PASSWD)
            untrust(bad, how)
            rc, seen, log = env.acct("twin", passwd=bad)
            assert rc != 0, (how, rc, seen, log)
            assert "local account (UID 1001" not in log, (how, log)
    with_env(body)


@case
def fallback_never_trusts_an_untrusted_passwd():
    # No usable snapshot: only a name in a trusted passwd file is local.
    def body(env):
        missing = os.path.join(env.dir, "no-such-snapshot.cdb")
        rc, seen, log = env.acct("localuser", snapshot=missing)
        assert rc == 0 and "local account" in log, (rc, seen, log)
        for how in WAYS[:3]:
            bad = env.write("fb-" + how.replace(" ", "_").replace("'", ""), LOCAL_PASSWD)
            untrust(bad, how)
            rc, seen, log = env.acct("localuser", snapshot=missing, passwd=bad)
            assert rc != 0 and MSG_UNAVAILABLE in seen, (how, rc, seen, log)
            assert "unreadable (Operation not permitted)" in log, (how, log)
            # root never depends on any file.
            rc, seen, log = env.acct("root", snapshot=missing, passwd=bad)
            assert rc == 0, (how, rc, seen, log)
    with_env(body)


if __name__ == "__main__":
    main()
