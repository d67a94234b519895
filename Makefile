# Thin wrapper over CMake: `make`, `make test`, `make asan`, `make install PREFIX=...`.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30

# Debian packages: the toolchain, oneDNN (the engine's products at the CPU's
# full vector width), OpenBLAS (CBLAS: the fallback provider and the oracle
# oneDNN is tested against), cJSON (model headers),
# zlib (gzip'ed data sets), and Python with PyTorch for the outside
# gradient oracle (tests/torch_check.py; its test skips without it), and
# Fashion-MNIST for the main job; clang and its sanitizer runtimes for the
# fuzzers (make fuzz); Open MPI for data-parallel training (mpirun); iproute2
# (ip, tc) for the two-host test and bench over network namespaces;
# valgrind for make valgrind; FANN 2.2.0 and its 16 data sets for
# bench/fann-suite only (libfann-dev, libfann-doc: the library never uses them);
# chromium, headless, to render the page of `explain --html` in
# tests/test_explain_html.sh (it skips without it); numpy, scikit-learn,
# pytest and hypothesis for the Python package and its tests (python/:
# numpy arrays in and out, the estimators on sklearn's base classes and
# validation, check_estimator, random shapes); python3-onnx (its checker)
# and Node.js with ONNX Runtime's npm package for the exported ONNX models
# (tests/test_onnx.sh).
DEPS = build-essential cmake pkg-config libdnnl-dev libopenblas-dev libcjson-dev zlib1g-dev \
       python3 python3-torch dataset-fashion-mnist clang libclang-rt-14-dev \
       python3-numpy python3-scipy python3-sklearn python3-pytest python3-hypothesis \
       libopenmpi-dev openmpi-bin iproute2 valgrind libfann-dev libfann-doc chromium python3-onnx nodejs
# ONNX Runtime for Node.js, into the project (make clean keeps it; never
# global). --ignore-scripts: its install script only fetches GPU providers,
# the CPU runtime is in the package.
NODE_DIR = tools/node
ONNXRUNTIME_NODE = onnxruntime-node@1.30.0

.PHONY: all deps test asan valgrind interrupts install clean

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# on the CBLAS provider (the main build tests oneDNN; the sanitizers do not
# see into oneDNN's JIT code); CPU only (the sanitizers do not see into the CUDA runtime) and without MPI,
# whose runtime keeps allocations to the end that LeakSanitizer would report
# (test_mpi skips there; it runs in the plain build).
# 40 signals (20 SIGINT, 20 SIGTERM) at seeded moments, each run resumed;
# make test sends 8. BP_INTERRUPT_SEED=S replays a printed seed.
interrupts: all
	sh tests/test_interrupt.sh build/backprop 40

asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBP_SANITIZE=ON -DBP_CUDA=OFF -DBP_MPI=OFF -DBP_ONEDNN=OFF >/dev/null
	cmake --build build-asan -j $(JOBS)
	# test_interrupt signals at moments of a release build's pace: not here
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -E test_interrupt

# A short training run, predict, grad and eval of the CLI under valgrind's
# memcheck: zero errors and no definite or indirect leak, or it fails.
# Third-party false positives only go in tests/valgrind.supp, each with why.
valgrind: all
	sh tests/valgrind.sh $(BUILD)/backprop

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEPS)
	# Debian's nodejs comes without npm; NodeSource's has its own (and conflicts with Debian's npm)
	[ -x /usr/bin/npm ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
	grep -qs '"version": "$(ONNXRUNTIME_NODE:onnxruntime-node@%=%)"' $(NODE_DIR)/node_modules/onnxruntime-node/package.json || \
	  /usr/bin/npm install --prefix $(NODE_DIR) --ignore-scripts --no-audit --no-fund $(ONNXRUNTIME_NODE)

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan

# libFuzzer harnesses (fuzz/, docs/fuzzing.md): builds them with clang into
# build-fuzz/, then fuzzes each for FUZZ_SECONDS on a copy of its seed corpus
# (build-fuzz/corpus-NAME, kept between runs; fuzz/corpus is never written).
# Fails on the first harness that finds a crash, a leak or a sanitizer report;
# the reproducer is left as build-fuzz/crash-NAME-*.
FUZZ_HARNESSES = safetensors idx csv fann checkpoint
.PHONY: fuzz
fuzz:
	bash fuzz/build.sh $(FUZZ_HARNESSES)
	@set -e; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p build-fuzz/corpus-$$h; cp fuzz/corpus/$$h/* build-fuzz/corpus-$$h/; \
	  dict=; [ ! -f fuzz/$$h.dict ] || dict=-dict=fuzz/$$h.dict; \
	  echo "== fuzz_$$h for $(FUZZ_SECONDS) s"; \
	  build-fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 \
	    -artifact_prefix=build-fuzz/crash-$$h- $$dict build-fuzz/corpus-$$h 2>build-fuzz/fuzz_$$h.log \
	    || { tail -n 60 build-fuzz/fuzz_$$h.log; echo "fuzz_$$h: FAILED, see build-fuzz/fuzz_$$h.log and build-fuzz/crash-$$h-*"; exit 1; }; \
	  grep -E '^#[0-9]+' build-fuzz/fuzz_$$h.log | tail -n 1; \
	done
