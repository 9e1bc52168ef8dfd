"""The baseline for bench_architectures' decoder: the same GPT-style decoder in PyTorch eager.

The `small` preset (E 256, L 4, H 4, F 1024, P 512 learned positions, pre-norm LayerNorm, exact
GELU, biases, tied LM head), batch 8, context 256, vocabulary 8192, fp32, cross-entropy loss on
a fixed random batch. The attention is written as in nanoGPT (one fused q/k/v projection, a
causal mask by masked_fill, softmax); its parameter count equals sslx's separate q, k, v.

Times forward (no autograd), forward+backward, and a train step with AdamW (lr 1e-3), each after
a result check and a warm-up, and prints one JSON object with tokens/s, page faults and kernel
time per step, peak memory and the parameter count.
Run with the system Python 3 (Debian's python3-torch): /usr/bin/python3. On a GPU machine
(bench/gpu_check.sh): --device cuda, optionally --bf16 (autocast) and --compile (torch.compile,
PyTorch 2.x).
"""

import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
from torch import nn

BATCH, CONTEXT, VOCAB = 8, 256, 8192
D_MODEL, N_LAYERS, N_HEADS, D_FF, MAX_POSITIONS = 256, 4, 4, 1024, 512


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.out = nn.Linear(D_MODEL, D_MODEL)
        self.ff_norm = nn.LayerNorm(D_MODEL)
        self.ff_in = nn.Linear(D_MODEL, D_FF)
        self.ff_out = nn.Linear(D_FF, D_MODEL)

    def forward(self, x, causal):
        B, T, E = x.shape
        D = E // N_HEADS
        q, k, v = self.qkv(self.attn_norm(x)).split(E, dim=2)
        q, k, v = (t.view(B, T, N_HEADS, D).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
        scores = scores.masked_fill(~causal[:T, :T], float("-inf"))
        y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, E)
        x = x + self.out(y)
        return x + self.ff_out(F.gelu(self.ff_in(self.ff_norm(x))))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, D_MODEL)
        self.positions = nn.Embedding(MAX_POSITIONS, D_MODEL)
        self.layers = nn.ModuleList(Block() for _ in range(N_LAYERS))
        self.final_norm = nn.LayerNorm(D_MODEL)
        causal = torch.tril(torch.ones(MAX_POSITIONS, MAX_POSITIONS, dtype=torch.bool))
        self.register_buffer("causal", causal, persistent=False)

    def loss(self, tokens, targets):
        T = tokens.size(1)
        x = self.tokens(tokens) + self.positions(torch.arange(T, device=tokens.device))
        for layer in self.layers:
            x = layer(x, self.causal)
        logits = F.linear(self.final_norm(x), self.tokens.weight)  # tied LM head
        return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))


def measure(step, min_time, sync=lambda: None):
    """Runs step() until min_time seconds have passed (at least once, as Google Benchmark does).

    Returns B·T tokens per second of wall clock, the number of iterations, and page faults and
    kernel (sys) seconds per iteration.
    """
    iterations, start = 0, time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    while True:
        step()
        sync()  # a GPU runs ahead of Python: time the work, not its launch
        iterations += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            after = resource.getrusage(resource.RUSAGE_SELF)
            faults = after.ru_minflt + after.ru_majflt - before.ru_minflt - before.ru_majflt
            return {"tokens_per_second": BATCH * CONTEXT * iterations / elapsed,
                    "iterations": iterations,
                    "page_faults_per_step": faults / iterations,
                    "sys_seconds_per_step": (after.ru_stime - before.ru_stime) / iterations}


def main():
    global VOCAB
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--vocab", type=int, default=VOCAB, help="vocabulary size")
    parser.add_argument("--clip-grad-norm", type=float, default=0.0,
                        help="clip gradients to this norm in the train step (0: no clipping)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--bf16", action="store_true",
                        help="the loss under bfloat16 autocast (CUDA), fp32 weights")
    parser.add_argument("--compile", action="store_true", help="torch.compile the loss")
    args = parser.parse_args()
    VOCAB = args.vocab
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: this PyTorch sees no CUDA GPU")
    if args.bf16 and device.type != "cuda":
        raise SystemExit("--bf16 autocasts on CUDA only")
    if args.compile and not hasattr(torch, "compile"):
        raise SystemExit(f"--compile needs PyTorch 2.x (this is {torch.__version__})")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Decoder().to(device)
    tokens = torch.randint(VOCAB, (BATCH, CONTEXT)).to(device)
    targets = torch.randint(VOCAB, (BATCH, CONTEXT)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    compute_loss = torch.compile(model.loss) if args.compile else model.loss
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def loss_of(tokens, targets):
        if args.bf16:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return compute_loss(tokens, targets)
        return compute_loss(tokens, targets)

    def forward():
        with torch.no_grad():
            return loss_of(tokens, targets).item()

    def forward_backward():
        model.zero_grad(set_to_none=True)
        loss_of(tokens, targets).backward()

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(tokens, targets)
        loss.backward()
        if args.clip_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad_norm)
        optimizer.step()
        return loss.item()

    # Result checks, which also warm up.
    if not all(math.isfinite(forward()) for _ in range(2)):
        raise SystemExit("the loss is not finite")
    forward_backward()
    if not all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters()):
        raise SystemExit("a parameter has no or a non-finite gradient")
    first = train_step()
    train_step()
    if not train_step() < first:
        raise SystemExit("three AdamW steps on one batch did not lower the loss")

    results = {"threads": torch.get_num_threads(), "torch": torch.__version__,
               "device": str(device), "bf16": args.bf16, "compile": args.compile,
               "parameters": sum(p.numel() for p in model.parameters())}
    for name, step in (("forward", forward), ("forward_backward", forward_backward),
                       ("train_step", train_step)):
        results[name] = measure(step, args.min_time, sync)
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == "cuda":
        results["peak_gpu_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    print(json.dumps(results))


if __name__ == "__main__":
    main()
