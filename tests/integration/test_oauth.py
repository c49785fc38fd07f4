"""test_oauth - [okta] auth = oauth: an OAuth 2.0 service app (client
credentials with a private_key_jwt assertion, DPoP) against the emulator's
/oauth2/v1/token, which verifies the assertion's signature with the
registered public key (openssl), iss, sub, aud, exp and jti replay, issues
opaque expiring tokens, enforces scopes and checks a DPoP proof on every
call (signature, htm, htu, iat, jti, ath, nonce).

Issue 17, Done when 1 (RSA and EC keys, with and without DPoP, a nonce
challenge on the token request and a nonce rotation mid-sync), 2 (a token
that expires during a 1,000-user sync), 3 (refusals, nothing written) and
4 (no access token, assertion or proof in any output, the cache or the
snapshot).
"""
import collections
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import sync_common as sc  # noqa: E402
from oktatest import case, main, run, tmpdir, OKTA_SYNC  # noqa: E402
from emulator import Emulator, make_org  # noqa: E402

_emus = {}
_tmps = []
_keys = {}


def emulator(nusers=120):
    """One emulator per org size for the whole file."""
    if nusers not in _emus:
        _emus[nusers] = Emulator(make_org(nusers=nusers, ngroups=4, seed=17))
    return _emus[nusers]


def scratch():
    t = tmpdir("okta-oauth-")
    _tmps.append(t)
    return t


def keypair(kind):
    """(private PEM, public PEM) made with the openssl command; kind "rsa"
    (2048 bits) or "ec" (P-256).  Made once per kind and name."""
    if kind not in _keys:
        d = scratch()
        key = os.path.join(d, "k.pem")
        if kind.startswith("rsa"):
            args = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        else:
            args = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        subprocess.run(["openssl"] + args + ["-out", key], check=True, capture_output=True)
        pub = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], check=True,
                             capture_output=True, text=True).stdout
        with open(key) as f:
            _keys[kind] = (f.read(), pub)
    return _keys[kind]


_napps = [0]


def new_app(emu, kind, dpop=True, scopes=("okta.users.read", "okta.groups.read")):
    """Register an app with a key of `kind`; returns the oauth= dict for
    the config."""
    _napps[0] += 1
    client_id = "0oa%s%dtest%d" % (kind, int(dpop), _napps[0])
    priv, pub = keypair(kind)
    emu.oauth_add_app(client_id, pub, scopes=scopes, dpop_required=dpop)
    return {"client_id": client_id, "key_pem": priv}


def setup(emu, oauth, **sections):
    t = scratch()
    return sc.setup(t, emu, oauth=oauth, **sections)


def explain(p):
    return "\nexit %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-3000:], p.stderr[-3000:])


def api_gets(emu):
    """[(path_and_query, status)] of the API calls in the request log."""
    return [(e[1], e[2]) for e in emu.requests() if e[1].startswith("/api/")]


def token_posts(emu):
    return [e for e in emu.requests() if e[1].startswith("/oauth2/v1/token")]


def check_full_sync(emu, conf, nusers):
    """A sync that completes with every user; each API page answered 200
    exactly once."""
    p = sc.okta_sync(conf)
    assert p.returncode == 0, explain(p)
    snap = sc.snapshot(conf)
    assert len(snap["users"]) == nusers, (len(snap["users"]), explain(p))
    ok = [q for q, s in api_gets(emu) if s == 200]
    dup = [q for q, n in collections.Counter(ok).items() if n > 1]
    assert not dup, "pages fetched twice: %r" % dup
    return p


def sync_case(kind, dpop):
    emu = emulator()
    oauth = new_app(emu, kind, dpop=dpop)
    conf = setup(emu, oauth)
    emu.oauth_dpop_nonce(require_on_api=False)
    emu.reset_requests()
    ev0 = len(emu.oauth_events())
    p = check_full_sync(emu, conf, 120)
    events = emu.oauth_events()[ev0:]
    assert "token_issued" in events, events
    if dpop:
        # No proof first (is DPoP required?), then the nonce challenge.
        assert "token_refused:invalid_dpop_proof" in events, events
        assert "token_nonce_challenge" in events, events
    else:
        assert not [e for e in events if "dpop" in e or "nonce" in e], events
    assert not [e for e in events if e.startswith("api_refused")], events
    if dpop:
        # A proof on every API call (and the token requests).
        assert len(emu.oauth_secrets()["proofs"]) >= len(api_gets(emu)), "no proofs"
    return p


@case
def rsa_key_with_dpop():
    """RS256 assertion, DPoP required: a proof answered with the nonce
    challenge, then a DPoP-bound token and a proof on every call."""
    sync_case("rsa", True)


@case
def ec_key_with_dpop():
    """ES256 assertion (raw r||s), DPoP required."""
    sync_case("ec", True)


@case
def rsa_key_without_dpop():
    """An app that does not require DPoP: a Bearer token, no proofs."""
    sync_case("rsa", False)


@case
def ec_key_without_dpop():
    sync_case("ec", False)


@case
def dpop_nonce_rotation_mid_sync():
    """The API asks for a DPoP nonce (401 use_dpop_nonce with DPoP-Nonce)
    and rotates it every 3 calls: each challenge is answered by sending the
    same page again with the new nonce, and the sync completes.  For an
    RSA and for an EC key (Done when 1 asks it of each)."""
    for kind in ("rsa", "ec"):
        emu = emulator()
        oauth = new_app(emu, kind, dpop=True)
        conf = setup(emu, oauth)
        emu.oauth_dpop_nonce(require_on_api=True, rotate_every=3)
        try:
            emu.reset_requests()
            ev0 = len(emu.oauth_events())
            check_full_sync(emu, conf, 120)
            events = emu.oauth_events()[ev0:]
        finally:
            emu.oauth_dpop_nonce(require_on_api=False)
        assert "token_nonce_challenge" in events, (kind, events)
        assert events.count("api_nonce_rotated") >= 2, (kind, events)
        # The first call (no nonce yet) and one after each rotation.
        assert events.count("api_nonce_challenge") >= 3, (kind, events)
        assert not [e for e in events if e.startswith("api_refused:") and
                    e != "api_refused:use_dpop_nonce"], (kind, events)


@case
def token_expires_during_1000_user_sync():
    """Done when 2: each access token ends after 3 API calls (401
    invalid_token); the client renews it and sends the same page again.
    The sync completes with all 1,000 users, every page answered 200
    exactly once and none skipped (the users listing has its 5 pages)."""
    emu = emulator(1000)
    oauth = new_app(emu, "rsa", dpop=True)
    conf = setup(emu, oauth)
    emu.oauth_set_token_lifetime(3600, expire_after_requests=3)
    try:
        emu.reset_requests()
        ev0 = len(emu.oauth_events())
        check_full_sync(emu, conf, 1000)
        events = emu.oauth_events()[ev0:]
    finally:
        emu.oauth_set_token_lifetime(3600)
    refused = events.count("api_refused:invalid_token")
    assert refused >= 3, events
    assert events.count("token_issued") == refused + 1, events
    gets = api_gets(emu)
    # Each refused call was sent again at once, with the new token.
    for i, (q, st) in enumerate(gets):
        if st == 401:
            assert gets[i + 1] == (q, 200), gets[i:i + 2]
    pages = [q for q, st in gets if st == 200 and q.startswith("/api/v1/users?")
             and "filter=" not in q]
    assert len(pages) == 5, pages


@case
def token_renewed_before_it_expires():
    """An access token is renewed shortly before its expires_in runs out,
    not after Okta refused it.  Tokens live 8 s (renewed at half time, as
    short-lived ones are); the first two groups calls are answered after
    6 s each (the emulator's "slow" fault, not a sleep of the test): the
    call after the first comes with a new token, so the second, answered
    past the first token's end, is not refused."""
    emu = emulator()
    oauth = new_app(emu, "ec", dpop=False)
    conf = setup(emu, oauth)
    emu.oauth_set_token_lifetime(8)
    emu.fault("slow", path="/api/v1/groups", delay=6, count=2)
    try:
        emu.reset_requests()
        ev0 = len(emu.oauth_events())
        check_full_sync(emu, conf, 120)
        events = emu.oauth_events()[ev0:]
    finally:
        emu.oauth_set_token_lifetime(3600)
        emu.clear_faults()
    assert events.count("token_issued") >= 2, events
    assert "api_refused:invalid_token" not in events, events


def refused(emu, bad, want, mode=None, config_error=False):
    """A sync with the oauth settings `bad` must fail and write nothing:
    a first sync with a good app fills the cache, then the config gets
    `bad` (and the key file `mode`); the second sync exits non-zero with
    the words `want`, and the cache and the snapshot (all files but the
    failure log) stay byte for byte as they were.  Returns the process
    and the API/token requests the failed sync made."""
    t = scratch()
    conf = sc.setup(t, emu, oauth=new_app(emu, "ec"))
    p = sc.okta_sync(conf)
    assert p.returncode == 0, explain(p)
    cache = sc.cache_dir(conf)
    before = sc.hash_dir(cache)
    assert "snapshot.cdb" in before, before
    conf = sc.setup(t, emu, oauth=bad)
    if mode is not None:
        os.chmod(os.path.join(t, "oauth.key"), mode)
    emu.reset_requests()
    p = sc.okta_sync(conf)
    assert p.returncode != 0, explain(p)
    for w in want:
        assert w in p.stderr, ("%r not in the message" % w) + explain(p)
    if not config_error:
        assert "nothing was changed" in p.stderr, explain(p)
    assert sc.hash_dir(cache) == before, "the cache or the snapshot changed"
    return p, conf


@case
def refused_missing_scope():
    """Done when 3: the app was granted okta.users.read only.  Okta grants
    what it may; the sync sees the missing scope in the token answer and
    refuses before listing anything."""
    emu = emulator()
    refused(emu, new_app(emu, "ec", scopes=("okta.users.read",)),
            ["okta.groups.read", "Okta API Scopes"])
    assert api_gets(emu) == [], api_gets(emu)


@case
def refused_missing_scope_at_the_api():
    """With [okta] scopes = okta.users.read the groups endpoints answer
    403 E0000006 (the emulator enforces the token's scopes) and the sync
    fails without writing."""
    emu = emulator()
    oauth = new_app(emu, "ec")
    oauth["scopes"] = "okta.users.read"
    refused(emu, oauth, ["403", "E0000006"])
    assert ("/api/v1/groups" in "".join(q for q, st in api_gets(emu) if st == 403)), api_gets(emu)


@case
def refused_wrong_client_id():
    emu = emulator()
    oauth = new_app(emu, "rsa")
    oauth["client_id"] = "0oaNoSuchApp"
    refused(emu, oauth, ["invalid_client", "client_id"])
    assert api_gets(emu) == []
    assert emu.oauth_refusals()[-1][1].startswith("The issuer claim"), emu.oauth_refusals()[-3:]


@case
def refused_unknown_key():
    """The config's key is not the one registered for the app: Okta's
    invalid_client (signature invalid), with the public-key hint."""
    emu = emulator()
    oauth = new_app(emu, "ec")
    oauth["key_pem"] = keypair("ec-other")[0]
    p, _ = refused(emu, oauth, ["invalid_client", "signature", "public key"])
    assert api_gets(emu) == [], explain(p)
    assert emu.oauth_refusals()[-1] == ("invalid_client", "The client_assertion signature is invalid."), \
        emu.oauth_refusals()[-3:]


@case
def refused_key_file_readable_by_others():
    """A key file with mode 0644: refused before any request, by sync,
    by test and by check-config."""
    emu = emulator()
    _, conf = refused(emu, new_app(emu, "ec"), ["private_key_file", "chmod 600"],
                      mode=0o644, config_error=True)
    assert emu.requests() == [], emu.requests()
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 78 and "chmod 600" in p.stdout + p.stderr, explain(p)
    p = run([OKTA_SYNC, "-c", conf, "check-config"])
    assert p.returncode == 78 and "private_key_file" in p.stdout + p.stderr, explain(p)
    assert emu.requests() == [], emu.requests()


@case
def refused_unusable_key():
    """A key okta-sync cannot sign with (EC P-384; a passphrase-protected
    key): refused before any request, saying why."""
    emu = emulator()
    d = scratch()
    for args, want in ((["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
                        "neither RSA nor EC P-256"),
                       (["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-aes256", "-pass", "pass:secret"], "passphrase")):
        key = os.path.join(d, "k.pem")
        subprocess.run(["openssl"] + args + ["-out", key], check=True, capture_output=True)
        with open(key) as f:
            pem = f.read()
        oauth = new_app(emu, "ec")
        oauth["key_pem"] = pem
        emu.reset_requests()
        p, conf = refused(emu, oauth, [want], config_error=True)
        assert p.returncode == 78, explain(p)
        p = run([OKTA_SYNC, "-c", conf, "test"])
        assert p.returncode == 78 and "FAIL  key file" in p.stdout and want in p.stdout, explain(p)
        assert emu.requests() == [], emu.requests()


def secrets_in(emu):
    """The access tokens issued, and the signatures of the assertions and
    proofs received (each a whole JWT's unique part)."""
    s = emu.oauth_secrets()
    out = list(s["issued"])
    for jwt in s["assertions"] + s["proofs"]:
        out.append(jwt)
        out.append(jwt.rsplit(".", 1)[-1])
    return [x for x in out if len(x) >= 20]


@case
def nothing_secret_leaks():
    """Done when 4: sync -v (debug log), a renewal, the nonce dance and
    `okta-sync test -v`: no access token, assertion or proof in stdout,
    stderr, any file of the cache directory or the snapshot."""
    emu = emulator()
    logs = ("okta.users.read", "okta.groups.read", "okta.logs.read")
    oauth = new_app(emu, "rsa", dpop=True, scopes=logs)
    oauth["scopes"] = " ".join(logs)    # `test` reads the System Log too
    conf = setup(emu, oauth)
    emu.oauth_set_token_lifetime(3600, expire_after_requests=4)
    emu.oauth_dpop_nonce(require_on_api=True, rotate_every=5)
    try:
        outs = []
        for args in (["-v", "-c", conf, "sync"], ["-v", "-c", conf, "test"],
                     ["-v", "-c", conf, "sync", "--full"], ["-c", conf, "status"]):
            p = run([OKTA_SYNC] + args, timeout=300)
            assert p.returncode == 0, explain(p)
            outs.append(p.stdout + p.stderr)
    finally:
        emu.oauth_set_token_lifetime(3600)
        emu.oauth_dpop_nonce(require_on_api=False)
    found = secrets_in(emu)
    assert len(emu.oauth_secrets()["issued"]) >= 3 and len(found) > 20, len(found)
    blobs = [o.encode() for o in outs]
    for root, _, files in os.walk(sc.cache_dir(conf)):
        for n in files:
            with open(os.path.join(root, n), "rb") as f:
                blobs.append(f.read())
    snap = sc.snapshot(conf)
    blobs.append(repr(snap).encode())
    for sec in found:
        b = sec.encode()
        for blob in blobs:
            assert b not in blob, "a secret (%s...) leaked" % sec[:8]


@case
def conntest_lines():
    """`okta-sync test` with auth = oauth: key file, assertion, scopes,
    DPoP, then the usual checks; and the refusal of a wrong client_id with
    Okta's error and a hint."""
    emu = emulator()
    logs = ("okta.users.read", "okta.groups.read", "okta.logs.read")
    oauth = new_app(emu, "ec", dpop=True, scopes=logs)
    oauth["scopes"] = " ".join(logs)
    conf = setup(emu, oauth)
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 0, explain(p)
    for want in ("ok    key file", "EC P-256, ES256", "ok    assertion", "ok    scopes",
                 "okta.users.read okta.groups.read", "ok    DPoP", "required",
                 "ok    token", "ok    list members", "ok    system log"):
        assert want in p.stdout, (want, explain(p))
    # Without okta.logs.read, [sync] events (the default) cannot work:
    # said, with what to grant; with events = no it is not checked.
    oauth = new_app(emu, "rsa", dpop=False)
    conf = setup(emu, oauth)
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 1 and "FAIL  system log" in p.stdout, explain(p)
    assert "add okta.logs.read to [okta] scopes" in p.stdout, explain(p)
    conf = setup(emu, oauth, sync={"events": "no"})
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 0 and "not required" in p.stdout and "RSA 2048 bits" in p.stdout, explain(p)
    assert "skip  system log" in p.stdout, explain(p)
    oauth["client_id"] = "0oaNoSuchApp"
    conf = setup(emu, oauth)
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 1, explain(p)
    assert "FAIL  assertion" in p.stdout and "invalid_client" in p.stdout and "client_id" in p.stdout, explain(p)
    assert "skip  scopes" in p.stdout, explain(p)
    oauth = new_app(emu, "ec", scopes=("okta.users.read",))
    conf = setup(emu, oauth)
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 1 and "FAIL  scopes" in p.stdout and "okta.groups.read" in p.stdout, explain(p)


@case
def check_config_oauth():
    """check-config: FILE:LINE for a bad auth value or client_id; a
    missing client_id or private_key_file named."""
    t = scratch()
    conf = os.path.join(t, "c.conf")
    with open(conf, "w") as f:
        f.write("[okta]\ndomain = dev-1.okta.com\nauth = saml\nclient_id = 0oa bad\n")
    p = run([OKTA_SYNC, "-c", conf, "check-config"])
    assert p.returncode == 78, explain(p)
    assert conf + ":3:" in p.stderr and "auth must be" in p.stderr, explain(p)
    assert conf + ":4:" in p.stderr and "client_id" in p.stderr, explain(p)
    with open(conf, "w") as f:
        f.write("[okta]\ndomain = dev-1.okta.com\nauth = oauth\n")
    p = run([OKTA_SYNC, "-c", conf, "check-config"])
    assert p.returncode == 78, explain(p)
    assert "needs client_id" in p.stderr and "needs private_key_file" in p.stderr, explain(p)
    assert "token_file" not in p.stderr, explain(p)
    emu = emulator()
    conf = setup(emu, new_app(emu, "ec"))
    p = run([OKTA_SYNC, "-c", conf, "check-config"])
    assert p.returncode == 0 and "OAuth service app 0oa" in p.stdout, explain(p)


if __name__ == "__main__":
    try:
        main()
    finally:
        for e in _emus.values():
            e.stop()
        for d in _tmps:
            shutil.rmtree(d, ignore_errors=True)
