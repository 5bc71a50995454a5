# syntax=docker/dockerfile:1
#
# globaltables in a container: `up` runs the three regions of
# configs/docker.hcl, their DynamoDB endpoints on ports 8000-8002.
#
#   docker build -t globaltables .
#   docker run --rm -p 127.0.0.1:8000-8002:8000-8002 -v globaltables-data:/var/lib/globaltables globaltables
#
# compose.yaml runs it with Prometheus and Grafana beside it; docs/docker.md
# says how to use both.

ARG GO_VERSION=1.26

# Build: a static binary (Badger and NATS are pure Go; no cgo).
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/globaltables ./cmd/globaltables \
    && mkdir -p /out/data

# Run: no shell, no package manager, a non-root user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/globaltables /usr/local/bin/globaltables
COPY configs/docker.hcl /etc/globaltables/topology.hcl
# The volume starts owned by the non-root user, so regions can write it.
COPY --from=build --chown=65532:65532 /out/data /var/lib/globaltables
VOLUME /var/lib/globaltables
WORKDIR /var/lib/globaltables
# The regions' DynamoDB endpoints (and /metrics on each).
EXPOSE 8000 8001 8002
# up stops every region cleanly on SIGTERM (docker stop) or SIGINT.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/globaltables"]
CMD ["up", "--config", "/etc/globaltables/topology.hcl"]
