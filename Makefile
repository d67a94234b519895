# Thin wrapper over CMake: `make`, `make test`, `make asan`, `make install PREFIX=...`.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

# Debian packages: the toolchain, OpenBLAS (CBLAS), cJSON (model headers),
# zlib (gzip'ed data sets), and Python with PyTorch for the outside
# gradient oracle (tests/torch_check.py; its test skips without it), and
# Fashion-MNIST for the main job.
DEPS = build-essential cmake pkg-config libopenblas-dev libcjson-dev zlib1g-dev \
       python3 python3-torch dataset-fashion-mnist

.PHONY: all deps test asan install clean

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBP_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEPS)

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan
