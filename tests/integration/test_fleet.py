"""test_fleet - fleet mode end to end (issue 12): a publisher syncs from
the emulator and publishes a signed snapshot to a directory that a real
nginx serves over HTTPS with the test CA; subscribers pull it with
`okta-sync fleet pull`, never talking to Okta, and their NSS and PAM see
it as any snapshot.

What each case asserts is what an admin sees: `okta-sync fleet pull`'s
words and exit status, `okta-sync status`, getent and pamtester in the
subscriber's namespace, nginx's access log, and the emulator's request
log (a subscriber makes no request to Okta).
"""
import base64
import hashlib
import json
import re
import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
from sync_common import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, case, main, ns_run, run, tmpdir, write_nsswitch  # noqa: E402
from emulator import Emulator, make_test_ca  # noqa: E402
from nginx import Nginx  # noqa: E402
from s3server import S3Server  # noqa: E402

MODULE = os.path.join(oktatest.BUILD, "pam_okta.so")
STACK = ("account [success=ok user_unknown=ignore ignore=ignore default=bad] %s\n"
         "account required pam_permit.so\n")
USERS = ("bob", "carol", "dave", "erin")
# A valid public key line no test holds the private key of.
OTHER_KEY = "okta-sync-ed25519 3fdmx34GGjstqfGEtf/CJ2/5JEJvbHUZmQ/5eKgm15o="


class Fleet:
    """An emulator org, a publisher that publishes into nginx's root, and
    subscribers made on demand."""

    def __init__(self, emu, tmp, web_pki):
        self.emu, self.tmp = emu, tmp
        emu.add_group("Eng")
        for u in USERS:
            emu.add_user(u + "@example.com", groups=["Eng"])
        self.web = Nginx(tmp, web_pki)
        self.pki = web_pki
        pub = os.path.join(tmp, "publisher")
        self.key = os.path.join(pub, "fleet.key")
        self.conf = sc.setup(pub, emu, extra="[fleet]\nrole = publisher\n"
                             "destination = %s\nsigning_key = %s\n" % (self.web.root, self.key))
        self.cache = sc.cache_dir(self.conf)
        p = run([OKTA_SYNC, "-c", self.conf, "fleet", "keygen"])
        assert p.returncode == 0, p.stderr
        self.public_key = p.stdout.strip()
        assert self.public_key.startswith("okta-sync-ed25519 "), p.stdout
        self.nss = write_nsswitch(os.path.join(tmp, "nsswitch.conf"))
        self.pamd = os.path.join(tmp, "pam.d")
        shutil.copytree("/etc/pam.d", self.pamd, symlinks=True)
        with open(os.path.join(self.pamd, "okta-fleet"), "w") as f:
            f.write(STACK % MODULE)
        self.nsub = 0

    def sync_and_publish(self):
        p = sc.okta_sync(self.conf)
        assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
        p = run([OKTA_SYNC, "-c", self.conf, "fleet", "publish"])
        assert p.returncode == 0, (p.stdout, p.stderr)
        return p.stdout

    def subscriber(self, **over):
        """A subscriber's config (and cache dir); over: [fleet] keys."""
        self.nsub += 1
        d = os.path.join(self.tmp, "sub%d" % self.nsub)
        cache = os.path.join(d, "cache")
        os.makedirs(cache)
        keys = {"role": "subscriber", "source": self.web.url, "ca_file": self.pki["ca"],
                "public_key": self.public_key, "max_age": "1d"}
        keys.update(over)
        conf = os.path.join(d, "okta-sync.conf")
        with open(conf, "w") as f:
            f.write("[cache]\ndir = %s\n\n[fleet]\n" % cache)
            for k, v in keys.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))
        return conf, cache

    def pull(self, conf):
        return run([OKTA_SYNC, "-c", conf, "fleet", "pull"], timeout=120)

    def sh(self, cache, script):
        return ns_run(script, cache, nsswitch=self.nss,
                      extra_binds=[(self.pamd, "/etc/pam.d")], timeout=60)

    def close(self):
        self.web.stop()


def with_fleet(fn):
    def t():
        tmp = tmpdir("okta-fleet-")
        pki_dir = os.path.join(tmp, "webpki")
        os.makedirs(pki_dir)
        pki = make_test_ca(pki_dir)
        with Emulator() as emu:
            f = Fleet(emu, tmp, pki)
            try:
                fn(f)
            finally:
                f.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t.__name__ = fn.__name__
    return t


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@case
@with_fleet
def publisher_and_subscriber_end_to_end(f):
    out = f.sync_and_publish()
    assert "published generation" in out, out
    assert os.path.exists(os.path.join(f.web.root, "manifest"))
    conf, cache = f.subscriber()
    f.emu.reset_requests()
    p = f.pull(conf)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "installed generation" in p.stdout, p.stdout
    # The subscriber never talked to Okta.
    assert f.emu.requests() == [], f.emu.requests()
    # Byte for byte the publisher's snapshot.
    assert sha(os.path.join(cache, "snapshot.cdb")) == sha(os.path.join(f.cache, "snapshot.cdb"))
    q = f.sh(cache, "getent passwd erin bob; id erin")
    assert q.returncode == 0, q.stdout + q.stderr
    assert "erin:" in q.stdout and "bob:" in q.stdout, q.stdout
    assert "groups=" in q.stdout and "eng" in q.stdout.lower(), q.stdout
    # Status on the subscriber shows the source, generation and result.
    s = run([OKTA_SYNC, "-c", conf, "status"])
    assert f.web.url in s.stdout and "installed" in s.stdout, s.stdout + s.stderr


@case
@with_fleet
def a_suspension_reaches_the_subscriber_by_a_small_delta(f):
    f.sync_and_publish()
    conf, cache = f.subscriber()
    assert f.pull(conf).returncode == 0
    q = f.sh(cache, "pamtester okta-fleet bob acct_mgmt 2>&1; echo rc=$?")
    assert "rc=0" in q.stdout, q.stdout
    f.emu.set_status("bob@example.com", "SUSPENDED")
    out = f.sync_and_publish()
    assert "delta" in out, out
    p = f.pull(conf)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "through a delta" in p.stdout, p.stdout
    # The delta file nginx sent is small.
    deltas = [a for a in f.web.access() if a[1].startswith("/delta-") and a[2] == 200]
    assert len(deltas) == 1, f.web.access()
    assert deltas[0][3] < 64 * 1024, deltas
    q = f.sh(cache, "pamtester okta-fleet bob acct_mgmt 2>&1; echo rc=$?")
    assert "rc=1" in q.stdout and "suspended" in q.stdout, q.stdout


@case
@with_fleet
def an_unchanged_manifest_is_a_304(f):
    f.sync_and_publish()
    conf, cache = f.subscriber()
    assert f.pull(conf).returncode == 0
    p = f.pull(conf)
    assert p.returncode == 0 and "unchanged" in p.stdout, (p.stdout, p.stderr)
    manifests = [a for a in f.web.access() if a[1] == "/manifest"]
    assert [a[2] for a in manifests] == [200, 304], manifests


def refused(f, conf, cache, words):
    """A pull that must fail with words in its message, the snapshot and
    getent unchanged, and the reason in status."""
    before = sha(os.path.join(cache, "snapshot.cdb"))
    p = f.pull(conf)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert words in p.stderr, (words, p.stderr)
    assert "keeps serving" in p.stderr, p.stderr
    assert sha(os.path.join(cache, "snapshot.cdb")) == before
    q = f.sh(cache, "getent passwd erin")
    assert q.returncode == 0 and "erin:" in q.stdout, q.stdout + q.stderr
    s = run([OKTA_SYNC, "-c", conf, "status"])
    assert words in s.stdout, (words, s.stdout, s.stderr)


def publish_change(f):
    f.emu.set_status("carol@example.com", "SUSPENDED")
    f.sync_and_publish()


def manifest_path(f):
    return os.path.join(f.web.root, "manifest")


@case
@with_fleet
def refusals_keep_the_old_snapshot_serving(f):
    f.sync_and_publish()
    conf, cache = f.subscriber()
    assert f.pull(conf).returncode == 0
    with open(manifest_path(f), "rb") as fh:
        old_manifest = fh.read()
    publish_change(f)
    with open(manifest_path(f), "rb") as fh:
        good = fh.read()
    doc = json.loads(good.split(b"\n", 1)[1])

    # 1. A tampered payload: one flipped byte in every file it could use
    # (the last: a byte of zstd's frame checksum, so that the flip cannot
    # decode to the same bytes by chance, which a flip of a match offset
    # into repeated data can).
    saved = {}
    for name in [doc["snapshot"]["name"]] + [d["name"] for d in doc["deltas"]]:
        path = os.path.join(f.web.root, name)
        with open(path, "rb") as fh:
            saved[path] = fh.read()
        b = bytearray(saved[path])
        b[-1] ^= 0x01
        with open(path, "wb") as fh:
            fh.write(b)
    refused(f, conf, cache, "damaged or was changed")
    for path, b in saved.items():
        with open(path, "wb") as fh:
            fh.write(b)

    # 1b. A payload that unpacks cleanly to the announced size, but to
    # other bytes (one changed byte, recompressed, padded with a zstd
    # skippable frame to the announced length): only the SHA-256 check
    # against the signed manifest can tell.
    for d in doc["deltas"]:
        os.rename(os.path.join(f.web.root, d["name"]), os.path.join(f.tmp, d["name"]))
    path = os.path.join(f.web.root, doc["snapshot"]["name"])
    real = saved[path]
    with open(os.path.join(f.cache, "snapshot.cdb"), "rb") as fh:
        other = bytearray(fh.read())
    if doc["snapshot"]["encoding"] == "cdb-data":
        other = cdb_data_payload(other)
    other[-1] ^= 0x01                   # the last byte of the last value
    other_path = os.path.join(f.tmp, "other.cdb")
    with open(other_path, "wb") as fh:
        fh.write(other)
    # The smallest frame zstd makes of it (levels, with and without the
    # frame checksum), so that a skippable frame can pad it to the size.
    forged = min((subprocess.run(["zstd", "-%d" % lvl, chk, "-q", "-c", other_path],
                                 capture_output=True, timeout=60).stdout
                  for lvl in (3, 9, 19) for chk in ("--check", "--no-check")), key=len)
    pad = len(real) - len(forged) - 8
    assert pad >= 0, (len(real), len(forged))
    forged += struct.pack("<II", 0x184D2A50, pad) + b"\0" * pad
    with open(path, "wb") as fh:
        fh.write(forged)
    refused(f, conf, cache, "SHA-256 is not the manifest's")
    with open(path, "wb") as fh:
        fh.write(real)
    for d in doc["deltas"]:
        os.rename(os.path.join(f.tmp, d["name"]), os.path.join(f.web.root, d["name"]))

    # 2. A tampered manifest (its signature line kept).
    sig, body = good.split(b"\n", 1)
    with open(manifest_path(f), "wb") as fh:
        fh.write(sig + b"\n" + body.replace(b'"size"', b'"size" ', 1))
    refused(f, conf, cache, "changed after it was signed")

    # 3. Signed by another key.
    other = os.path.join(f.tmp, "other.key")
    conf_other = f.conf + ".other"
    with open(f.conf) as src, open(conf_other, "w") as dst:
        dst.write(src.read().replace(f.key, other))
    assert run([OKTA_SYNC, "-c", conf_other, "fleet", "keygen"]).returncode == 0
    p = run([OKTA_SYNC, "-c", conf_other, "fleet", "publish"])
    assert p.returncode == 0, p.stderr
    refused(f, conf, cache, "not among the configured")

    # 4. A replay of an older signed manifest (generation below ours).
    p = run([OKTA_SYNC, "-c", f.conf, "fleet", "publish"])
    assert p.returncode == 0, p.stderr
    assert f.pull(conf).returncode == 0        # now at the newest
    with open(manifest_path(f), "wb") as fh:
        fh.write(old_manifest)
    refused(f, conf, cache, "rollback")

    # 5. Older than max_age: the same manifest, signed with the right key
    # but created an hour ago, for a subscriber that allows one minute.
    conf2, cache2 = f.subscriber(max_age="60s")
    shutil.copy(os.path.join(cache, "snapshot.cdb"), os.path.join(cache2, "snapshot.cdb"))
    os.chmod(os.path.join(cache2, "snapshot.cdb"), 0o644)
    stale = dict(doc, created=int(time.time()) - 3600)
    write_signed(f, json.dumps(stale, indent=2).encode())
    refused(f, conf2, cache2, "longer than max_age")


def cdb_data_payload(snapshot):
    """The "cdb-data" payload of a snapshot file: its cdb data section
    (what precedes the first hash table), with the index record's tables
    (the 'X' record, after its 17-byte header and its pad) zeroed, as
    syncd/fleet/cdbdata.h and common/snapshot_refs.h describe it."""
    toc = struct.unpack("<512I", bytes(snapshot[:2048]))
    data = bytearray(snapshot[2048:min(toc[0::2])])
    at = 0
    while at + 8 <= len(data):
        klen, vlen = struct.unpack("<II", data[at:at + 8])
        if klen == 1 and data[at + 8:at + 9] == b"X":
            v = at + 9
            head = 17 + data[v + 16]
            data[v + head:v + vlen] = bytes(vlen - head)
        at += 8 + klen + vlen
    return data


def write_signed(f, body):
    """Sign body with the publisher's key (openssl pkeyutl, raw Ed25519)
    and serve it as the manifest."""
    raw_pub = base64.b64decode(f.public_key.split()[1])
    key_id = hashlib.sha256(raw_pub).hexdigest()[:16]
    src = os.path.join(f.tmp, "body.json")
    with open(src, "wb") as fh:
        fh.write(body)
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", f.key, "-rawin",
                          "-in", src], capture_output=True, timeout=30)
    assert sig.returncode == 0 and len(sig.stdout) == 64, sig.stderr
    line = b"okta-sync-ed25519-sig " + key_id.encode() + b" " + base64.b64encode(sig.stdout)
    with open(manifest_path(f), "wb") as fh:
        fh.write(line + b"\n" + body)


@case
@with_fleet
def transport_failures_keep_the_old_snapshot_serving(f):
    f.sync_and_publish()
    conf, cache = f.subscriber()
    assert f.pull(conf).returncode == 0
    publish_change(f)
    doc = json.loads(open(manifest_path(f), "rb").read().split(b"\n", 1)[1])
    # A truncated download: the full snapshot cut short, deltas removed.
    for d in doc["deltas"]:
        os.unlink(os.path.join(f.web.root, d["name"]))
    path = os.path.join(f.web.root, doc["snapshot"]["name"])
    whole = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(whole[:len(whole) // 2])
    refused(f, conf, cache, "truncated")
    with open(path, "wb") as fh:
        fh.write(whole)
    # An HTTP 500.
    f.web.set_broken(True)
    refused(f, conf, cache, "HTTP 500")
    f.web.set_broken(False)
    # An unreachable source.
    conf2, cache2 = f.subscriber(source="https://localhost:1/")
    shutil.copy(os.path.join(cache, "snapshot.cdb"), os.path.join(cache2, "snapshot.cdb"))
    os.chmod(os.path.join(cache2, "snapshot.cdb"), 0o644)
    refused(f, conf2, cache2, "cannot fetch the manifest")


def set_fleet(conf, **keys):
    """Rewrite [fleet] keys of a publisher's config (None removes)."""
    with open(conf) as fh:
        lines = fh.read().split("\n")
    out, section = [], None
    for line in lines:
        if line.startswith("["):
            section = line
        k = line.split("=", 1)[0].strip()
        if section == "[fleet]" and k in keys:
            continue
        out.append(line)
    text = "\n".join(out).rstrip("\n") + "\n"
    text += "".join("%s = %s\n" % (k, v) for k, v in keys.items() if v is not None)
    with open(conf, "w") as fh:
        fh.write(text)


def secret_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
    os.chmod(path, 0o600)
    return path


@case
@with_fleet
def upload_by_webdav_put(f):
    set_fleet(f.conf, destination=f.web.dav_url, ca_file=f.pki["ca"])
    out = f.sync_and_publish()
    assert "published generation" in out, out
    puts = [a for a in f.web.access() if a[0] == "PUT"]
    assert [a for a in puts if a[1] == "/dav/manifest" and a[2] in (201, 204)], puts
    # Payloads first, manifest last.
    assert puts[-1][1] == "/dav/manifest", puts
    conf, cache = f.subscriber()
    p = f.pull(conf)
    assert p.returncode == 0 and "installed" in p.stdout, (p.stdout, p.stderr)


@case
@with_fleet
def upload_to_s3_with_sigv4(f):
    with S3Server(f.tmp, "fleet", "AKIDFLEETTEST", "s3cr3t-for-tests") as s3:
        creds = secret_file(os.path.join(f.tmp, "s3.creds"), "AKIDFLEETTEST:s3cr3t-for-tests")
        set_fleet(f.conf, destination="s3://fleet/prod/", s3_endpoint=s3.endpoint,
                  credentials_file=creds)
        out = f.sync_and_publish()
        assert "published generation" in out, out
        objs = s3.objects()
        assert "prod/manifest" in objs, sorted(objs)
        assert s3.log[-1][:2] == ("PUT", "/fleet/prod/manifest"), s3.log
        # What S3 holds is what a subscriber trusts: serve it and pull.
        for k, v in objs.items():
            with open(os.path.join(f.web.root, k.split("/", 1)[1]), "wb") as fh:
                fh.write(v)
        conf, cache = f.subscriber()
        p = f.pull(conf)
        assert p.returncode == 0 and "installed" in p.stdout, (p.stdout, p.stderr)
        # A wrong secret: the server checks the signature and refuses.
        secret_file(creds, "AKIDFLEETTEST:not-the-secret")
        p = run([OKTA_SYNC, "-c", f.conf, "fleet", "publish"])
        assert p.returncode == 1 and "HTTP 403" in p.stderr, (p.stdout, p.stderr)


@case
@with_fleet
def a_failed_upload_keeps_the_host_serving_and_is_retried(f):
    set_fleet(f.conf, destination="https://localhost:1/dav/", ca_file=f.pki["ca"])
    p = sc.okta_sync(f.conf)
    assert p.returncode == 0, p.stderr
    assert "upload to https://localhost:1/dav/ failed" in p.stderr, p.stderr
    s = run([OKTA_SYNC, "-c", f.conf, "status"])
    assert "FAILED" in s.stdout, s.stdout
    q = f.sh(f.cache, "getent passwd erin")
    assert q.returncode == 0 and "erin:" in q.stdout, q.stdout + q.stderr
    # The destination comes back: the next sync uploads.
    set_fleet(f.conf, destination=f.web.dav_url, ca_file=f.pki["ca"])
    p = sc.okta_sync(f.conf)
    assert p.returncode == 0 and "fleet: published generation" in p.stderr, p.stderr
    s = run([OKTA_SYNC, "-c", f.conf, "status"])
    assert "FAILED" not in s.stdout and "ok" in s.stdout, s.stdout
    conf, cache = f.subscriber()
    assert f.pull(conf).returncode == 0


@case
@with_fleet
def fifty_subscribers_converge_without_asking_okta(f):
    f.sync_and_publish()
    subs = [f.subscriber() for _ in range(50)]
    f.emu.reset_requests()
    procs = []
    for i in range(0, len(subs), 10):
        batch = [subprocess.Popen([OKTA_SYNC, "-c", conf, "fleet", "pull"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for conf, _ in subs[i:i + 10]]
        for p in batch:
            out, err = p.communicate(timeout=120)
            procs.append((p.returncode, out, err))
    assert all(rc == 0 for rc, _, _ in procs), [e for rc, _, e in procs if rc][:3]
    want = sha(os.path.join(f.cache, "snapshot.cdb"))
    assert all(sha(os.path.join(c, "snapshot.cdb")) == want for _, c in subs)
    assert f.emu.requests() == []


@case
@with_fleet
def okta_syncd_on_a_subscriber_pulls_on_its_own(f):
    f.sync_and_publish()
    prom = os.path.join(f.tmp, "fleet.prom")
    conf, cache = f.subscriber(poll_interval="1s")
    with open(conf, "a") as fh:
        fh.write("\n[sync]\nmetrics_file = %s\n" % prom)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    log = open(os.path.join(f.tmp, "syncd.log"), "w")
    proc = subprocess.Popen([oktatest.OKTA_SYNCD, "-c", conf], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        snap = os.path.join(cache, "snapshot.cdb")
        pub = os.path.join(f.cache, "snapshot.cdb")
        oktatest.wait_until(lambda: os.path.exists(snap) and sha(snap) == sha(pub),
                            timeout=60, what="the first pull")
        f.emu.reset_requests()
        f.emu.set_status("dave@example.com", "SUSPENDED")
        f.sync_and_publish()
        oktatest.wait_until(lambda: sha(snap) == sha(pub), timeout=60,
                            what="the subscriber to pull the change")
        q = f.sh(cache, "pamtester okta-fleet dave acct_mgmt 2>&1; echo rc=$?")
        assert "rc=1" in q.stdout and "suspended" in q.stdout, q.stdout
        oktatest.wait_until(lambda: os.path.exists(prom) and
                            "okta_sync_fleet_last_pull_success 1" in open(prom).read(),
                            timeout=30, what="the metrics file")
        text = open(prom).read()
        assert "okta_sync_last_success " not in text, text
        # Only the publisher's sync asked Okta anything.
        assert all(r[1].startswith("/api/v1/") for r in f.emu.requests())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    out = open(os.path.join(f.tmp, "syncd.log")).read()
    assert "fleet: installed generation" in out, out


@case
@with_fleet
def key_rotation_with_two_public_keys(f):
    f.sync_and_publish()
    new_key = os.path.join(f.tmp, "publisher", "fleet-2.key")
    conf_new = f.conf + ".new"
    with open(f.conf) as src, open(conf_new, "w") as dst:
        dst.write(src.read().replace(f.key, new_key))
    p = run([OKTA_SYNC, "-c", conf_new, "fleet", "keygen"])
    assert p.returncode == 0, p.stderr
    new_public = p.stdout.strip()
    # A subscriber that knows both keys pulls what either signs.
    conf, cache = f.subscriber(public_key="%s, %s" % (f.public_key, new_public))
    assert f.pull(conf).returncode == 0
    publish_change(f)                       # still the old key
    f.emu.set_status("erin@example.com", "SUSPENDED")
    assert sc.okta_sync(conf_new).returncode == 0      # now the new key
    p = f.pull(conf)
    assert p.returncode == 0 and "installed" in p.stdout, (p.stdout, p.stderr)
    # One that knows only the old key refuses the new signature.
    conf2, cache2 = f.subscriber()
    p = f.pull(conf2)
    assert p.returncode == 1 and "not among the configured" in p.stderr, p.stderr


@case
@with_fleet
def okta_sync_test_on_a_subscriber_checks_its_source(f):
    conf, cache = f.subscriber()
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 1 and re.search(r"FAIL +source", p.stdout), p.stdout + p.stderr
    assert "HTTP 404" in p.stdout and re.search(r"skip +signature", p.stdout), p.stdout
    f.sync_and_publish()
    p = run([OKTA_SYNC, "-c", conf, "test"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"ok +signature +verifies with public_key 1 of 1", p.stdout), p.stdout
    assert re.search(r"ok +manifest +generation 1,", p.stdout), p.stdout
    conf2, _ = f.subscriber(public_key=OTHER_KEY)
    p = run([OKTA_SYNC, "-c", conf2, "test"])
    assert p.returncode == 1 and re.search(r"FAIL +signature", p.stdout), p.stdout
    assert "not among the configured" in p.stdout, p.stdout


if __name__ == "__main__":
    main()
