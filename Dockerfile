# syntax=docker/dockerfile:1
# Build: a static binary (no cgo: SQLite is pure Go).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/console ./cmd/console && mkdir -p /out/data

# Run: distroless static, non-root. No shell: the health check is a
# sub-command of the binary.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/console /console
COPY --from=build --chown=65532:65532 /out/data /data
ENV LISTEN_ADDR=0.0.0.0:8080 \
    DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/console", "healthcheck"]
ENTRYPOINT ["/console"]
