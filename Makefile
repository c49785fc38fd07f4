# okta-sync - top-level Makefile.
#
#   make                 build everything into build/
#   make check           install missing test dependencies (Debian, as root),
#                        then run every test (gcc, clang, ASan+UBSan builds)
#   make bench           run the benchmarks and print their figures
#   make fuzz            run the fuzzers for longer than make check does
#   make install DESTDIR=... PREFIX=...
#   make demo            the guided demo against the Okta emulator
#
# BUILD=dir puts the outputs elsewhere (the sanitizer, clang and test-hook
# builds use build/san, build/clang and build/hooks); SAN=1 adds
# AddressSanitizer and UBSan; TEST_HOOKS=1 compiles in the kill points of
# common/crashpoint.h (tests only).

CC ?= cc
CFLAGS ?= -O2 -g
BUILD ?= build
VERSION := 0.1.0
PREFIX ?= /usr
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var

# syncd/ in layers, lowest first (doc/HACKING.md; scripts/check-layers
# keeps every #include pointing down): base, the Okta client, the sync
# engine, and the two programs' own code.
SYNCD_LAYERS := syncd/base syncd/okta syncd/engine syncd/auth syncd/fleet syncd/cli syncd/daemon
SYNCD_INC := $(addprefix -I,$(SYNCD_LAYERS))

PKGS := libcurl json-c sqlite3 inih libsystemd libcrypto libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CDB_PIC := $(firstword $(wildcard /usr/lib/$(shell $(CC) -print-multiarch 2>/dev/null)/libcdb_pic.a /usr/lib/libcdb_pic.a /usr/lib64/libcdb_pic.a) -lcdb)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-unused-parameter
override CFLAGS += -std=c11 -D_GNU_SOURCE -DOKTA_VERSION='"$(VERSION)"' \
	$(WARN) -fPIC -fvisibility=hidden -fstack-protector-strong \
	-Icommon $(SYNCD_INC) $(PKG_CFLAGS)
override LDFLAGS += -Wl,-z,relro,-z,now
# TEST_HOOKS=1: the deterministic kill points of common/crashpoint.h (the
# crash-consistency test's own build, build/hooks; never installed).
ifeq ($(TEST_HOOKS),1)
override CFLAGS += -DOKTA_TEST_HOOKS
endif
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
override CFLAGS += -D_FORTIFY_SOURCE=2
endif

COMMON_SRC := $(wildcard common/*.c)
SYNCD_SRC := $(filter-out %/main_cli.c %/main_daemon.c,$(wildcard $(addsuffix /*.c,$(SYNCD_LAYERS))))
NSS_SRC := $(wildcard nss/*.c)
PAM_SRC := $(wildcard pam/*.c)
KEYS_SRC := $(wildcard keys/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
SYNCD_OBJ := $(call obj,$(SYNCD_SRC))
NSS_OBJ := $(call obj,$(NSS_SRC))
PAM_OBJ := $(call obj,$(PAM_SRC))
KEYS_OBJ := $(call obj,$(KEYS_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRC))

PROGRAMS := $(BUILD)/okta-sync $(BUILD)/okta-syncd
# Run by other programs, not by the admin: installed to LIBEXECDIR.
LIBEXEC_PROGRAMS := $(BUILD)/okta-sync-keys
MODULES := $(BUILD)/libnss_okta.so.2 $(BUILD)/pam_okta.so

.PHONY: all programs modules tests check bench fuzz install demo clean deps lint
all: programs modules tests
programs: $(PROGRAMS) $(LIBEXEC_PROGRAMS)
modules: $(MODULES)
tests: $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libokta_common.a: $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
$(BUILD)/libokta_syncd.a: $(SYNCD_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# -lresolv: b64_pton, for common/sshkey.c (glibc's own libresolv).
# -lcrypt: libxcrypt's yescrypt, for the offline credentials
# (syncd/auth/offline.c; Debian's libcrypt-dev, RPM's libxcrypt-devel).
PROG_LIBS := $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a $(PKG_LIBS) -lcdb -lm -lresolv -lcrypt

$(BUILD)/okta-sync: $(BUILD)/obj/syncd/cli/main_cli.o $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(PROG_LIBS)
$(BUILD)/okta-syncd: $(BUILD)/obj/syncd/daemon/main_daemon.o $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(PROG_LIBS)

# The modules live inside other processes: libc only (tinycdb linked in
# statically), nothing exported but the NSS/PAM entry points.
$(BUILD)/libnss_okta.so.2: $(NSS_OBJ) $(BUILD)/libokta_common.a nss/exports.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libnss_okta.so.2 \
		-Wl,--version-script=nss/exports.map -Wl,-z,defs \
		-o $@ $(NSS_OBJ) $(BUILD)/libokta_common.a $(CDB_PIC)
$(BUILD)/pam_okta.so: $(PAM_OBJ) $(BUILD)/libokta_common.a pam/exports.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--version-script=pam/exports.map \
		-Wl,-z,defs -o $@ $(PAM_OBJ) $(BUILD)/libokta_common.a $(CDB_PIC) -lpam

# sshd's AuthorizedKeysCommand, run for every key offered: common/ and
# libc only, linked static-pie.  Half its time dynamically linked went to
# the loader (1.45x /bin/true at 100k users, against 1.06x static:
# bench/bench_keys.py); the price is a rebuild for a glibc fix, which the
# .deb states with Built-Using.  ASan cannot link statically: the sanitizer
# build links libc dynamically (and libresolv's b64_pton still static).
ifeq ($(SAN),1)
KEYS_LINK := -pie $(CDB_PIC) -Wl,-Bstatic -lresolv -Wl,-Bdynamic
else
KEYS_LINK := -static-pie $(CDB_PIC) -lresolv
endif
$(BUILD)/okta-sync-keys: $(KEYS_OBJ) $(BUILD)/libokta_common.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(KEYS_OBJ) \
		$(BUILD)/libokta_common.a $(KEYS_LINK)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testlib.h tests/unit/forge_snapshot.h $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(PROG_LIBS)
$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROG_LIBS)
# pam_loop (the PAM module's valgrind driver) also needs libpam.
$(BUILD)/tests/pam_loop: PROG_LIBS += -lpam
# test_offline counts the hashes offline.c computes (crypt_r wrapped).
$(BUILD)/tests/test_offline: PROG_LIBS += -Wl,--wrap=crypt_r

deps:
	@scripts/install-deps check

# The build uses every core unless make was given its own -j.
check: deps
	@$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc)) all
	@tests/run.sh

bench: all
	@bench/run.sh

# The fuzzers (tests/fuzz/fuzz_*.c) for longer than make check runs them:
# FUZZ_SECONDS each; FUZZ_TARGETS="ingest link" runs only those.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
fuzz: tests
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

lint:
	@scripts/install-deps lint
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		-Icommon $(SYNCD_INC) --suppress=missingIncludeSystem common syncd nss pam keys

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Install, man pages, demo and packages (issue 6: packaging/, doc/,
# scripts/demo.sh).
#
#   make install DESTDIR=... PREFIX=...   the layout the .deb and .rpm ship;
#       LIBDIR (NSS module), PAMDIR (PAM module) and SYSTEMDUNITDIR can be
#       overridden (the RPM spec sets /usr/lib64 and /usr/lib64/security).
#   make man     build/man/*.[58] from doc/*.scd (part of `make`)
#   make demo    scripts/demo.sh: the guided demo against the emulator
#   make deb     build/okta-sync_VERSION_ARCH.deb (dpkg-buildpackage -b on a
#                copy of the tree in build/deb, packaging/debian -> debian)
#   make rpm     build/okta-sync-VERSION-1.ARCH.rpm (rpmbuild -ba, --nodeps:
#                rpm's database knows nothing of Debian's packages)
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
PAMDIR ?= $(LIBDIR)/security
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PAMCONFIGDIR ?= $(DATADIR)/pam-configs
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system)

MAN_SRC := $(wildcard doc/*.scd)
MAN_PAGES := $(patsubst doc/%.scd,$(BUILD)/man/%,$(MAN_SRC))

.PHONY: man deb rpm
all: man
man: $(MAN_PAGES)

$(BUILD)/man/%: doc/%.scd
	@mkdir -p $(dir $@)
	@command -v scdoc >/dev/null || { echo "scdoc is missing: apt-get install scdoc" >&2; exit 1; }
	scdoc <$< >$@.tmp && mv $@.tmp $@

install: programs modules man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PAMDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(PAMCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/okta-sync $(DESTDIR)$(SYSCONFDIR)/okta-sync
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	@# sshd wants it and its directories root-owned, not group/world-writable
	install -d -m 0755 $(DESTDIR)$(LIBEXECDIR)/okta-sync
	install -m 0755 $(LIBEXEC_PROGRAMS) $(DESTDIR)$(LIBEXECDIR)/okta-sync/
	install -m 0644 $(BUILD)/libnss_okta.so.2 $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(BUILD)/pam_okta.so $(DESTDIR)$(PAMDIR)/
	install -m 0644 packaging/systemd/okta-syncd.service $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 packaging/pam-configs/okta $(DESTDIR)$(PAMCONFIGDIR)/okta
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 packaging/okta-sync.conf.example $(DESTDIR)$(DATADIR)/okta-sync/
	@# the sshd drop-in is shipped, not enabled: the admin copies it into
	@# /etc/ssh/sshd_config.d (README, okta-sync-keys(8))
	install -D -m 0644 packaging/sshd/okta-sync.conf \
		$(DESTDIR)$(DATADIR)/okta-sync/sshd_config.d/okta-sync.conf
	@# the config may hold secrets: root only; an admin's edited one stays
	test -e $(DESTDIR)$(SYSCONFDIR)/okta-sync/okta-sync.conf || \
		install -m 0600 packaging/okta-sync.conf.example \
			$(DESTDIR)$(SYSCONFDIR)/okta-sync/okta-sync.conf
	@# cache.db inside is created 0600 by okta-sync, the snapshot 0644
	install -d -m 0755 $(DESTDIR)$(LOCALSTATEDIR)/lib/okta-sync

demo:
	@scripts/demo.sh

# dpkg-buildpackage and rpmbuild run make again: they must not inherit this
# make's variables (BUILD=..., -j jobserver) through the environment.
PKG_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DESTDIR
DEB_DIR := $(BUILD)/deb/okta-sync-$(VERSION)
RPM_TOP := $(abspath $(BUILD))/rpmtop

deb:
	@scripts/install-deps package
	rm -rf $(BUILD)/deb
	mkdir -p $(DEB_DIR)
	tar -c --exclude=./build --exclude=./.git --exclude=./packaging/debian . \
		| tar -x -C $(DEB_DIR)
	cp -a packaging/debian $(DEB_DIR)/debian
	cd $(DEB_DIR) && $(PKG_ENV) dpkg-buildpackage -us -uc -b
	cp $(BUILD)/deb/okta-sync_$(VERSION)_*.deb $(BUILD)/

rpm:
	@scripts/install-deps package
	rm -rf $(RPM_TOP)
	mkdir -p $(RPM_TOP)/SOURCES
	tar -cz --exclude=./build --exclude=./.git \
		--transform 's,^\.,okta-sync-$(VERSION),' \
		-f $(RPM_TOP)/SOURCES/okta-sync-$(VERSION).tar.gz .
	$(PKG_ENV) rpmbuild --define "_topdir $(RPM_TOP)" \
		--define "okta_version $(VERSION)" --nodeps \
		-ba packaging/rpm/okta-sync.spec
	cp $(RPM_TOP)/RPMS/*/okta-sync-$(VERSION)-*.rpm $(BUILD)/
