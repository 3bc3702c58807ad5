#!/usr/bin/env bash
# Remote embedder saturation: full-index throughput of OpenAIEmbedder.embed against
# scripts/testservers/embedding_server.py with a fixed latency per request, compared in the same
# run with the seed's algorithm (one text per request from 5 workers).
# Passes when batched throughput >= 90% of (requests in flight x texts per batch / latency).
#
# Knobs (environment): BENCH_TEXTS (20000), BENCH_SEED_TEXTS (1000), BENCH_LATENCY_MS (50),
# BENCH_DIMENSION (16). Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/../../.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
GIT_RAG_BENCH=1 swift test -c release --filter OpenAIEmbedderBenchmark "$@" >"$log" 2>&1 || status=$?
grep -E "^ *BENCH|✘|error:" "$log" | sed 's/^ *//' || true
if [ "$status" -ne 0 ]; then
  echo "benchmark failed (exit $status); full log:" >&2
  tail -40 "$log" >&2
fi
exit "$status"
