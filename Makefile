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

# Installs the binary, the shipped config, the systemd unit and the spool layout.
# Respects PREFIX and DESTDIR (packaging). The unit expects /usr/local/bin; with another PREFIX
# the installed unit's ExecStart is rewritten to match.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/skipdit/jobs $(DESTDIR)/lib/systemd/system
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/skipdit
	test -e $(DESTDIR)/etc/skipdit/skipdit.yaml || install -m 0644 etc/skipdit/skipdit.yaml $(DESTDIR)/etc/skipdit/skipdit.yaml
	install -m 0644 etc/skipdit/jobs/*.yaml $(DESTDIR)/etc/skipdit/jobs/
	sed 's|/usr/local/bin/skipdit|$(PREFIX)/bin/skipdit|' systemd/skipdit.service > $(DESTDIR)/lib/systemd/system/skipdit.service
	chmod 0644 $(DESTDIR)/lib/systemd/system/skipdit.service
	install -d -m 0750 $(DESTDIR)/var/spool/skipdit $(DESTDIR)/var/spool/skipdit/incoming \
		$(DESTDIR)/var/spool/skipdit/processing $(DESTDIR)/var/spool/skipdit/done $(DESTDIR)/var/spool/skipdit/failed \
		$(DESTDIR)/var/lib/skipdit $(DESTDIR)/var/lib/skipdit/videos $(DESTDIR)/var/lib/skipdit/models
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		getent passwd skipdit >/dev/null || useradd --system --home-dir /var/lib/skipdit --shell /usr/sbin/nologin skipdit; \
		chown -R skipdit:skipdit /var/spool/skipdit /var/lib/skipdit; \
		systemctl daemon-reload 2>/dev/null || true; \
	fi
