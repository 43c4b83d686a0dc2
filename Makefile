# SPDX-License-Identifier: MIT
#
# taskscope build. The BPF side follows libbpf-bootstrap's pipeline:
#   bpf/X.bpf.c --clang--> X.tmp.bpf.o --bpftool gen object--> X.bpf.o
#               --bpftool gen skeleton--> X.skel.h (included by user/lib)
# Everything lands in $(OUTPUT) (default .output/); `make V=1` shows commands.

.DEFAULT_GOAL := all
SHELL := /bin/bash

OUTPUT ?= .output
override OUTPUT := $(abspath $(OUTPUT))

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
AR ?= ar
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
# Supply VMLINUX_H=path to build without reading the host's BTF.
VMLINUX_H ?= $(OUTPUT)/vmlinux.h
PREFIX ?= /usr/local
DESTDIR ?=
KERNELS ?= all
FUZZ_SECONDS ?= 60
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ifeq ($(V),1)
	Q :=
	msg :=
else
	Q := @
	msg = @printf '  %-9s %s\n' "$(1)" "$(patsubst $(OUTPUT)/%,%,$(2))";
	MAKEFLAGS += --no-print-directory
endif

WARNINGS := -Wall -Wextra -Werror
# BPF_PROG() hands every program an unused ctx; that warning alone is off.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARNINGS) \
	-Wno-unused-parameter \
	-I$(dir $(VMLINUX_H)) -Iinclude -Ibpf
USER_CFLAGS := -std=gnu11 -g -O2 $(WARNINGS) -Wformat=2 -Wshadow -Wvla \
	-Wmissing-prototypes -Wstrict-prototypes -D_GNU_SOURCE \
	-DTASKSCOPE_VERSION='"$(VERSION)"' \
	-Iinclude -Iuser/lib -I$(OUTPUT)/bpf $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LIBS := -lbpf -lelf -lz -ljansson -lpthread $(LDLIBS)

# bpf/*.bpf.c link into one object, taskscope.bpf.o: bpf/maps.bpf.c
# defines the maps, the others declare them extern (bpf/maps.bpf.h).
# The definitions go first: bpftool 7.1's linker cannot resolve an extern
# map declared before its definition.
BPF_SRCS := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_TMP_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.tmp.bpf.o,$(BPF_SRCS))
SKELS := $(OUTPUT)/bpf/taskscope.skel.h

LIB_SRCS := $(wildcard user/lib/*.c)
DAEMON_SRCS := $(wildcard user/taskscoped/*.c)
CLI_SRCS := $(wildcard user/taskscope/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
KTEST_SRCS := $(wildcard tests/kernel/*.c)
KTEST_HELPERS := $(wildcard tests/kernel/lib/*.c)

# One "flavour" per build dir: plain, and ASan+UBSan for the unit tests.
obj = $(patsubst %.c,$(OUTPUT)/$(if $(1),$(1)/)%.o,$(2))

LIB := $(OUTPUT)/lib/libtaskscope.a
LIB_SAN := $(OUTPUT)/san/lib/libtaskscope.a
DAEMON := $(OUTPUT)/taskscoped
CLI := $(OUTPUT)/taskscope
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
UNIT_SAN_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/san/tests/unit/%,$(UNIT_SRCS))
KTEST_BINS := $(patsubst tests/kernel/%.c,$(OUTPUT)/tests/kernel/%,$(KTEST_SRCS))

.PHONY: all deps check check-unit check-kernel check-policy check-service demo install \
	clean distclean bench fuzz format
.DELETE_ON_ERROR:
.SECONDARY:

all: $(DAEMON) $(CLI)

# --- BPF --------------------------------------------------------------------

ifeq ($(VMLINUX_H),$(OUTPUT)/vmlinux.h)
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)if [ ! -r $(VMLINUX_BTF) ]; then \
		echo "error: cannot read '$(VMLINUX_BTF)': build a kernel with CONFIG_DEBUG_INFO_BTF=y or pass VMLINUX_H=path" >&2; \
		exit 1; fi
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@
endif

$(OUTPUT)/bpf/%.tmp.bpf.o: bpf/%.bpf.c $(VMLINUX_H) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/bpf/taskscope.bpf.o: $(BPF_TMP_OBJS)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

# make bench: the decision logic alone, runnable on this host.
$(OUTPUT)/bpf/bench.tmp.bpf.o: bpf/bench/bench.bpf.c $(VMLINUX_H) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/bpf/bench.bpf.o: $(OUTPUT)/bpf/bench.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/bpf/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# --- user space ---------------------------------------------------------------

# Every user object may include a skeleton; generate them first.
$(OUTPUT)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/san/%.o: %.c | $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(LIB): $(call obj,,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIB_SAN): $(call obj,san,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(DAEMON): $(call obj,,$(DAEMON_SRCS)) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(CLI): $(call obj,,$(CLI_SRCS)) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Objects first, then the archive they draw on.
link_objs = $(filter %.o,$^) $(filter %.a,$^)

$(OUTPUT)/tests/unit/%: $(OUTPUT)/tests/unit/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(link_objs) $(LIBS) -lcmocka -lpthread

$(OUTPUT)/san/tests/unit/%: $(OUTPUT)/san/tests/unit/%.o $(LIB_SAN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $(link_objs) $(LIBS) -lcmocka -lpthread

# Unit tests of the daemon's own parts link those objects too.
$(OUTPUT)/tests/unit/test_config: $(OUTPUT)/user/taskscoped/config.o
$(OUTPUT)/san/tests/unit/test_config: $(OUTPUT)/san/user/taskscoped/config.o
$(OUTPUT)/tests/unit/test_sinks: $(OUTPUT)/user/taskscoped/sinks.o
$(OUTPUT)/san/tests/unit/test_sinks: $(OUTPUT)/san/user/taskscoped/sinks.o
$(OUTPUT)/tests/unit/test_config.o $(OUTPUT)/san/tests/unit/test_config.o \
$(OUTPUT)/tests/unit/test_sinks.o $(OUTPUT)/san/tests/unit/test_sinks.o: \
	USER_CFLAGS += -Iuser/taskscoped

$(OUTPUT)/tests/kernel/%: $(OUTPUT)/tests/kernel/%.o \
		$(call obj,,$(KTEST_HELPERS)) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(OUTPUT)/tests/kernel/%.o: USER_CFLAGS += -Itests/kernel/lib

$(OUTPUT) $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

# --- tests --------------------------------------------------------------------

# `check` and `demo` are the README quick start: they install what they need.
check: deps
	$(Q)$(MAKE) check-unit check-policy check-service check-kernel

check-unit: $(UNIT_BINS) $(UNIT_SAN_BINS)
	$(Q)tests/unit/run $(UNIT_BINS)
	$(Q)echo "  (again under ASan+UBSan)"
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/unit/run $(UNIT_SAN_BINS)

check-policy: $(CLI)
	$(Q)$(CLI) policy check policy/*.json

check-kernel: all $(KTEST_BINS)
	$(Q)tools/vmtest --output $(OUTPUT) --kernel $(KERNELS) -- tests/kernel/run

demo: deps
	$(Q)$(MAKE) all $(OUTPUT)/demo-agent
	$(Q)tools/demo --output $(OUTPUT)

$(OUTPUT)/demo-agent: tools/demo-agent.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $<

deps:
	$(Q)tools/deps

# --- install ------------------------------------------------------------------

SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/taskscope
	install -m 0755 $(DAEMON) $(DESTDIR)$(PREFIX)/sbin/taskscoped
	install -d $(DESTDIR)$(PREFIX)/share/taskscope/policy
	install -m 0644 policy/*.json policy/README.md $(DESTDIR)$(PREFIX)/share/taskscope/policy/
	install -m 0644 tools/taskscoped.conf.example $(DESTDIR)$(PREFIX)/share/taskscope/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' tools/systemd/taskscoped.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/taskscoped.service
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 tools/completion/taskscope.bash $(DESTDIR)$(BASHCOMPDIR)/taskscope
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 doc/taskscope.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 doc/taskscoped.8 $(DESTDIR)$(MANDIR)/man8/

# The unit, checked by systemd itself, with @SBINDIR@ pointing at the build
# so that ExecStart names a binary that exists.
check-service: all
	$(Q)mkdir -p $(OUTPUT)/unit
	$(Q)sed 's|@SBINDIR@|$(OUTPUT)|g' tools/systemd/taskscoped.service.in \
		> $(OUTPUT)/unit/taskscoped.service
	$(Q)systemd-analyze verify --man=no $(OUTPUT)/unit/taskscoped.service
	$(Q)echo "  systemd-analyze verify: taskscoped.service ok"

# --- benchmarks: ratios against baselines measured in the same run ----------

BENCH_DIR := $(OUTPUT)/bench
BENCH_KERNEL ?= 6.12

$(BENCH_DIR)/bench_events: tools/bench/bench_events.c $(OUTPUT)/user/taskscoped/sinks.o $(LIB) \
		$(OUTPUT)/bpf/bench.skel.h
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Iuser/taskscoped -I$(OUTPUT)/bpf -Ibpf/bench -o $@ \
		$(filter %.c %.o %.a,$^) $(LIBS)

$(BENCH_DIR)/bench_decision: tools/bench/bench_decision.c $(OUTPUT)/bpf/bench.skel.h $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -I$(OUTPUT)/bpf -Ibpf/bench -o $@ $< $(LIB) $(LIBS)

BENCH_VM_SRCS := $(wildcard tools/bench/vm/*.c)

$(BENCH_DIR)/bench_vm: $(BENCH_VM_SRCS) tools/bench/vm/bench_vm.h $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Itools/bench/vm -o $@ $(BENCH_VM_SRCS) $(LIB) $(LIBS) -lm

# Host figures first (decision cost, formatting and sinks, the host's own
# syscall baseline), then one VM boot for what needs the BPF LSM, starting
# with the decision cost again: against the host's, it says how much
# slower the emulated VM runs BPF code. Every line also lands in
# $(BENCH_DIR)/results.txt, the plot in decision.png.
bench: all $(BENCH_DIR)/bench_decision $(BENCH_DIR)/bench_events $(BENCH_DIR)/bench_vm
	$(Q)set -o pipefail; { \
		echo "== host: $$(uname -r), $$(nproc) CPUs, $$(date -u +%F)"; \
		$(BENCH_DIR)/bench_decision $(BENCH_DIR) && \
		$(BENCH_DIR)/bench_events $(BENCH_DIR) && \
		echo "host (no BPF LSM needed): the VM's syscall baseline, to scale its figures" && \
		$(BENCH_DIR)/bench_vm calibrate && \
		echo "== VM: tools/vmtest --kernel $(BENCH_KERNEL)" && \
		tools/vmtest --output $(OUTPUT) --kernel $(BENCH_KERNEL) --memory 2048 --timeout 1800 \
			-- sh -c '$(BENCH_DIR)/bench_decision $(if $(wildcard /dev/kvm),,--emulated) /tmp 100000 && \
				  $(BENCH_DIR)/bench_vm all'; \
	} 2>&1 | tee $(BENCH_DIR)/results.txt
	$(Q)gnuplot -e "csv='$(BENCH_DIR)/decision.csv'; out='$(BENCH_DIR)/decision.png'" \
		tools/bench/decision.gp
	$(Q)echo "  results: $(BENCH_DIR)/results.txt, plot: $(BENCH_DIR)/decision.png"

# libFuzzer over the parser, compiler and intersection (clang only).
FUZZ_LIB_SRCS := $(addprefix user/lib/,ts_policy.c ts_jsonpos.c ts_diag.c ts_pathvar.c \
	ts_target.c ts_duration.c ts_compile.c ts_ruleset.c ts_intersect.c ts_keys.c)
FUZZER := $(OUTPUT)/fuzz/fuzz_policy

$(FUZZER): tests/fuzz/fuzz_policy.c $(FUZZ_LIB_SRCS) $(wildcard user/lib/*.h) include/taskscope.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -g -O1 $(WARNINGS) -D_GNU_SOURCE -Iinclude -Iuser/lib \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ tests/fuzz/fuzz_policy.c $(FUZZ_LIB_SRCS) -ljansson

fuzz: $(FUZZER)
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus
	$(Q)cp policy/*.json tests/fuzz/seeds/*.json $(OUTPUT)/fuzz/corpus/
	$(Q)$(FUZZER) -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/policy.dict \
		-max_len=4096 -print_final_stats=1 -artifact_prefix=$(OUTPUT)/fuzz/ \
		$(OUTPUT)/fuzz/corpus

format:
	clang-format -i $(wildcard include/*.h bpf/*.[ch] user/*/*.[ch] tests/*/*.c)

# The kernel cache (downloaded Debian kernels) survives `clean`.
clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)find $(OUTPUT) -mindepth 1 -maxdepth 1 ! -name vm -exec rm -rf {} + 2>/dev/null || true

distclean:
	$(Q)rm -rf $(OUTPUT)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
