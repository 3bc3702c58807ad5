#!/usr/bin/env bash
# End-to-end `git rag sync` throughput against the raw forward pass on the very same chunk texts.
#
#   scripts/bench/embedding/sync-throughput.sh [MIRROR] [COMMIT]
#
# Clones MIRROR (default: the local bare mirror of psf/requests) at COMMIT (default: its HEAD)
# into a temporary folder, runs a fresh `git rag sync --embedder local --json` there with
# GIT_RAG_NO_CACHE=1 (every chunk goes through the model), then reads the chunk texts back from
# the SQLite store and embeds them again in the benchmark test (raw forward pass on pre-tokenised
# batches of 32, and LocalEmbedder.embed with tokenising). Prints chunks per second and per CPU
# second for each, and the ratios sync / raw.
#
# Builds nothing: it uses .build/release/git-rag (swift build -c release --product git-rag) and the
# release test bundle (scripts/bench/embedding/run.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root="$PWD"
mirror="${1:-/work/.mirror/psf+requests/repo}"
commit="${2:-HEAD}"
model="${GIT_RAG_MODEL_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/git-rag/models/all-MiniLM-L6-v2}"
binary="$root/.build/release/git-rag"
[ -x "$binary" ] || { echo "sync-throughput.sh: build first: swift build -c release --product git-rag" >&2; exit 1; }
[ -f "$model/model.safetensors" ] || { echo "sync-throughput.sh: no model at $model (scripts/install-model)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$mirror" "$work/repo"
git -C "$work/repo" -c advice.detachedHead=false checkout -q "$commit"
echo "repository: $mirror at $(git -C "$work/repo" rev-parse --short HEAD), $(git -C "$work/repo" ls-files | wc -l) files"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# A fresh store and collection; no embedding cache, so every chunk is embedded.
(cd "$work/repo" && GIT_RAG_NO_CACHE=1 GIT_RAG_MODEL_PATH="$model" GIT_RAG_STORE_PATH="$work/store" \
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$binary" sync --embedder local --collection bench --json >"$work/summary.json")
read -r wall user sys rss <"$work/time"
store="$(find "$work/store" -name '*.sqlite' | head -1)"
python3 - "$work/summary.json" "$store" "$work/texts.json" "$wall" "$user" "$sys" "$rss" <<'PY' | tee "$work/sync.txt"
import json, sqlite3, sys
summary, store, texts_path, wall, user, sys_, rss = sys.argv[1:]
report = json.load(open(summary))
texts = [row[0] for row in sqlite3.connect(store).execute("SELECT content FROM points ORDER BY chunk_hash")]
json.dump(texts, open(texts_path, "w"))
embedded = report["chunks_embedded"]
wall, cpu = float(wall), float(user) + float(sys_)
print(f"sync chunks_embedded={embedded} chunks_written={report['chunks_written']} files={report['files_indexed']}"
      f" reported_seconds={report['seconds']:.2f} wall_seconds={wall:.2f} cpu_seconds={cpu:.2f} max_rss_mb={int(rss) / 1024:.0f}")
print(f"sync chunks_per_s={embedded / wall:.2f} chunks_per_cpu_s={embedded / cpu:.2f}")
PY

GIT_RAG_BENCH_TEXTS="$work/texts.json" GIT_RAG_MODEL_PATH="$model" \
  swift test -c release --skip-build --filter LocalEmbeddingBenchmark.chunkTextsThroughput 2>&1 | grep -E '^swift ' | tee "$work/raw.txt" \
  || { echo "raw benchmark failed (build the release test bundle: scripts/bench/embedding/run.sh)" >&2; exit 1; }

python3 - "$work/sync.txt" "$work/raw.txt" <<'PY'
import re, sys
def values(path, prefix):
    for line in open(path):
        if line.startswith(prefix) and "chunks_per_s=" in line:
            return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
sync = values(sys.argv[1], "sync chunks_per_s")
for label, prefix in (("raw forward pass", "swift forward"), ("LocalEmbedder.embed", "swift embed")):
    raw = values(sys.argv[2], prefix)
    print(f"sync / {label}: wall {sync['chunks_per_s'] / raw['chunks_per_s']:.2f}, "
          f"cpu {sync['chunks_per_cpu_s'] / raw['chunks_per_cpu_s']:.2f}")
PY
