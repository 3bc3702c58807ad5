#!/usr/bin/env bash
# Embedding throughput: our Swift forward pass against ONNX Runtime on the same model, batches of
# 32 texts of 128 and of 256 tokens, measured alternately in one run. "swift" is the default
# (bfloat16 linear layers where the CPU has AVX512_BF16); "swift-float32", printed on such a CPU,
# is the float32 path (OpenBLAS sgemm for every product).
#
#   scripts/bench/embedding/run.sh [ROUNDS]      (default 2 rounds; numbers are chunks/s)
#   THREADS="1" GIT_RAG_BENCH_SECONDS=5 scripts/bench/embedding/run.sh 1
#
# Prints chunks per second, per CPU second (robust on a busy machine) and of the best (least
# disturbed) batch, for our forward pass, ONNX Runtime and ONNX Runtime on the fused graph, then
# the ratios ours / best ONNX Runtime per length.
#
# ONNX Runtime lives in a throwaway venv outside the repository ($BENCH_VENV, default
# /tmp/bench-venv); the ONNX graph is written from model.safetensors by export_onnx.py.
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds="${1:-2}"
venv="${BENCH_VENV:-/tmp/bench-venv}"
model="${GIT_RAG_MODEL_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/git-rag/models/all-MiniLM-L6-v2}"
seconds="${GIT_RAG_BENCH_SECONDS:-8}"
threads="${THREADS:-1 2}"  # thread counts to compare, the same for both sides

[ -f "$model/model.safetensors" ] || { echo "run.sh: no model at $model (scripts/install-model)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q --disable-pip-version-check onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6
"$venv/bin/pip" install -q --disable-pip-version-check sympy==1.14.0  # for ONNX Runtime's transformer optimizer
onnx="$venv/all-MiniLM-L6-v2.onnx"
fused="$venv/all-MiniLM-L6-v2.fused.onnx"
[ -f "$fused" ] || "$venv/bin/python" scripts/bench/embedding/export_onnx.py "$model" "$onnx" "$fused" 2>&1 | grep -v MergeShape

# -enable-testing: some test targets use @testable import, which a release test build refuses otherwise.
# SWIFT_FLAGS: extra build flags for an experiment (a --scratch-path keeps it apart from .build).
# shellcheck disable=SC2086
swift build -c release --build-tests -Xswiftc -enable-testing ${SWIFT_FLAGS:-} 2>&1 | grep -E "error|warning: " || true
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for round in $(seq 1 "$rounds"); do
  echo "# round $round"
  GIT_RAG_BENCH=1 GIT_RAG_BENCH_SECONDS="$seconds" GIT_RAG_BENCH_THREADS="$threads" GIT_RAG_MODEL_PATH="$model" \
    swift test -c release --skip-build ${SWIFT_FLAGS:-} --filter LocalEmbeddingBenchmark 2>&1 | grep -E '^(swift|swift-float32) ' | tee -a "$log" || { echo "swift benchmark failed" >&2; exit 1; }
  for graph in "ort:$onnx" "ort-fused:$fused"; do
    # shellcheck disable=SC2086
    "$venv/bin/python" scripts/bench/embedding/bench_ort.py "${graph#*:}" Tests/EmbeddingTests/Fixtures/st_ref.json \
      --label "${graph%%:*}" --seconds "$seconds" --threads $threads 2>&1 | grep -E '^ort' | tee -a "$log"
  done
done
python3 - "$log" <<'PY'
import collections, re, sys
runs = collections.defaultdict(list)  # (label, threads, seq) -> [{metric: value}]
for line in open(sys.argv[1]):
    fields = dict(re.findall(r"(\w+)=([\d.]+)", line))
    if "seq" in fields and "chunks_per_s" in fields:
        runs[(line.split()[0], fields["threads"], fields["seq"])].append({k: float(v) for k, v in fields.items()})
print("# ours / best ONNX Runtime, per round (chunks/s, chunks/CPU-s, best batch)")
for (label, threads, seq), ours in sorted(runs.items()):
    if not label.startswith("swift"):
        continue
    for index, mine in enumerate(ours):
        others = [runs[(l, threads, seq)][index] for l in ("ort", "ort-fused") if len(runs[(l, threads, seq)]) > index]
        if not others:
            continue
        ratios = [mine[m] / max(o[m] for o in others) for m in ("chunks_per_s", "chunks_per_cpu_s", "best_run_chunks_per_s")]
        print(f"ratio {label} threads={threads} seq={seq} round={index + 1} wall={ratios[0]:.2f} cpu={ratios[1]:.2f} best={ratios[2]:.2f}")
PY
