#!/bin/sh
# demo.sh - `make demo`: the guided tour of okta-sync on this machine.
#
#   1. installs the Debian packages that are missing, and builds;
#   2. starts the Okta emulator with a demo organisation (50 users in 5
#      groups, one suspended) and writes a config for it;
#   3. runs okta-sync test, sync --dry-run and sync;
#   4. shows getent passwd, getent group, id, and pam_okta refusing the
#      suspended user; then an SSH key login of an Okta user (the key only
#      in Okta) into a demo sshd on 127.0.0.1, which runs `id`;
#   5. all inside a private mount namespace (scripts/demo.py runs under
#      unshare -m): nsswitch.conf, /etc/pam.d and /var/lib/okta-sync are
#      bind-mounted there only, and the host's /etc is checked unchanged.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo: run as root (it uses a private mount namespace)" >&2
	exit 1
fi

echo "== 1. Install what is missing and build"
scripts/install-deps check
mkdir -p build
make -s --no-print-directory -j2 programs modules >build/demo-build.log 2>&1 || {
	cat build/demo-build.log >&2; exit 1; }
echo "   Debian packages: present.  Built build/okta-sync, build/okta-syncd,"
echo "   build/okta-sync-keys, build/libnss_okta.so.2 and build/pam_okta.so"
echo "   (log: build/demo-build.log)."

# The bind mounts need their targets; an empty directory is all the host gets.
mkdir -p /var/lib/okta-sync

before=$(python3 scripts/demo_etc_hash.py)
rc=0
unshare -m --propagation private python3 scripts/demo.py || rc=$?
after=$(python3 scripts/demo_etc_hash.py)

echo
echo "== 6. The host is untouched"
if [ "$before" = "$after" ]; then
	echo "   sha256 of every file in the host's /etc: identical before and after ($(echo "$before" | cut -d' ' -f2) files)."
else
	echo "   the host's /etc CHANGED during the demo:" >&2
	rc=1
fi
if [ "$rc" -eq 0 ]; then
	echo
	echo "Demo complete."
fi
exit "$rc"
