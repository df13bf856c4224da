# syntax=docker/dockerfile:1
# The healthcare server as a container image: a static binary on an empty
# base, run as an unprivileged user, with the embedded SQLite database in
# the /data volume. CI builds the same image without a Docker engine, from
# this file's final stage (.ci/image), and runs it.
#
#   docker build -t healthcare \
#     --build-arg VERSION=1.0.0 --build-arg COMMIT=$(git rev-parse HEAD) .
#   docker run -p 8080:8080 -v healthcare-data:/data healthcare
#
# With PostgreSQL, see compose.yaml.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION
ARG COMMIT
ARG DATE
RUN packaging/imageroot.sh /out

FROM scratch
ARG VERSION
COPY --from=build /out/rootfs/ /
COPY --from=build --chown=65532:65532 /out/state/ /
USER 65532:65532
WORKDIR /data
ENV SQLITE_PATH=/data/healthcare.db
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/healthcare", "healthcheck"]
LABEL org.opencontainers.image.title="healthcare" \
      org.opencontainers.image.description="Clinic API: GraphQL, REST and an admin console over PostgreSQL or embedded SQLite" \
      org.opencontainers.image.version="${VERSION}"
ENTRYPOINT ["/healthcare"]
CMD ["serve"]
