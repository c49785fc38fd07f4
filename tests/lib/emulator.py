"""emulator - start and drive the Okta emulator (tests/emulator/okta_emulator.py).

    from emulator import Emulator, make_org
    org = make_org(nusers=1000, ngroups=50, seed=1)
    with Emulator(org) as emu:              # HTTPS on 127.0.0.1, fresh test CA
        emu.domain      # "localhost:PORT" (the cert is valid for localhost, 127.0.0.1, ::1)
        emu.ca_file     # PEM of the test CA
        emu.token       # the full-rights SSWS token
        ...

The emulator runs as a separate process; Emulator() starts it (waiting for
its port file with a deadline), and stop() / leaving the `with` block kills
it, also when the test fails.  Every change goes through the emulator's
control listener (plain HTTP on 127.0.0.1).  Users are named by login (or
id), groups by name (or id).

Test CA: make_test_ca(dir) makes a CA and a server certificate for
DNS:localhost, IP:127.0.0.1 and IP:::1 with the openssl command (EC P-256);
emu.make_other_ca() makes a second, unrelated CA for "wrong CA" tests.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import weakref

from oktatest import wait_until
from orgdata import (make_org, make_hostile_org, make_user, make_group,  # noqa: F401 (re-exported)
                     HOSTILE_USERS, HOSTILE_GROUPS, find_user, find_group, iso)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# OKTA_EMULATOR: another copy of the emulator (a mutant, when checking
# that a test of the emulator fails without the behaviour it covers).
SERVER = os.environ.get("OKTA_EMULATOR") or os.path.join(ROOT, "tests", "emulator", "okta_emulator.py")

FAULT_KINDS = ("500", "slow", "reset", "truncated", "truncated_json", "content_type",
               "link_loop", "429", "401", "403", "short_page", "link_joined",
               "link_foreign", "link_http")


def _openssl(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), p.stderr.strip()))


def make_ca(dirpath, name="ca", cn="okta-sync test CA"):
    """A self-signed EC P-256 CA in dirpath: returns (cert path, key path)."""
    cert = os.path.join(dirpath, name + ".pem")
    key = os.path.join(dirpath, name + ".key")
    _openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", key, "-out", cert, "-days", "3", "-subj", "/CN=" + cn,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dirpath)
    return cert, key


def make_test_ca(dirpath):
    """A test CA plus a server certificate it signed, valid for localhost,
    127.0.0.1 and ::1.  Returns {"ca": ca.pem, "ca_key": ..., "cert":
    server.pem, "key": server.key}.  All files live in dirpath."""
    ca, ca_key = make_ca(dirpath)
    key = os.path.join(dirpath, "server.key")
    csr = os.path.join(dirpath, "server.csr")
    cert = os.path.join(dirpath, "server.pem")
    ext = os.path.join(dirpath, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n")
    _openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost"], dirpath)
    _openssl(["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
              "-set_serial", str(int.from_bytes(secrets.token_bytes(8), "big")),
              "-days", "3", "-out", cert, "-extfile", ext], dirpath)
    return {"ca": ca, "ca_key": ca_key, "cert": cert, "key": key}


def new_token():
    """A fresh, unmistakable SSWS token (42 characters, like Okta's)."""
    return "00" + secrets.token_urlsafe(30)[:40]


def _kill(proc, tmp, keep):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if tmp and not keep:
        shutil.rmtree(tmp, ignore_errors=True)


class EmulatorError(Exception):
    """A control operation failed (unknown user or group, bad argument)."""


class Emulator:
    """One running emulator process.  Starts in the constructor; use it as
    a context manager (or call stop()).

    Emulator(org=None, token=None, rate_limit=None, window=60,
             startup_timeout=120, verbose=False)
      org         the org dict (orgdata format); None = empty org
      token       the full-rights token (default: a fresh random one)
      rate_limit  (users_limit, groups_limit) per window, or one int for
                  both; default (600, 500)
      window      rate-limit window in seconds
      logs_rate_limit  the /api/v1/logs bucket's limit per window (default
                  60, Okta's small System Log bucket)
      generate    instead of org: a dict of make_org() keyword arguments;
                  the emulator process builds that org itself (saves the
                  JSON round trip for 100,000-user benchmarks; the test
                  can call make_org() with the same arguments to get an
                  identical copy)
    Attributes: domain ("localhost:PORT"), port, base_url, ca_file,
    cert_file, key_file, token, control_url, tmpdir, log_file.
    """

    def __init__(self, org=None, token=None, rate_limit=None, window=60,
                 startup_timeout=120, verbose=False, generate=None, logs_rate_limit=60):
        self.tmpdir = tempfile.mkdtemp(prefix="okta-emu-")
        self.proc = None
        self._keep = bool(os.environ.get("OKTA_EMU_KEEP"))
        self._finalizer = weakref.finalize(self, _kill, None, self.tmpdir, self._keep)
        self._other = 0
        try:
            self._start(org, token, rate_limit, window, startup_timeout, verbose, generate,
                        logs_rate_limit)
        except BaseException:
            self.stop()
            raise

    def _start(self, org, token, rate_limit, window, startup_timeout, verbose, generate,
               logs_rate_limit=60):
        pki = make_test_ca(self.tmpdir)
        self.ca_file = pki["ca"]
        self.cert_file = pki["cert"]
        self.key_file = pki["key"]
        self.token = token or new_token()
        if generate is not None:
            source = ["--generate", json.dumps(generate)]
        else:
            data = os.path.join(self.tmpdir, "org.json")
            with open(data, "w", encoding="utf-8") as f:
                f.write(json.dumps(org or {"users": [], "groups": []},
                                   separators=(",", ":"), ensure_ascii=False))
            source = ["--data", data]
        portfile = os.path.join(self.tmpdir, "ports.json")
        self.log_file = os.path.join(self.tmpdir, "emulator.log")
        if isinstance(rate_limit, int):
            rate_limit = (rate_limit, rate_limit)
        users_limit, groups_limit = rate_limit or (600, 500)
        cmd = [sys.executable, SERVER] + source + ["--cert", self.cert_file,
               "--key", self.key_file, "--token", self.token, "--port-file", portfile,
               "--rate-limit-users", str(users_limit), "--rate-limit-groups", str(groups_limit),
               "--rate-limit-logs", str(logs_rate_limit),
               "--rate-window", str(window), "--watch-pid", str(os.getpid())]
        if verbose:
            cmd.append("--verbose")
        with open(self.log_file, "w") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, close_fds=True)
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _kill, self.proc, self.tmpdir, self._keep)
        def started():
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited with %s:\n%s" % (self.proc.returncode, self.log()))
            return os.path.exists(portfile)
        try:
            wait_until(started, timeout=startup_timeout, what="the emulator to start")
        except AssertionError:
            raise RuntimeError("emulator did not start within %ss:\n%s" % (startup_timeout, self.log()))
        with open(portfile) as f:
            ports = json.load(f)
        self.port = ports["port"]
        self.control_port = ports["control_port"]
        self.domain = "localhost:%d" % self.port
        self.base_url = "https://" + self.domain
        self.control_url = "http://127.0.0.1:%d" % self.control_port

    # -- lifetime
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        """Kill the emulator process and remove its files (kept when the
        environment has OKTA_EMU_KEEP=1).  Safe to call twice."""
        self._finalizer()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        """The emulator process's output so far (for failure messages)."""
        try:
            with open(self.log_file, errors="replace") as f:
                return f.read()[-20000:]
        except (OSError, AttributeError):
            return ""

    # -- control
    def _call(self, op, **args):
        body = json.dumps(args).encode()
        req = urllib.request.Request(self.control_url + "/" + op, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())["result"]
        except urllib.error.HTTPError as e:
            try:
                msg = json.loads(e.read()).get("error")
            except ValueError:
                msg = str(e)
            raise EmulatorError("%s: %s" % (op, msg)) from None

    def add_token(self, groups=None, token=None, forbidden=False):
        """A new token.  groups: list of group names it is scoped to (it sees
        only those groups and their members); None: full rights.
        forbidden=True: a valid token whose admin lacks read rights (every
        API call answers 403 E0000006)."""
        return self._call("add_token", groups=None if groups is None else list(groups),
                          token=token or new_token(), forbidden=forbidden)

    def revoke_token(self, token):
        """From now on the token gets 401 E0000011 (revoked or expired)."""
        return self._call("revoke_token", token=token)

    def add_user(self, login, firstName="First", lastName="Last", status="ACTIVE",
                 groups=(), **profile):
        """Create a user (created = lastUpdated = now); returns its id.
        groups: names of groups to add it to.  Extra keyword arguments
        become profile attributes (email defaults to login)."""
        return self._call("add_user", login=login, firstName=firstName, lastName=lastName,
                          status=status, profile=profile, groups=list(groups))

    def set_status(self, login, status):
        """Change a user's status (bumps statusChanged and lastUpdated)."""
        return self._call("set_status", login=login, status=status)

    def set_profile(self, login, **attrs):
        """Set profile attributes (None means JSON null); bumps lastUpdated.
        Changing "login" renames the user."""
        return self._call("set_profile", login=login, attrs=attrs)

    def set_user(self, login, **fields):
        """Overwrite top-level user fields verbatim (e.g. lastUpdated=...),
        without bumping anything."""
        return self._call("set_user", login=login, attrs=fields)

    def delete_user(self, login):
        """Hard delete: gone from every listing and group (the groups'
        lastMembershipUpdated is bumped)."""
        return self._call("delete_user", login=login)

    def add_group(self, name, description="", type="OKTA_GROUP"):
        """Create a group; returns its id."""
        return self._call("add_group", name=name, description=description, type=type)

    def set_group(self, name, **profile):
        """Change a group's profile (name=..., description=...); bumps lastUpdated."""
        return self._call("set_group", name=name, attrs=profile)

    def delete_group(self, name):
        return self._call("delete_group", name=name)

    def add_member(self, group_name, login):
        """Add a user to a group (bumps the group's lastMembershipUpdated)."""
        return self._call("add_member", group=group_name, login=login)

    def remove_member(self, group_name, login):
        return self._call("remove_member", group=group_name, login=login)

    def user(self, login):
        """The user as the API serves it, plus "groups": [group names]."""
        return self._call("get_user", login=login)

    def group(self, name):
        """The group as the API serves it, plus "members": [user ids]."""
        return self._call("get_group", name=name)

    def user_id(self, login):
        return self.user(login)["id"]

    def group_id(self, name):
        return self.group(name)["id"]

    def counts(self):
        """{"users": N, "groups": N, "memberships": N} right now."""
        return self._call("counts")

    def fault(self, kind, path=None, count=1, delay=None, target=None, remaining=None):
        """The next `count` API requests whose path-and-query contains
        `path` (any request when None) fail as `kind`:
          "500"          500 with an E0000009 body
          "slow"         answered normally after `delay` seconds (default 3)
          "reset"        connection reset (RST), no answer.  NB: libcurl
                         silently retries a request once when a REUSED
                         connection dies before any answer; use count >= 2
                         (or a path) to make a reset reach the client
          "truncated"    valid headers (full Content-Length), half the body,
                         then a clean close (TLS close_notify + FIN): libcurl
                         says "transfer closed with N bytes remaining"
          "truncated_json" a complete, well-framed 200 answer whose JSON
                         is cut in half (only a JSON parser notices)
          "content_type" 200 with a text/html body
          "link_loop"    normal page whose rel="next" is the request's own URL
          "429"          E0000047, x-rate-limit-reset `delay` (default 2) s ahead,
                         x-rate-limit-remaining `remaining` (default 0: a
                         larger number plays a per-token limit)
          "401"          E0000011 Invalid token provided
          "403"          E0000006 no permission
          "short_page"   a listing page with half the entries it could hold,
                         still with a rel="next" (Okta may do this)
          "link_joined"  the self and next links comma-joined in ONE Link field
          "link_foreign" rel="next" points to another host
                         (https://okta-emulator.invalid/...): a client must
                         not follow it (it would send the token there)
          "link_http"    rel="next" is plain http://localhost:PORT/...: a
                         client must not follow it either
        target: for link_foreign and link_http, the scheme://host[:port] the
        next link points to instead (a listener of the test's own, so it can
        tell whether the client came and with what)
        Faults queue in order; the first pending one that matches is used."""
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r" % (kind,))
        return self._call("fault", kind=kind, path=path, count=count, delay=delay,
                          target=target, remaining=remaining)

    def clear_faults(self):
        return self._call("clear_faults")

    def set_rate_limit(self, limit, window_seconds=60, bucket=None):
        """Set every bucket's (or only "users" / "groups" / "logs", the
        System Log's) limit per window, starting a fresh window now."""
        return self._call("set_rate_limit", limit=limit, window=window_seconds, bucket=bucket)

    def set_clock_skew(self, seconds):
        """Shift the emulator's Date header and x-rate-limit-reset by
        `seconds` (positive: the server's clock runs ahead), to check that
        clients measure the reset against Date, not their own clock.
        System Log events are published by this clock too."""
        return self._call("set_clock_skew", seconds=seconds)

    # -- the System Log (GET /api/v1/logs)
    def events(self):
        """Every LogEvent the emulator holds, in the order they happened
        (also those the event lag still hides from /api/v1/logs).  Every
        change made through this wrapper logs one (add_user: create, plus
        activate when ACTIVE/PROVISIONED; set_status: suspend, unsuspend,
        deactivate, activate, user.account.lock/unlock/...; set_profile,
        set_user: user.account.update_profile; delete_user:
        user.lifecycle.delete; add_member/remove_member:
        group.user_membership.add/remove with a User and a UserGroup
        target; add_group, delete_group, set_group: group.lifecycle.create,
        group.lifecycle.delete, group.profile.update)."""
        return self._call("events")

    def set_event_lag(self, seconds):
        """Events made from now on show in /api/v1/logs only `seconds`
        after their published time (Okta's System Log lags)."""
        return self._call("set_event_lag", seconds=seconds)

    def add_event(self, event_type, targets=(), outcome="SUCCESS", reason=None):
        """Log an arbitrary event; returns its uuid.  targets: [(type,
        ref)]: ("User", login or id) and ("UserGroup", name or id) become
        the full target of an existing user or group; any other ref (an
        unknown id) is used as the id as given."""
        return self._call("add_event", event_type=event_type,
                          targets=[list(t) if not isinstance(t, dict) else t for t in targets],
                          outcome=outcome, reason=reason)

    def touch_users(self, logins, event_type="user.account.update_profile"):
        """One call for a burst: bump each user's lastUpdated (so an
        incremental sync sees them) and log one event naming each.
        Returns the number of users."""
        return self._call("touch_users", logins=list(logins), event_type=event_type)

    def requests(self):
        """[(method, path_and_query, status)] of API requests since the last
        reset_requests(), the path with its query string exactly as sent
        (e.g. the after= cursor a client resumed from); status 0 = no
        answer (reset fault)."""
        return [tuple(e) for e in self._call("requests")]

    def reset_requests(self):
        """Clear the request log, min_remaining(), count_429() and early_requests()."""
        return self._call("reset_requests")

    def stats(self):
        return self._call("stats")

    def min_remaining(self):
        """The lowest x-rate-limit-remaining sent since the last reset (None: none)."""
        return self.stats()["min_remaining"]

    def count_429(self):
        """How many 429 answers were sent since the last reset."""
        return self.stats()["count_429"]

    def early_requests(self):
        """How many requests came on a rate-limit bucket before the reset a
        429 had announced (each was answered with another 429)."""
        return self.stats()["early"]

    def make_other_ca(self):
        """Path of a second, unrelated CA certificate (PEM)."""
        self._other += 1
        cert, _ = make_ca(self.tmpdir, "other-ca%d" % self._other, "unrelated test CA")
        return cert

    # -- OAuth service apps (the emulator's /oauth2/v1/token section)
    def oauth_add_app(self, client_id, public_key_pem, scopes=("okta.users.read", "okta.groups.read"),
                      dpop_required=True, kid=None):
        """Register an API Services app: its public key (PEM, RSA or EC
        P-256), the scopes granted to it, whether it requires DPoP."""
        return self._call("oauth_add_app", client_id=client_id, public_key_pem=public_key_pem,
                          scopes=list(scopes), dpop_required=dpop_required, kid=kid)

    def oauth_set_token_lifetime(self, seconds=3600, expire_after_requests=None):
        """Access tokens issued from now live `seconds` (the expires_in
        sent), or end after `expire_after_requests` API calls, whichever
        comes first (a token that expires mid-sync)."""
        return self._call("oauth_set_token_lifetime", seconds=seconds,
                          expire_after_requests=expire_after_requests)

    def oauth_dpop_nonce(self, require_on_api=None, rotate_every=0, as_rotate=False):
        """require_on_api: API calls must carry the API's DPoP nonce;
        rotate_every: a new one every N API calls (mid-sync rotation)."""
        args = {"rotate_every": rotate_every, "as_rotate": as_rotate}
        if require_on_api is not None:
            args["require_on_api"] = require_on_api
        return self._call("oauth_dpop_nonce", **args)

    def oauth_secrets(self):
        """{"issued": access tokens, "assertions": client assertions,
        "proofs": DPoP proofs} the emulator issued or received."""
        return self._call("oauth_secrets")

    def oauth_events(self):
        """What the OAuth section did, in order: token_issued,
        token_nonce_challenge, token_refused:ERROR, api_refused:ERROR,
        api_nonce_challenge, api_nonce_rotated."""
        return self._call("oauth_events")

    def oauth_refusals(self):
        """[(error, error_description)] of every OAuth refusal, in order."""
        return [tuple(r) for r in self._call("oauth_refusals")]

    # -- Direct Authentication and ID tokens (the emulator's Direct Authentication section)
    def auth_add_app(self, client_id, client_secret=None, mfa_required=False):
        """Register a native app with the Direct Authentication and Device
        Authorization grants (client_secret: it must then authenticate
        with it, by POST or Basic); mfa_required: its sign-in policy asks
        every user for a second factor (403 mfa_required)."""
        return self._call("auth_add_app", client_id=client_id, client_secret=client_secret,
                          mfa_required=mfa_required)

    def auth_settings(self, **settings):
        """Change and return the section's settings: user_rate_limit (4)
        requests per rate_window (1.0 s) per user on /token and /challenge,
        lockout_threshold (10), oob_expires_in (300), oob_interval (5),
        device_expires_in (600), device_interval (5), mfa_token_lifetime
        (300), id_token_lifetime (3600), jwks_max_age (86400).  Intervals
        and lives apply to challenges and device codes made afterwards."""
        return self._call("auth_settings", settings=settings)

    def set_password(self, login, password):
        """The user's Okta password (no password: every password grant fails)."""
        return self._call("set_password", login=login, password=password)

    def enroll_totp(self, login):
        """Enrol a TOTP authenticator; returns its base32 secret (see totp())."""
        return self._call("enroll_totp", login=login)

    def enroll_push(self, login, number_matching=False, enrolled=True):
        """Enrol Okta Verify push; number_matching: each challenge carries a
        binding_code (binding_method "transfer") that push_respond must echo."""
        return self._call("enroll_push", login=login, number_matching=number_matching,
                          enrolled=enrolled)

    def auth_require_mfa(self, login, required=True):
        """Per-user MFA policy: True/False override the app's, None follows it."""
        return self._call("auth_require_mfa", login=login, required=required)

    def push_respond(self, login, action, code=None):
        """Answer the user's latest pending push: "approve" or "reject".
        With number matching, approve needs code=the binding_code; a wrong
        or missing one rejects.  Returns "approved" or "rejected"; raises
        EmulatorError when no push is pending (timeout: just never answer)."""
        return self._call("push_respond", login=login, action=action, code=code)

    def device_approve(self, user_code, login):
        """The user (must be ACTIVE) approves the device code on /activate."""
        return self._call("device_approve", user_code=user_code, login=login)

    def device_deny(self, user_code):
        return self._call("device_deny", user_code=user_code)

    def auth_forge_next(self, kind, other=None):
        """Make the next ID token issued broken as `kind`: "bad_signature"
        (one bit of the signature flipped), "wrong_aud", "expired" (exp an
        hour ago), "unknown_kid" (signed by a key never in the JWKS),
        "alg_none" (header alg none, empty signature), "wrong_iss",
        "other_sub" (sub = the Okta id of user `other`, the rest as
        issued).  Forgeries queue, one per ID token."""
        return self._call("auth_forge_next", kind=kind, other=other)

    def auth_rotate_key(self):
        """Publish a new signing key (the old one stays in the JWKS);
        returns its kid.  ID tokens are signed with it from now on."""
        return self._call("auth_rotate_key")

    def auth_counts(self, login=None):
        """{"token": N, "challenge": N}: requests to /oauth2/v1/token and
        /challenge naming the user (rate-limited and refused ones too),
        since the last auth_reset_counts().  login None: all, by user id
        (or "login:<name>" for unknown users)."""
        return self._call("auth_counts", login=login)

    def auth_reset_counts(self):
        return self._call("auth_reset_counts")

    def auth_failures(self, login):
        """Bad passwords in a row so far (the lockout counter)."""
        return self._call("auth_failures", login=login)

    def auth_secrets(self):
        """{"issued": ID tokens, access tokens, mfa_tokens, oob and device
        codes; "received": passwords and OTPs}, for leak checks."""
        return self._call("auth_secrets")

    def auth_events(self):
        """[path, error, None] of each refusal on /challenge and
        /device/authorize (the token endpoint's are in oauth_refusals())."""
        return self._call("auth_events")


def totp(secret_b32, at=None, step_offset=0):
    """RFC 6238 code (SHA1, 30 s, 6 digits) of a base32 secret at time `at`
    (default now), `step_offset` steps away."""
    import base64
    import hashlib
    import hmac
    import struct
    import time
    step = int(time.time() if at is None else at) // 30 + step_offset
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)
