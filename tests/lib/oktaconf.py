"""oktaconf - write an okta-sync config (and its token file) for a test.

    conf = write_config(tmp, emu, sync={"groups": "Eng"}, posix={...})

writes tmp/okta-sync.conf, tmp/token (mode 0600, owned by the caller) and
makes tmp/cache (oauth={...}: auth = oauth with tmp/oauth.key instead); the dicts override or add keys of their section (a value of
None removes the key).  With emu=None, pass the [okta] keys yourself.
Returns the config path.
"""
import os

DEFAULTS = {
    "okta": {"timeout": "10"},
    "cache": {},
    "sync": {},
    "posix": {},
}


def write_config(tmp, emu, okta=None, cache=None, sync=None, posix=None,
                 pam=None, token=None, extra="", oauth=None):
    os.makedirs(tmp, exist_ok=True)
    sections = {k: dict(v) for k, v in DEFAULTS.items()}
    cache_dir = os.path.join(tmp, "cache")
    os.makedirs(cache_dir, exist_ok=True)
    sections["cache"]["dir"] = cache_dir
    token_path = os.path.join(tmp, "token")
    if emu is not None:
        sections["okta"]["domain"] = emu.domain
        sections["okta"]["ca_file"] = emu.ca_file
        if token is None:
            token = emu.token
    if token is not None:
        fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        os.chmod(token_path, 0o600)
    sections["okta"]["token_file"] = token_path
    if oauth is not None:
        # auth = oauth: oauth = {"client_id": ..., "key_pem": PEM text,
        # optional "key_id", "scopes"}; the key goes to tmp/oauth.key, 0600.
        key_path = os.path.join(tmp, "oauth.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(oauth["key_pem"])
        os.chmod(key_path, 0o600)
        sections["okta"].pop("token_file", None)
        sections["okta"].update({"auth": "oauth", "client_id": oauth["client_id"],
                                 "private_key_file": key_path})
        for k in ("key_id", "scopes"):
            if oauth.get(k):
                sections["okta"][k] = oauth[k]
    for name, over in (("okta", okta), ("cache", cache), ("sync", sync),
                       ("posix", posix), ("pam", pam)):
        if over:
            sec = sections.setdefault(name, {})
            for k, v in over.items():
                if v is None:
                    sec.pop(k, None)
                else:
                    sec[k] = str(v)
    path = os.path.join(tmp, "okta-sync.conf")
    with open(path, "w") as f:
        for name, sec in sections.items():
            if not sec:
                continue
            f.write("[%s]\n" % name)
            for k, v in sec.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
        f.write(extra)
    return path
