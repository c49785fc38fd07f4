"""test_conntest - `okta-sync test`, the connection test, against the Okta
emulator: one line per check (DNS, TCP, TLS, token, list users, list
groups, list members, rate limit), an actionable hint on each failure, the
dependent checks shown as skipped, and the exit code (0 all passed, 1 a
check failed, 78 the config or token file cannot be used).  The token must
never appear in anything the command prints, even with -v.
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from oktatest import case, main, run, tmpdir, write_nsswitch, OKTA_SYNC  # noqa: E402
from emulator import Emulator, make_org  # noqa: E402
from oktaconf import write_config  # noqa: E402

CHECKS = ["DNS", "TCP", "TLS", "token", "list users", "list groups",
          "list members", "rate limit", "system log"]

_emu = None
_tmps = []


def emulator():
    """One emulator for the whole file (starting one makes a CA)."""
    global _emu
    if _emu is None:
        _emu = Emulator(make_org(nusers=250, ngroups=5, seed=7))
    return _emu


def scratch():
    t = tmpdir("okta-conntest-")
    _tmps.append(t)
    return t


def okta_test(conf, verbose=False, wrap=None, secrets=()):
    """Run `okta-sync -c conf test`; return (exit code, {check: (status,
    detail)}, stdout, stderr).  Fails if any secret shows up in the output."""
    cmd = [OKTA_SYNC] + (["-v"] if verbose else []) + ["-c", conf, "test"]
    if wrap is not None:
        cmd = wrap(cmd)
    p = run(cmd, timeout=120)
    for s in secrets:
        assert s not in p.stdout and s not in p.stderr, "the token was printed"
    lines = {}
    for ln in p.stdout.splitlines():
        m = re.match(r"^  (ok|FAIL|skip) +(\S+(?: \S+)?) +(.*)$", ln)
        if m and m.group(2) in CHECKS:
            lines[m.group(2)] = (m.group(1), m.group(3))
    return p.returncode, lines, p.stdout, p.stderr


def explain(p_out, p_err):
    return "\nstdout:\n%s\nstderr:\n%s" % (p_out, p_err)


def assert_order(out):
    """The check lines come in the documented order."""
    names = [n for n in CHECKS if re.search(r"^  \S+ +%s " % re.escape(n), out, re.M)]
    seen = [m.group(1) for m in re.finditer(r"^  (?:ok|FAIL|skip) +(\S+(?: \S+)?) {1,}", out, re.M)
            if m.group(1) in CHECKS]
    assert seen == names == CHECKS, "lines out of order or missing: %s" % seen


@case
def good_token():
    emu = emulator()
    conf = write_config(scratch(), emu)
    for verbose in (False, True):
        rc, lines, out, err = okta_test(conf, verbose=verbose, secrets=[emu.token])
        assert rc == 0, "exit %d" % rc + explain(out, err)
        assert_order(out)
        for name in CHECKS:
            assert lines[name][0] == "ok", "%s not ok" % name + explain(out, err)
        assert lines["DNS"][1].startswith("localhost resolves to "), lines["DNS"]
        assert "127.0.0.1" in lines["DNS"][1] or "::1" in lines["DNS"][1], lines["DNS"]
        assert re.match(r"connected to \S+ port %d$" % emu.port, lines["TCP"][1]), lines["TCP"]
        assert lines["TLS"][1].startswith("certificate verified"), lines["TLS"]
        assert "200 users on the first page, more pages follow" in lines["list users"][1], lines
        assert re.match(r"\d+ of \d+ requests left in this window \(resets in \d+ s\)$",
                        lines["rate limit"][1]), lines["rate limit"]
        # Never a curl error number or the word "curl" in what the admin reads.
        assert "curl" not in out.lower() and "curl" not in err.lower()
    # The endpoints the sync uses were each asked once per run.
    paths = [p for _, p, _ in emu.requests()]
    assert any(p.startswith("/api/v1/users?limit=1") for p in paths), paths
    assert any(p.startswith("/api/v1/groups?limit=1") for p in paths), paths
    assert any(re.match(r"/api/v1/groups/\w+/users\?limit=1", p) for p in paths), paths
    assert any(p.startswith("/api/v1/logs?limit=1") for p in paths), paths


@case
def bad_token():
    emu = emulator()
    bad = "00BadTokenNeverIssued0123456789abcdefghij"
    conf = write_config(scratch(), emu, token=bad)
    for verbose in (False, True):
        rc, lines, out, err = okta_test(conf, verbose=verbose, secrets=[bad, emu.token])
        assert rc == 1, "exit %d" % rc + explain(out, err)
        assert_order(out)
        assert [lines[n][0] for n in CHECKS[:3]] == ["ok"] * 3, explain(out, err)
        status, detail = lines["token"]
        assert status == "FAIL", explain(out, err)
        assert detail.startswith("401 E0000011: the token is invalid, expired"), detail
        assert "revoked" in detail and "create a new one" in detail, detail
        for name in CHECKS[4:]:
            assert lines[name][0] == "skip", explain(out, err)


@case
def token_without_rights():
    emu = emulator()
    conf = write_config(scratch(), emu)
    emu.clear_faults()
    emu.fault("403", path="/api/v1/users")
    try:
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    finally:
        emu.clear_faults()
    assert rc == 1, "exit %d" % rc + explain(out, err)
    status, detail = lines["token"]
    assert status == "FAIL", explain(out, err)
    assert detail.startswith("403 E0000006: "), detail
    assert "lacks read rights" in detail and "read-only administrator" in detail, detail
    assert all(lines[n][0] == "skip" for n in CHECKS[4:]), explain(out, err)


@case
def groups_forbidden():
    """A token that may read users but not groups fails on that line."""
    emu = emulator()
    conf = write_config(scratch(), emu)
    emu.clear_faults()
    emu.fault("403", path="/api/v1/groups")
    try:
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    finally:
        emu.clear_faults()
    assert rc == 1, "exit %d" % rc + explain(out, err)
    assert lines["token"][0] == "ok" and lines["list users"][0] == "ok", explain(out, err)
    assert lines["list groups"][0] == "FAIL", explain(out, err)
    assert "403 E0000006" in lines["list groups"][1], lines["list groups"]
    assert lines["list members"][0] == "skip" and lines["rate limit"][0] == "skip"


@case
def system_log_forbidden():
    """[sync] events (the default) needs the System Log: a token that may
    not read it fails on that line, saying what to do; with events = no
    the line is skipped and the run passes."""
    emu = emulator()
    conf = write_config(scratch(), emu)
    emu.clear_faults()
    emu.fault("403", path="/api/v1/logs")
    try:
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
        assert rc == 1, "exit %d" % rc + explain(out, err)
        assert lines["list members"][0] == "ok" and lines["rate limit"][0] == "ok", explain(out, err)
        assert lines["system log"][0] == "FAIL", explain(out, err)
        assert "403 E0000006" in lines["system log"][1], lines["system log"]
        assert "set [sync] events = no" in lines["system log"][1], lines["system log"]
        conf = write_config(scratch(), emu, sync={"events": "no"})
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
        assert rc == 0 and lines["system log"][0] == "skip", "exit %d" % rc + explain(out, err)
    finally:
        emu.clear_faults()


@case
def wrong_ca():
    emu = emulator()
    other = emu.make_other_ca()
    conf = write_config(scratch(), emu, okta={"ca_file": other})
    emu.reset_requests()
    rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    assert rc == 1, "exit %d" % rc + explain(out, err)
    assert lines["DNS"][0] == "ok" and lines["TCP"][0] == "ok", explain(out, err)
    status, detail = lines["TLS"]
    assert status == "FAIL", explain(out, err)
    assert "not trusted" in detail and "[okta] ca_file" in detail and other in detail, detail
    assert all(lines[n][0] == "skip" for n in CHECKS[3:]), explain(out, err)
    # No request reached the API: the token was never sent.
    assert emu.requests() == [], "a request got through an unverified connection"


@case
def system_ca_store():
    """Without ca_file the system store is used, and it does not know the
    test CA: the hint names the store and ca_file."""
    emu = emulator()
    conf = write_config(scratch(), emu, okta={"ca_file": None})
    emu.reset_requests()
    rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    assert rc == 1, "exit %d" % rc + explain(out, err)
    assert lines["TLS"][0] == "FAIL", explain(out, err)
    assert "system CA store" in lines["TLS"][1] and "ca_file" in lines["TLS"][1], lines["TLS"]
    assert emu.requests() == [], "a request got through an unverified connection"


@case
def unknown_host():
    """A misspelt domain: DNS fails, with the domain and the expected form.
    Run in a private mount namespace so that the answer comes at once and
    without any network: first with only /etc/hosts to look in (as for a
    name that does not exist), then with the name server at 127.0.0.1 (as
    when no DNS server answers)."""
    if shutil.which("unshare") is None:
        raise AssertionError("unshare is not installed (util-linux)")
    t = scratch()
    token = "00ATokenForAnOrgThatDoesNotExist0123456789"
    conf = write_config(t, None, okta={"domain": "no-such-org.invalid"}, token=token)
    nsswitch = write_nsswitch(os.path.join(t, "nsswitch.conf"), passwd="files", group="files")
    resolv = os.path.join(t, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def in_ns(src, dst):
        return lambda cmd: ["unshare", "-m", "--propagation", "private", "sh", "-c",
                            'mount --bind "$0" "$1" && shift && exec "$@"', src, dst] + cmd

    for src, dst, says in ((nsswitch, "/etc/nsswitch.conf", "no-such-org.invalid does not resolve"),
                           (resolv, "/etc/resolv.conf", "no DNS server answered for no-such-org.invalid")):
        rc, lines, out, err = okta_test(conf, wrap=in_ns(src, dst), secrets=[token])
        assert rc == 1, "exit %d" % rc + explain(out, err)
        status, detail = lines["DNS"]
        assert status == "FAIL", explain(out, err)
        assert detail.startswith(says), detail
        assert "misspelling" in detail and "dev-123.okta.com" in detail, detail
        assert all(lines[n][0] == "skip" for n in CHECKS[1:]), explain(out, err)


@case
def connection_refused():
    emu = emulator()
    # Port 1 (tcpmux): nothing listens there on a test machine.
    conf = write_config(scratch(), emu, okta={"domain": "127.0.0.1:1"})
    rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    assert rc == 1, "exit %d" % rc + explain(out, err)
    assert lines["DNS"] == ("ok", "127.0.0.1 resolves to 127.0.0.1"), lines["DNS"]
    assert lines["TCP"][0] == "FAIL" and "cannot connect to 127.0.0.1:1" in lines["TCP"][1]
    assert "firewall" in lines["TCP"][1], lines["TCP"]


@case
def empty_org():
    """No user and no group visible: the lines say so, nothing fails."""
    with Emulator(make_org(nusers=0, ngroups=0, seed=1)) as emu:
        conf = write_config(scratch(), emu)
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    assert rc == 0, "exit %d" % rc + explain(out, err)
    assert "no user is visible" in lines["list users"][1], lines
    assert "no group is visible" in lines["list groups"][1], lines
    assert lines["list members"][0] == "skip", lines
    assert lines["rate limit"][0] == "ok", lines


@case
def server_errors_then_ok():
    """One 500 is retried and the test passes; a 500 that persists fails
    the line with words, not numbers from curl."""
    emu = emulator()
    conf = write_config(scratch(), emu)
    emu.clear_faults()
    emu.fault("500", path="/api/v1/groups", count=1)
    try:
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
        assert rc == 0, "exit %d" % rc + explain(out, err)
        emu.fault("500", path="/api/v1/groups", count=10)
        rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    finally:
        emu.clear_faults()
    assert rc == 1, "exit %d" % rc + explain(out, err)
    assert lines["list groups"][0] == "FAIL", explain(out, err)
    assert "server errors" in lines["list groups"][1], lines["list groups"]


@case
def unsafe_token_file():
    """A token file others can read is refused before anything is sent."""
    emu = emulator()
    t = scratch()
    conf = write_config(t, emu)
    os.chmod(os.path.join(t, "token"), 0o644)
    emu.reset_requests()
    rc, lines, out, err = okta_test(conf, secrets=[emu.token])
    assert rc == 78, "exit %d" % rc + explain(out, err)
    assert "token" in err, explain(out, err)
    assert emu.requests() == [], "a request was sent with an unsafe token file"


if __name__ == "__main__":
    try:
        main()
    finally:
        if _emu is not None:
            _emu.stop()
        for d in _tmps:
            shutil.rmtree(d, ignore_errors=True)
