"""Publishing the snapshot when the cache directory's file system fills
up (syncd/engine/publish.c, common/snapshot_install.c): the sync fails and
says why, the old snapshot keeps serving byte for byte, no temporary file
is left behind, and the next sync with room publishes.

The cache directory is a small tmpfs inside a private mount namespace (a
`sleep` held by unshare, entered with nsenter for each step), so the
"disk" can be filled without touching the host.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_common as sc  # noqa: E402
import oktatest  # noqa: E402
from oktatest import OKTA_SYNC, case, main, tmpdir, wait_until  # noqa: E402
from emulator import Emulator, make_org  # noqa: E402


class MountNamespace:
    """A private mount namespace kept alive by a sleeping process."""

    def __enter__(self):
        self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                                      "sleep", "600"])
        mine = os.readlink("/proc/self/ns/mnt")
        wait_until(lambda: self._ns() not in (None, mine), timeout=10,
                   what="the mount namespace")
        return self

    def _ns(self):
        try:
            return os.readlink("/proc/%d/ns/mnt" % self.proc.pid)
        except OSError:
            return None

    def run(self, cmd, check=False):
        return oktatest.run(["nsenter", "-t", str(self.proc.pid), "-m", "--"] + cmd,
                            check=check, timeout=300)

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@case
def a_full_disk_fails_the_publish_and_keeps_the_old_snapshot():
    oktatest.need_root("a tmpfs in a mount namespace")
    oktatest.need("unshare", "nsenter")
    t = tmpdir()
    org = make_org(nusers=2000, ngroups=20, seed=13)
    login = [u["profile"]["login"] for u in org["users"] if u["status"] == "ACTIVE"][0]
    with Emulator(org) as emu, MountNamespace() as ns:
        conf = sc.setup(t, emu)
        cache = sc.cache_dir(conf)
        snap = os.path.join(cache, "snapshot.cdb")
        os.makedirs(cache, exist_ok=True)
        ns.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", cache],
               check=True)
        p = ns.run([OKTA_SYNC, "-c", conf, "sync"])
        assert p.returncode == 0, p.stderr
        before = ns.run(["sha256sum", snap], check=True).stdout.split()[0]
        size = int(ns.run(["stat", "-c", "%s", snap], check=True).stdout)
        blocks, free, bsize = (int(x) for x in ns.run(
            ["stat", "-f", "-c", "%b %f %S", cache], check=True).stdout.split())
        # Room for the cache's own writes, not for a second snapshot.
        room = (blocks - free) * bsize + size // 2
        ns.run(["mount", "-o", "remount,size=%d" % room, cache], check=True)

        emu.set_profile(login, firstName="Crowded")
        p = ns.run([OKTA_SYNC, "-c", conf, "sync"])
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert "publishing the snapshot failed: writing the snapshot" in p.stderr, p.stderr
        assert "No space left on device" in p.stderr, p.stderr
        assert ns.run(["sha256sum", snap], check=True).stdout.split()[0] == before
        left = ns.run(["ls", "-A", cache], check=True).stdout.split()
        assert not [n for n in left if n.startswith(".snapshot.cdb.")], left

        ns.run(["mount", "-o", "remount,size=64m", cache], check=True)
        p = ns.run([OKTA_SYNC, "-c", conf, "sync"])
        assert p.returncode == 0, p.stderr
        dump = ns.run([sc.SNAPDUMP, snap], check=True).stdout
        assert '"Crowded ' in dump, dump[:2000]


if __name__ == "__main__":
    main()
