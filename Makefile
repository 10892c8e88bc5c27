# hxs build. Outputs go under build/. `make V=1` shows commands, `make SAN=1` builds the
# programs with ASan/UBSan (unit tests are always built with them).
#
#   bpf/%.bpf.c       -> build/bpf/%.bpf.o -> build/bpf/%.skel.h   (clang -target bpf, bpftool)
#   `make CGWIN=1 BUILD=build/cgwin build/cgwin/hxs-perf` adds callgrind windows (user/lib/cgwin.h)
#   user/LAYER/*.c    -> build/libhxs.a       (and build/san/libhxs.a for the unit tests); the
#                        layer folders are listed, lowest first, in user/LAYERS
#   user/bin/NAME.c   -> build/NAME
#   user/so/pd_*.c    -> build/libhxs-packetdrill.so  (with build/pic/libhxs.a: the library
#                        built -fPIC, symbols hidden; only packetdrill_interface_init exported)
#   user/so/pl_*.c    -> build/libhxs-preload.so  (LD_PRELOAD shim, same library; exports the
#                        libc functions it interposes); user/so/so_*.c go into both
#   tests/unit/test_*.c  -> build/tests/unit/test_*   (+ tests/unit/lib/*.c, sanitized)
#   tests/bpf/test_*.c   -> build/tests/bpf/test_*
#   tests/integ/*.c      -> build/tests/integ/*   (programs the scripts drive, sanitized)
#   tests/integ/test_*.sh run as they are
#   tests/fuzz/NAME.c     -> build/fuzz/NAME  (libFuzzer target, clang -fsanitize=fuzzer,address,
#                        undefined, over build/fuzz-obj/libhxs.a: the library built the same way);
#                        `make fuzz FUZZ_SECONDS=N` runs each N seconds (scripts/fuzz.sh)
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

V ?= 0
SAN ?= 0
Q := $(if $(filter 1,$(V)),,@)
msg = $(if $(filter 1,$(V)),,@printf '  %-8s %s\n' $(1) $(2);)

# `make CGWIN=1` builds into a directory of its own (flags are no prerequisite: objects with
# the callgrind hooks must never be reused by a plain build)
ifeq ($(CGWIN),1)
BUILD   ?= build/cgwin
endif
BUILD   ?= build
CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS_COMMON := -std=gnu11 -g -O2 -fno-omit-frame-pointer -D_GNU_SOURCE $(WARN) \
                 -Iinclude -Iuser -I$(BUILD)/bpf -MMD -MP
# `make CGWIN=1` (in build/cgwin unless BUILD says): callgrind windows over the request/response critical
# path, user/lib/cgwin.h and scripts/cg_window.sh
CGWIN   ?= 0
CFLAGS_COMMON += $(if $(filter 1,$(CGWIN)),-DHXS_CGWIN)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -O1
LDLIBS  := -lxdp -lbpf -lelf -lz -lm -lpthread

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Iinclude \
              $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))

LAYERS    := $(shell sed -e 's/\#.*//' user/LAYERS)
LIB_SRCS  := $(foreach l,$(filter-out bin so,$(LAYERS)),$(wildcard user/$(l)/*.c))
LIB_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB_SOBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(LIB_SRCS))
LIB       := $(BUILD)/libhxs.a
SANLIB    := $(BUILD)/san/libhxs.a
LIB_POBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(LIB_SRCS))
PICLIB    := $(BUILD)/pic/libhxs.a

# The packetdrill target is loaded by packetdrill with dlopen(RTLD_DEEPBIND), which the
# sanitizer runtimes refuse ("incompatible with sanitizer runtime"): it is built without
# them, always. Its logic below the adapter is the library the unit tests run sanitized.
PD_SRCS   := $(wildcard user/so/pd_*.c user/so/so_*.c)
PD_OBJS   := $(patsubst %.c,$(BUILD)/pic/%.o,$(PD_SRCS))
PD_SO     := $(BUILD)/libhxs-packetdrill.so
# The LD_PRELOAD shim: the same -fPIC library; only the libc functions it interposes exported.
PL_SRCS   := $(wildcard user/so/pl_*.c user/so/so_*.c)
PL_OBJS   := $(patsubst %.c,$(BUILD)/pic/%.o,$(PL_SRCS))
PL_SO     := $(BUILD)/libhxs-preload.so
PICFLAGS  := -fPIC -fvisibility=hidden

BIN_SRCS  := $(wildcard user/bin/*.c)
BINS      := $(patsubst user/bin/%.c,$(BUILD)/%,$(BIN_SRCS))

UNIT_LIB_SRCS := $(wildcard tests/unit/lib/*.c)
UNIT_LIB_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(UNIT_LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
INTEG_SRCS := $(wildcard tests/integ/*.c)
INTEG_BINS := $(patsubst tests/integ/%.c,$(BUILD)/tests/integ/%,$(INTEG_SRCS))

# libFuzzer targets. Only the executables go into build/fuzz/; objects, dependency files and
# the run's corpora and artifacts live in build/fuzz-obj/ and build/fuzz-work/.
FUZZ_SECONDS ?= 60
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -O1
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LOBJS := $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(LIB_SRCS))
FUZZLIB   := $(BUILD)/fuzz-obj/libhxs.a

ifeq ($(SAN),1)
BIN_CFLAGS := $(CFLAGS_COMMON) $(SANFLAGS)
BIN_LIB    := $(SANLIB)
else
BIN_CFLAGS := $(CFLAGS_COMMON)
BIN_LIB    := $(LIB)
endif

.PHONY: all deps test tests unit bench demo clean fuzz fuzz-build
all: deps $(BPF_OBJS) $(BPF_SKELS) $(LIB) $(BINS) $(PD_SO) $(PL_SO)

# Installs missing Debian packages; quick no-op when all is there.
deps:
	$(Q)scripts/deps.sh

tests: all $(UNIT_BINS) $(BPFT_BINS) $(INTEG_BINS) $(FUZZ_BINS)

# Objects built by pattern rules and used only as prerequisites stay (no rebuild each run).
.SECONDARY: $(UNIT_LIB_OBJS) $(LIB_OBJS) $(LIB_SOBJS) $(LIB_POBJS) $(PD_OBJS) $(PL_OBJS) $(FUZZ_LOBJS)

test: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)scripts/run-tests.sh

unit: $(UNIT_BINS)
	$(Q)scripts/run-tests.sh unit

# Every libFuzzer target FUZZ_SECONDS seconds (default 60) on a copy of its corpus; non-zero
# exit and the reproducer's path on any finding.
fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)scripts/fuzz.sh -t $(FUZZ_SECONDS)

fuzz-build: $(FUZZ_BINS)

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

clean:
	$(Q)rm -rf $(BUILD)

# --- BPF ---------------------------------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard include/hxs/*.h bpf/*.h) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# --- userspace library --------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_COMMON) -c $< -o $@

$(BUILD)/san/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_COMMON) $(SANFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_COMMON) $(PICFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

$(SANLIB): $(LIB_SOBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

$(PICLIB): $(LIB_POBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

# --- libraries other programs load -------------------------------------------------------------
$(PD_SO): $(PD_OBJS) $(PICLIB)
	$(call msg,SO,$@)
	$(Q)$(CC) -shared -Wl,-z,defs $(PD_OBJS) $(PICLIB) $(LDLIBS) -o $@

$(PL_SO): $(PL_OBJS) $(PICLIB)
	$(call msg,SO,$@)
	$(Q)$(CC) -shared -Wl,-z,defs $(PL_OBJS) $(PICLIB) $(LDLIBS) -ldl -o $@

# --- programs ------------------------------------------------------------------------------
$(BUILD)/%: user/bin/%.c $(BIN_LIB) | $(BPF_SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(BIN_CFLAGS) $< $(BIN_LIB) $(LDLIBS) -o $@

# --- tests ---------------------------------------------------------------------------------
$(BUILD)/tests/unit/%: tests/unit/%.c $(UNIT_LIB_OBJS) $(SANLIB)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_COMMON) $(SANFLAGS) -Itests/lib -Itests/unit/lib $< $(UNIT_LIB_OBJS) $(SANLIB) $(LDLIBS) -o $@

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(LIB) | $(BPF_SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_COMMON) -Itests/lib $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/integ/%: tests/integ/%.c $(SANLIB) | $(BPF_SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_COMMON) $(SANFLAGS) $< $(SANLIB) $(LDLIBS) -o $@

# --- fuzz targets ----------------------------------------------------------------------------
$(BUILD)/fuzz-obj/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS_COMMON) $(FUZZ_SANFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZLIB): $(FUZZ_LOBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZLIB) | $(BPF_SKELS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D) $(BUILD)/fuzz-obj/bin
	$(Q)$(CLANG) $(CFLAGS_COMMON) -MF $(BUILD)/fuzz-obj/bin/$*.d $(FUZZ_SANFLAGS) -fsanitize=fuzzer \
		-Itests/fuzz/lib $< $(FUZZLIB) $(LDLIBS) -o $@

$(BUILD)/bpf:
	$(Q)mkdir -p $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
