# skipdit — the two commands: `make demo` and `make test`. Both install what they need.
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
BUILD_FLAGS ?= -c release
BIN = .build/release/skipdit

.PHONY: all deps build test demo bench lint format install clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product skipdit

test: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build

demo: build
	scripts/demo

bench: build
	$(BIN) bench gemm
	$(BIN) bench forward
	$(BIN) bench vae

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
