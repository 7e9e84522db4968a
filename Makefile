# adlake — the two commands a new user needs:
#   make demo   build, generate a day of data with defects, ingest it, show counts
#   make test   every test, with the real services started by localstack/up.sh
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GO_BUILD := go build -trimpath -ldflags "-X main.version=$(VERSION)"
FUZZTIME ?= 10s

.PHONY: build demo test test-unit fuzz fuzz-short bench lint services-up services-down clean

build: ## build bin/adlake
	$(GO_BUILD) -o bin/adlake ./cmd/adlake

demo: build ## generate one day of data with defects under ./lakehouse and ingest it
	rm -rf lakehouse
	./bin/adlake gen --days 1 --impressions-per-day 20000 --defects --log-format text
	@# exit code 3 = done, but unreadable files were quarantined whole (the demo injects two)
	./bin/adlake ingest --log-format text || [ $$? -eq 3 ]
	./bin/adlake status --log-format text

test: build ## all tests against real local services, then a short fuzz run
	@# up.sh's exports go through a file so that a failed start stops make here.
	localstack/up.sh > .services.env
	. ./.services.env && go test -count=1 -timeout 30m ./...
	$(MAKE) fuzz-short

test-unit: ## tests that need no service (S3 tests skip outside CI)
	go test ./...

# A short minimize time keeps the engine fuzzing: by default it spends up to
# 60 s minimizing each new input, reporting 0 execs/s meanwhile.
fuzz-short: ## a short fuzz run of each decoder (FUZZTIME each)
	for f in FuzzImpressions FuzzClicksConversions FuzzBidRequests; do \
	  go test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200ms ./jobs/bronze/decode/; \
	done

fuzz: ## longer fuzzing: make fuzz FUZZTIME=5m
	$(MAKE) fuzz-short FUZZTIME=$(FUZZTIME)

bench: build ## measure ingest throughput and peak RSS into docs/benchmarks.md
	bench/bench.py

lint:
	test -z "$$(gofmt -l .)"
	go vet ./...

services-up:
	localstack/up.sh >/dev/null

services-down:
	localstack/down.sh

clean:
	rm -rf bin lakehouse
