# skipdit — the two commands: `make demo` and `make test`. Both install what they need.
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
BUILD_FLAGS ?= -c release
BIN = .build/release/skipdit

.PHONY: all deps build test demo bench bench-cache bench-peer bench-slurm lint format install install-files deb clean fuzz test-sanitize soak

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product skipdit

# The test process loads libgomp before main: choose OpenMP's passive wait policy here (the
# skipdit binary does it itself, see Sources/TensorCore/OpenMPWaitPolicy.swift).
test: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(SWIFT) test $(BUILD_FLAGS) --skip-build

demo: build
	scripts/demo

# libFuzzer over every reader of untrusted bytes (Fuzz/, scripts/fuzz): builds the fuzz driver in
# .build-fuzz (not part of build/test), then runs each target for SECONDS; corpora and findings go to
# out/fuzz/. `make fuzz SECONDS=600 FUZZ_TARGETS="pickle zip"` narrows it.
SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: deps
	scripts/fuzz --seconds $(SECONDS) $(FUZZ_TARGETS)

# The test suite under AddressSanitizer (+ LeakSanitizer) and then ThreadSanitizer, each in its own
# build folder; fails on any report of any process (scripts/test-sanitize; SANITIZERS=address runs one).
test-sanitize: deps
	scripts/test-sanitize

bench: build
	$(BIN) bench gemm
	$(BIN) bench forward
	$(BIN) bench attention
	$(BIN) bench vae
	$(BIN) bench cache --runs 3

# The Skip-Cache speed/quality frontier of the demo model (README, "Adaptive Skip-Cache"): DDIM 50 and
# 12 steps, every class, seeds 1-3, no cache, fixed N = 2, 3, 4 and the adaptive threshold sweep with
# the reference's window and one that may cache from the first step; the plots go to docs/, the rows
# to out/ and, together, to the demo model's calibration.
bench-cache: build
	mkdir -p out docs
	$(BIN) bench cache --steps 50 --seeds 1,2,3 --thresholds 0.5,1,2,4,5,6,8,12,16,32 --adaptive-starts 900,1000 --json \
		--plot docs/cache-frontier-ddim50.svg > out/cache-ddim50.jsonl
	$(BIN) bench cache --steps 12 --seeds 1,2,3 --thresholds 0.25,0.5,1,2,4,8,16 --adaptive-starts 900,1000 --json \
		--plot docs/cache-frontier-ddim12.svg > out/cache-ddim12.jsonl
	cat out/cache-ddim50.jsonl out/cache-ddim12.jsonl > Models/demo/cache-calibration.jsonl

# PyTorch beside skipdit on this machine (README, "Benchmarks"): the same full-size forwards and VAE
# decodes, same shapes and threads, PyTorch and skipdit alternating, with the ratio of their seconds
# (tools/bench-peer/peer.py). PyTorch comes from a private virtual environment, .venv-peer, installed
# the first time (scripts/bench-peer). `make bench-peer PEER_ARGS="--tasks c2v,t2v,vae"` adds the slow
# text-to-video forward; `--json` prints one row per measurement.
PEER_ARGS ?=
bench-peer: build
	scripts/bench-peer $(PEER_ARGS)

# The Slurm executor's batch figure (README, "Running on a Slurm cluster"): one batch of demo-model jobs
# by a local daemon and by a daemon on a private single-node cluster, in one run.
bench-slurm: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	SKIPDIT_BENCH_SLURM=1 $(SWIFT) test $(BUILD_FLAGS) --skip-build --filter SlurmBatchBenchmark

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build

# Installs the binary, the shipped config and example jobs, the systemd unit and the spool layout.
# Respects PREFIX and DESTDIR (packaging): `make install DESTDIR=/tmp/pkg PREFIX=/usr`. The unit goes to
# $(UNITDIR) (systemd searches /usr/local/lib/systemd/system and /usr/lib/systemd/system) with its
# ExecStart rewritten for PREFIX and SYSCONFDIR. The spool's folders are setgid and group-writable, so
# members of the `skipdit` group can submit, cancel and inspect jobs. Run as root without DESTDIR, it
# also creates the `skipdit` system user and group, hands them the spool and state directories, and
# reloads systemd. The Slurm executor's drop-in goes to the doc folder (skipdit-slurm.conf): copy it
# to /etc/systemd/system/skipdit.service.d/ to run on a cluster (README, "Running on a Slurm cluster").
# `install-files` is the files alone (no build, no spool, no user): what the Debian package holds.
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SPOOLDIR ?= /var/spool/skipdit
STATEDIR ?= /var/lib/skipdit

install: build
	$(MAKE) install-files
	install -d -m 2750 $(DESTDIR)$(SPOOLDIR)
	install -d -m 2770 $(DESTDIR)$(SPOOLDIR)/incoming $(DESTDIR)$(SPOOLDIR)/processing $(DESTDIR)$(SPOOLDIR)/done \
		$(DESTDIR)$(SPOOLDIR)/failed
	install -d -m 0750 $(DESTDIR)$(STATEDIR) $(DESTDIR)$(STATEDIR)/videos $(DESTDIR)$(STATEDIR)/models
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		getent group skipdit >/dev/null || groupadd --system skipdit; \
		getent passwd skipdit >/dev/null || useradd --system --gid skipdit --home-dir $(STATEDIR) \
			--shell /usr/sbin/nologin --comment "skipdit render daemon" skipdit; \
		chown -R skipdit:skipdit $(SPOOLDIR) $(STATEDIR); \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
		echo "installed; add users who submit jobs to the skipdit group, then: systemctl enable --now skipdit"; \
	fi

install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/skipdit/jobs $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/share/doc/skipdit
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/skipdit
	test -e $(DESTDIR)$(SYSCONFDIR)/skipdit/skipdit.yaml || \
		install -m 0644 etc/skipdit/skipdit.yaml $(DESTDIR)$(SYSCONFDIR)/skipdit/skipdit.yaml
	install -m 0644 $(filter-out etc/skipdit/jobs/demo%,$(wildcard etc/skipdit/jobs/*.yaml)) $(DESTDIR)$(SYSCONFDIR)/skipdit/jobs/
	install -m 0644 README.md NOTICE $(DESTDIR)$(PREFIX)/share/doc/skipdit/
	sed -e 's|/usr/local/bin/skipdit|$(PREFIX)/bin/skipdit|' \
		-e 's|/etc/skipdit/skipdit.yaml|$(SYSCONFDIR)/skipdit/skipdit.yaml|' \
		-e 's|/usr/local/share/doc/skipdit|$(PREFIX)/share/doc/skipdit|' \
		-e 's|/var/spool/skipdit|$(SPOOLDIR)|g' \
		systemd/skipdit.service > $(DESTDIR)$(UNITDIR)/skipdit.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/skipdit.service
	install -m 0644 systemd/skipdit.service.d/slurm.conf $(DESTDIR)$(PREFIX)/share/doc/skipdit/skipdit-slurm.conf

# The Debian package: out/skipdit_VERSION_amd64.deb from the release binary (its Swift runtime linked
# statically, see Package.swift), with a man page, shell completions and maintainer scripts
# (scripts/build-deb, packaging/deb/; README, "Installing").
deb: build
	scripts/build-deb $(BIN) out

# The long crash soak (not part of `make test`, which runs a short one): two daemons on one spool are
# SIGKILLed independently at seeded-random moments (35 kills each) while 12 demo-model jobs render, and
# restarted; then every job must be in done/ once, with the videos of an uninterrupted render and
# nothing partial left (Tests/IntegrationTests/CrashSoakTests.swift). The seed is printed:
# `make soak SOAK_SEED=<n>` replays a schedule, SOAK_KILLS=<n> sets the kills per daemon.
SOAK_SEED ?=
SOAK_KILLS ?=
soak: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	SKIPDIT_SOAK=long SKIPDIT_SOAK_SEED=$(SOAK_SEED) SKIPDIT_SOAK_KILLS=$(SOAK_KILLS) \
		OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(SWIFT) test $(BUILD_FLAGS) --skip-build --filter CrashSoakTests
