#!/usr/bin/python3
"""An independent reader and forward pass of exported Hugging Face model directories.

Reads DIR/config.json and DIR/model.safetensors with its own safetensors parser (the format's
specification: u64 little-endian header length, JSON header, raw little-endian tensors) and runs
the family's forward pass in float64 NumPy, written from the published architectures and the
equations of transformers' modelling code (GPT-2: Conv1D weights (in, out), fused c_attn, tanh
GELU; Llama: RMSNorm, rotate_half rotary, grouped key/value heads, SwiGLU; T5: RMSNorm without
mean, unscaled scores, bucketed relative bias from each stack's first block, d_model^-1/2 before
a tied head; BERT: word + position + token-type embeddings and LayerNorm, post-norm blocks, the
masked-LM head's dense + activation + LayerNorm transform and output bias; a sequence classifier
or reward model (...ForSequenceClassification): GPT-2's and Llama's `score` read at the last
token, BERT's pooler (dense + tanh on the first token) and `classifier`).
DIR/reference.safetensors holds the inputs and sslx's logits (a classifier's (B, K), a reward
model's scores (B, 1)); prints the largest difference
and exits 0 when it is within 1e-5, 1 otherwise.

    hf_reference_forward.py DIR [--negative-control]

--negative-control breaks one convention of the family (GPT-2's Conv1D read as a Linear, Llama's
rotation on interleaved pairs, T5's scores scaled by 1/sqrt(d_kv), BERT's blocks made pre-norm):
the result must then differ.
Needs only NumPy (Debian's python3-numpy).
"""
import json
import math
import struct
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from t5_relative_buckets import bucket  # noqa: E402

TOLERANCE = 1e-5
DTYPES = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4", "BF16": "bf16"}


def read_safetensors(path):
    with open(path, "rb") as file:
        data = file.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length].decode("utf-8"))
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = body[begin:end]
        if entry["dtype"] == "BF16":  # the high half of a float32
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=DTYPES[entry["dtype"]])
        tensors[name] = array.reshape(entry["shape"]).astype(
            np.float64 if array.dtype.kind == "f" else np.int64)
    return tensors


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def rms_norm(x, weight, eps):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * weight


def gelu_exact(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


ACTIVATIONS = {"gelu": gelu_exact, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh,
               "relu": lambda x: np.maximum(x, 0.0), "silu": silu}


def heads(x, n):  # (B, T, n D) -> (B, n, T, D)
    b, t, e = x.shape
    return x.reshape(b, t, n, e // n).transpose(0, 2, 1, 3)


def merge(x):  # (B, n, T, D) -> (B, T, n D)
    b, n, t, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, n * d)


def attend(q, k, v, scale, bias=None, causal=False):
    scores = q @ k.transpose(0, 1, 3, 2) * scale
    if bias is not None:
        scores = scores + bias
    if causal:
        t, s = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((t, s), dtype=bool)), scores, -np.inf)
    return softmax(scores) @ v


def gpt2(c, w, ids, broken):
    def conv1d(x, name):  # Conv1D: x @ W (in, out) + b
        weight = w[name + ".weight"]
        return x @ (weight.T if broken and weight.shape[0] == weight.shape[1] else weight) + w[name + ".bias"]

    p = "transformer."
    eps, n_head = c["layer_norm_epsilon"], c["n_head"]
    act = ACTIVATIONS[c["activation_function"]]
    t = ids.shape[1]
    h = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][np.arange(t)]
    for i in range(c["n_layer"]):
        b = f"{p}h.{i}."
        a = layer_norm(h, w[b + "ln_1.weight"], w[b + "ln_1.bias"], eps)
        q, k, v = np.split(conv1d(a, b + "attn.c_attn"), 3, axis=-1)
        d = q.shape[-1] // n_head
        o = attend(heads(q, n_head), heads(k, n_head), heads(v, n_head), 1 / math.sqrt(d), causal=True)
        h = h + conv1d(merge(o), b + "attn.c_proj")
        m = layer_norm(h, w[b + "ln_2.weight"], w[b + "ln_2.bias"], eps)
        h = h + conv1d(act(conv1d(m, b + "mlp.c_fc")), b + "mlp.c_proj")
    h = layer_norm(h, w[p + "ln_f.weight"], w[p + "ln_f.bias"], eps)
    if "score.weight" in w:  # GPT2ForSequenceClassification: the last token (no padding here)
        return h[:, -1] @ w["score.weight"].T
    head = w[p + "wte.weight"] if c.get("tie_word_embeddings", True) else w["lm_head.weight"]
    return h @ head.T


def rotate(x, positions, theta, broken):
    d = x.shape[-1]
    inv_freq = 1.0 / theta ** (np.arange(0, d, 2) / d)
    freqs = np.outer(positions, inv_freq)  # (T, D/2)
    if broken:  # GPT-NeoX / Meta's interleaved pairs (x0, x1), (x2, x3), ...
        cos, sin = np.cos(freqs), np.sin(freqs)
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = odd * cos + even * sin
        return out
    emb = np.concatenate([freqs, freqs], axis=-1)  # transformers' rotate_half convention
    rotated = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], axis=-1)
    return x * np.cos(emb) + rotated * np.sin(emb)


def llama(c, w, ids, broken):
    eps, n, g = c["rms_norm_eps"], c["num_attention_heads"], c["num_key_value_heads"]
    theta = c.get("rope_theta", 10000.0)
    t = ids.shape[1]
    positions = np.arange(t)
    h = w["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        b = f"model.layers.{i}."
        a = rms_norm(h, w[b + "input_layernorm.weight"], eps)
        q = heads(a @ w[b + "self_attn.q_proj.weight"].T, n)
        k = heads(a @ w[b + "self_attn.k_proj.weight"].T, g)
        v = heads(a @ w[b + "self_attn.v_proj.weight"].T, g)
        q, k = rotate(q, positions, theta, broken), rotate(k, positions, theta, broken)
        k, v = np.repeat(k, n // g, axis=1), np.repeat(v, n // g, axis=1)  # transformers' repeat_kv
        o = attend(q, k, v, 1 / math.sqrt(q.shape[-1]), causal=True)
        h = h + merge(o) @ w[b + "self_attn.o_proj.weight"].T
        m = rms_norm(h, w[b + "post_attention_layernorm.weight"], eps)
        gate = silu(m @ w[b + "mlp.gate_proj.weight"].T)
        h = h + (gate * (m @ w[b + "mlp.up_proj.weight"].T)) @ w[b + "mlp.down_proj.weight"].T
    h = rms_norm(h, w["model.norm.weight"], eps)
    if "score.weight" in w:  # LlamaForSequenceClassification: the last token (no padding here)
        return h[:, -1] @ w["score.weight"].T
    head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return h @ head.T


def t5(c, w, ids, decoder_ids, broken):
    eps, n = c["layer_norm_epsilon"], c["num_heads"]
    buckets, distance = c["relative_attention_num_buckets"], c["relative_attention_max_distance"]
    scale = 1 / math.sqrt(c["d_kv"]) if broken else 1.0
    proj = c["feed_forward_proj"]
    gated = proj.startswith("gated-")
    act = ACTIVATIONS[proj.split("-")[-1]]

    def position_bias(stack, t, s, bidirectional):
        table = w[f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        relative = np.arange(s)[None, :] - np.arange(t)[:, None]  # memory - context
        return table[bucket(relative, bidirectional, buckets, distance)].transpose(2, 0, 1)[None]

    def attention(x, memory, prefix, bias, causal):
        q = heads(x @ w[prefix + "q.weight"].T, n)
        k = heads(memory @ w[prefix + "k.weight"].T, n)
        v = heads(memory @ w[prefix + "v.weight"].T, n)
        return merge(attend(q, k, v, scale, bias, causal)) @ w[prefix + "o.weight"].T

    def feed_forward(x, prefix):
        if gated:
            hidden = act(x @ w[prefix + "wi_0.weight"].T) * (x @ w[prefix + "wi_1.weight"].T)
        else:
            hidden = act(x @ w[prefix + "wi.weight"].T)
        return hidden @ w[prefix + "wo.weight"].T

    h = w["shared.weight"][ids]
    bias = position_bias("encoder", ids.shape[1], ids.shape[1], True)
    for i in range(c["num_layers"]):
        b = f"encoder.block.{i}.layer."
        a = rms_norm(h, w[b + "0.layer_norm.weight"], eps)
        h = h + attention(a, a, b + "0.SelfAttention.", bias, False)
        h = h + feed_forward(rms_norm(h, w[b + "1.layer_norm.weight"], eps), b + "1.DenseReluDense.")
    memory = rms_norm(h, w["encoder.final_layer_norm.weight"], eps)

    g = w["shared.weight"][decoder_ids]
    bias = position_bias("decoder", decoder_ids.shape[1], decoder_ids.shape[1], False)
    for i in range(c["num_decoder_layers"]):
        b = f"decoder.block.{i}.layer."
        a = rms_norm(g, w[b + "0.layer_norm.weight"], eps)
        g = g + attention(a, a, b + "0.SelfAttention.", bias, True)
        a = rms_norm(g, w[b + "1.layer_norm.weight"], eps)
        g = g + attention(a, memory, b + "1.EncDecAttention.", None, False)
        g = g + feed_forward(rms_norm(g, w[b + "2.layer_norm.weight"], eps), b + "2.DenseReluDense.")
    g = rms_norm(g, w["decoder.final_layer_norm.weight"], eps)
    if c.get("tie_word_embeddings", True):
        return (g * c["d_model"] ** -0.5) @ w["shared.weight"].T
    return g @ w["lm_head.weight"].T


def bert(c, w, ids, broken):
    eps, n_head = c["layer_norm_eps"], c["num_attention_heads"]
    act = ACTIVATIONS[c["hidden_act"]]

    def linear(x, name):  # nn.Linear: x @ W.T + b, W (out, in)
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    def norm(x, name):
        return layer_norm(x, w[name + ".weight"], w[name + ".bias"], eps)

    e = "bert.embeddings."
    t = ids.shape[1]
    h = (w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][np.arange(t)] +
         w[e + "token_type_embeddings.weight"][np.zeros_like(ids)])  # token_type_ids default 0
    h = norm(h, e + "LayerNorm")
    for i in range(c["num_hidden_layers"]):
        b = f"bert.encoder.layer.{i}."

        def attention_block(x):
            q, k, v = (heads(linear(x, b + "attention.self." + n), n_head)
                       for n in ("query", "key", "value"))
            o = attend(q, k, v, 1 / math.sqrt(q.shape[-1]))  # bidirectional, no mask
            return linear(merge(o), b + "attention.output.dense")

        def feed_forward(x):
            return linear(act(linear(x, b + "intermediate.dense")), b + "output.dense")

        if broken:  # pre-norm: the norm before each sub-layer instead of after the residual sum
            h = h + attention_block(norm(h, b + "attention.output.LayerNorm"))
            h = h + feed_forward(norm(h, b + "output.LayerNorm"))
        else:
            h = norm(h + attention_block(h), b + "attention.output.LayerNorm")
            h = norm(h + feed_forward(h), b + "output.LayerNorm")
    if "classifier.weight" in w:  # BertForSequenceClassification: [CLS] through the pooler
        return linear(np.tanh(linear(h[:, 0], "bert.pooler.dense")), "classifier")
    p = "cls.predictions."
    x = norm(act(linear(h, p + "transform.dense")), p + "transform.LayerNorm")
    tied = c.get("tie_word_embeddings", True)
    head = w[e + "word_embeddings.weight"] if tied else w[p + "decoder.weight"]
    return x @ head.T + w[p + "bias"]


def main():
    directory = sys.argv[1]
    broken = "--negative-control" in sys.argv[2:]
    with open(f"{directory}/config.json", encoding="utf-8") as file:
        config = json.load(file)
    weights = read_safetensors(f"{directory}/model.safetensors")
    reference = read_safetensors(f"{directory}/reference.safetensors")
    ids = reference["input_ids"]
    family = config["model_type"]
    if family == "gpt2":
        logits = gpt2(config, weights, ids, broken)
    elif family == "llama":
        logits = llama(config, weights, ids, broken)
    elif family == "t5":
        logits = t5(config, weights, ids, reference["decoder_input_ids"], broken)
    elif family == "bert":
        logits = bert(config, weights, ids, broken)
    else:
        print(f"unknown model_type {family}")
        return 2
    expected = reference["logits"]
    if logits.shape != expected.shape:
        print(f"{family}: MISMATCH in shape: {logits.shape} here, {expected.shape} from sslx")
        return 1
    error = float(np.abs(logits - expected).max())
    verdict = "ok" if error <= TOLERANCE else "MISMATCH"
    print(f"{family}: max abs error {error:.3g} (logits up to {np.abs(logits).max():.3g}, "
          f"tolerance {TOLERANCE:g}): {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
