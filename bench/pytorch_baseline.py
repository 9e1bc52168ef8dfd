"""sslx's backbones in PyTorch eager: the baselines of bench_architectures and bench_objectives.

The `small` preset (E 256, L 4, H 4, F 1024, P 512 learned positions, pre-norm LayerNorm, exact
GELU, biases, no dropout, tied LM head), batch 8, fp32, cross-entropy loss on a fixed random
batch, as sslx builds each architecture with its defaults:
  --arch decoder          context 256; --mask causal (CLM), prefix (prefix LM: each row's first
                          positions, a random length, attend both ways) or document (CLM with
                          documents of random lengths that attend only within themselves);
  --arch encoder          context 256, bidirectional, the loss at --mask-rate of the positions
                          (masked LM: logits for every position, as sslx and BERT compute them);
  --arch encoder_decoder  --context encoder positions and --decoder-length decoder positions
                          (span corruption), one embedding table, the decoder's blocks
                          cross-attending to the encoder's final states.
The attention is written as in nanoGPT (one fused q/k/v projection, the mask by masked_fill,
softmax); its parameter count equals sslx's separate q, k, v.

Times forward (no autograd), forward+backward, and a train step with AdamW (lr 1e-3), each after
a result check and a warm-up, and prints one JSON object with tokens/s (encoder and decoder
tokens, as sslx counts them), page faults and kernel time per step, peak memory and the
parameter count.
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


def attend(q, k, v, mask):
    """q (B, H, T, D), k and v (B, H, S, D); mask broadcast to (B, H, T, S), True = attend."""
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return F.softmax(scores, dim=-1) @ v


def heads(x):  # (B, T, E) -> (B, H, T, D)
    B, T, E = x.shape
    return x.view(B, T, N_HEADS, E // N_HEADS).transpose(1, 2)


def merge(y):  # (B, H, T, D) -> (B, T, E)
    B, H, T, D = y.shape
    return y.transpose(1, 2).contiguous().view(B, T, H * D)


class Block(nn.Module):
    def __init__(self, cross=False):
        super().__init__()
        self.attn_norm = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.out = nn.Linear(D_MODEL, D_MODEL)
        if cross:  # the decoder's attention to the encoder states
            self.cross_norm = nn.LayerNorm(D_MODEL)
            self.cross_q = nn.Linear(D_MODEL, D_MODEL)
            self.cross_kv = nn.Linear(D_MODEL, 2 * D_MODEL)
            self.cross_out = nn.Linear(D_MODEL, D_MODEL)
        self.ff_norm = nn.LayerNorm(D_MODEL)
        self.ff_in = nn.Linear(D_MODEL, D_FF)
        self.ff_out = nn.Linear(D_FF, D_MODEL)

    def forward(self, x, mask, memory=None):
        q, k, v = self.qkv(self.attn_norm(x)).split(D_MODEL, dim=2)
        x = x + self.out(merge(attend(heads(q), heads(k), heads(v), mask)))
        if memory is not None:
            q = self.cross_q(self.cross_norm(x))
            k, v = self.cross_kv(memory).split(D_MODEL, dim=2)
            x = x + self.cross_out(merge(attend(heads(q), heads(k), heads(v), None)))
        return x + self.ff_out(F.gelu(self.ff_in(self.ff_norm(x))))


class Stack(nn.Module):
    def __init__(self, cross=False):
        super().__init__()
        self.layers = nn.ModuleList(Block(cross) for _ in range(N_LAYERS))
        self.final_norm = nn.LayerNorm(D_MODEL)

    def forward(self, x, mask, memory=None):
        for layer in self.layers:
            x = layer(x, mask, memory)
        return self.final_norm(x)


class Model(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        self.tokens = nn.Embedding(VOCAB, D_MODEL)
        self.positions = nn.Embedding(MAX_POSITIONS, D_MODEL)
        self.stack = Stack()  # the decoder, the encoder, or the encoder of an encoder-decoder
        if arch == "encoder_decoder":
            self.decoder = Stack(cross=True)

    def embed(self, ids):
        return self.tokens(ids) + self.positions(torch.arange(ids.size(1), device=ids.device))

    def loss(self, batch):
        if self.arch == "encoder_decoder":
            memory = self.stack(self.embed(batch["input_ids"]), None)
            h = self.decoder(self.embed(batch["decoder_input_ids"]), batch["mask"], memory)
        else:
            h = self.stack(self.embed(batch["input_ids"]), batch["mask"])
        logits = F.linear(h, self.tokens.weight)  # tied LM head
        return F.cross_entropy(logits.view(-1, VOCAB), batch["labels"].view(-1),
                               ignore_index=-100)


def causal(T):
    return torch.tril(torch.ones(T, T, dtype=torch.bool))


def make_batch(args):
    """Random tokens and targets of the shapes and masks the arguments ask for."""
    B, T = BATCH, args.context
    batch = {"input_ids": torch.randint(VOCAB, (B, T)), "labels": torch.randint(VOCAB, (B, T))}
    if args.arch == "encoder":
        masked = torch.rand(B, T) < args.mask_rate
        batch["labels"] = torch.where(masked, batch["labels"], torch.full_like(masked, -100,
                                                                             dtype=torch.long))
        batch["mask"] = None
    elif args.arch == "encoder_decoder":
        U = args.decoder_length
        batch["decoder_input_ids"] = torch.randint(VOCAB, (B, U))
        batch["labels"] = torch.randint(VOCAB, (B, U))
        batch["mask"] = causal(U)
    elif args.mask == "prefix":  # row b: positions < prefix[b] see the whole prefix
        prefix = torch.randint(1, T, (B,))
        j = torch.arange(T)
        batch["mask"] = (causal(T) | (j < prefix[:, None])[:, None, :]).unsqueeze(1)
        # As sslx's prefix LM: only the continuation is a target (the cross-entropy ignores the
        # prefix; the logits are computed at every position, as a model written this way does).
        batch["labels"] = batch["labels"].masked_fill(j < prefix[:, None], -100)
    elif args.mask == "document":  # documents of 32 to 96 tokens
        documents = torch.zeros(B, T, dtype=torch.long)
        for b in range(B):
            start = 0
            while start < T:
                length = int(torch.randint(32, 97, ()).item())
                documents[b, start:start + length] = start
                start += length
        same = documents[:, :, None] == documents[:, None, :]
        batch["mask"] = (causal(T) & same).unsqueeze(1)
    else:
        batch["mask"] = causal(T)
    tokens_per_step = B * T + (B * args.decoder_length if args.arch == "encoder_decoder" else 0)
    return batch, tokens_per_step


def measure(step, min_time, tokens_per_step, sync=lambda: None):
    """Runs step() until min_time seconds have passed (at least once, as Google Benchmark does).

    Returns tokens per second of wall clock, the number of iterations, and page faults and
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
            return {"tokens_per_second": tokens_per_step * iterations / elapsed,
                    "iterations": iterations,
                    "page_faults_per_step": faults / iterations,
                    "sys_seconds_per_step": (after.ru_stime - before.ru_stime) / iterations}


def main():
    global VOCAB
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--vocab", type=int, default=VOCAB, help="vocabulary size")
    parser.add_argument("--arch", default="decoder",
                        choices=["decoder", "encoder", "encoder_decoder"])
    parser.add_argument("--mask", default="causal", choices=["causal", "prefix", "document"],
                        help="the decoder's attention mask")
    parser.add_argument("--context", type=int, default=CONTEXT,
                        help="positions (the encoder's, for encoder_decoder)")
    parser.add_argument("--decoder-length", type=int, default=64,
                        help="decoder positions of encoder_decoder")
    parser.add_argument("--mask-rate", type=float, default=0.15,
                        help="the encoder's share of positions with a target")
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
    if args.mask != "causal" and args.arch != "decoder":
        raise SystemExit("--mask applies to --arch decoder")
    model = Model(args.arch).to(device)
    batch, tokens_per_step = make_batch(args)
    batch = {k: v.to(device) if v is not None else None for k, v in batch.items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    compute_loss = torch.compile(model.loss) if args.compile else model.loss
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def loss_of():
        if args.bf16:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return compute_loss(batch)
        return compute_loss(batch)

    def forward():
        with torch.no_grad():
            return loss_of().item()

    def forward_backward():
        model.zero_grad(set_to_none=True)
        loss_of().backward()

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of()
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
               "arch": args.arch, "mask": args.mask, "tokens_per_step": tokens_per_step,
               "device": str(device), "bf16": args.bf16, "compile": args.compile,
               "parameters": sum(p.numel() for p in model.parameters())}
    for name, step in (("forward", forward), ("forward_backward", forward_backward),
                       ("train_step", train_step)):
        results[name] = measure(step, args.min_time, tokens_per_step, sync)
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == "cuda":
        results["peak_gpu_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    print(json.dumps(results))


if __name__ == "__main__":
    main()
