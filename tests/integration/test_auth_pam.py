#!/usr/bin/env python3
"""test_auth_pam.py - password + Okta MFA through the real Debian
common-auth stack (issue 11, Done-when 1).

pamtester `authenticate` runs the service "@include common-auth", which
pam-auth-update wrote from the host's profiles plus the shipped
packaging/pam-configs/okta; pam_okta.so (the build's, at the packaged
place) talks to a real okta-syncd, which talks to the Okta emulator.
tests/lib/authenv.py sets it up; the prompts are answered on a pty as they
appear, so a case can read the number to tap from the prompt.

Each case asserts what the user sees (the prompts, pamtester's verdict),
and what Okta saw (the emulator's request counts for the user).  The
local failure delay is pushed out of the way ([auth]
failed_login_attempts = 100): these cases fail logins on purpose.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case  # noqa: E402
from emulator import Emulator, totp  # noqa: E402
from authenv import (AuthEnv, SharedAuthEnv, JANE, JANE_LOGIN, JANE_PASSWORD, BOB_LOGIN, SAM, SAM_LOGIN,  # noqa: E402
                     SAM_PASSWORD, LOCAL_USER, LOCAL_PASSWORD, P_PASSWORD, P_MFA, P_PUSH, P_UNIX,
                     binding_code)

_shared = SharedAuthEnv(Emulator, {"failed_login_attempts": 100})

FAILED = "Authentication failure"


def env():
    """One emulator and one okta-syncd for the file, its counts reset."""
    e = _shared()
    e.emu.auth_reset_counts()
    return e


def setup_jane(mfa=False, push=False, number_matching=False, totp_enrolled=False):
    e = env()
    e.emu.auth_require_mfa(JANE_LOGIN, mfa)
    e.emu.enroll_push(JANE_LOGIN, number_matching=number_matching, enrolled=push)
    return e, (e.emu.enroll_totp(JANE_LOGIN) if totp_enrolled else None)


def info(e, r):
    return "\n%r\nsyslog:\n%s\nokta-syncd log (end):\n%s" % (r, e.syslog.text()[-2000:], e.daemon_log()[-3000:])


def refused(e, r):
    assert r.rc != 0 and FAILED in r.text, "not refused" + info(e, r)


@case
def right_password_without_mfa():
    e, _ = setup_jane()
    r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD})
    assert r.ok, "refused" + info(e, r)
    assert r.prompts == [P_PASSWORD], r.prompts
    assert e.emu.auth_counts(JANE_LOGIN) == {"token": 1, "challenge": 0}, e.emu.auth_counts(JANE_LOGIN)
    assert "pam_okta(okta-test:auth): user jane: authenticated by Okta" in e.syslog.text(), e.syslog.text()


@case
def wrong_password_one_request_no_retry():
    """Refused; Okta saw exactly one token request; nothing else asked
    (pam_unix does not get the password: default=die)."""
    e, _ = setup_jane()
    r = e.login(JANE, {P_PASSWORD: "not-" + JANE_PASSWORD})
    refused(e, r)
    assert r.prompts == [P_PASSWORD], r.prompts
    assert e.emu.auth_counts(JANE_LOGIN) == {"token": 1, "challenge": 0}, e.emu.auth_counts(JANE_LOGIN)


@case
def password_and_totp_right():
    e, secret = setup_jane(mfa=True, totp_enrolled=True)
    r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_MFA: lambda p: totp(secret)})
    assert r.ok, "refused" + info(e, r)
    assert r.prompts == [P_PASSWORD, P_MFA], r.prompts


@case
def password_and_totp_wrong():
    e, secret = setup_jane(mfa=True, totp_enrolled=True)
    good = {totp(secret, step_offset=d) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in good)
    r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_MFA: wrong})
    refused(e, r)
    assert r.prompts == [P_PASSWORD, P_MFA], r.prompts


def push_login(e, action, prompt=P_PUSH, answers=None):
    """Log jane in with a push; action(prompt) answers the push (or not)."""
    def confirm(p):
        action(p)
        return ""
    a = {P_PASSWORD: JANE_PASSWORD, P_MFA: "", prompt: confirm}
    a.update(answers or {})
    return e.login(JANE, a, timeout=90)


@case
def push_approved():
    e, _ = setup_jane(mfa=True, push=True)
    r = push_login(e, lambda p: e.emu.push_respond(JANE_LOGIN, "approve"))
    assert r.ok, "refused" + info(e, r)
    assert r.prompts == [P_PASSWORD, P_MFA, P_PUSH], r.prompts
    assert e.emu.auth_counts(JANE_LOGIN)["challenge"] == 1


@case
def push_rejected():
    e, _ = setup_jane(mfa=True, push=True)
    r = push_login(e, lambda p: e.emu.push_respond(JANE_LOGIN, "reject"))
    refused(e, r)
    assert r.prompts == [P_PASSWORD, P_MFA, P_PUSH], r.prompts


@case
def push_timed_out():
    """Nobody answers the push; Okta expires it (2 s here): refused."""
    e, _ = setup_jane(mfa=True, push=True)
    e.emu.auth_settings(oob_expires_in=2)
    try:
        r = push_login(e, lambda p: None)
    finally:
        e.emu.auth_settings(oob_expires_in=300)
    refused(e, r)
    assert r.prompts == [P_PASSWORD, P_MFA, P_PUSH], r.prompts


@case
def number_matching():
    """The number to tap is in the prompt (sshd shows an info message only
    with the next prompt); the test taps it in the emulator."""
    e, _ = setup_jane(mfa=True, push=True, number_matching=True)
    r = push_login(e, lambda p: e.emu.push_respond(JANE_LOGIN, "approve", code=binding_code(p)),
                   prompt="Tap *")
    assert r.ok, "refused" + info(e, r)
    assert len(r.prompts) == 3 and r.prompts[2].startswith("Tap "), r.prompts
    # Tapping another number is Okta Verify's refusal.
    r = push_login(e, lambda p: e.emu.push_respond(
        JANE_LOGIN, "approve", code="%02d" % (10 + (int(binding_code(p)) - 9) % 90)), prompt="Tap *")
    refused(e, r)


@case
def local_user_through_pam_unix():
    """A local account: pam_okta steps aside (user_unknown=ignore),
    pam_unix asks and decides; the daemon and Okta saw nothing."""
    e, _ = setup_jane()
    r = e.login(LOCAL_USER, {P_UNIX: LOCAL_PASSWORD})
    assert r.ok, "local user refused" + info(e, r)
    assert r.prompts == [P_UNIX], r.prompts
    r = e.login(LOCAL_USER, {P_UNIX: "wrong"})
    refused(e, r)
    assert e.emu.auth_counts() == {}, e.emu.auth_counts()
    assert "user=%s" % LOCAL_USER not in e.daemon_log(), e.daemon_log()


@case
def suspended_user_refused_without_asking_okta():
    e, _ = setup_jane()
    r = e.login(SAM, {P_PASSWORD: SAM_PASSWORD})
    assert r.rc != 0 and "successfully" not in r.text, info(e, r)
    assert "Your account is suspended in Okta. Contact your administrator." in r.text, info(e, r)
    # Nothing is asked: not by pam_okta, and not by pam_unix (default=die).
    assert r.prompts == [], r.prompts
    assert e.emu.auth_counts(SAM_LOGIN) == {"token": 0, "challenge": 0}, e.emu.auth_counts(SAM_LOGIN)
    assert e.emu.auth_counts() == {}, e.emu.auth_counts()


@case
def id_token_for_someone_else_refused():
    """Okta answers jane's right password with an ID token whose sub is
    bob's Okta id: the daemon's sub check refuses it."""
    e, _ = setup_jane()
    e.emu.auth_forge_next("other_sub", other=BOB_LOGIN)
    r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD})
    refused(e, r)
    assert e.emu.auth_counts(JANE_LOGIN)["token"] == 1
    # And the next, honest token works: the forgery was the only reason.
    r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD})
    assert r.ok, "refused" + info(e, r)


@case
def local_delay_after_failures_spares_okta():
    """[auth] failed_login_attempts = 2: after two wrong passwords the
    third try, even right, is refused on the host (PAM_MAXTRIES) and
    never reaches Okta: guessing against the host cannot lock the user
    out of Okta (its own daemon: the file's raises the limit)."""
    emu = Emulator()
    e = None
    try:
        e = AuthEnv(emu, auth={"failed_login_attempts": 2, "failed_login_delay": "10m"})
        emu.auth_require_mfa(JANE_LOGIN, False)
        for i in range(2):
            refused(e, e.login(JANE, {P_PASSWORD: "wrong-%d" % i}))
        emu.auth_reset_counts()
        r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD})
        assert r.rc != 0 and "Too many failed logins; try again later" in r.text, info(e, r)
        assert "Have exhausted maximum number of retries" in r.text, info(e, r)
        assert emu.auth_counts(JANE_LOGIN) == {"token": 0, "challenge": 0}, emu.auth_counts(JANE_LOGIN)
        assert emu.auth_failures(JANE_LOGIN) == 2, emu.auth_failures(JANE_LOGIN)
    finally:
        if e is not None:
            e.close()
        emu.stop()


if __name__ == "__main__":
    _shared.main()
