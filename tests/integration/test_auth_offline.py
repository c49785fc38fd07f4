#!/usr/bin/env python3
"""test_auth_offline.py - offline credentials end to end (issue 11,
Done-when 3): pamtester through the Debian common-auth stack, okta-syncd,
the Okta emulator (tests/lib/authenv.py).

With [auth] offline_credentials = yes, one online login (password +
TOTP) stores a hash in cache.db.  Then:
- Okta refuses the password (invalid_grant, after the password changed in
  Okta): the cached one does not log in;
- the emulator stopped (Okta unreachable): the cached password logs in,
  password only, told "Offline login ..."; a wrong one fails; after
  offline_failed_login_attempts wrong ones in a row, the right one is
  delayed (refused, told to try later);
- past offline_credentials_expiration (the row's stored_at moved back:
  the config's minimum is 60 s), the cached password is refused and the
  row is gone;
- a suspension in Okta plus a sync wipes the row (helper B's
  test_auth_offline_wipe.py also seeds one);
- offline_deny_groups: a member never gets a hash stored.
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case, main  # noqa: E402
from emulator import Emulator, totp  # noqa: E402
from authenv import (AuthEnv, JANE, JANE_LOGIN, JANE_PASSWORD, GROUP, P_PASSWORD, P_MFA,  # noqa: E402
                     P_UNIX)

OFFLINE_MSG = "Offline login: Okta cannot be reached; MFA skipped"
FAILED = "Authentication failure"


def stored(env):
    """(stored_at, failures) of jane's offline row, or None."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(env.cache, "cache.db"), uri=True)
    try:
        return db.execute("SELECT stored_at, failures FROM offline_creds WHERE okta_id = ?",
                          (env.jane_id,)).fetchone()
    finally:
        db.close()


def age_offline_row(env, seconds):
    """Move jane's stored_at back: the clock moved on by that much."""
    db = sqlite3.connect(os.path.join(env.cache, "cache.db"), timeout=30)
    try:
        with db:
            n = db.execute("UPDATE offline_creds SET stored_at = stored_at - ? WHERE okta_id = ?",
                           (seconds, env.jane_id)).rowcount
    finally:
        db.close()
    assert n == 1, "no offline row to age"


def info(env, r):
    return "\n%r\nokta-syncd log (end):\n%s" % (r, env.daemon_log()[-3000:])


def online_login(env, secret):
    r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_MFA: lambda p: totp(secret)})
    assert r.ok and r.prompts == [P_PASSWORD, P_MFA], "online login failed" + info(env, r)
    assert OFFLINE_MSG not in r.text, r.text
    return r


def offline_env(emu, **auth):
    a = {"offline_credentials": "yes", "failed_login_attempts": 100}
    a.update(auth)
    env = AuthEnv(emu, auth=a)
    env.jane_id = emu.user_id(JANE_LOGIN)
    emu.auth_require_mfa(JANE_LOGIN, True)
    return env, emu.enroll_totp(JANE_LOGIN)


@case
def offline_login_only_when_okta_is_unreachable():
    emu = Emulator()
    env = None
    try:
        env, secret = offline_env(emu)
        assert stored(env) is None
        online_login(env, secret)
        assert stored(env) is not None, "no offline credential stored after an online login"

        # Okta refuses the password (it changed in Okta): no offline login.
        emu.set_password(JANE_LOGIN, "changed-in-okta-77")
        emu.auth_reset_counts()
        r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD})
        assert r.rc != 0 and FAILED in r.text and OFFLINE_MSG not in r.text, \
            "logged in although Okta said invalid_grant" + info(env, r)
        assert emu.auth_counts(JANE_LOGIN)["token"] == 1
        emu.set_password(JANE_LOGIN, JANE_PASSWORD)
        online_login(env, secret)

        # Okta unreachable.
        emu.stop()
        r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD})
        assert r.ok, "the cached password does not log in" + info(env, r)
        assert r.prompts == [P_PASSWORD], "an offline login asked for MFA: %r" % r.prompts
        assert OFFLINE_MSG in r.text, r.text

        # A wrong one fails; pam_unix is not asked (default=die).
        r = env.login(JANE, {P_PASSWORD: "wrong-1"})
        assert r.rc != 0 and FAILED in r.text, "a wrong offline password logged in" + info(env, r)
        assert r.prompts == [P_PASSWORD], r.prompts

        # offline_failed_login_attempts (3) wrong ones in a row, then the
        # right one is delayed.
        for i in (2, 3):
            r = env.login(JANE, {P_PASSWORD: "wrong-%d" % i})
            assert r.rc != 0, info(env, r)
        assert stored(env)[1] == 3, stored(env)
        r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD})
        assert r.rc != 0 and "successfully" not in r.text, "not delayed" + info(env, r)
        assert "Too many failed offline logins; try again later" in r.text, info(env, r)
        assert "Have exhausted maximum number of retries" in r.text, info(env, r)
    finally:
        if env is not None:
            env.close()
        emu.stop()


@case
def offline_credential_expires():
    """offline_credentials_expiration = 1d: a hash stored 1 day and 1
    minute ago (its stored_at moved back in cache.db: the clock moved on)
    is refused and wiped; one stored 23 hours ago still works."""
    emu = Emulator()
    env = None
    try:
        env, secret = offline_env(emu, offline_credentials_expiration="1d")
        online_login(env, secret)
        assert stored(env) is not None
        emu.stop()
        age_offline_row(env, 23 * 3600)
        r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD})
        assert r.ok and OFFLINE_MSG in r.text, "a 23-hour-old hash does not work" + info(env, r)
        age_offline_row(env, 3600 + 60)
        r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_UNIX: JANE_PASSWORD})
        assert r.rc != 0 and OFFLINE_MSG not in r.text, "an expired hash logged in" + info(env, r)
        assert "Okta cannot be reached; try again later" in r.text, info(env, r)
        assert stored(env) is None, "an expired offline credential stays in cache.db"
    finally:
        if env is not None:
            env.close()
        emu.stop()


@case
def suspension_and_sync_wipe_the_hash():
    emu = Emulator()
    env = None
    try:
        env, secret = offline_env(emu)
        online_login(env, secret)
        assert stored(env) is not None
        emu.set_status(JANE_LOGIN, "SUSPENDED")
        env.sync()
        assert stored(env) is None, "the hash of a suspended user survives a sync"
    finally:
        if env is not None:
            env.close()
        emu.stop()


@case
def offline_deny_groups_store_nothing():
    """Members of offline_deny_groups log in online only."""
    emu = Emulator()
    env = None
    try:
        env, secret = offline_env(emu, offline_deny_groups=GROUP)
        online_login(env, secret)
        assert stored(env) is None, "a hash was stored for a member of offline_deny_groups"
        emu.stop()
        r = env.login(JANE, {P_PASSWORD: JANE_PASSWORD, P_UNIX: JANE_PASSWORD})
        assert r.rc != 0 and OFFLINE_MSG not in r.text, info(env, r)
    finally:
        if env is not None:
            env.close()
        emu.stop()


if __name__ == "__main__":
    main()
