#!/usr/bin/env python3
"""test_auth_device.py - the device authorization flow (issue 11,
Done-when 7), end to end: pamtester through the Debian common-auth stack,
okta-syncd with [auth] device_flow = yes, the Okta emulator
(tests/lib/authenv.py).

A user without an Okta password answers the password prompt empty; the
next prompt shows the verification URL (with the code) and the user code.
The test approves that code through the emulator's control port, as the
user would in a browser, and the login succeeds for the right user.  The
same code approved by another Okta user (bob) fails the daemon's sub
check; a denied code is refused.  With device_flow = no (the default) an
empty password never starts the flow.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case  # noqa: E402
from emulator import Emulator  # noqa: E402
from authenv import AuthEnv, SharedAuthEnv, JANE, JANE_LOGIN, BOB_LOGIN, P_PASSWORD, P_UNIX  # noqa: E402

DEVICE_PROMPT = re.compile(r"^Open (https://\S+/activate\?user_code=([A-Z]+)) and check the code "
                           r"([A-Z]+), then press Enter: $")
env = SharedAuthEnv(Emulator, {"device_flow": "yes", "failed_login_attempts": 100},
                    lambda e: e.emu.auth_require_mfa(JANE_LOGIN, False))


def info(e, r):
    return "\n%r\nokta-syncd log (end):\n%s" % (r, e.daemon_log()[-3000:])


def device_login(e, approve):
    seen = {}

    def open_url(prompt):
        m = DEVICE_PROMPT.match(prompt)
        assert m, "not the device prompt: %r" % prompt
        assert m.group(2) == m.group(3), prompt
        seen["code"] = m.group(3)
        approve(m.group(3))
        return ""
    r = e.login(JANE, {P_PASSWORD: "", "Open *": open_url, P_UNIX: ""}, timeout=90)
    return r, seen


@case
def device_approved_by_the_user():
    e = env()
    r, seen = device_login(e, lambda code: e.emu.device_approve(code, JANE_LOGIN))
    assert r.ok, "refused" + info(e, r)
    assert len(r.prompts) == 2 and r.prompts[0] == P_PASSWORD and DEVICE_PROMPT.match(r.prompts[1]), r.prompts
    assert "outcome=success method=device" in e.daemon_log(), e.daemon_log()[-2000:]


@case
def device_approved_by_another_user_fails_the_sub_check():
    e = env()
    r, seen = device_login(e, lambda code: e.emu.device_approve(code, BOB_LOGIN))
    assert "code" in seen, r.prompts
    assert r.rc != 0 and "successfully" not in r.text, "bob's approval logged jane in" + info(e, r)
    # The daemon's reason: the token's sub is not jane's Okta id.
    log = e.daemon_log()
    assert "outcome=auth_err method=device: ID token refused: ID token is for another Okta user" in log, \
        log[-2000:]


@case
def device_denied():
    e = env()
    r, seen = device_login(e, lambda code: e.emu.device_deny(code))
    assert "code" in seen, r.prompts
    assert r.rc != 0 and "successfully" not in r.text, info(e, r)


@case
def no_device_flow_unless_configured():
    """device_flow = no: an empty password is just a wrong one."""
    emu = Emulator()
    e = None
    try:
        e = AuthEnv(emu)
        r = e.login(JANE, {P_PASSWORD: "", P_UNIX: ""})
        assert r.rc != 0 and "successfully" not in r.text, info(e, r)
        assert not any(p.startswith("Open ") for p in r.prompts), r.prompts
    finally:
        if e is not None:
            e.close()
        emu.stop()


if __name__ == "__main__":
    env.main()
