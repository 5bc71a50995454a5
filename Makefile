# globaltables: `make help` lists the targets.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/globaltables

.PHONY: help build up test scenario unit smoke lint fuzz bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/globaltables
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/globaltables

up: build ## run the default three-region topology (configs/default.hcl)
	$(BIN) up

test: ## run every test: race-enabled Go tests, then the AWS CLI smoke test
	scripts/test.sh

scenario: ## run the slow end-to-end scenario tests (build tag scenario)
	scripts/scenario.sh

unit: ## run the Go tests only (race detector on)
	$(GO) test -race -count=1 ./...

smoke: build ## drive a region with the AWS CLI
	scripts/smoke.sh $(BIN)
	scripts/smoke-auth.sh $(BIN)

lint: ## gofmt and go vet
	scripts/lint.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	scripts/fuzz.sh $(FUZZTIME)

bench: build ## benchmark the region API against dynalite (needs node and npm)
	scripts/bench.sh

clean: ## remove build output
	rm -rf bin
