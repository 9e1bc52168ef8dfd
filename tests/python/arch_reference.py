#!/usr/bin/python3
"""Reference outputs, gradients and training trajectories of tiny encoder, decoder and
encoder_decoder backbones.

An independent float64 implementation in plain PyTorch functions (Debian's python3-torch), not
sharing code with sslx. Every parameter is set by formula from its name's rank among the sorted
names, so the C++ tests (tests/arch/test_reference_values.cpp) set the same weights without a
weight file. Writes, per model: its parameters (name and shape: the key set the C++ model must
have), the hidden states of a fixed batch, and for a fixed loss on them (a frozen output
projection by formula, cross-entropy against fixed labels at the real positions) the loss, the
gradient of every parameter, the losses of 10 AdamW steps (weight decay on matrices but not on
embedding tables, gradients clipped to norm 1) and every parameter after them.

Run: /usr/bin/python3 tests/python/arch_reference.py > tests/python/arch_reference.txt
"""
import math
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from t5_relative_buckets import bucket  # noqa: E402  (the float64 NumPy reimplementation)

torch.set_default_dtype(torch.float64)
V, E, F, P, H, G, L, B, T = 11, 8, 16, 16, 2, 1, 2, 2, 5
D = E // H
NEG_INF = float("-inf")


def formula(rank, shape):
    """The value of parameter number `rank` (in sorted name order): 0.3 sin(0.9 i + 0.5 rank + 0.1)."""
    n = math.prod(shape)
    return (0.3 * torch.sin(0.9 * torch.arange(n) + 0.5 * rank + 0.1)).reshape(shape)


def tokens(batch, length, shift):
    return torch.tensor([[(3 * b + 5 * t + shift) % V for t in range(length)] for b in range(batch)])


# ---- layers -------------------------------------------------------------------------------------
def layer_norm(x, p, name, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * p[name + ".weight"] + p[name + ".bias"]


def rms_norm(x, p, name, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * p[name + ".weight"]


def linear(x, p, name, bias):
    y = x @ p[name + ".weight"].T
    return y + p[name + ".bias"] if bias else y


def rotate(x, positions):
    """Rotary, rotate-half layout: channel i paired with i + D/2, angle pos * 10000^(-2i/D)."""
    half = x.shape[-1] // 2
    inv = 10000.0 ** (-2.0 * torch.arange(half) / x.shape[-1])
    angle = positions[:, None].double() * inv[None, :]  # (T, D/2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)


def attention(xq, xkv, p, name, cfg, allowed, bias=None, rotary=False):
    """allowed: (B, T, S) bool. Heads: H queries, G keys/values; query head h reads h // (H/G)."""
    b, t, s = xq.shape[0], xq.shape[1], xkv.shape[1]
    q = linear(xq, p, name + ".q_proj", cfg["bias"]).view(b, t, H, D).transpose(1, 2)
    k = linear(xkv, p, name + ".k_proj", cfg["bias"]).view(b, s, G, D).transpose(1, 2)
    v = linear(xkv, p, name + ".v_proj", cfg["bias"]).view(b, s, G, D).transpose(1, 2)
    if rotary:
        q, k = rotate(q, torch.arange(t)), rotate(k, torch.arange(s))
    k = torch.stack([k[:, h // (H // G)] for h in range(H)], 1)
    v = torch.stack([v[:, h // (H // G)] for h in range(H)], 1)
    scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(D) if cfg["scale"] else 1.0)
    if bias is not None:
        scores = scores + bias
    scores = scores.masked_fill(~allowed[:, None], NEG_INF)
    has_key = allowed.any(-1)[:, None, :, None]
    probs = torch.softmax(torch.where(has_key, scores, torch.zeros_like(scores)), -1) * has_key
    out = (probs @ v).transpose(1, 2).reshape(b, t, E)
    return linear(out, p, name + ".out_proj", cfg["bias"])


ACT = {
    "gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "relu": lambda x: torch.clamp(x, min=0.0),
    "silu": lambda x: x / (1.0 + torch.exp(-x)),
}


def feed_forward(x, p, name, cfg):
    act, gated = cfg["activation"]
    if gated:
        h = ACT[act](linear(x, p, name + ".gate_proj", cfg["bias"])) * linear(x, p, name + ".in_proj", cfg["bias"])
    else:
        h = ACT[act](linear(x, p, name + ".in_proj", cfg["bias"]))
    return linear(h, p, name + ".out_proj", cfg["bias"])


def norm(x, p, name, cfg):
    if cfg["norm"] == "layer_norm":
        return layer_norm(x, p, name, cfg["eps"])
    return rms_norm(x, p, name, cfg["eps"])


def block(x, p, name, cfg, allowed, bias=None, memory=None, memory_allowed=None):
    def sub(h, norm_name, f):
        if cfg["pre"]:
            return h + f(norm(h, p, norm_name, cfg))
        return norm(h + f(h), p, norm_name, cfg)

    h = sub(x, name + ".self_attn_norm",
            lambda y: attention(y, y, p, name + ".self_attn", cfg, allowed, bias, cfg["positions"] == "rotary"))
    if memory is not None:
        h = sub(h, name + ".cross_attn_norm",
                lambda y: attention(y, memory, p, name + ".cross_attn", cfg, memory_allowed))
    return sub(h, name + ".ff_norm", lambda y: feed_forward(y, p, name + ".ff", cfg))


def relative_bias(p, name, t, s, bidirectional):
    rel = torch.arange(s)[None, :] - torch.arange(t)[:, None]
    buckets = torch.from_numpy(bucket(rel.numpy(), bidirectional, 8, 16))
    return p[name][buckets].permute(2, 0, 1)[None]  # (1, H, T, S)


def stack(x, p, name, cfg, allowed, causal, memory=None, memory_allowed=None):
    bias = None
    if cfg["positions"] == "relative":
        bias = relative_bias(p, name + ".relative_bias.weight", x.shape[1], x.shape[1], not causal)
    for i in range(L):
        x = block(x, p, f"{name}.layers.{i}", cfg, allowed, bias, memory, memory_allowed)
    return norm(x, p, name + ".final_norm", cfg) if cfg["pre"] else x


def embed(ids, p, cfg, token_types=None):
    x = p["embeddings.tokens.weight"][ids]
    if cfg["positions"] == "learned":
        x = x + p["embeddings.positions.weight"][torch.arange(ids.shape[1])]
    if cfg["token_types"]:
        x = x + p["embeddings.token_types.weight"][token_types]
    if not cfg["pre"]:
        x = norm(x, p, "embeddings.norm", cfg)
    return x


# ---- parameters ---------------------------------------------------------------------------------
def parameter_shapes(cfg, stacks):
    shapes = {"embeddings.tokens.weight": (V, E)}
    if cfg["positions"] == "learned":
        shapes["embeddings.positions.weight"] = (P, E)
    if cfg["token_types"]:
        shapes["embeddings.token_types.weight"] = (cfg["token_types"], E)

    def add_norm(name):
        shapes[name + ".weight"] = (E,)
        if cfg["norm"] == "layer_norm" and cfg["bias"]:
            shapes[name + ".bias"] = (E,)

    def add_linear(name, n_in, n_out):
        shapes[name + ".weight"] = (n_out, n_in)
        if cfg["bias"]:
            shapes[name + ".bias"] = (n_out,)

    def add_attention(name):
        add_linear(name + ".q_proj", E, E)
        add_linear(name + ".k_proj", E, G * D)
        add_linear(name + ".v_proj", E, G * D)
        add_linear(name + ".out_proj", E, E)

    if not cfg["pre"]:
        add_norm("embeddings.norm")
    for stack_name, cross in stacks:
        for i in range(L):
            layer = f"{stack_name}.layers.{i}"
            add_attention(layer + ".self_attn")
            add_norm(layer + ".self_attn_norm")
            if cross:
                add_attention(layer + ".cross_attn")
                add_norm(layer + ".cross_attn_norm")
            add_linear(layer + ".ff.in_proj", E, F)
            if cfg["activation"][1]:
                add_linear(layer + ".ff.gate_proj", E, F)
            add_linear(layer + ".ff.out_proj", F, E)
            add_norm(layer + ".ff_norm")
        if cfg["positions"] == "relative":
            shapes[stack_name + ".relative_bias.weight"] = (8, H)
        if cfg["pre"]:
            add_norm(stack_name + ".final_norm")
    return {name: formula(rank, shapes[name]) for rank, name in enumerate(sorted(shapes))}


# ---- the three models ---------------------------------------------------------------------------
BERT = dict(norm="layer_norm", eps=1e-12, pre=False, bias=True, scale=True, positions="learned",
            activation=("gelu", False), token_types=2)
LLAMA = dict(norm="rms_norm", eps=1e-6, pre=True, bias=False, scale=True, positions="rotary",
             activation=("silu", True), token_types=0)
T5 = dict(norm="rms_norm", eps=1e-6, pre=True, bias=False, scale=False, positions="relative",
          activation=("relu", False), token_types=0)


def key_valid():
    valid = torch.ones(B, T, dtype=torch.bool)
    valid[1, T - 2:] = False
    return valid


GPT2 = dict(norm="layer_norm", eps=1e-5, pre=True, bias=True, scale=True, positions="learned",
            activation=("gelu", False), token_types=0)


def causal(length):
    return torch.tril(torch.ones(length, length, dtype=torch.bool))[None].expand(B, length, length)


# Each model: its parameters, hidden(p) for the fixed batch, the labels of the loss and where
# they count (padded encoder positions do not).
def encoder_model():
    p = parameter_shapes(BERT, [("stack", False)])
    ids, valid = tokens(B, T, 1), key_valid()
    types = torch.tensor([[0, 0, 1, 1, 1], [0, 1, 1, 1, 1]])
    allowed = valid[:, None, :].expand(B, T, T)
    return p, lambda p: stack(embed(ids, p, BERT, types), p, "stack", BERT, allowed, causal=False), valid


def decoder_model(cfg, shift):
    p = parameter_shapes(cfg, [("stack", False)])
    ids = tokens(B, T, shift)
    return p, lambda p: stack(embed(ids, p, cfg), p, "stack", cfg, causal(T), causal=True), \
        torch.ones(B, T, dtype=torch.bool)


def encoder_decoder_model():
    p = parameter_shapes(T5, [("encoder", False), ("decoder", True)])
    source, target, valid = tokens(B, T, 3), tokens(B, T - 1, 4), key_valid()
    U = T - 1

    def hidden(p):
        memory = stack(embed(source, p, T5), p, "encoder", T5, valid[:, None, :].expand(B, T, T),
                       causal=False)
        return stack(embed(target, p, T5), p, "decoder", T5, causal(U), causal=True, memory=memory,
                     memory_allowed=valid[:, None, :].expand(B, U, T))

    return p, hidden, torch.ones(B, U, dtype=torch.bool)


MODELS = {
    "encoder": encoder_model,
    "decoder": lambda: decoder_model(LLAMA, 2),
    "decoder_gpt2": lambda: decoder_model(GPT2, 5),
    "encoder_decoder": encoder_decoder_model,
}


# ---- the loss and training ----------------------------------------------------------------------
LR, BETAS, ADAM_EPS, WEIGHT_DECAY, MAX_NORM, STEPS = 1e-2, (0.9, 0.95), 1e-8, 0.1, 1.0, 10


def loss_of(hidden, counted):
    """Mean cross-entropy of hidden @ W^T against labels (b, t) -> (3 b + 5 t + 7) mod V at the
    counted positions; W (V, E) = 0.3 cos(0.7 i + 0.2), frozen."""
    head = (0.3 * torch.cos(0.7 * torch.arange(V * E) + 0.2)).reshape(V, E)
    logits = hidden @ head.T
    labels = tokens(hidden.shape[0], hidden.shape[1], 7)
    nll = torch.logsumexp(logits, -1) - logits.gather(-1, labels[..., None])[..., 0]
    return (nll * counted).sum() / counted.sum()


def is_embedding_table(name):
    """Lookup tables (token, position, token-type embeddings, relative-position buckets): not
    decayed, as matrices of linear layers are."""
    return name.startswith("embeddings.") and not name.startswith("embeddings.norm") \
        or name.endswith("relative_bias.weight")


def train(p, hidden, counted):
    """STEPS AdamW steps; returns the loss before each step."""
    for value in p.values():
        value.requires_grad_(True)
    decay = [n for n in p if p[n].dim() >= 2 and not is_embedding_table(n)]
    rest = [n for n in p if n not in decay]
    optimizer = torch.optim.AdamW(
        [{"params": [p[n] for n in decay], "weight_decay": WEIGHT_DECAY},
         {"params": [p[n] for n in rest], "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=ADAM_EPS)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_of(hidden(p), counted)
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), MAX_NORM)
        optimizer.step()
    return losses


def numbers(tensor):
    return " ".join(f"{x:.17g}" for x in tensor.flatten().tolist())


def main():
    print(f"# tests/python/arch_reference.py: V {V}, E {E}, F {F}, P {P}, H {H}, G {G}, L {L}, B {B}, T {T}")
    for name, model in MODELS.items():
        params, hidden, counted = model()
        print("model", name, len(params))
        for key, value in params.items():
            print("param", key, *value.shape)
        out = hidden(params)
        print("hidden", *out.shape)
        print(numbers(out))
        for value in params.values():
            value.requires_grad_(True)
        loss = loss_of(hidden(params), counted)
        grads = torch.autograd.grad(loss, list(params.values()))
        print("loss", f"{loss.item():.17g}")
        for key, grad in zip(params, grads):
            print("grad", key)
            print(numbers(grad))
        print("trajectory", " ".join(f"{x:.17g}" for x in train(params, hidden, counted)))
        for key, value in params.items():
            print("trained", key)
            print(numbers(value.detach()))


if __name__ == "__main__":
    main()
