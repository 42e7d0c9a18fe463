# Multi-stage build: a static, non-root learnloop binary on a minimal base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/learnloop ./cmd/learnloop

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/learnloop /usr/local/bin/learnloop
USER nonroot:nonroot
WORKDIR /var/lib/learnloop
EXPOSE 8080
ENV LEARNLOOP_HTTP_ADDR=0.0.0.0:8080
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/learnloop"]
CMD ["serve"]
