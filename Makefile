# The one test command (README and .ci/run call it).
.PHONY: test build demo bench fuzz lint

test:
	go vet ./...
	go test -count=1 -timeout 20m ./...

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o learnloop ./cmd/learnloop

demo:
	go run ./cmd/learnloop demo

bench:
	go test -run '^$$' -bench . -benchtime 3x ./bench/

fuzz:
	go test -run '^$$' -fuzz FuzzVerifyToken -fuzztime 30s ./bot/
