"""The baseline for bench_rollout: generation from the same small decoder in PyTorch eager.

The model is bench/pytorch_baseline.py's decoder (E 256, L 4, vocabulary 8192, fp32). Prompts of
32 tokens, 64 new tokens, temperature 1, no EOS, batch 1 and 16 (all four can be set, for
bench/run_policy_steps.sh), two loops: with a KV cache
(keys and values of every layer kept and extended by one position per step) and re-running the
whole forward pass per new token. Checks first that greedy decoding agrees between the two, then
prints one JSON object with new tokens/s for each loop and batch.
Run with the system Python 3 (Debian's python3-torch): /usr/bin/python3.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

import pytorch_baseline as base

PROMPT, NEW = 32, 64


def block_step(block, x, cache):
    """One block over new positions x (B, T, E), appending to cache = [keys, values] or []."""
    B, T, E = x.shape
    D = E // base.N_HEADS
    q, k, v = block.qkv(block.attn_norm(x)).split(E, dim=2)
    q, k, v = (t.view(B, T, base.N_HEADS, D).transpose(1, 2) for t in (q, k, v))
    if cache:
        k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
    cache[:] = [k, v]
    S = k.size(2)
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
    causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
    scores = scores.masked_fill(~causal, float("-inf"))
    y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, E)
    x = x + block.out(y)
    return x + block.ff_out(F.gelu(block.ff_in(block.ff_norm(x))))


def logits(model, tokens, start, caches):
    """Logits (B, V) of the last of `tokens` (B, T) at positions start .. start + T - 1."""
    x = model.tokens(tokens) + model.positions(torch.arange(start, start + tokens.size(1)))
    for block, cache in zip(model.stack.layers, caches):
        x = block_step(block, x, cache)
    return F.linear(model.stack.final_norm(x[:, -1]), model.tokens.weight)


def sample(last, temperature, generator):
    if temperature == 0:
        return last.argmax(-1)
    return torch.multinomial(F.softmax(last / temperature, -1), 1, generator=generator).squeeze(1)


@torch.no_grad()
def generate(model, prompts, temperature, cache):
    generator = torch.Generator().manual_seed(1)
    sequences = prompts
    if cache:
        caches = [[] for _ in model.stack.layers]
        last = logits(model, prompts, 0, caches)
    for n in range(NEW):
        if not cache:
            last = logits(model, sequences, 0, [[] for _ in model.stack.layers])
        next_token = sample(last, temperature, generator)
        sequences = torch.cat([sequences, next_token.unsqueeze(1)], 1)
        if cache and n + 1 < NEW:
            last = logits(model, next_token.unsqueeze(1), PROMPT + n, caches)
    return sequences[:, PROMPT:]


def main():
    global PROMPT, NEW
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--prompt", type=int, default=PROMPT, help="prompt tokens")
    parser.add_argument("--new", type=int, default=NEW, help="new tokens per row")
    parser.add_argument("--batches", default="1,16", help="comma-separated batch sizes")
    parser.add_argument("--vocab", type=int, default=base.VOCAB, help="vocabulary size")
    parser.add_argument("--loops", default="kv_cache,recompute", help="kv_cache and/or recompute")
    args = parser.parse_args()
    PROMPT, NEW, base.VOCAB = args.prompt, args.new, args.vocab
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = base.Model("decoder").eval()
    check = torch.randint(base.VOCAB, (4, PROMPT))
    if not torch.equal(generate(model, check, 0, True), generate(model, check, 0, False)):
        raise SystemExit("greedy decoding differs with and without the KV cache")
    results = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    loops = [(name, name == "kv_cache") for name in args.loops.split(",")]
    for batch in (int(b) for b in args.batches.split(",")):
        prompts = torch.randint(base.VOCAB, (batch, PROMPT))
        for name, cache in loops:
            iterations, start = 0, time.perf_counter()
            while True:
                generate(model, prompts, 1.0, cache)
                iterations += 1
                elapsed = time.perf_counter() - start
                if elapsed >= args.min_time:
                    break
            results[f"{name}/{batch}"] = batch * NEW * iterations / elapsed
    print(json.dumps(results))


if __name__ == "__main__":
    main()
