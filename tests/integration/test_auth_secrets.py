#!/usr/bin/env python3
"""test_auth_secrets.py - nothing secret leaks (issue 11, Done-when 6).

Logins of every kind go through the Debian common-auth stack, pam_okta,
okta-syncd (run with -v, its most talkative) and the Okta emulator
(tests/lib/authenv.py): password + TOTP, password + push with number
matching, the device flow, a wrong password, and an offline login (with
offline_credentials = yes, the emulator stopped).  While the push waits,
every process's /proc/PID/cmdline and environ are read.  Then each secret
- the passwords typed (right and wrong), the OTP, and everything Okta
issued (ID tokens, access tokens, mfa_tokens, oob codes, device codes;
the emulator lists them) - is looked for in: okta-syncd's output (what
journald would keep), the module's syslog lines (the test's /dev/log),
every file under the cache directory and the run directory (cache.db and
its WAL included), and what /proc showed.  None may appear.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case, main  # noqa: E402
from emulator import Emulator, totp  # noqa: E402
from authenv import (AuthEnv, JANE, JANE_LOGIN, JANE_PASSWORD, P_PASSWORD, P_MFA, P_UNIX,  # noqa: E402
                     binding_code)

WRONG_PASSWORD = "Wr0ng-Jane-pw-5150"


def proc_texts():
    """{"PID cmdline|environ": bytes} of every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (pid, what), "rb") as f:
                    out["%s %s" % (pid, what)] = f.read()
            except OSError:
                pass
    return out


def files_under(*dirs):
    """{path: bytes} of every regular file under dirs."""
    out = {}
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in names:
                p = os.path.join(root, n)
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as f:
                        out[p] = f.read()
    return out


@case
def no_secret_in_logs_files_or_processes():
    emu = Emulator()
    e = None
    try:
        e = AuthEnv(emu, auth={"offline_credentials": "yes", "device_flow": "yes",
                               "failed_login_attempts": 100}, start=False)
        e.start_daemon(args=["-v"])
        emu.auth_require_mfa(JANE_LOGIN, True)
        secret = emu.enroll_totp(JANE_LOGIN)
        emu.enroll_push(JANE_LOGIN, number_matching=True)
        typed = [JANE_PASSWORD, WRONG_PASSWORD]
        snapshots = {}

        # Password + TOTP.
        otp = totp(secret)
        typed.append(otp)
        r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_MFA: otp})
        assert r.ok, r

        # Password + push with number matching; /proc while the push waits.
        def tap(prompt):
            snapshots.update(proc_texts())
            emu.push_respond(JANE_LOGIN, "approve", code=binding_code(prompt))
            return ""
        r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_MFA: "", "Tap *": tap}, timeout=90)
        assert r.ok, r
        assert snapshots, "no /proc snapshot taken"

        # The device flow.
        def approve(prompt):
            emu.device_approve(prompt.split("check the code ")[1].split(",")[0], JANE_LOGIN)
            return ""
        r = e.login(JANE, {P_PASSWORD: "", "Open *": approve}, timeout=90)
        assert r.ok, r

        # A wrong password.
        r = e.login(JANE, {P_PASSWORD: WRONG_PASSWORD})
        assert r.rc != 0, r

        issued = emu.auth_secrets()
        # Offline.
        emu.stop()
        r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_UNIX: JANE_PASSWORD})
        assert r.ok and "Offline login" in r.text, r
        e.stop_daemon()

        secrets = set(typed) | set(issued["issued"]) | set(issued["received"])
        secrets.discard("")
        assert len(issued["issued"]) >= 8, "the emulator issued too little to test: %r" % issued
        places = {"okta-syncd output": e.daemon_log().encode(),
                  "syslog (pam_okta)": e.syslog.text().encode()}
        places.update(files_under(e.cache, e.run_dir))
        places.update(snapshots)
        assert any(k.startswith("offline") or k.endswith("cache.db") for k in places), sorted(places)
        leaks = [(where, s[:12] + "...") for s in secrets for where, data in places.items()
                 if s.encode() in data]
        assert not leaks, "secrets found: %r" % leaks
        print("checked %d secrets in %d places (%d processes)" % (
            len(secrets), len(places), len(snapshots) // 2))
    finally:
        if e is not None:
            e.close()
        emu.stop()


if __name__ == "__main__":
    main()
