# mpecho: the whole build. Targets: all run test bench install clean (see README.md).
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wvla
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
# Bind every symbol at start (and make the GOT read-only): a forked session then never
# dirties a page of the supervisor's by resolving a function on first use.
LDFLAGS += -Wl,-z,relro,-z,now
WERROR  ?=
ALLFLAGS = -std=c11 $(WARN) $(WERROR) $(CFLAGS)
BUILD   ?= build
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man
RUNARGS ?=

SERVER_OBJ = mpechod options server prefork session service acl limits privs daemon number net io log
CLIENT_OBJ = mpecho net io log
BENCH_OBJ  = mpecho-bench stats number net log
UNIT_OBJ   = unit stats options service session acl limits privs number net io log

SERVER_OBJS = $(SERVER_OBJ:%=$(BUILD)/%.o)
CLIENT_OBJS = $(CLIENT_OBJ:%=$(BUILD)/%.o)
BENCH_OBJS  = $(BENCH_OBJ:%=$(BUILD)/%.o)
UNIT_OBJS   = $(UNIT_OBJ:%=$(BUILD)/%.o)

.PHONY: all run test unit bench install uninstall clean
all: $(BUILD)/mpechod $(BUILD)/mpecho $(BUILD)/mpecho-bench $(BUILD)/unit

$(BUILD)/mpechod: $(SERVER_OBJS)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mpecho: $(CLIENT_OBJS)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mpecho-bench: $(BENCH_OBJS)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -pthread

$(BUILD)/unit: $(UNIT_OBJS)
	$(CC) $(ALLFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(CPPFLAGS) $(ALLFLAGS) -c -o $@ $<

$(BUILD)/unit.o: tests/unit/unit.c | $(BUILD)
	$(CC) $(CPPFLAGS) -Isrc $(ALLFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $@

# Start the server in the foreground on its defaults (all addresses, port 8000).
run: $(BUILD)/mpechod
	./$(BUILD)/mpechod $(RUNARGS)

# The whole suite: installs what it needs, then unit + end-to-end tests on a normal
# build and on an ASan/UBSan build; ends with the runner's "N passed, N failed" line.
test:
	./tests/deps.sh
	$(MAKE) WERROR=-Werror all
	$(MAKE) WERROR=-Werror BUILD=build/sanitize CC="$$(./tests/deps.sh --sanitizer-cc)" \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" all
	python3 tests/run.py build build/sanitize

# mpechod (fork and prefork) side by side with socat, tcpserver, ncat, xinetd and Node.js;
# writes bench/results.md and bench/results.svg. BENCH_ROUNDS and BENCH_SECONDS scale it.
bench:
	./tests/deps.sh --bench
	$(MAKE) all
	python3 bench/run.py

install: $(BUILD)/mpechod $(BUILD)/mpecho $(BUILD)/mpecho-bench
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(BUILD)/mpechod $(DESTDIR)$(SBINDIR)/mpechod
	install -m 755 $(BUILD)/mpecho $(DESTDIR)$(BINDIR)/mpecho
	install -m 755 $(BUILD)/mpecho-bench $(DESTDIR)$(BINDIR)/mpecho-bench
	install -m 644 man/mpechod.8 $(DESTDIR)$(MANDIR)/man8/mpechod.8
	install -m 644 man/mpecho.1 $(DESTDIR)$(MANDIR)/man1/mpecho.1
	install -m 644 man/mpecho-bench.1 $(DESTDIR)$(MANDIR)/man1/mpecho-bench.1

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mpechod $(DESTDIR)$(BINDIR)/mpecho $(DESTDIR)$(BINDIR)/mpecho-bench \
	    $(DESTDIR)$(MANDIR)/man8/mpechod.8 $(DESTDIR)$(MANDIR)/man1/mpecho.1 \
	    $(DESTDIR)$(MANDIR)/man1/mpecho-bench.1

clean:
	rm -rf build

-include $(wildcard $(BUILD)/*.d)
