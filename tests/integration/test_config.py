"""check-config: every problem at once, with line numbers; the token file's
owner and mode (sshd StrictModes); what to write instead of a URL."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from oktatest import OKTA_SYNC, case, main, run, tmpdir  # noqa: E402
from oktaconf import write_config  # noqa: E402

GOOD = {"domain": "dev-123456.okta.com"}


def check(conf):
    return run([OKTA_SYNC, "-c", conf, "check-config"])


@case
def good_config_passes():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    p = check(conf)
    assert p.returncode == 0, p.stderr
    assert "ok" in p.stdout and "dev-123456.okta.com" in p.stdout, p.stdout


@case
def every_problem_reported_with_line_numbers():
    t = tmpdir()
    tok = os.path.join(t, "token")
    with open(tok, "w") as f:
        f.write("00abcdefTOKEN\n")
    os.chmod(tok, 0o600)
    conf = os.path.join(t, "bad.conf")
    with open(conf, "w") as f:
        f.write("[okta]\n"                                   # 1
                "domain = https://dev-123456.okta.com/\n"    # 2
                "token_file = %s\n"                          # 3
                "colour = blue\n"                            # 4
                "[posix]\n"                                  # 5
                "uid_min = 0\n"                              # 6
                "home = /srv/homes\n"                        # 7
                "this line has no equals sign\n"             # 8
                "[sync]\n"                                   # 9
                "schedule = 61 * * * *\n"                    # 10
                "max_delete = lots\n" % tok)                 # 11
    p = check(conf)
    assert p.returncode == 78, (p.returncode, p.stderr)
    err = p.stderr
    for line, words in ((2, "write 'dev-123456.okta.com' instead"),
                        (4, "unknown key 'colour'"),
                        (6, "uid_min"),
                        (7, "%u"),
                        (8, "key = value"),
                        (10, "schedule"),
                        (11, "max_delete")):
        want = "%s:%d: " % (conf, line)
        hits = [ln for ln in err.splitlines() if ln.startswith(want)]
        assert hits, "no problem reported for line %d:\n%s" % (line, err)
        assert any(words in h for h in hits), "line %d: %r not in %s" % (line, words, hits)


@case
def domain_with_path_says_what_to_write():
    t = tmpdir()
    conf = write_config(t, None, okta={"domain": "dev-1.okta.com/admin"}, token="x")
    p = check(conf)
    assert p.returncode == 78
    assert "write 'dev-1.okta.com' instead" in p.stderr, p.stderr


@case
def missing_domain_and_token_file():
    t = tmpdir()
    conf = os.path.join(t, "c.conf")
    with open(conf, "w") as f:
        f.write("[cache]\ndir = %s\n" % t)
    p = check(conf)
    assert p.returncode == 78
    assert "domain is not set" in p.stderr and "token_file is not set" in p.stderr, p.stderr


@case
def token_file_readable_by_others_is_refused():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    os.chmod(os.path.join(t, "token"), 0o644)
    p = check(conf)
    assert p.returncode == 78
    assert "chmod 600" in p.stderr, p.stderr
    assert "00abcdefTOKEN" not in p.stderr + p.stdout


@case
def token_file_owned_by_another_user_is_refused():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    os.chown(os.path.join(t, "token"), 65534, 65534)
    p = check(conf)
    assert p.returncode == 78
    assert "owned by root" in p.stderr, p.stderr


@case
def missing_config_file():
    p = check("/nonexistent/okta-sync.conf")
    assert p.returncode == 78
    assert "cannot read /nonexistent/okta-sync.conf" in p.stderr, p.stderr


@case
def symlinked_token_file_is_refused():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN")
    real = os.path.join(t, "token.real")
    os.rename(os.path.join(t, "token"), real)
    os.symlink(real, os.path.join(t, "token"))
    p = check(conf)
    assert p.returncode == 78, (p.returncode, p.stdout)
    assert "symbolic link" in p.stderr, p.stderr


@case
def hash_comment_after_a_value_is_a_comment():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN",
                        extra="[posix]\nhome = /srv/home/%u   # where homes live\n")
    p = check(conf)
    assert p.returncode == 0, p.stderr
    assert "dev-123456.okta.com" in p.stdout


@case
def key_set_twice_is_reported():
    t = tmpdir()
    conf = write_config(t, None, okta=GOOD, token="00abcdefTOKEN",
                        extra="[sync]\nmax_delete = 10%\nmax_delete = 20%\n")
    p = check(conf)
    assert p.returncode == 78
    assert "max_delete is set more than once; keep one" in p.stderr, p.stderr


if __name__ == "__main__":
    main()
