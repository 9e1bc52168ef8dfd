#!/usr/bin/python3
"""Reference values of the policy-optimisation losses (objectives/policy_losses.h).

Written from the published formulas with plain Python loops in float64 (Debian's python3-torch
only holds the numbers), sharing no code with sslx: PPO (Schulman et al. 2017; per-token KL
penalty and score at the last token as in InstructGPT / TRL), GAE (Schulman et al. 2016), the
KL estimators k1 and k3 (Schulman, "Approximating KL divergence"), GRPO (Shao et al. 2024),
RLOO (Ahmadian et al. 2024), DAPO's token-level and Dr. GRPO's constant-length normalisations,
DPO (Rafailov et al. 2023) with label smoothing (cDPO) and IPO (Azar et al. 2023).

The inputs are formulas of (b, n), so the C++ test (tests/rollout/test_policy_losses.cpp) builds
the same tensors without a data file. Output: one line per quantity, "name v1 v2 ...", row-major.

Run: /usr/bin/python3 tests/python/policy_losses_reference.py > tests/python/policy_losses_reference.txt
"""
import math

B, N = 4, 5
LENGTHS = [5, 3, 1, 4]
SCORES = [1.0, -0.5, 2.0, 0.25]
KL_COEF, CLIP, VALUE_CLIP = 0.05, 0.2, 0.2


def grid(f):
    return [[f(b, n) for n in range(N)] for b in range(B)]


log_p = grid(lambda b, n: -1.0 - 0.3 * math.sin(1.3 * b + 0.7 * n + 0.2))
old_log_p = grid(lambda b, n: log_p[b][n] + 0.25 * math.sin(0.9 * b - 1.1 * n + 0.4))
ref_log_p = grid(lambda b, n: log_p[b][n] + 0.4 * math.cos(0.5 * b + 0.8 * n))
values = grid(lambda b, n: 0.5 * math.sin(0.6 * b + 0.9 * n + 0.3))
old_values = grid(lambda b, n: values[b][n] + 0.3 * math.cos(1.7 * b + 0.4 * n))
mask = grid(lambda b, n: 1.0 if n < LENGTHS[b] else 0.0)


def emit(name, rows):
    flat = [x for row in rows for x in row] if isinstance(rows[0], list) else rows
    print(name, " ".join(repr(float(x)) for x in flat))


k1 = grid(lambda b, n: (log_p[b][n] - ref_log_p[b][n]) * mask[b][n])
k3 = grid(lambda b, n: (math.exp(ref_log_p[b][n] - log_p[b][n]) - (ref_log_p[b][n] - log_p[b][n]) - 1)
          * mask[b][n])
emit("k1", k1)
emit("k3", k3)

# PPO rewards: -beta * k1 per token, the score added at the last response token.
rewards = grid(lambda b, n: -KL_COEF * k1[b][n] + (SCORES[b] if n == LENGTHS[b] - 1 else 0.0))
emit("ppo_rewards", rewards)


def gae(gamma, lam):
    advantages = [[0.0] * N for _ in range(B)]
    for b in range(B):
        running = 0.0
        for n in reversed(range(LENGTHS[b])):
            next_value = values[b][n + 1] if n + 1 < LENGTHS[b] else 0.0
            delta = rewards[b][n] + gamma * next_value - values[b][n]
            running = delta + gamma * lam * running
            advantages[b][n] = running
    returns = grid(lambda b, n: (advantages[b][n] + values[b][n]) * mask[b][n])
    return advantages, returns


adv, ret = gae(1.0, 0.95)
emit("gae_advantages", adv)
emit("gae_returns", ret)
adv2, ret2 = gae(0.9, 0.8)
emit("gae_advantages_0.9_0.8", adv2)
emit("gae_returns_0.9_0.8", ret2)

# Whitening over the mask, variance with Bessel's correction.
items = [adv[b][n] for b in range(B) for n in range(N) if mask[b][n]]
mean = sum(items) / len(items)
var = sum((x - mean) ** 2 for x in items) / (len(items) - 1)
white = grid(lambda b, n: (adv[b][n] - mean) / math.sqrt(var + 1e-8) * mask[b][n])
emit("whitened", white)

surrogate, clipped = [], []
for b in range(B):
    srow, crow = [], []
    for n in range(N):
        ratio = math.exp(log_p[b][n] - old_log_p[b][n])
        a = white[b][n]
        srow.append(-min(ratio * a, min(max(ratio, 1 - CLIP), 1 + CLIP) * a))
        crow.append(1.0 if (ratio < 1 - CLIP or ratio > 1 + CLIP) else 0.0)
    surrogate.append(srow)
    clipped.append(crow)
emit("surrogate", surrogate)
emit("clipped", clipped)

value_loss = grid(lambda b, n: 0.5 * max(
    (values[b][n] - ret[b][n]) ** 2,
    (old_values[b][n] + min(max(values[b][n] - old_values[b][n], -VALUE_CLIP), VALUE_CLIP) - ret[b][n]) ** 2))
emit("value_loss", value_loss)

# Normalisations of the surrogate.
seq = [sum(surrogate[b][n] for n in range(LENGTHS[b])) / LENGTHS[b] for b in range(B)]
total = sum(surrogate[b][n] for b in range(B) for n in range(LENGTHS[b]))
emit("reduce", [sum(seq) / B, total / sum(LENGTHS), total / (B * 8)])

# Group baselines: rewards of 6 rows, groups of 3 and of 2, one row without a response.
R = [1.0, -0.5, 2.0, 2.0, 0.3, -1.2]
VALID = [1, 1, 1, 1, 0, 1]


def group_stats(G, scale):
    out = []
    for g in range(len(R) // G):
        rows = list(range(g * G, (g + 1) * G))
        kept = [i for i in rows if VALID[i]]
        if len(kept) < 2:
            out += [0.0] * G
            continue
        mu = sum(R[i] for i in kept) / len(kept)
        sd = math.sqrt(sum((R[i] - mu) ** 2 for i in kept) / (len(kept) - 1))
        for i in rows:
            a = (R[i] - mu) if VALID[i] else 0.0
            out.append(a / (sd + 1e-4) if scale else a)
    return out


def rloo(G):
    out = []
    for g in range(len(R) // G):
        rows = list(range(g * G, (g + 1) * G))
        kept = [i for i in rows if VALID[i]]
        for i in rows:
            if not VALID[i] or len(kept) < 2:
                out.append(0.0)
            else:
                out.append(R[i] - sum(R[j] for j in kept if j != i) / (len(kept) - 1))
    return out


emit("grpo_g3", group_stats(3, True))
emit("grpo_g3_no_std", group_stats(3, False))
emit("grpo_g2", group_stats(2, True))
emit("rloo_g3", rloo(3))
emit("rloo_g2", rloo(2))

# DPO / IPO on sequence log-probabilities.
PC, PR = [-3.2, -5.0, -1.1, -7.3], [-4.1, -4.9, -2.5, -6.0]
RC, RR = [-3.5, -4.6, -1.9, -7.0], [-3.9, -5.2, -2.2, -6.6]


def log_sigmoid(x):
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def dpo(beta, smoothing):
    out = []
    for i in range(4):
        h = (PC[i] - RC[i]) - (PR[i] - RR[i])
        out.append(-(1 - smoothing) * log_sigmoid(beta * h) - smoothing * log_sigmoid(-beta * h))
    return out


emit("dpo_0.1", dpo(0.1, 0.0))
emit("dpo_0.1_smooth_0.2", dpo(0.1, 0.2))
emit("ipo_0.5", [((PC[i] - RC[i]) - (PR[i] - RR[i]) - 1 / (2 * 0.5)) ** 2 for i in range(4)])
emit("dpo_chosen_rewards_0.1", [0.1 * (PC[i] - RC[i]) for i in range(4)])
