#!/usr/bin/env python3
"""test_auth_tokens.py - forged ID tokens are refused (issue 11,
Done-when 4), end to end: pamtester through the Debian common-auth stack,
okta-syncd, the Okta emulator (tests/lib/authenv.py).

Jane types her right password; the emulator answers with an ID token
broken on request (auth_forge_next): a flipped signature bit, another
aud, an exp an hour ago, a kid not in the JWKS, alg none, another iss.
Each is refused, and the next honest login works (the forgery was the
only reason).  An unknown kid makes the daemon fetch the JWKS once more,
and only once; a key rotated in Okta is picked up the same way.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case  # noqa: E402
from emulator import Emulator  # noqa: E402
from authenv import AuthEnv, SharedAuthEnv, JANE, JANE_LOGIN, JANE_PASSWORD, P_PASSWORD  # noqa: E402

KEYS = "/oauth2/v1/keys"
def _prepare(e):
    e.emu.auth_require_mfa(JANE_LOGIN, False)
    login_works(e)        # the JWKS is fetched and cached


env = SharedAuthEnv(Emulator, {"failed_login_attempts": 100}, _prepare)


def info(e, r):
    return "\n%r\nokta-syncd log (end):\n%s" % (r, e.daemon_log()[-3000:])


def login_works(e):
    r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD})
    assert r.ok, "an honest ID token is refused" + info(e, r)


def jwks_fetches(e):
    return sum(1 for m, path, _ in e.emu.requests() if m == "GET" and path.split("?")[0] == KEYS)


@case
def rotated_key_fetched_once():
    """Its own daemon: the daemon refetches the JWKS for an unknown kid at
    most once a minute (idtoken.h), and forged_unknown_kid needs that
    minute's refetch."""
    emu = Emulator()
    e = None
    try:
        e = AuthEnv(emu)
        emu.auth_require_mfa(JANE_LOGIN, False)
        login_works(e)
        emu.auth_rotate_key()
        emu.reset_requests()
        login_works(e)
        assert jwks_fetches(e) == 1, "JWKS fetched %d times after a key rotation" % jwks_fetches(e)
        emu.reset_requests()
        login_works(e)
        assert jwks_fetches(e) == 0, "the JWKS is not cached"
    finally:
        if e is not None:
            e.close()
        emu.stop()


def forged_case(kind):
    def t():
        e = env()
        e.emu.reset_requests()
        e.emu.auth_forge_next(kind)
        r = e.login(JANE, {P_PASSWORD: JANE_PASSWORD})
        assert r.rc != 0 and "Authentication failure" in r.text, \
            "an ID token forged as %s logged jane in" % kind + info(e, r)
        if kind == "unknown_kid":
            assert jwks_fetches(e) == 1, "JWKS fetched %d times for an unknown kid, wanted 1: %r" % (
                jwks_fetches(e), e.emu.requests())
        login_works(e)
    t.__name__ = "forged_" + kind + "_refused"
    return t


for _kind in ("bad_signature", "wrong_aud", "expired", "unknown_kid", "alg_none", "wrong_iss"):
    case(forged_case(_kind))


if __name__ == "__main__":
    env.main()
