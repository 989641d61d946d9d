# pcopy - parallel directory copier.
#
#   make                  build ./pcopy (first installs libxxhash-dev as root if missing)
#   make mpi              build ./pcopy-mpi (MPI ranks as workers; needs mpicc)
#   make check            unit tests (Check) + whole-program and fault tests
#   make check SAN=address|thread   the same against a sanitizer build
#   make asan | tsan      build the sanitizer variants (build/address, build/thread)
#   make install          PREFIX=/usr/local DESTDIR=
#   make bench [QUICK=1]  benchmarks (bench/run.sh), never part of check
#   make fuzz [FUZZ_SECONDS=60] [FUZZ=name]  libFuzzer targets (tests/fuzz/), never part of check
#   make valgrind         unit tests under valgrind
#   make format           clang-format the sources

CC      ?= cc
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
CFLAGS  ?= -O2 -g
SAN     ?=
# The one header pcopy needs beyond libc (libxxhash-dev, header-only).
XXHASH_H ?= /usr/include/xxhash.h

WARNINGS = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wundef -Werror=implicit-function-declaration
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARNINGS)
# Sources live in folders by concern (src/README.md); they include each
# other as "folder/file.h".
SRC_CFLAGS  = -Isrc

ifeq ($(SAN),)
BUILD    = build/release
SANFLAGS =
else ifeq ($(SAN),address)
BUILD    = build/address
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SAN),thread)
BUILD    = build/thread
SANFLAGS = -fsanitize=thread
else
$(error SAN must be address or thread)
endif

ALL_CFLAGS = $(BASE_CFLAGS) $(SRC_CFLAGS) $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = -pthread $(SANFLAGS) $(LDFLAGS)

# src/transport/mpi*.c and cli/main_mpi.c are pcopy-mpi's alone: pcopy
# links nothing but libc.  Each binary has its own main.
MPI_SRCS = $(wildcard src/transport/mpi*.c) src/cli/main_mpi.c
SRCS     = $(filter-out $(MPI_SRCS),$(wildcard src/*/*.c))
OBJS     = $(SRCS:src/%.c=$(BUILD)/%.o)
LIB_OBJS = $(filter-out $(BUILD)/cli/main.o,$(OBJS))
BIN      = $(BUILD)/pcopy

UNIT_SRCS = $(wildcard tests/unit/*.c)
UNIT_OBJS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%.o)
UNIT_BIN  = $(BUILD)/unit_tests
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

TOOLS = tests/tools/treecmp tests/tools/faultshim.so

# pcopy-mpi: the same sources and the MPI transport, built by mpicc in a
# directory of its own.  `make check` builds and tests it when mpicc is
# there, except under ThreadSanitizer, which Open MPI's own threads upset
# (tests/t_mpi.sh says so when it skips).
MPICC     ?= mpicc
MPI_BUILD  = $(BUILD)-mpi
MPI_OBJS   = $(filter-out $(MPI_BUILD)/cli/main.o,$(SRCS:src/%.c=$(MPI_BUILD)/%.o)) \
	     $(MPI_SRCS:src/%.c=$(MPI_BUILD)/%.o)
MPI_BIN    = $(MPI_BUILD)/pcopy-mpi
HAVE_MPICC = $(shell command -v $(MPICC) 2>/dev/null)
ifneq ($(HAVE_MPICC),)
ifneq ($(SAN),thread)
CHECK_MPI_BIN = $(MPI_BIN)
endif
endif

.PHONY: all clean check check-deps build-deps unit shell-tests asan tsan install \
	uninstall bench valgrind format mpi fuzz fuzz-deps

all: pcopy

pcopy: build/release/pcopy
	cp build/release/pcopy pcopy

ifneq ($(SAN),)
$(BIN): $(OBJS)
	$(CC) -o $@ $(OBJS) $(ALL_LDFLAGS)
else
build/release/pcopy: $(OBJS)
	$(CC) -o $@ $(OBJS) $(ALL_LDFLAGS)
endif

# Everything that compiles pcopy's sources waits, order-only, for
# build-deps: once per make run, a test -f when xxhash.h is there, else
# tests/ensure-build-deps.sh installs libxxhash-dev as root or prints the
# command and stops the build.
build-deps:
	@test -f $(XXHASH_H) || XXHASH_H=$(XXHASH_H) sh tests/ensure-build-deps.sh

$(BUILD)/%.o: src/%.c | build-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

mpi: pcopy-mpi

pcopy-mpi: $(MPI_BIN)
	cp $(MPI_BIN) pcopy-mpi

$(MPI_BIN): $(MPI_OBJS)
	$(MPICC) -o $@ $(MPI_OBJS) $(ALL_LDFLAGS)

$(MPI_BUILD)/%.o: src/%.c | build-deps
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) -DPCOPY_MPI -MMD -MP -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit build-deps
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(UNIT_BIN): $(UNIT_OBJS) $(LIB_OBJS)
	$(CC) -o $@ $(UNIT_OBJS) $(LIB_OBJS) $(CHECK_LIBS) $(ALL_LDFLAGS)

$(BUILD) $(BUILD)/unit $(MPI_BUILD):
	mkdir -p $@

asan:
	$(MAKE) SAN=address build/address/pcopy
tsan:
	$(MAKE) SAN=thread build/thread/pcopy

tests/tools/treecmp: tests/tools/treecmp.c
	$(CC) $(BASE_CFLAGS) -O2 -o $@ $<

tests/tools/faultshim.so: tests/tools/faultshim.c
	$(CC) $(BASE_CFLAGS) -O2 -shared -fPIC -o $@ $< -ldl

# The Check library (and the tools the tests use) are installed with
# apt-get when we are root, else the exact command is printed.
check-deps:
	@sh tests/ensure-deps.sh

check: check-deps
	$(MAKE) unit shell-tests

unit: $(UNIT_BIN)
	CK_DEFAULT_TIMEOUT=20 ./$(UNIT_BIN)

shell-tests: $(BIN) $(TOOLS) $(CHECK_MPI_BIN)
	PCOPY=$(abspath $(BIN)) TREECMP=$(abspath tests/tools/treecmp) \
	PCOPY_MPI=$(if $(CHECK_MPI_BIN),$(abspath $(CHECK_MPI_BIN))) \
	FAULTSHIM=$(abspath tests/tools/faultshim.so) SRCDIR=$(CURDIR) \
	SAN=$(SAN) bash tests/run.sh $(TESTS)

valgrind: check-deps
	$(MAKE) $(UNIT_BIN)
	CK_FORK=no CK_DEFAULT_TIMEOUT=120 valgrind -q --error-exitcode=1 \
		--leak-check=full --errors-for-leak-kinds=definite ./$(UNIT_BIN)

bench: pcopy
	QUICK=$(QUICK) bash bench/run.sh

# make fuzz: each tests/fuzz/fuzz_*.c is a libFuzzer target, built by clang
# with AddressSanitizer and UBSan in build/fuzz and run for FUZZ_SECONDS
# from its corpus, build/fuzz/corpus/NAME (kept between runs, never
# committed); FUZZ=word runs only the targets whose name holds it.  A crash
# fails make fuzz and leaves its input in build/fuzz/crash/ (tests/fuzz/run.sh).
# Every target links against one archive of pcopy's sources but main, so the
# linker takes only the objects it needs: a new target is only a new file.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ         ?=
FUZZ_BUILD    = build/fuzz
FUZZ_SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(BASE_CFLAGS) $(SRC_CFLAGS) -O1 -g $(FUZZ_SANFLAGS)
FUZZ_SRCS     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     = $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJS = $(filter-out $(FUZZ_BUILD)/obj/cli/main.o,$(SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o))
FUZZ_LIB      = $(FUZZ_BUILD)/libpcopy.a

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ='$(FUZZ)' sh tests/fuzz/run.sh $(FUZZ_BINS)

# clang and its libFuzzer runtime: installed as root, else the command.
fuzz-deps:
	@FUZZ_CC=$(FUZZ_CC) sh tests/ensure-build-deps.sh fuzz

$(FUZZ_LIB_OBJS): $(FUZZ_BUILD)/obj/%.o: src/%.c | build-deps fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJS)

$(FUZZ_BINS): $(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIB) | build-deps fuzz-deps
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d -o $@ $< $(FUZZ_LIB) -pthread

# pcopy-mpi goes in too when `make mpi` has built it.
install: pcopy
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 pcopy $(DESTDIR)$(BINDIR)/pcopy
	install -m 644 man/pcopy.1 $(DESTDIR)$(MANDIR)/man1/pcopy.1
	if [ -f pcopy-mpi ]; then \
		install -m 755 pcopy-mpi $(DESTDIR)$(BINDIR)/pcopy-mpi && \
		echo '.so man1/pcopy.1' >$(DESTDIR)$(MANDIR)/man1/pcopy-mpi.1; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pcopy $(DESTDIR)$(BINDIR)/pcopy-mpi \
		$(DESTDIR)$(MANDIR)/man1/pcopy.1 $(DESTDIR)$(MANDIR)/man1/pcopy-mpi.1

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/tools/*.c tests/fuzz/*.c

clean:
	rm -rf build pcopy pcopy-mpi $(TOOLS)

-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(MPI_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d) \
	$(FUZZ_BINS:=.d)
