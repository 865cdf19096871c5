# The lab's build. `make` builds every program into build/bin; `make test`
# builds and runs the tests; `make san` builds with ASan+UBSan into build/san.
# See README.md for the rest.

CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP_SRC := /usr/share/llhttp
PKGS    := libuv libcurl jansson

ifeq ($(SAN),1)
BUILD   := build/san
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# protoc-c's output for proto/*.proto: generated at build time, never committed.
GEN     := $(BUILD)/gen

LAB_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP \
              -Ilib -Iservices/core -I$(LLHTTP_INC) -I$(GEN)/proto \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS_UV   := $(shell pkg-config --libs libuv 2>/dev/null || echo -luv)
LIBS_CURL := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
LIBS_JSON := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
# nghttp2 (Debian libnghttp2-dev): slowapi's h2c, and the loop models' h2c
# upstream client (services/core/upstream_h2.c).
LIBS_NGHTTP2 := $(shell pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2)
# zlib (Debian zlib1g-dev): the samples file (lib/samples_file.c), written by
# loadgen and read by labreport and the tests.
LIBS_Z := $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
# gRPC core's C API (Debian libgrpc-dev) and protobuf-c: the gRPC variants
# and loadgen --grpc only.
LIBS_GRPC := $(shell pkg-config --libs grpc libprotobuf-c 2>/dev/null || \
                     echo -lgrpc -lgpr -lprotobuf-c)

# The server programs: services/<name with _>.c is each one's whole model;
# services/variants.tsv runs them as variants (a program with settings).
# The Python deployments (program lab-python, services/python/) are not
# compiled: their protobuf modules are generated (PYTHON_GEN).
VARIANTS := $(shell awk -F'\t' '!/^\#/ && NF && $$2 != "lab-python" && !seen[$$2]++ { print $$2 }' services/variants.tsv)
PROGRAMS := slowapi loadgen labreport $(VARIANTS)

LIB_SRC     := $(wildcard lib/*.c)
# The gRPC server core (services/core/grpc_*.c) is an archive of its own,
# linked into the gRPC variants alone, with the generated protobuf code.
GRPC_CORE_SRC := $(wildcard services/core/grpc_*.c)
CORE_SRC    := $(filter-out $(GRPC_CORE_SRC),$(wildcard services/core/*.c))
PROTO_SRC   := $(wildcard proto/*.proto)
PROTO_C     := $(patsubst proto/%.proto,$(GEN)/proto/%.pb-c.c,$(PROTO_SRC))
PROTO_H     := $(PROTO_C:.c=.h)
PROTO_OBJ   := $(patsubst proto/%.proto,$(BUILD)/obj/proto/%.pb-c.o,$(PROTO_SRC))
# protoc's Python modules for the Python gRPC deployments (services/python/).
PYTHON_GEN  := $(patsubst proto/%.proto,$(GEN)/python/%_pb2.py,$(PROTO_SRC))
SLOWAPI_SRC := $(wildcard slowapi/*.c)
LOADGEN_SRC := $(wildcard loadgen/*.c)
LABREPORT_SRC := $(wildcard labreport/*.c)

.SECONDEXPANSION:
# Generated sources stay (make would delete them as intermediates).
.SECONDARY: $(PROTO_C) $(PROTO_H)
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBLAB    := $(BUILD)/lib/liblab.a
LIBCORE   := $(BUILD)/lib/libcore.a
LIBLLHTTP := $(BUILD)/lib/libllhttp.a
LIBGRPCCORE := $(BUILD)/lib/libgrpccore.a

.PHONY: all deps test san clean \
        base-image images bench help fuzz fuzz-build
all: $(addprefix $(BUILD)/bin/,$(PROGRAMS)) $(PYTHON_GEN)

help:
	@echo "make            build every program into build/bin"
	@echo "make deps       apt-install the Debian packages the build and tests need"
	@echo "make test       unit, integration and Docker end-to-end tests (README)"
	@echo "make san        build with AddressSanitizer + UBSan into build/san"
	@echo "make fuzz-build build the libFuzzer harnesses (clang) into build/fuzz/bin"
	@echo "make fuzz       run each harness FUZZ_SECONDS (60); crashes in build/fuzz/crashes"
	@echo "make base-image make the local debian:bookworm-slim image if missing"
	@echo "make images     build the Docker images (builder, runtimes)"

# llhttp ships as C sources in Debian's node-llhttp; compile them once.
$(BUILD)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -I$(LLHTTP_INC) -c $< -o $@

$(LIBLLHTTP): $(patsubst $(LLHTTP_SRC)/%.c,$(BUILD)/obj/llhttp/%.o,$(wildcard $(LLHTTP_SRC)/*.c))
$(LIBLAB): $(call obj,$(LIB_SRC))
$(LIBCORE): $(call obj,$(CORE_SRC))
$(LIBGRPCCORE): $(call obj,$(GRPC_CORE_SRC)) $(PROTO_OBJ)
$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LAB_CFLAGS) -c $< -o $@

# proto/<name>.proto -> $(GEN)/proto/<name>.pb-c.[ch] (protoc-c, Debian
# protobuf-c-compiler), compiled like the rest.
$(GEN)/proto/%.pb-c.c $(GEN)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	protoc-c --c_out=$(GEN)/proto -Iproto $<

# proto/<name>.proto -> $(GEN)/python/<name>_pb2.py (protoc, Debian
# protobuf-compiler, the same version as python3-protobuf).
$(GEN)/python/%_pb2.py: proto/%.proto
	@mkdir -p $(@D)
	protoc --python_out=$(GEN)/python -Iproto $<

$(BUILD)/obj/proto/%.pb-c.o: $(GEN)/proto/%.pb-c.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LAB_CFLAGS) -c $< -o $@

# What includes the generated headers waits for them.
GRPC_USERS := $(call obj,$(GRPC_CORE_SRC) $(wildcard loadgen/grpc_*.c) \
                         $(wildcard tests/*/test_grpc*.c)) \
              $(patsubst %,$(BUILD)/obj/services/%.o,$(filter grpc-%,$(VARIANTS)))
$(GRPC_USERS) $(PROTO_OBJ): $(PROTO_H)

$(BUILD)/bin/slowapi: $(call obj,$(SLOWAPI_SRC)) $(LIBLAB) $(LIBLLHTTP)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_UV) $(LIBS_NGHTTP2) -lm

$(BUILD)/bin/loadgen: $(call obj,$(LOADGEN_SRC)) $(PROTO_OBJ) $(LIBLAB) $(LIBLLHTTP)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_GRPC) $(LIBS_Z) -lpthread -lm

# labreport renders the reports from their JSON (a run's text comes from
# lib/run_report.c, in liblab.a); gnuplot, which draws its charts, is run
# from PATH, not linked.
$(BUILD)/bin/labreport: $(call obj,$(LABREPORT_SRC)) $(LIBLAB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_Z) -lm

$(addprefix $(BUILD)/bin/,$(VARIANTS)): $(BUILD)/bin/%: $(BUILD)/obj/services/%.o $(LIBCORE) $(LIBLAB) $(LIBLLHTTP)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(VARIANT_LIBS) $(LIBS_CURL) $(LIBS_UV) $(LIBS_NGHTTP2) $(LIBS_JSON) -lpthread -lm

# The gRPC variants (programs grpc-*) also link the gRPC core archive; it
# comes after libcore.a in $^, so the core is named again after it.
GRPC_VARIANT_BINS := $(addprefix $(BUILD)/bin/,$(filter grpc-%,$(VARIANTS)))
$(GRPC_VARIANT_BINS): $(LIBGRPCCORE)
$(GRPC_VARIANT_BINS): VARIANT_LIBS = $(LIBCORE) $(LIBLAB) $(LIBLLHTTP) $(LIBS_GRPC)

# Variant sources use underscores (C file names), binaries use dashes.
$(BUILD)/obj/services/%.o: services/$$(subst -,_,%).c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LAB_CFLAGS) -c $< -o $@

# Tests: every tests/unit/test_<area>.c and tests/integration/test_<name>.c
# is one cmocka binary in $(BUILD)/tests/unit or $(BUILD)/tests/integration
# (where tests/run.sh looks). All link the core and the shared library, so any
# test can reach services/core (libcore.a is an empty archive while the core
# has no sources); integration tests also get tests/harness.
UNIT_TESTS        := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
INTEGRATION_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/integration/test_*.c))
HARNESS_SRC       := $(wildcard tests/harness/*.c)
LIBS_TEST := -lcmocka $(LIBS_CURL) $(LIBS_UV) $(LIBS_NGHTTP2) $(LIBS_JSON) $(LIBS_Z) -lpthread -lm

$(BUILD)/obj/tests/%.o: LAB_CFLAGS += -Itests/harness

$(UNIT_TESTS): $(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBCORE) $(LIBLAB) $(LIBLLHTTP)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST)

$(INTEGRATION_TESTS): $(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o \
		$(call obj,$(HARNESS_SRC)) $(LIBCORE) $(LIBLAB) $(LIBLLHTTP)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST)

# The gRPC tests (test_grpc*) also link gRPC and the generated protobuf code.
GRPC_TESTS := $(filter %/test_grpc $(BUILD)/tests/%/test_grpc_%,$(UNIT_TESTS) $(INTEGRATION_TESTS))
$(GRPC_TESTS): $(PROTO_OBJ)
$(GRPC_TESTS): LIBS_TEST += $(LIBS_GRPC)

.PHONY: tests-build
tests-build: $(UNIT_TESTS) $(INTEGRATION_TESTS)

# loadgen's unit tests (test_loadgen_*) also link loadgen's objects but
# main.o. The archives are named again before the libraries: the linker reads
# an archive once, and these objects come after it in $^.
LOADGEN_UNIT_TESTS := $(filter $(BUILD)/tests/unit/test_loadgen_%,$(UNIT_TESTS))
$(LOADGEN_UNIT_TESTS): $(call obj,$(filter-out loadgen/main.c,$(LOADGEN_SRC))) $(PROTO_OBJ)
$(LOADGEN_UNIT_TESTS): LIBS_TEST := $(LIBLAB) $(LIBLLHTTP) $(LIBS_TEST) $(LIBS_GRPC)
$(BUILD)/obj/tests/unit/test_loadgen_%.o: LAB_CFLAGS += -Iloadgen

# labreport's unit tests (test_labreport_*) link its objects but main.o,
# the same way.
LABREPORT_UNIT_TESTS := $(filter $(BUILD)/tests/unit/test_labreport_%,$(UNIT_TESTS))
$(LABREPORT_UNIT_TESTS): $(call obj,$(filter-out labreport/main.c,$(LABREPORT_SRC)))
$(LABREPORT_UNIT_TESTS): LIBS_TEST := $(LIBLAB) $(LIBS_TEST)
$(BUILD)/obj/tests/unit/test_labreport_%.o: LAB_CFLAGS += -Ilabreport

# The README's test command: every suite, each test with a time limit,
# ending with "N passed, M failed, K skipped". On a fresh machine the
# packages come first (deps: installed as root, else one line that says so).
test: deps
	tests/run.sh all

san:
	$(MAKE) SAN=1 all tests-build

# The benchmark scripts (not tests): loadgen against wrk, loadgen's open
# loop at a planned rate, slowapi's precision.
bench: all
	bench/loadgen_vs_wrk.sh
	bench/loadgen_open_rate.sh
	bench/slowapi_accuracy.sh

# Fuzzing (docs/FUZZING.md): every fuzz/fuzz_<name>.c is a libFuzzer
# harness, built with clang (Debian clang and libclang-rt-14-dev) and
# ASan + UBSan into $(FUZZ_BUILD)/bin; the code it drives is compiled again
# with clang into $(FUZZ_BUILD)/obj, apart from the gcc build's objects.
# fuzz/run.sh runs each for FUZZ_SECONDS on a copy of its corpus.
FUZZ_CC      ?= clang
FUZZ_BUILD   := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_HARNESSES := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/bin/,$(FUZZ_HARNESSES))
fuzz_obj = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(1))
FUZZ_LIBLAB     := $(FUZZ_BUILD)/lib/liblab.a
FUZZ_LIBCORE    := $(FUZZ_BUILD)/lib/libcore.a
FUZZ_LIBGRPCCORE := $(FUZZ_BUILD)/lib/libgrpccore.a
FUZZ_LIBLLHTTP  := $(FUZZ_BUILD)/lib/libllhttp.a
FUZZ_LIBSLOWAPI := $(FUZZ_BUILD)/lib/libslowapi.a
FUZZ_PROTO_OBJ  := $(patsubst proto/%.proto,$(FUZZ_BUILD)/obj/proto/%.pb-c.o,$(PROTO_SRC))
FUZZ_SLOWAPI_BINS := $(filter $(FUZZ_BUILD)/bin/fuzz_slowapi_%,$(FUZZ_BINS))

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(LAB_CFLAGS) $(FUZZ_INC) -c $< -o $@
$(FUZZ_BUILD)/obj/fuzz/%.o: FUZZ_INC := -Islowapi -Iloadgen
$(FUZZ_BUILD)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -std=c11 -I$(LLHTTP_INC) -c $< -o $@
$(FUZZ_BUILD)/obj/proto/%.pb-c.o: $(GEN)/proto/%.pb-c.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(LAB_CFLAGS) -c $< -o $@
$(call fuzz_obj,$(GRPC_CORE_SRC) fuzz/fuzz_grpc_message.c) $(FUZZ_PROTO_OBJ): $(PROTO_H)

$(FUZZ_LIBLAB): $(call fuzz_obj,$(LIB_SRC))
$(FUZZ_LIBCORE): $(call fuzz_obj,$(CORE_SRC))
$(FUZZ_LIBGRPCCORE): $(call fuzz_obj,$(GRPC_CORE_SRC)) $(FUZZ_PROTO_OBJ)
$(FUZZ_LIBLLHTTP): $(patsubst $(LLHTTP_SRC)/%.c,$(FUZZ_BUILD)/obj/llhttp/%.o,$(wildcard $(LLHTTP_SRC)/*.c))
$(FUZZ_LIBSLOWAPI): $(call fuzz_obj,$(filter-out slowapi/main.c,$(SLOWAPI_SRC)))
$(FUZZ_BUILD)/lib/%.a:
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# What each harness links besides its own object: fuzz/'s helpers (the
# fuzz/*.c not named fuzz_*), then archives, callers before callees.
$(FUZZ_BUILD)/bin/fuzz_http_request: $(call fuzz_obj,fuzz/response_check.c) \
		$(FUZZ_LIBCORE) $(FUZZ_LIBLAB) $(FUZZ_LIBLLHTTP)
$(FUZZ_BUILD)/bin/fuzz_http_request: FUZZ_LIBS = $(LIBS_CURL) $(LIBS_UV) $(LIBS_NGHTTP2) $(LIBS_JSON)
$(FUZZ_SLOWAPI_BINS): $(call fuzz_obj,fuzz/slowapi_driver.c fuzz/response_check.c) \
		$(FUZZ_LIBSLOWAPI) $(FUZZ_LIBLAB) $(FUZZ_LIBLLHTTP)
$(FUZZ_SLOWAPI_BINS): FUZZ_LIBS = $(LIBS_UV) $(LIBS_NGHTTP2)
$(FUZZ_BUILD)/bin/fuzz_loadgen_response: $(call fuzz_obj,loadgen/response.c) $(FUZZ_LIBLLHTTP)
$(FUZZ_BUILD)/bin/fuzz_grpc_message: $(FUZZ_LIBGRPCCORE) $(FUZZ_LIBCORE) $(FUZZ_LIBLAB) $(FUZZ_LIBLLHTTP)
$(FUZZ_BUILD)/bin/fuzz_grpc_message: FUZZ_LIBS = $(LIBS_GRPC) $(LIBS_CURL) $(LIBS_UV) $(LIBS_NGHTTP2) $(LIBS_JSON)
$(FUZZ_BINS): $(FUZZ_BUILD)/bin/%: $(FUZZ_BUILD)/obj/fuzz/%.o
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS) -lpthread -lm

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	fuzz/run.sh -t $(FUZZ_SECONDS)

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

clean:
	rm -rf build

# The classic study's Python deployments (services/python/), natively; the
# same list as docker/python.Dockerfile's.
PYTHON_PACKAGES := python3-flask gunicorn uwsgi-core uwsgi-plugin-python3 \
                uwsgi-plugin-gevent-python3 python3-gevent python3-uvicorn \
                python3-fastapi python3-grpcio python3-protobuf python3-requests \
                python3-aiohttp python3-numpy
# Debian packages for the build, the tests and the images. apt-get runs only
# when one is missing (and then updates its lists first). PYTHON_PACKAGES
# comes first: := expands it here.
DEB_PACKAGES := build-essential pkg-config libuv1-dev libcurl4-openssl-dev \
                libjansson-dev node-llhttp libcmocka-dev debootstrap wrk \
                valgrind curl jq libgrpc-dev libprotobuf-c-dev protobuf-c-compiler \
                libnghttp2-dev python3-jsonschema python3-yaml gnuplot-nox protobuf-compiler zlib1g-dev \
                clang libclang-rt-14-dev $(PYTHON_PACKAGES)
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${db:Status-Abbrev}\n' $$p 2>/dev/null | grep -q '^ii' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "deps: all installed"; \
	elif [ "$$(id -u)" != 0 ]; then \
	    echo "deps: missing Debian packages:" $$missing "- run 'sudo make deps' first" >&2; exit 1; \
	else \
	    echo "deps: installing" $$missing; \
	    apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

base-image:
	@docker/make-base-image.sh

# lab/builder (toolchain + make all), lab/runtime, lab/slowapi, lab/loadgen and
# lab/<variant> for every variant (IMAGES="v1 v2": for these variants only);
# the layer cache rebuilds only what changed. results/ is made
# writable for loadgen's default uid 10001 (mode 1777, like /tmp).
images: base-image
	@mkdir -p results
	@chmod 1777 results 2>/dev/null || \
	    echo "images: cannot chmod results/: the Compose one-liner's loadgen (uid 10001) may not write there" >&2
	@docker/build-images.sh $(IMAGES)
