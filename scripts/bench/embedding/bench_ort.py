#!/usr/bin/env python3
"""ONNX Runtime side of the embedding benchmark: chunks/s of the exported graph on batches of
BATCH texts of SEQ tokens (random ids, all-ones mask), after checking the graph against the
sentence-transformers reference vectors.

usage: bench_ort.py MODEL.onnx ST_REF.json --batch 32 --lengths 128 256 --threads 1 [--optimize]
Prints one line per (threads, length): "LABEL threads=T seq=S chunks_per_s=X chunks_per_cpu_s=Y
best_run_chunks_per_s=Z" (chunks per CPU second: comparable between runs on a busy machine, for one
thread; the best run: the least disturbed batch).
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("reference")
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--lengths", type=int, nargs="+", default=[128, 256])
parser.add_argument("--threads", type=int, nargs="+", default=[1])
parser.add_argument("--seconds", type=float, default=8.0)
parser.add_argument("--label", default="ort")
args = parser.parse_args()

ref = json.load(open(args.reference))
for threads in args.threads:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    # Correctness first: the reference sentences, one at a time (no padding).
    worst = 1.0
    for ids, expected in zip(ref["token_ids"], ref["embeddings"]):
        ids = np.array([ids], dtype=np.int64)
        vec = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        e = np.array(expected, dtype=np.float32)
        worst = min(worst, float(vec @ e / np.linalg.norm(vec) / np.linalg.norm(e)))
    print(f"{args.label} threads={threads} min_cosine_vs_reference={worst:.6f}", flush=True)
    rng = np.random.default_rng(0)
    for seq in args.lengths:
        ids = rng.integers(1000, 30000, size=(args.batch, seq), dtype=np.int64)
        ids[:, 0], ids[:, -1] = 101, 102
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        session.run(None, feed)
        runs, best, start, cpu_start = 0, float("inf"), time.perf_counter(), time.process_time()
        while time.perf_counter() - start < args.seconds or runs < 2:
            run_start = time.perf_counter()
            session.run(None, feed)
            best = min(best, time.perf_counter() - run_start)
            runs += 1
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(f"{args.label} threads={threads} seq={seq} chunks_per_s={runs * args.batch / elapsed:.2f}"
              f" chunks_per_cpu_s={runs * args.batch / cpu:.2f} best_run_chunks_per_s={args.batch / best:.2f}", flush=True)
