#!/usr/bin/env python3
"""Writes an ONNX graph of a sentence-transformers BERT model (as transformers' BertModel exports
it: MatMul/Add/LayerNormalization/Erf-GELU/Softmax attention with an additive mask) straight from
model.safetensors and config.json, with the `onnx` package. No PyTorch needed.

usage: export_onnx.py MODEL_DIR OUT.onnx [FUSED_OUT.onnx]
"""
import json
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

model_dir, out = sys.argv[1], sys.argv[2]
config = json.load(open(f"{model_dir}/config.json"))
H, L, heads = config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]
eps = config.get("layer_norm_eps", 1e-12)
d = H // heads

raw = open(f"{model_dir}/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8 : 8 + n])
base = 8 + n


def weight(name):
    info = header.get(name) or header["bert." + name]
    begin, end = info["data_offsets"]
    return np.frombuffer(raw[base + begin : base + end], dtype=np.float32).reshape(info["shape"])


nodes, inits = [], []
counter = [0]


def init(name, array):
    inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
    return name


def node(op, inputs, **attrs):
    counter[0] += 1
    name = f"{op}_{counter[0]}"
    nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
    return name


def linear(x, prefix):
    return node("Add", [node("MatMul", [x, init(prefix + ".wT", weight(prefix + ".weight").T)]), init(prefix + ".b", weight(prefix + ".bias"))])


def layer_norm(x, prefix):
    return node("LayerNormalization", [x, init(prefix + ".g", weight(prefix + ".weight")), init(prefix + ".b", weight(prefix + ".bias"))], axis=-1, epsilon=eps)


init("shape_heads", np.array([0, 0, heads, d], dtype=np.int64))
init("shape_hidden", np.array([0, 0, H], dtype=np.int64))
init("one", np.array(1.0, dtype=np.float32))
init("half", np.array(0.5, dtype=np.float32))
init("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
init("sqrtd", np.array(np.sqrt(d), dtype=np.float32))
init("neg", np.array(-10000.0, dtype=np.float32))
init("axes12", np.array([1, 2], dtype=np.int64))
init("axis1", np.array([1], dtype=np.int64))

# Embeddings: word + position + token type 0, LayerNorm.
words = node("Gather", [init("word_embeddings", weight("embeddings.word_embeddings.weight")), "input_ids"], axis=0)
seq = node("Shape", ["input_ids"], start=1, end=2)
zero = init("zero_1d", np.array([0], dtype=np.int64))
pos = node("Slice", [init("position_embeddings", weight("embeddings.position_embeddings.weight")), zero, seq, zero])
x = node("Add", [node("Add", [words, pos]), init("type0", weight("embeddings.token_type_embeddings.weight")[0])])
x = layer_norm(x, "embeddings.LayerNorm")

# Additive attention mask [B, 1, 1, S]: (1 - mask) * -10000.
# (the order transformers exports, which ONNX Runtime's attention fusion recognises)
init("axis1_", np.array([1], dtype=np.int64))
init("axis2_", np.array([2], dtype=np.int64))
mask4 = node("Unsqueeze", [node("Unsqueeze", ["attention_mask", "axis1_"]), "axis2_"])
mask_bias = node("Mul", [node("Sub", ["one", node("Cast", [mask4], to=TensorProto.FLOAT)]), "neg"])
maskf = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)

for i in range(L):
    p = f"encoder.layer.{i}."
    def heads_view(t, perm):
        return node("Transpose", [node("Reshape", [t, "shape_heads"])], perm=perm)
    q = heads_view(linear(x, p + "attention.self.query"), [0, 2, 1, 3])
    k = heads_view(linear(x, p + "attention.self.key"), [0, 2, 3, 1])
    v = heads_view(linear(x, p + "attention.self.value"), [0, 2, 1, 3])
    scores = node("Add", [node("Div", [node("MatMul", [q, k]), "sqrtd"]), mask_bias])
    probs = node("Softmax", [scores], axis=-1)
    ctx = node("Reshape", [node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3]), "shape_hidden"])
    x = layer_norm(node("Add", [linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
    inter = linear(x, p + "intermediate.dense")
    gelu = node("Mul", [node("Mul", [inter, "half"]), node("Add", [node("Erf", [node("Div", [inter, "sqrt2"])]), "one"])])
    x = layer_norm(node("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")

# Mean pooling over the mask, then L2 normalisation.
mask3 = node("Unsqueeze", [maskf, init("axis2", np.array([2], dtype=np.int64))])
summed = node("ReduceSum", [node("Mul", [x, mask3]), "axis1"], keepdims=0)
count = node("ReduceSum", [mask3, "axis1"], keepdims=0)
pooled = node("Div", [summed, count])
nodes.append(helper.make_node("LpNormalization", [pooled], ["sentence_embedding"], axis=-1, p=2))

graph = helper.make_graph(
    nodes, "minilm",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
     helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
    [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", H])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out)
if len(sys.argv) > 3:
    # Also the graph ONNX Runtime's transformer optimizer makes of it (fused Attention, BiasGelu,
    # SkipLayerNormalization), the fastest CPU form ONNX Runtime offers.
    from onnxruntime.transformers import optimizer
    fused = optimizer.optimize_model(out, model_type="bert", num_heads=heads, hidden_size=H, opt_level=0)
    print(fused.get_fused_operator_statistics())
    fused.save_model_to_file(sys.argv[3])
print(f"wrote {out}")
