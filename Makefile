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
# BUILD=dir puts the outputs elsewhere (the sanitizer and clang builds use
# build/san and build/clang); SAN=1 adds AddressSanitizer and UBSan.

CC ?= cc
CFLAGS ?= -O2 -g
BUILD ?= build
VERSION := 0.1.0
PREFIX ?= /usr
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var

PKGS := libcurl json-c sqlite3 inih libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CDB_PIC := $(firstword $(wildcard /usr/lib/$(shell $(CC) -print-multiarch 2>/dev/null)/libcdb_pic.a /usr/lib/libcdb_pic.a /usr/lib64/libcdb_pic.a) -lcdb)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-unused-parameter
override CFLAGS += -std=c11 -D_GNU_SOURCE -DOKTA_VERSION='"$(VERSION)"' \
	$(WARN) -fPIC -fvisibility=hidden -fstack-protector-strong \
	-Icommon -Isyncd $(PKG_CFLAGS)
override LDFLAGS += -Wl,-z,relro,-z,now
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
override CFLAGS += -D_FORTIFY_SOURCE=2
endif

COMMON_SRC := $(wildcard common/*.c)
SYNCD_SRC := $(filter-out syncd/main_%.c,$(wildcard syncd/*.c))
NSS_SRC := $(wildcard nss/*.c)
PAM_SRC := $(wildcard pam/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
SYNCD_OBJ := $(call obj,$(SYNCD_SRC))
NSS_OBJ := $(call obj,$(NSS_SRC))
PAM_OBJ := $(call obj,$(PAM_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRC))

PROGRAMS := $(BUILD)/okta-sync $(BUILD)/okta-syncd
MODULES := $(BUILD)/libnss_okta.so.2 $(BUILD)/pam_okta.so

.PHONY: all programs modules tests check bench fuzz install demo clean deps lint
all: programs modules tests
programs: $(PROGRAMS)
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

PROG_LIBS := $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a $(PKG_LIBS) -lcdb -lm

$(BUILD)/okta-sync: $(BUILD)/obj/syncd/main_cli.o $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(PROG_LIBS)
$(BUILD)/okta-syncd: $(BUILD)/obj/syncd/main_daemon.o $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
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

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testlib.h $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(PROG_LIBS)
$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libokta_syncd.a $(BUILD)/libokta_common.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROG_LIBS)
# pam_loop (the PAM module's valgrind driver) also needs libpam.
$(BUILD)/tests/pam_loop: PROG_LIBS += -lpam

deps:
	@scripts/install-deps check

check: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

bench: all
	@bench/run.sh

# The reader's fuzzer for longer than make check runs it (FUZZ_SECONDS).
FUZZ_SECONDS ?= 600
fuzz: tests
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		-Icommon -Isyncd --suppress=missingIncludeSystem common syncd nss pam

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
