# mpecho: the whole build. Targets: all run test bench install uninstall deb clean static image (see README.md).
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wvla
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
# Bind every symbol at start (and make the GOT read-only): a forked session then never
# dirties a page of the supervisor's by resolving a function on first use.
LDFLAGS += -Wl,-z,relro,-z,now
# TLS (the ,tls listener, mpecho --tls, mpecho-bench --tls): OpenSSL 3, Debian's libssl-dev.
LDLIBS  += -lssl -lcrypto
# STATIC=1 (make static): the C library and OpenSSL linked in (src/lib/lookup.h says what changes).
STATIC  ?= 0
CPPFLAGS += -DMPECHO_STATIC=$(STATIC)
ifeq ($(STATIC),1)
LDFLAGS += -static
endif
WERROR  ?=
ALLFLAGS = -std=c11 $(WARN) $(WERROR) $(CFLAGS)
BUILD   ?= build
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/mpecho
# /etc/default/mpechod (the service's options): under /etc for PREFIX=/usr, else PREFIX/etc.
ifeq ($(PREFIX),/usr)
SYSCONFDIR ?= /etc
else
SYSCONFDIR ?= $(PREFIX)/etc
endif
RUNARGS ?=
# The version has one home, the top of debian/changelog; the programs get it from here.
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
CPPFLAGS += -DMPECHO_VERSION='"$(VERSION)"'

# A folder per program under src/, and src/lib/ for what the three share. A new .c file
# in a folder is part of that program: no list to update here.
objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c))
LIB_OBJS    = $(call objs,src/lib)
LIB_A       = $(BUILD)/libmpecho.a
SERVER_OBJS = $(call objs,src/mpechod)
CLIENT_OBJS = $(call objs,src/mpecho)
BENCH_OBJS  = $(call objs,src/mpecho-bench)
# The unit tests link the pure code of every program (not their main()).
BENCH_PURE  = stats json pace result result_json result_read sample options procmem
UNIT_OBJS   = $(call objs,tests/unit) $(filter-out %/main.o,$(SERVER_OBJS)) \
              $(BENCH_PURE:%=$(BUILD)/src/mpecho-bench/%.o) $(BUILD)/src/mpecho/args.o

.PHONY: all run test unit bench soak hold install uninstall deb fuzz clean static image
all: $(BUILD)/mpechod $(BUILD)/mpecho $(BUILD)/mpecho-bench $(BUILD)/unit

# src/lib is linked as an archive: each program carries only the parts it uses.
$(LIB_A): $(LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/mpechod: $(SERVER_OBJS) $(LIB_A)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mpecho: $(CLIENT_OBJS) $(LIB_A)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mpecho-bench: $(BENCH_OBJS) $(LIB_A)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm -pthread

# The three programs in one file (src/multicall: run by a link's name), for the container
# image, where the three static programs would hold three copies of OpenSSL and the C
# library. A program's objects become one, in which all but main() is made local (the
# programs' names may then clash: options_parse) and main() is renamed PROGRAM_main.
MULTI_OBJS = $(call objs,src/multicall)
multicall_part = ld -r -o $@ $(1) && objcopy --keep-global-symbol=main $@ && \
	objcopy --redefine-sym main=$(2) $@
$(BUILD)/multicall/mpechod.o: $(SERVER_OBJS)
	@mkdir -p $(@D)
	$(call multicall_part,$^,mpechod_main)
$(BUILD)/multicall/mpecho.o: $(CLIENT_OBJS)
	@mkdir -p $(@D)
	$(call multicall_part,$^,mpecho_main)
$(BUILD)/multicall/mpecho-bench.o: $(BENCH_OBJS)
	@mkdir -p $(@D)
	$(call multicall_part,$^,mpecho_bench_main)
$(BUILD)/mpecho-multicall: $(MULTI_OBJS) $(BUILD)/multicall/mpechod.o $(BUILD)/multicall/mpecho.o \
    $(BUILD)/multicall/mpecho-bench.o $(LIB_A)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm -pthread

$(BUILD)/unit: $(UNIT_OBJS) $(LIB_A)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A file includes its own folder's headers by name ("session.h"), and src/lib's.
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc/lib $(ALLFLAGS) -c -o $@ $<

# Tests see the programs' folders for "name.h" only (-iquote): src/mpechod/limits.h must
# never hide <limits.h>, which OpenSSL's headers need.
$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Isrc/lib -iquote src/mpechod -iquote src/mpecho-bench -iquote src/mpecho \
	    $(ALLFLAGS) -c -o $@ $<

# The three programs linked statically, in $(BUILD)/static: one file each to copy into a
# container or a network namespace, and the fork model's fastest build (a session process
# has a third of the dynamic build's mappings for fork() to copy and exit() to undo; see
# bench/results.md). The linker's warnings that glibc's lookups want its shared modules
# are filtered: lookup_init() keeps a static build from loading them.
STATIC_DIR = $(BUILD)/static
static:
	@mkdir -p $(STATIC_DIR) && $(MAKE) --no-print-directory STATIC=1 BUILD=$(STATIC_DIR) $(STATIC_DIR)/mpechod \
	    $(STATIC_DIR)/mpecho $(STATIC_DIR)/mpecho-bench $(STATIC_DIR)/unit \
	    $(STATIC_DIR)/mpecho-multicall 2>$(STATIC_DIR)/make.log; \
	    rc=$$?; grep -v -e 'in statically linked applications requires at runtime' \
	    -e ': in function `' $(STATIC_DIR)/make.log >&2; exit $$rc

# The container image mpecho:$(VERSION) and mpecho:latest (Containerfile): the static
# programs as one file, stripped, in $(BUILD)/image where they are installed (mpecho and
# mpecho-bench are links to it), the one build context.
# IMAGE_TOOL is what builds it: podman (the default), buildah or docker, with their options.
IMAGE_TOOL ?= podman
IMAGE_DIR   = $(BUILD)/image
image: static
	rm -rf $(IMAGE_DIR) && mkdir -p $(IMAGE_DIR)/usr/sbin $(IMAGE_DIR)/usr/bin
	strip -o $(IMAGE_DIR)/usr/sbin/mpechod $(STATIC_DIR)/mpecho-multicall
	ln -s ../sbin/mpechod $(IMAGE_DIR)/usr/bin/mpecho
	ln -s ../sbin/mpechod $(IMAGE_DIR)/usr/bin/mpecho-bench
	$(IMAGE_TOOL) build -f Containerfile --build-arg VERSION=$(VERSION) \
	    -t mpecho:$(VERSION) -t mpecho:latest $(IMAGE_DIR)

# Build the three programs, then start the server in the foreground on its defaults (all
# addresses, port 8000), so that mpecho and mpecho-bench are there to try it.
run: $(BUILD)/mpechod $(BUILD)/mpecho $(BUILD)/mpecho-bench
	$(abspath $(BUILD))/mpechod $(RUNARGS)

# The whole suite: installs what it needs, then unit + end-to-end tests on a normal
# build and on an ASan/UBSan build, and the tests of what linking statically changes
# (STATIC_TESTS: whole modules, the build the container image ships) on the static build;
# ends with the runner's "N passed, N failed" line.
# The builds, the fuzzers and the builds' tests (tests/run.py --jobs) run TEST_JOBS at a time
# (default: one per CPU).
STATIC_TESTS = ^test_(echo|process|orphans|ops|service|tls|cli|prefork|daemon|unix|udp|scaleout|proxy|metrics|limits)\.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test:
	./tests/deps.sh
	$(MAKE) -j$(TEST_JOBS) WERROR=-Werror all
	$(MAKE) -j$(TEST_JOBS) WERROR=-Werror static
	$(MAKE) -j$(TEST_JOBS) WERROR=-Werror BUILD=$(BUILD)/sanitize CC="$$(./tests/deps.sh --sanitizer-cc)" \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" all
	$(MAKE) -j$(TEST_JOBS) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	python3 tests/run.py --jobs $(TEST_JOBS) $(BUILD) $(BUILD)/sanitize '$(STATIC_DIR)=$(STATIC_TESTS)'

# The unit tests alone: build them, run them (the last line says how many checks passed).
unit: $(BUILD)/unit
	$(abspath $(BUILD))/unit

# libFuzzer targets (clang): tests/fuzz/NAME.c against the sources FUZZ_NAME lists, each
# run for FUZZ_SECONDS (default 60; make test runs TEST_FUZZ_SECONDS; README states both)
# from its committed seed corpus,
# with new findings kept in $(BUILD)/fuzz/NAME.corpus. A target passes only if libFuzzer
# exits 0 and ends with its "Done N runs" line: a crash, a report, or a death libFuzzer
# could not report (a kill, an _exit() in the code under test) fails it.
FUZZ_SECONDS ?= 60
TEST_FUZZ_SECONDS = 3
FUZZ_TARGETS = $(basename $(notdir $(wildcard tests/fuzz/*.c)))
FUZZ_proxy = src/mpechod/proxy.c src/mpechod/proxy_wait.c src/mpechod/peer.c src/lib/net.c
FUZZ_http = src/mpechod/http.c src/mpechod/http_field.c
FUZZ_agent = src/mpechod/agent_line.c
FUZZ_upgrade = src/mpechod/upgrade_hello.c
FUZZ_logjson = src/lib/log_json.c src/lib/log.c src/lib/log_syslog.c src/lib/log_quote.c src/lib/io.c
FUZZ_number = src/lib/number.c
FUZZ_sockopt = src/lib/sockopt.c src/lib/number.c src/lib/cli.c
FUZZ_procstat = src/mpechod/procstat.c src/lib/io.c
FUZZ_cidr = src/mpechod/acl.c src/lib/number.c
FUZZ_rules = src/mpechod/rules.c src/mpechod/acl.c src/lib/number.c src/lib/io.c
FUZZ_address = src/mpechod/listener.c src/mpechod/listener_tcp.c src/mpechod/listener_unix.c \
               src/mpechod/sockfile.c \
               src/mpechod/listener_udp.c \
               src/mpechod/listener_inherited.c src/mpechod/inetd_peer.c \
               $(LIB_SRCS)
FUZZ_upper = src/mpechod/service_upper.c src/mpechod/end.c src/mpechod/stream.c src/lib/io.c
FUZZ_options = $(filter-out src/mpechod/main.c,$(wildcard src/mpechod/*.c)) $(LIB_SRCS)
FUZZ_result = $(BENCH_PURE:%=src/mpecho-bench/%.c) src/lib/cli.c src/lib/net.c src/lib/number.c \
               src/lib/sockopt.c
FUZZ_bench = $(FUZZ_result)
FUZZ_client = src/mpecho/args.c src/lib/cli.c src/lib/net.c src/lib/number.c src/lib/sockopt.c
FUZZ_procmem = src/mpecho-bench/procmem.c
LIB_SRCS = $(wildcard src/lib/*.c)
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -D_GNU_SOURCE -Isrc/lib -iquote src/mpechod -iquote src/mpecho-bench -iquote src/mpecho \
             -fsanitize=fuzzer,address,undefined \
             -fno-sanitize-recover=all -DMPECHO_VERSION='"$(VERSION)"'

# Each target's run is a goal of its own (fuzz-run-NAME), so that make -jN runs N at once.
FUZZ_RUNS = $(FUZZ_TARGETS:%=fuzz-run-%)
.PHONY: $(FUZZ_RUNS)
fuzz: $(FUZZ_RUNS)
$(FUZZ_RUNS): fuzz-run-%: $(BUILD)/fuzz/%
	@mkdir -p $(BUILD)/fuzz/$*.corpus && echo "fuzz: $* for $(FUZZ_SECONDS) s" && \
	$(BUILD)/fuzz/$* -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/$*. \
	    $(BUILD)/fuzz/$*.corpus tests/fuzz/corpus/$* 2>$(BUILD)/fuzz/$*.log; \
	rc=$$?; grep -E "^Done [0-9]+ runs" $(BUILD)/fuzz/$*.log | sed 's/^/fuzz: $*: /'; \
	if [ $$rc -ne 0 ] || ! grep -qE "^Done [0-9]+ runs" $(BUILD)/fuzz/$*.log || \
	    grep -qE "ERROR: |==ERROR|SUMMARY: |deadly signal" $(BUILD)/fuzz/$*.log; then \
	    tail -30 $(BUILD)/fuzz/$*.log; \
	    echo "fuzz: $* failed: status $$rc (libFuzzer's Done line is required)"; exit 1; fi

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/argv.h $$(FUZZ_$$*)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_$*) -lssl -lcrypto

# mpechod (fork, prefork and loop) side by side with socat, tcpserver, ncat, xinetd and Node.js,
# and three yardsticks written here (bench/ref): an epoll ceiling, a minimal fork floor and a
# minimal TLS echo, with each server's CPU time per unit of work and 250,000 connections held
# (bench/big.py);
# writes bench/results.md, bench/results.svg and the two as one page, bench/results.html.
# BENCH_ROUNDS and BENCH_SECONDS scale it; BENCH_HOLD=N holds N (0: none).
bench: $(BUILD)/ref/epoll_echo $(BUILD)/ref/fork_echo $(BUILD)/ref/tls_echo
	./tests/deps.sh --bench
	$(MAKE) all static
	python3 bench/run.py

# make bench's yardsticks (bench/ref): the event-loop ceiling, the fork-design floor, the TLS echo's.
$(BUILD)/ref/%: bench/ref/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra $(WERROR) -o $@ $< -pthread

$(BUILD)/ref/tls_echo: bench/ref/tls_echo.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra $(WERROR) -o $@ $< -lssl -lcrypto

# The loop model holding HOLD_CONNS echo-checked idle connections (default 250,000) and what
# each costs in memory (bench/hold.py): minutes and a few GiB, not part of make test.
HOLD_CONNS ?= 250000
hold: $(BUILD)/mpechod $(BUILD)/mpecho-bench
	python3 bench/hold.py $(HOLD_CONNS) $(BUILD)

# Mixed load while faults are injected (tests/soak.py says which and what is asserted);
# minutes, bounded: SOAK_SECONDS per model (default 60). Not part of make test.
soak:
	./tests/deps.sh
	$(MAKE) all
	python3 tests/soak.py

# The units name the installed program and options file: the paths are put in as installed.
# The documents keep their links: dist/ is installed as examples/. An options file already
# there is the administrator's and is left alone.
INSTALLED_PATHS = -e 's|/usr/sbin/mpechod|$(SBINDIR)/mpechod|g' \
                  -e 's|/etc/default/mpechod|$(SYSCONFDIR)/default/mpechod|g'
UNITS = mpechod.service mpechod.socket mpechod-inetd.socket mpechod-inetd@.service
DOCS = README.md LICENSE docs/guide.md docs/guide.zh-CN.md docs/guide.ko.md docs/balancer.md \
       bench/results.md bench/results.svg
EXAMPLES = $(wildcard dist/*/*)
# README's pictures, copied as they are.
IMAGES = $(wildcard docs/*.png)
install: $(BUILD)/mpechod $(BUILD)/mpecho $(BUILD)/mpecho-bench
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BUILD)/mpechod $(DESTDIR)$(SBINDIR)/mpechod
	install -m 755 $(BUILD)/mpecho $(DESTDIR)$(BINDIR)/mpecho
	install -m 755 $(BUILD)/mpecho-bench $(DESTDIR)$(BINDIR)/mpecho-bench
	install -m 644 man/mpechod.8 $(DESTDIR)$(MANDIR)/man8/mpechod.8
	install -m 644 man/mpecho.1 $(DESTDIR)$(MANDIR)/man1/mpecho.1
	install -m 644 man/mpecho-bench.1 $(DESTDIR)$(MANDIR)/man1/mpecho-bench.1
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default
	for u in $(UNITS); do sed $(INSTALLED_PATHS) dist/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	test -e $(DESTDIR)$(SYSCONFDIR)/default/mpechod || { sed $(INSTALLED_PATHS) dist/default/mpechod \
	    >$(DESTDIR)$(SYSCONFDIR)/default/mpechod && chmod 644 $(DESTDIR)$(SYSCONFDIR)/default/mpechod; }
	for f in $(DOCS) $(EXAMPLES); do d=$$(dirname $$f | sed 's|^dist|examples|;s|^\.$$||'); \
	    install -d $(DESTDIR)$(DOCDIR)/$$d && sed $(INSTALLED_PATHS) -e 's|](dist/|](examples/|g' \
	    -e 's|](\.\./dist/|](../examples/|g' $$f >$(DESTDIR)$(DOCDIR)/$$d/$$(basename $$f) && \
	    chmod 644 $(DESTDIR)$(DOCDIR)/$$d/$$(basename $$f) || exit 1; done
	for f in $(IMAGES); do install -D -m 644 $$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mpechod $(DESTDIR)$(BINDIR)/mpecho $(DESTDIR)$(BINDIR)/mpecho-bench \
	    $(DESTDIR)$(MANDIR)/man8/mpechod.8 $(DESTDIR)$(MANDIR)/man1/mpecho.1 \
	    $(DESTDIR)$(MANDIR)/man1/mpecho-bench.1 $(UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	rm -rf $(DESTDIR)$(DOCDIR)

# The Debian package, built from a copy of the tree in $(BUILD)/deb (dpkg-buildpackage
# writes beside its source tree): $(BUILD)/deb/mpecho_$(VERSION)_*.deb. It runs in a fresh
# make environment: variables given to this make (BUILD=...) must not reach the package's.
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/mpecho-$(VERSION)
	tar --exclude=./build --exclude=./.git -cf - . | tar -C $(BUILD)/deb/mpecho-$(VERSION) -xf -
	cd $(BUILD)/deb/mpecho-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/src/*/*.d $(BUILD)/tests/*/*.d)
