# The git-rag worker image.
#
#   docker build -t git-rag .                          # add --build-arg WITH_MODEL=1 for the built-in model
#   docker run --rm -e QDRANT_URL -e QDRANT_API_KEY git-rag upload-repo https://github.com/org/repo org-repo --store qdrant
#
# The entrypoint is `git-rag worker`, so the container's arguments are `<operation> <arguments…>`.
# Secrets come in as environment variables (docker -e NAME, Kubernetes secretKeyRef, AWS Batch
# job-definition secrets), never as arguments.

ARG SWIFT_IMAGE=swift:6.3-bookworm

# ---- build: a release binary with the Swift runtime linked in statically ----
FROM ${SWIFT_IMAGE} AS build
ARG WITH_MODEL=0
WORKDIR /src
COPY scripts/docker-build-steps.sh scripts/install-model scripts/
RUN WITH_MODEL=${WITH_MODEL} scripts/docker-build-steps.sh packages
COPY . .
RUN scripts/docker-build-steps.sh build /out
RUN WITH_MODEL=${WITH_MODEL} scripts/docker-build-steps.sh model /out

# ---- runtime: Debian slim plus the shared libraries git-rag loads ----
FROM debian:bookworm-slim
# Keep this list equal to `runtime_packages` in scripts/docker-build-steps.sh (a test checks it
# covers every library `ldd git-rag` names).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates libgit2-1.5 libcurl4 libssl3 libarchive13 libopenblas0-pthread libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin git-rag
COPY --from=build /out/bin/git-rag /usr/local/bin/git-rag
COPY --from=build --chown=git-rag:git-rag /out/models /home/git-rag/.cache/git-rag/models
USER git-rag
WORKDIR /home/git-rag
ENV HOME=/home/git-rag
ENTRYPOINT ["git-rag", "worker"]
