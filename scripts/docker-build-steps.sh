#!/usr/bin/env bash
# The build stage of the Dockerfile, as a script: the Dockerfile runs it, and CI runs it directly
# on a Debian 12 machine (no Docker engine needed) to prove the steps work.
#
#   scripts/docker-build-steps.sh packages        build dependencies (apt)
#   scripts/docker-build-steps.sh build [OUT]     release build, static Swift runtime -> OUT/bin/git-rag
#   scripts/docker-build-steps.sh model [OUT]     with WITH_MODEL=1: the built-in model -> OUT/models
#   scripts/docker-build-steps.sh runtime-packages  the runtime stage's package list, one a line
#   scripts/docker-build-steps.sh all [OUT]       packages, build and model
# OUT defaults to /out.
set -euo pipefail
cd "$(dirname "$0")/.."

step="${1:-all}"
out="${2:-/out}"

# Shared libraries git-rag loads at run time (see the Dockerfile's runtime stage).
runtime_packages=(ca-certificates libgit2-1.5 libcurl4 libssl3 libarchive13 libopenblas0-pthread libsqlite3-0)

packages() {
  local sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  local wanted=(pkg-config git ca-certificates libgit2-dev libarchive-dev libopenblas-dev libssl-dev
    libsqlite3-dev libcurl4-openssl-dev)
  if [ "${WITH_MODEL:-0}" = 1 ]; then wanted+=(python3 python3-pip); fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
}

build() {
  swift build -c release --static-swift-stdlib --product git-rag
  mkdir -p "$out/bin"
  install -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/git-rag" "$out/bin/git-rag"
  "$out/bin/git-rag" --version
}

model() {
  mkdir -p "$out/models"
  if [ "${WITH_MODEL:-0}" != 1 ]; then
    echo "docker-build-steps: no model (build with --build-arg WITH_MODEL=1 to include it)"
    return
  fi
  local cache
  cache="$(mktemp -d)"
  XDG_CACHE_HOME="$cache" scripts/install-model
  cp -r "$cache/git-rag/models/." "$out/models/"
  rm -rf "$cache"
}

case "$step" in
  packages) packages ;;
  build) build ;;
  model) model ;;
  runtime-packages) printf '%s\n' "${runtime_packages[@]}" ;;
  all) packages; build; model ;;
  *) echo "docker-build-steps: unknown step '$step' (packages, build, model, runtime-packages, all)" >&2; exit 2 ;;
esac
