# E-Code: `make run` sets up and starts the platform; `make test` runs every test.
GO      ?= go
NPM     ?= npm
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

WEB_SRC := $(shell find web/src web/public web/scripts web/sdk -type f 2>/dev/null) web/index.html web/vite.config.ts \
           web/tsconfig.json web/tsconfig.app.json web/tsconfig.node.json docs/openapi.yaml

.PHONY: test-kube run build web test test-go test-race test-e2e bench fmt vet clean

## run: install npm packages, build the UI and the server, start on 127.0.0.1:8080
run: build
	./bin/ecode serve

## build: the binary, with the UI embedded, and beside it the small sandbox agent
build: web
	@echo "ecode: building the server; the first build downloads and compiles every dependency and takes a few minutes"
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/ecode ./cmd/ecode
	$(GO) build -o bin/ecode-agent ./cmd/ecode-agent

web: web/dist/app/index.html

web/node_modules/.package-lock.json: web/package-lock.json
	@echo "ecode: installing the UI's npm packages"
	cd web && $(NPM) ci --no-audit --no-fund

# The UI is rebuilt only when its sources change.
web/dist/app/index.html: web/node_modules/.package-lock.json web/package.json $(WEB_SRC)
	@echo "ecode: building the UI"
	cd web && $(NPM) run build

e2e/node_modules/.package-lock.json: e2e/package-lock.json
	cd e2e && $(NPM) ci --no-audit --no-fund

## test: vet, Go tests (SQLite and PostgreSQL), the race detector over the code that reads
## project trees, then browser tests against the built binary
test: vet test-go test-race test-e2e test-kube

vet: web/node_modules/.package-lock.json
	$(GO) vet ./...
	cd web && $(NPM) run --silent typecheck

test-go: web
	$(GO) test $$($(GO) list ./... | grep -v -e /internal/runtime/kube$$ -e /internal/deploy/kube$$)

# The Kubernetes runtime's tests, against a real one-node cluster (.ci/kube/up.sh: minutes to build
# the first time, seconds after), which is taken down again whatever the outcome.
KUBE := /tmp/kube-try
# Runs, shells, previews and each kind of deployment, again with every sandbox a pod; then the app
# deployments again with the kube deploy driver (Deployments, Services, Jobs).
KUBE_TESTS := Test(Exec|RunLifecycle|ShellOverWebSocket|PreviewStreamsAndUpgrades|InternetMode|CacheOutlivesSandbox|ProjectLimitsApplied|AutoscaleDeploy|VMDeploy|AppsComeBack|CrashLoop|StaticDeploy|ScheduledDeploy)$$/sqlite
KUBE_DEPLOY_TESTS := Test(AutoscaleDeploy|VMDeploy|AppsComeBack|ScheduledDeploy|DeploymentReachesDatabase)$$/sqlite
test-kube:
	mkdir -p $(KUBE) && flock -o $(KUBE).lock env SMOKE=0 .ci/kube/up.sh > $(KUBE)-up.log 2>&1 || { tail -n 30 $(KUBE)-up.log; .ci/kube/down.sh; exit 1; }
	export ECODE_TEST_KUBECONFIG=$(KUBE)/pki/admin.kubeconfig; \
	ECODE_TEST_KUBE=required $(GO) test -count=1 ./internal/runtime/kube/ ./internal/deploy/kube/ && \
	ECODE_TEST_RUNTIME=kube $(GO) test -count=1 -run '$(KUBE_TESTS)' ./internal/run ./internal/deploy && \
	ECODE_TEST_RUNTIME=kube ECODE_TEST_DEPLOY_DRIVER=kube $(GO) test -count=1 -run '$(KUBE_DEPLOY_TESTS)' ./internal/deploy ./internal/projectdb; \
		rc=$$?; .ci/kube/down.sh > /dev/null 2>&1; exit $$rc

# Project trees and build folders change under the server while sandbox code runs: the tests of
# what reads, copies and watches them run again under the race detector.
RACE_TESTS := Fork|Checkpoints|Files|PathAttacks|MigrateHistory|Zip|Search|Upload|SwapRace|ReadFile|FIFO|Walk|Copy|LineEndings|StaticDeploy|DeployLinks
test-race: web
	$(GO) test -race -run '$(RACE_TESTS)' ./internal/safefs ./internal/project ./internal/collab ./internal/deploy

test-e2e: build e2e/node_modules/.package-lock.json
	cd e2e && npx playwright test

## bench: the figures in docs/BENCHMARKS.md
bench: build
	bash bench/run.sh

fmt:
	gofmt -w cmd internal templates web/web.go

clean:
	rm -rf bin web/dist/app
