#!/usr/bin/env python3
"""test_pam.py - pam_okta.so through real libpam (issue 4, Done-when 1, 3, 4;
issue 14, Done-when 6: the [pam] policy published in the snapshot).

pamtester runs the account phase with pam_wrapper (LD_PRELOAD, a private
service directory, no namespace); pam_wrapper also hands us what the module
sends to syslog.  Each case asserts what the user would see: pamtester's
exit status and final line, and the message the module sent through the
conversation.  Snapshots are built with build/tests/mksnap.

One case runs the real /etc/pam.d stack (copied, plus our service, in a
private mount namespace) with no snapshot at all: root still passes.
One case runs 1,000 account checks in one process under valgrind.
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import oktatest  # noqa: E402
from oktatest import BUILD, case, main, run, tmpdir  # noqa: E402

MODULE = os.path.join(BUILD, "pam_okta.so")
MKSNAP = os.path.join(BUILD, "tests", "mksnap")
PAM_LOOP = os.path.join(BUILD, "tests", "pam_loop")
STACK = "account [success=ok user_unknown=ignore ignore=ignore default=bad] %s %s\n" \
        "account required pam_permit.so\n"

# status -> (pamtester exit status, pamtester's last words, message the user sees)
STATUS_TABLE = [
    ("ACTIVE", 0, "account management done", None),
    ("RECOVERY", 0, "account management done",
     "Note: your Okta account is in password recovery. Finish resetting your password in Okta."),
    ("PASSWORD_EXPIRED", 0, "account management done",
     "Note: your Okta password has expired. Change it in Okta."),
    ("STAGED", 1, "Permission denied",
     "Your account is not activated in Okta yet. Contact your administrator."),
    ("PROVISIONED", 1, "Permission denied",
     "Your account is not activated in Okta yet. Finish activating it in Okta, then try again."),
    ("LOCKED_OUT", 1, "Permission denied",
     "Your account is locked out in Okta. Contact your administrator."),
    ("SUSPENDED", 1, "Permission denied",
     "Your account is suspended in Okta. Contact your administrator."),
    ("DEPROVISIONED", 1, "User account has expired",
     "Your account has been deactivated in Okta. Contact your administrator."),
    ("UNKNOWN", 1, "Permission denied",
     "Your account status in Okta is unknown to this host. Contact your administrator."),
]
MSG_UNAVAILABLE = ("The Okta user cache on this host is unavailable, so Okta "
                   "users cannot log in. Contact your administrator.")
MSG_NOT_IN_GROUP = "Your account is not in a group allowed to log in to this host."
MSG_MISCONFIGURED = "Okta access rules on this host are misconfigured. Contact your administrator."

LOCAL_PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "alice:x:1000:1000:Local Alice:/home/alice:/bin/bash\n"
    # a local account with an Okta user's name but its own UID: not judged
    "twin:x:1001:1001::/home/twin:/bin/bash\n"
    # a local account adopted by Okta (same UID): judged
    "adopted:x:2000000031:2000000031::/home/adopted:/bin/bash\n"
)


def uname(status):
    return "u_" + status.lower()


def snapshot_desc(last_sync):
    lines = ["meta last_sync=%d generation=7" % last_sync]
    uid = 2000000001
    for status, _, _, _ in STATUS_TABLE:
        lines.append("user %s %d %d %s Okta%%20%s /home/%s /bin/bash"
                     % (uname(status), uid, uid, status, status, uname(status)))
        uid += 1
    lines += [
        "user twin 2000000030 2000000030 SUSPENDED - /home/twin /bin/bash",
        "user adopted 2000000031 2000000031 SUSPENDED - /home/adopted /bin/bash",
        # primary group ops, no supplementary groups
        "user opsprimary 2000000032 2000000101 ACTIVE - /home/opsprimary /bin/bash",
        "group eng 2000000100 u_active,u_recovery",
        "group ops 2000000101 -",
        "group empty 2000000102 -",
    ]
    return "\n".join(lines) + "\n"


class Env:
    """A temp dir with a local passwd file, a snapshot and pam.d."""

    def __init__(self, last_sync=None):
        oktatest.need(MKSNAP, "pamtester")
        self.dir = tmpdir("okta-pam-")
        self.passwd = os.path.join(self.dir, "passwd")
        with open(self.passwd, "w") as f:
            f.write(LOCAL_PASSWD)
        self.pamd = os.path.join(self.dir, "pam.d")
        os.mkdir(self.pamd)
        with open(os.path.join(self.pamd, "other"), "w") as f:
            f.write("account required pam_deny.so\n")
        self.snapshot = os.path.join(self.dir, "snapshot.cdb")
        self.make_snapshot(snapshot_desc(int(time.time()) if last_sync is None else last_sync))

    def make_snapshot(self, desc, path=None):
        p = run([MKSNAP, path or self.snapshot], input=desc)
        assert p.returncode == 0, "mksnap failed: %s" % p.stderr
        return path or self.snapshot

    def acct(self, user, opts="", snapshot=None, passwd=None):
        """pamtester USER acct_mgmt; returns a Result."""
        args = "snapshot=%s passwd=%s %s" % (snapshot or self.snapshot,
                                             passwd or self.passwd, opts)
        with open(os.path.join(self.pamd, "okta-test"), "w") as f:
            f.write(STACK % (MODULE, args.strip()))
        env = {"LD_PRELOAD": "libpam_wrapper.so", "PAM_WRAPPER": "1",
               "PAM_WRAPPER_SERVICE_DIR": self.pamd,
               "PAM_WRAPPER_DEBUGLEVEL": "3"}
        p = run(["pamtester", "okta-test", user, "acct_mgmt"], env=env, timeout=30)
        return Result(p)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Result:
    """pamtester's outcome, split into what the user sees and what syslog got."""

    def __init__(self, p):
        self.rc = p.returncode
        self.logs = []      # (priority, message) through pam_syslog
        self.seen = []      # conversation messages (errors and info)
        self.last = ""      # pamtester's own final line
        for line in (p.stderr + p.stdout).splitlines():
            if "SYSLOG(" in line:
                pri, _, msg = line.split("SYSLOG(", 1)[1].partition("): ")
                self.logs.append((int(pri), msg))
            elif line.startswith("PWRAP_") or not line.strip():
                continue
            elif line.startswith("pamtester: "):
                self.last = line[len("pamtester: "):]
            else:
                self.seen.append(line)
        self.raw = p.stdout + p.stderr

    def log_text(self):
        return "\n".join(m for _, m in self.logs)

    def check(self, rc, last=None, seen=None, log=None):
        info = "\nrc=%d last=%r seen=%r\nlogs=%r" % (self.rc, self.last, self.seen, self.logs)
        assert self.rc == rc, "exit status %d, wanted %d%s" % (self.rc, rc, info)
        if last is not None:
            assert last in self.last, "pamtester said %r, wanted %r%s" % (self.last, last, info)
        if seen is None:
            assert self.seen == [], "user saw %r, wanted nothing%s" % (self.seen, info)
        else:
            assert seen in self.seen, "user did not see %r%s" % (seen, info)
        if log is not None:
            assert log in self.log_text(), "syslog has no %r%s" % (log, info)
        return self


def with_env(fn, **kw):
    env = Env(**kw)
    try:
        fn(env)
    finally:
        env.close()


def status_case(status, rc, last, msg):
    def t():
        def body(env):
            r = env.acct(uname(status)).check(rc, last, msg)
            verdict = "allowed" if rc == 0 else "denied"
            want = "user %s: %s: status %s" % (uname(status), verdict, status)
            assert want in r.log_text(), "syslog: %r" % r.logs
        with_env(body)
    t.__name__ = "status_" + status.lower()
    return t


for _row in STATUS_TABLE:
    case(status_case(*_row))


@case
def recovery_and_password_expired_can_be_denied():
    def body(env):
        opts = "recovery=deny password_expired=deny"
        env.acct("u_recovery", opts).check(
            1, "Permission denied", "Your Okta account is in password recovery. "
            "Finish resetting your password in Okta, then try again.",
            "user u_recovery: denied: status RECOVERY")
        env.acct("u_password_expired", opts).check(
            1, "Permission denied",
            "Your Okta password has expired. Change it in Okta, then try again.",
            "user u_password_expired: denied: status PASSWORD_EXPIRED")
        env.acct("u_active", opts).check(0)
    with_env(body)


@case
def local_and_unknown_users_are_left_to_the_stack():
    def body(env):
        # Local, not in the snapshot: ignored, nothing said, nothing logged
        # unless debug.
        r = env.acct("alice").check(0, "account management done")
        assert r.logs == [], r.logs
        env.acct("alice", "debug").check(0, log="user alice: ignored: not an Okta user")
        env.acct("nobody-at-all", "debug").check(0, log="user nobody-at-all: ignored: not an Okta user")
        env.acct("root", "debug").check(0, log="user root: ignored: local superuser")
        # A local account with an Okta user's name and another UID is the
        # account the host resolves: not judged, but the clash is logged.
        env.acct("twin").check(0, log="user twin: ignored: local account (UID 1001")
        # An adopted local account (same UID) is an Okta user.
        env.acct("adopted").check(1, "Permission denied",
                                  "Your account is suspended in Okta. Contact your administrator.",
                                  "user adopted: denied: status SUSPENDED")
    with_env(body)


@case
def allowed_groups():
    def body(env):
        # supplementary member
        env.acct("u_active", "allowed_groups=eng").check(0)
        # member through the primary group
        env.acct("opsprimary", "allowed_groups=eng,ops").check(0)
        # ACTIVE but in no listed group
        env.acct("opsprimary", "allowed_groups=eng").check(
            1, "Permission denied", MSG_NOT_IN_GROUP,
            "user opsprimary: denied: status ACTIVE, not in allowed_groups")
        env.acct("u_active", "allowed_groups=empty").check(1, "Permission denied", MSG_NOT_IN_GROUP)
        # A listed group missing from the snapshot is logged and has no members.
        env.acct("u_active", "allowed_groups=no-such-group").check(
            1, "Permission denied", MSG_NOT_IN_GROUP,
            "allowed_groups: group no-such-group is not in the Okta user cache")
        # The status still comes first.
        env.acct("u_suspended", "allowed_groups=eng").check(
            1, "Permission denied", "Your account is suspended in Okta. Contact your administrator.")
        # Local users are not concerned.
        env.acct("alice", "allowed_groups=eng").check(0)
    with_env(body)


@case
def stale_cache_under_each_policy():
    def body(env):
        old = 3 * 86400
        stale_msg = ("The Okta user cache on this host is out of date (last sync 3 days ago), "
                     "so Okta users cannot log in. Contact your administrator.")
        # default policy is deny
        env.acct("u_active", "max_cache_age=1d").check(
            1, "Authentication service cannot retrieve authentication info", stale_msg,
            "user u_active: denied: status ACTIVE, Okta user cache out of date (last sync 3 days ago")
        env.acct("u_active", "max_cache_age=24h stale_policy=deny").check(1, None, stale_msg)
        # allow: in, with a warning through the conversation and syslog
        r = env.acct("u_active", "max_cache_age=86400 stale_policy=allow").check(
            0, "account management done",
            "Warning: the Okta user cache on this host is out of date (last sync 3 days ago); "
            "your access was checked against old data.",
            "user u_active: allowed: status ACTIVE, Okta user cache out of date")
        assert any(p == 4 for p, _ in r.logs), r.logs   # LOG_WARNING
        # a suspended user is still refused under allow
        env.acct("u_suspended", "max_cache_age=1d stale_policy=allow").check(
            1, "Permission denied", "Your account is suspended in Okta. Contact your administrator.")
        # young enough: no warning
        env.acct("u_active", "max_cache_age=4d stale_policy=allow").check(0)
        # the default limit (7 days) is not reached at 3 days
        env.acct("u_active").check(0)
        # no limit: age does not matter
        env.acct("u_active", "max_cache_age=0").check(0)
        # local users are never concerned
        env.acct("alice", "max_cache_age=1m").check(0)
    with_env(body, last_sync=int(time.time()) - 3 * 86400)

    def never(env):
        env.acct("u_active", "max_cache_age=1h").check(
            1, None, "The Okta user cache on this host is out of date (never synced), "
            "so Okta users cannot log in. Contact your administrator.")
    with_env(never, last_sync=0)


@case
def missing_snapshot():
    def body(env):
        gone = os.path.join(env.dir, "no-such-snapshot.cdb")
        env.acct("u_active", snapshot=gone).check(
            1, "Authentication service cannot retrieve authentication info", MSG_UNAVAILABLE,
            "user u_active: denied: Okta user cache unavailable (%s: No such file or directory), "
            "and not a local account" % gone)
        env.acct("alice", snapshot=gone).check(
            0, "account management done", None,
            "user alice: ignored: local account")
        env.acct("root", snapshot=gone).check(0, "account management done")
        # the clashing local account is local, whatever the snapshot said
        env.acct("twin", snapshot=gone).check(0)
    with_env(body)


@case
def corrupt_snapshot():
    def body(env):
        good = open(env.snapshot, "rb").read()
        garbage = os.path.join(env.dir, "garbage.cdb")
        with open(garbage, "wb") as f:
            f.write(b"\x00" * 100 + b"not a snapshot\n" * 300)
        truncated = os.path.join(env.dir, "truncated.cdb")
        with open(truncated, "wb") as f:
            f.write(good[:len(good) // 2])
        empty = os.path.join(env.dir, "empty.cdb")
        open(empty, "wb").close()
        for bad in (garbage, truncated, empty):
            env.acct("u_active", snapshot=bad).check(
                1, None, MSG_UNAVAILABLE, "user u_active: denied: Okta user cache unavailable")
            env.acct("alice", snapshot=bad).check(0, "account management done")
            env.acct("root", snapshot=bad).check(0, "account management done")
    with_env(body)


@case
def bad_options_fail_closed_for_okta_users_only():
    def body(env):
        for opts, log in [("alowed_groups=eng", 'unknown option "alowed_groups=eng"'),
                          ("stale_policy=maybe", 'bad option "stale_policy=maybe"'),
                          ("max_cache_age=10x", 'bad option "max_cache_age=10x"'),
                          ("allowed_groups=eng,,ops", 'bad option "allowed_groups=eng,,ops"')]:
            r = env.acct("u_active", opts).check(1, None, MSG_MISCONFIGURED, log)
            assert (3, [m for p, m in r.logs if log in m][0]) in r.logs, r.logs  # LOG_ERR
            env.acct("alice", opts).check(0, "account management done")
    with_env(body)


@case
def real_stack_root_passes_without_snapshot():
    """Done-when 3: the real /etc/pam.d (copied) plus our service, the
    default snapshot path and the real /etc/passwd, with no snapshot."""
    oktatest.need("pamtester")
    d = tmpdir("okta-pam-ns-")
    try:
        pamd = os.path.join(d, "pam.d")
        shutil.copytree("/etc/pam.d", pamd, symlinks=True)
        with open(os.path.join(pamd, "okta-test"), "w") as f:
            f.write("account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
                    "@include common-account\n" % MODULE)
        cache = os.path.join(d, "cache")      # empty: no snapshot at all
        os.mkdir(cache)
        p = oktatest.ns_run("pamtester okta-test root acct_mgmt 2>&1; echo rc=$?; "
                            "pamtester okta-test okta-only-user acct_mgmt 2>&1; echo rc=$?",
                            cache, extra_binds=[(pamd, "/etc/pam.d")], timeout=60)
        out = p.stdout + p.stderr
        assert "pamtester: account management done.\nrc=0" in out, out
        # And an Okta user (not local) is refused there.
        assert MSG_UNAVAILABLE in out and out.rstrip().endswith("rc=1"), out
    finally:
        shutil.rmtree(d, ignore_errors=True)


@case
def debian_common_account_with_profile_line():
    """The line of the pam-auth-update profile, where pam-auth-update puts
    it (the Additional block of common-account, after pam_unix and
    pam_permit), with real glibc NSS (files okta): Okta users get through
    pam_unix and are judged by pam_okta; root is untouched."""
    oktatest.need("pamtester")

    def body(env):
        pamd = os.path.join(env.dir, "etc-pam.d")
        shutil.copytree("/etc/pam.d", pamd, symlinks=True)
        ca = os.path.join(pamd, "common-account")
        with open(ca) as f:
            text = f.read()
        with open(ca, "w") as f:
            f.write(text.replace(
                "# end of pam-auth-update config",
                "account\t[success=ok user_unknown=ignore ignore=ignore default=bad]\t%s\n"
                "# end of pam-auth-update config" % MODULE))
        with open(os.path.join(pamd, "okta-test"), "w") as f:
            f.write("@include common-account\n")
        cache = os.path.join(env.dir, "cache")
        os.mkdir(cache)
        shutil.copy(env.snapshot, os.path.join(cache, "snapshot.cdb"))
        nss = oktatest.write_nsswitch(os.path.join(env.dir, "nsswitch.conf"))
        script = ("getent passwd u_active >/dev/null || { echo NSS-NOT-READY; exit 0; }; "
                  "for u in u_active u_suspended root; do "
                  "echo \"== $u\"; pamtester okta-test $u acct_mgmt 2>&1; echo rc=$?; done")
        p = oktatest.ns_run(script, cache, nsswitch=nss,
                            extra_binds=[(pamd, "/etc/pam.d")], timeout=60)
        out = p.stdout + p.stderr
        assert "NSS-NOT-READY" not in out, "libnss_okta.so.2 does not resolve u_active:\n" + out
        assert "== u_active\npamtester: account management done.\nrc=0" in out, \
            "an ACTIVE Okta user is refused by the Debian stack (pam_unix wants a " \
            "shadow entry when pw_passwd is \"x\"):\n" + out
        assert "== u_suspended\nYour account is suspended in Okta. Contact your administrator.\n" \
               "pamtester: Permission denied\nrc=1" in out, out
        assert "== root\npamtester: account management done.\nrc=0" in out, out
    with_env(body)


@case
def valgrind_1000_account_checks():
    oktatest.need("valgrind", PAM_LOOP)

    def body(env):
        with open(os.path.join(env.pamd, "okta-loop"), "w") as f:
            f.write(STACK % (MODULE, "snapshot=%s passwd=%s allowed_groups=eng,ops "
                             "max_cache_age=1d stale_policy=allow" % (env.snapshot, env.passwd)))
        with open(os.path.join(env.pamd, "okta-loop-nosnap"), "w") as f:
            f.write(STACK % (MODULE, "snapshot=%s/gone passwd=%s debug" % (env.dir, env.passwd)))
        users = ["u_active", "u_suspended", "alice", "nobody-at-all", "root",
                 "opsprimary", "u_recovery", "u_deprovisioned", "twin", "adopted"]
        vg = ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
              "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99"]
        p = run(vg + [PAM_LOOP, env.pamd, "okta-loop", "1000"] + users, timeout=600)
        assert p.returncode == 0, "valgrind: exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr[-4000:])
        out = p.stdout
        assert "u_active: 100 x Success" in out, out
        assert "u_suspended: 100 x Permission denied" in out, out
        assert "alice: 100 x Success" in out, out
        assert "opsprimary: 100 x Success" in out, out
        assert "u_deprovisioned: 100 x User account has expired" in out, out
        p = run(vg + [PAM_LOOP, env.pamd, "okta-loop-nosnap", "200", "u_active", "alice"], timeout=600)
        assert p.returncode == 0, "valgrind: exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr[-4000:])
        assert "u_active: 100 x Authentication service cannot retrieve authentication info" in p.stdout, p.stdout
        assert "alice: 100 x Success" in p.stdout, p.stdout
        # Four threads checking at once (the module keeps no global state).
        p = run(vg + [PAM_LOOP, "-t", "4", env.pamd, "okta-loop", "400"] + users[:4], timeout=600)
        assert p.returncode == 0, "valgrind: exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr[-4000:])
        assert "u_active: 100 x Success" in p.stdout, p.stdout
        assert "u_suspended: 100 x Permission denied" in p.stdout, p.stdout
    with_env(body)


# ---- Issue 14, part 5: the policy comes from the snapshot ([pam]) --------

MSG_STALE_8D = ("The Okta user cache on this host is out of date (last sync 8 days ago), "
                "so Okta users cannot log in. Contact your administrator.")


def private_group_desc(last_sync, policy=""):
    """jane with her user-private group (GID = UID), in the Okta group eng."""
    return ("meta last_sync=%d generation=3\n%s"
            "user jane 2000000050 2000000050 ACTIVE - /home/jane /bin/bash\n"
            "user bob 2000000051 2000000051 ACTIVE - /home/bob /bin/bash\n"
            "group jane 2000000050 -\n"
            "group bob 2000000051 -\n"
            "group eng 2000000100 bob\n" % (last_sync, policy))


@case
def allowed_groups_never_matches_a_private_group():
    """Done-when 6: allowed_groups=jane no longer admits jane through her
    private group, whether it comes from [pam] (the snapshot) or from the
    module line; an Okta group still admits its members."""
    def body(env):
        now = int(time.time())
        snap = env.make_snapshot(private_group_desc(now, "policy allowed_groups=jane\n"),
                                 os.path.join(env.dir, "upg.cdb"))
        r = env.acct("jane", snapshot=snap).check(
            1, "Permission denied", MSG_NOT_IN_GROUP,
            "user jane: denied: status ACTIVE, not in allowed_groups")
        assert "allowed_groups: jane is the private group of the Okta user jane, " \
            "not an Okta group" in r.log_text(), r.logs
        env.acct("jane", "allowed_groups=jane", snapshot=snap).check(
            1, "Permission denied", MSG_NOT_IN_GROUP)
        # A real Okta group still works, from the snapshot and the line.
        snap2 = env.make_snapshot(private_group_desc(now, "policy allowed_groups=eng\n"),
                                  os.path.join(env.dir, "upg2.cdb"))
        env.acct("bob", snapshot=snap2).check(0, "account management done")
        env.acct("jane", snapshot=snap2).check(1, "Permission denied", MSG_NOT_IN_GROUP)
        env.acct("bob", "allowed_groups=jane,eng", snapshot=snap).check(0)
    with_env(body)


@case
def week_old_snapshot_denies_okta_users_and_allows_local_ones():
    """Done-when 6: with no option anywhere (an empty [pam]), a snapshot
    older than 7 days denies Okta users; local users and root pass."""
    def body(env):
        env.acct("u_active").check(
            1, "Authentication service cannot retrieve authentication info", MSG_STALE_8D,
            "user u_active: denied: status ACTIVE, Okta user cache out of date "
            "(last sync 8 days ago, max_cache_age 604800s), stale_policy=deny")
        env.acct("alice").check(0, "account management done")
        env.acct("root").check(0, "account management done")
        env.acct("twin").check(0)
        # A module-line override still wins for its line.
        env.acct("u_active", "max_cache_age=0").check(0)
        env.acct("u_active", "stale_policy=allow").check(
            0, "account management done",
            "Warning: the Okta user cache on this host is out of date (last sync 8 days ago); "
            "your access was checked against old data.")
    with_env(body, last_sync=int(time.time()) - 8 * 86400)

    def six_days(env):
        env.acct("u_active").check(0, "account management done")
    with_env(six_days, last_sync=int(time.time()) - 6 * 86400)


@case
def snapshot_policy_and_module_overrides():
    """Each [pam] setting reaches pam_okta through the snapshot, and each
    module-line option overrides only its own setting."""
    def body(env):
        desc = snapshot_desc(int(time.time()) - 2 * 86400)
        snap = env.make_snapshot(desc + "policy max_cache_age=86400 deny_recovery=1 "
                                 "deny_password_expired=1 allowed_groups=eng\n",
                                 os.path.join(env.dir, "pol.cdb"))
        stale = ("The Okta user cache on this host is out of date (last sync 2 days ago), "
                 "so Okta users cannot log in. Contact your administrator.")
        env.acct("u_active", snapshot=snap).check(1, None, stale)
        env.acct("u_active", "max_cache_age=3d", snapshot=snap).check(0)
        env.acct("u_recovery", "max_cache_age=3d", snapshot=snap).check(
            1, "Permission denied", "Your Okta account is in password recovery. "
            "Finish resetting your password in Okta, then try again.")
        env.acct("u_recovery", "max_cache_age=3d recovery=allow", snapshot=snap).check(
            0, None, "Note: your Okta account is in password recovery. Finish resetting "
            "your password in Okta.")
        env.acct("opsprimary", "max_cache_age=3d", snapshot=snap).check(
            1, "Permission denied", MSG_NOT_IN_GROUP)
        env.acct("opsprimary", "max_cache_age=3d allowed_groups=ops", snapshot=snap).check(0)
    with_env(body)


def forge(path, out, edit):
    """A copy of the snapshot at path with its 'P' record edited in place:
    edit(bytearray, offset of the key byte, value length)."""
    data = bytearray(open(path, "rb").read())
    import struct
    pos = 2048
    dend = struct.unpack_from("<I", data, 0)[0]
    while pos < dend:
        kl, vl = struct.unpack_from("<II", data, pos)
        if kl == 1 and data[pos + 8] == ord("P"):
            edit(data, pos + 8, vl)
            break
        pos += 8 + kl + vl
    else:
        raise AssertionError("no P record in %s" % path)
    with open(out, "wb") as f:
        f.write(data)
    return out


@case
def missing_or_corrupt_policy_denies_okta_users_only():
    """A snapshot whose policy record is gone or not understood denies Okta
    users (the policy might have been stricter); local users pass."""
    def body(env):
        gone = forge(env.snapshot, os.path.join(env.dir, "nopol.cdb"),
                     lambda d, k, vl: d.__setitem__(k, ord("Q")))

        def bad_value(d, k, vl):
            d[k + 1 + 4 + 4 + 8 + 4] = 7    # stale_policy, after max_cache_age
        bad = forge(env.snapshot, os.path.join(env.dir, "badpol.cdb"), bad_value)
        for snap, why in ((gone, "policy record: missing"),
                          (bad, "policy record: corrupt or not understood")):
            env.acct("u_active", snapshot=snap).check(
                1, "Authentication service cannot retrieve authentication info",
                MSG_UNAVAILABLE, why)
            env.acct("alice", snapshot=snap).check(0, "account management done")
            env.acct("nobody-at-all", snapshot=snap).check(0)
    with_env(body)


@case
def profile_line_takes_the_policy_from_the_sync():
    """Done-when 6: [pam] in okta-sync.conf, a real sync from the emulator,
    and pam-auth-update's profile line (no options) in Debian's
    common-account, with real glibc NSS: the policy is applied."""
    oktatest.need("pamtester", oktatest.OKTA_SYNC)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sync_common as sc
    from emulator import Emulator
    profile = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "packaging", "pam-configs", "okta")).read()
    import re
    control = re.search(r"^\s+(\[.*\])\s+pam_okta\.so\s*$", profile, re.M)
    assert control, "the profile's pam_okta line carries options:\n" + profile
    d = tmpdir("okta-pam-profile-")
    try:
        with Emulator() as emu:
            emu.add_group("Ops")
            emu.add_group("Eng")
            emu.add_user("olga@example.com", "Olga", "O", groups=["Ops"])
            emu.add_user("eric@example.com", "Eric", "E", groups=["Eng"])
            emu.add_user("rita@example.com", "Rita", "R", status="RECOVERY", groups=["Ops"])
            conf = sc.setup(d, emu, posix={"local_passwd": "/etc/passwd",
                                           "local_group": "/etc/group"},
                            pam={"allowed_groups": "ops", "deny_recovery": "yes"})
            p = sc.okta_sync(conf)
            assert p.returncode == 0, p.stderr
        pamd = os.path.join(d, "etc-pam.d")
        shutil.copytree("/etc/pam.d", pamd, symlinks=True)
        ca = os.path.join(pamd, "common-account")
        text = open(ca).read()
        with open(ca, "w") as f:
            f.write(text.replace("# end of pam-auth-update config",
                                 "account\t%s\t%s\n# end of pam-auth-update config"
                                 % (control.group(1), MODULE)))
        with open(os.path.join(pamd, "okta-test"), "w") as f:
            f.write("@include common-account\n")
        nss = oktatest.write_nsswitch(os.path.join(d, "nsswitch.conf"))
        script = ("for u in olga eric rita root; do echo \"== $u\"; "
                  "pamtester okta-test $u acct_mgmt 2>&1; echo rc=$?; done")
        p = oktatest.ns_run(script, sc.cache_dir(conf), nsswitch=nss,
                            extra_binds=[(pamd, "/etc/pam.d")], timeout=60)
        out = p.stdout + p.stderr
        assert "== olga\npamtester: account management done.\nrc=0" in out, out
        assert "== eric\n%s\npamtester: Permission denied\nrc=1" % MSG_NOT_IN_GROUP in out, \
            "[pam] allowed_groups did not reach pam_okta through the snapshot:\n" + out
        assert "== rita\nYour Okta account is in password recovery. Finish resetting your " \
            "password in Okta, then try again.\npamtester: Permission denied\nrc=1" in out, out
        assert "== root\npamtester: account management done.\nrc=0" in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


@case
def tombstone_setting_reaches_pam_okta():
    """[pam] tombstone: a user removed from Okta is denied by default, and
    left to the rest of the stack with tombstone = ignore (or the module
    option), through a real sync's snapshot."""
    oktatest.need(oktatest.OKTA_SYNC)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sync_common as sc
    from emulator import Emulator

    def body(env):
        t = os.path.join(env.dir, "sync")
        with Emulator() as emu:
            emu.add_user("gone@example.com", "Gone", "G")
            emu.add_user("stay@example.com", "Stay", "S")
            conf = sc.setup(t, emu)
            assert sc.okta_sync(conf).returncode == 0
            emu.delete_user("gone@example.com")
            p = sc.okta_sync(conf, "--force")
            assert p.returncode == 0, p.stderr
            snap = os.path.join(sc.cache_dir(conf), "snapshot.cdb")
            env.acct("gone", snapshot=snap).check(
                1, "User account has expired",
                "Your Okta account no longer grants access to this host. "
                "Contact your administrator if you think this is wrong.")
            env.acct("gone", "tombstone=ignore", snapshot=snap).check(0, "account management done")
            conf = sc.setup(t, emu, pam={"tombstone": "ignore"})
            p = sc.okta_sync(conf, "--force")
            assert p.returncode == 0, p.stderr
            env.acct("gone", snapshot=snap).check(0, "account management done")
            env.acct("gone", "tombstone=deny", snapshot=snap).check(
                1, "User account has expired",
                "Your Okta account no longer grants access to this host. "
                "Contact your administrator if you think this is wrong.")
            env.acct("stay", snapshot=snap).check(0, "account management done")
    with_env(body)


@case
def status_shows_age_and_when_logins_will_be_refused():
    """okta-sync status reads the snapshot's policy: its age, and the date
    from which pam_okta refuses Okta users (a warning once it does)."""
    oktatest.need(MKSNAP, oktatest.OKTA_SYNC)
    import json
    from oktaconf import write_config
    t = tmpdir("okta-pam-status-")
    try:
        conf = write_config(t, None, okta={"domain": "dev-1.okta.com"}, token="00tok")
        snap = os.path.join(t, "cache", "snapshot.cdb")
        now = int(time.time())
        last = now - 2 * 86400
        p = run([MKSNAP, snap], input=snapshot_desc(last))
        assert p.returncode == 0, p.stderr
        p = run([oktatest.OKTA_SYNC, "-c", conf, "status", "--json"], env={"TZ": "UTC"})
        doc = json.loads(p.stdout)
        pol = doc["pam"]
        assert pol["max_cache_age_seconds"] == 7 * 86400 and pol["stale_policy"] == "deny", pol
        assert pol["logins_refused_from_epoch"] == last + 7 * 86400 + 1, (pol, last)
        assert pol["logins_refused"] is False, pol
        assert 2 * 86400 <= doc["snapshot_age_seconds"] <= 2 * 86400 + 60, doc
        p = run([oktatest.OKTA_SYNC, "-c", conf, "status"], env={"TZ": "UTC"})
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(last + 7 * 86400 + 1))
        assert "logins refused:   from %s (in 5 days 0 h) unless a sync succeeds" % when \
            in p.stdout, p.stdout
        assert "pam policy:       max_cache_age 7d, stale_policy deny" in p.stdout, p.stdout
        # Eight days old: refused already, said as a warning.
        p = run([MKSNAP, snap], input=snapshot_desc(now - 8 * 86400))
        p = run([oktatest.OKTA_SYNC, "-c", conf, "status"], env={"TZ": "UTC"})
        assert "WARNING: Okta users are refused since " in p.stdout, p.stdout
        p = run([oktatest.OKTA_SYNC, "-c", conf, "status", "--json"])
        assert json.loads(p.stdout)["pam"]["logins_refused"] is True, p.stdout
        # No limit: never.
        p = run([MKSNAP, snap], input=snapshot_desc(now) + "policy max_cache_age=0\n")
        p = run([oktatest.OKTA_SYNC, "-c", conf, "status", "--json"])
        pol = json.loads(p.stdout)["pam"]
        assert pol["logins_refused_from_epoch"] is None and pol["logins_refused"] is False, pol
    finally:
        shutil.rmtree(t, ignore_errors=True)


@case
def metrics_file_shows_age_and_when_logins_will_be_refused():
    """The daemon's Prometheus textfile, after a real sync: the snapshot's
    last sync and the time pam_okta will start refusing Okta users."""
    oktatest.need(oktatest.OKTA_SYNC)
    import re
    import signal
    import subprocess
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from emulator import Emulator
    from oktaconf import write_config
    t = tmpdir("okta-pam-metrics-")
    prom = os.path.join(t, "okta.prom")
    try:
        with Emulator() as emu:
            emu.add_user("olga@example.com", "Olga", "O")
            for pam, want in (({"max_cache_age": "2d"}, lambda last: last + 2 * 86400 + 1),
                              ({"max_cache_age": "0"}, None)):
                if os.path.exists(prom):
                    os.unlink(prom)
                conf = write_config(t, emu, sync={"schedule": "0 3 * * *",
                                                  "metrics_file": prom}, pam=pam)
                syncd = os.path.join(BUILD, "okta-syncd")
                proc = subprocess.Popen([syncd, "-c", conf], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    oktatest.wait_until(lambda: os.path.exists(prom), timeout=60,
                                        what="the metrics file")
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(20)
                text = open(prom).read()
                last = int(re.search(r"^okta_sync_snapshot_last_sync_timestamp_seconds (\d+)$",
                                     text, re.M).group(1))
                assert abs(last - time.time()) < 600, text
                assert re.search(r"^okta_sync_snapshot_age_seconds \d+$", text, re.M), text
                refused = re.search(r"^okta_sync_pam_logins_refused_timestamp_seconds (\S+)$",
                                    text, re.M).group(1)
                if want is None:
                    assert refused == "+Inf", text
                else:
                    assert int(refused) == want(last), (refused, last, text)
    finally:
        shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    main()
