#!/usr/bin/env python3
"""sslx against transformers, both ways, on a machine whose Python has torch and transformers
(a GPU machine usually has them; Debian 12 packages no transformers, so the test suite cannot run
this: it checks the same files with an independent NumPy forward pass instead).

For each family (GPT-2, Llama, T5, BERT), with tied and untied embeddings and a vocabulary of 266
(not a multiple of 8):
  1. transformers builds a model with random weights (scale 0.3, norms around 1) and saves it with
     save_pretrained (safetensors);
  2. import: sslx reads that directory as init_from = "hf:DIR" does (bench_hf_tool logits) and
     its logits are compared with transformers';
  3. export: sslx imports the directory and exports it again as it writes its own models
     (bench_hf_tool reexport); transformers loads that with from_pretrained, every tensor is
     compared with the original and the logits with transformers' own;
  4. for the decoders, transformers' generate() (greedy) runs on sslx's export, and every token it
     picks must be the argmax of sslx's logits at that position.
Then the same steps 1-3 for the sequence classifiers (...ForSequenceClassification): GPT-2 and
Llama with 1 label (a reward model: sslx's reward_head) and 3 labels, BERT with 3 labels (the
pooler and `classifier`, as the fine-tune evaluator's save_model keeps them).
Logits must agree to 1e-4 (float32). One line per check; exit status 1 when any check fails.

usage: python3 bench/hf_parity.py [BUILD_DIR]      (default: build)
"""
import copy
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file

TOLERANCE = 1e-4
VOCAB = 266


def configs(tied):
    common = {"vocab_size": VOCAB, "tie_word_embeddings": tied}
    return {
        "gpt2": (transformers.GPT2Config(n_positions=16, n_embd=16, n_layer=2, n_head=4, n_inner=24,
                                         **common), transformers.GPT2LMHeadModel, True),
        "llama": (transformers.LlamaConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                           num_attention_heads=4, num_key_value_heads=2,
                                           max_position_embeddings=16, rms_norm_eps=1e-6, **common),
                  transformers.LlamaForCausalLM, True),
        "t5": (transformers.T5Config(d_model=16, d_kv=4, d_ff=24, num_layers=2, num_decoder_layers=3,
                                     num_heads=4, relative_attention_num_buckets=8,
                                     relative_attention_max_distance=12,
                                     feed_forward_proj="relu" if tied else "gated-silu",
                                     decoder_start_token_id=0, **common),
               transformers.T5ForConditionalGeneration, False),
        "bert": (transformers.BertConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                                         intermediate_size=24, max_position_embeddings=16,
                                         **common), transformers.BertForMaskedLM, False),
    }


def classifier_configs():
    base = configs(False)
    result = {}
    for family, cls, labels in (("gpt2", transformers.GPT2ForSequenceClassification, 1),
                                ("gpt2", transformers.GPT2ForSequenceClassification, 3),
                                ("llama", transformers.LlamaForSequenceClassification, 1),
                                ("llama", transformers.LlamaForSequenceClassification, 3),
                                ("bert", transformers.BertForSequenceClassification, 3)):
        config = copy.deepcopy(base[family][0])
        config.num_labels = labels
        config.pad_token_id = 0  # the decoders read the last token that is not padding
        result[f"{family} {labels}-label classifier"] = (family, config, cls)
    return result


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            norm = "norm" in name.lower() or ".ln_" in name
            parameter.copy_(torch.randn_like(parameter) * 0.3 + (1.0 if norm else 0.0))


def load(cls, directory):
    try:
        return cls.from_pretrained(directory, torch_dtype=torch.float32,
                                   attn_implementation="eager").eval()
    except (TypeError, ValueError):  # older transformers: no attn_implementation
        return cls.from_pretrained(directory, torch_dtype=torch.float32).eval()


def forward(model, inputs):
    with torch.no_grad():
        return model(**inputs).logits


def sslx_logits(tool, directory, inputs, work):
    save_file({k: v.contiguous() for k, v in inputs.items()}, f"{work}/inputs.safetensors")
    run(tool, "logits", directory, f"{work}/inputs.safetensors", f"{work}/sslx_logits.safetensors")
    return load_file(f"{work}/sslx_logits.safetensors")["logits"]


def run(*command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")


class Report:
    def __init__(self):
        self.failures = 0

    def check(self, label, error, tolerance=TOLERANCE):
        ok = error <= tolerance
        self.failures += 0 if ok else 1
        print(f"{label:<62} max abs error {error:.3g}  {'ok' if ok else 'FAILED'}", flush=True)


def parity(label, family, config, cls, generates, tool, report, work):
    original_dir, export_dir = f"{work}/hf", f"{work}/exported"
    model = cls(config).eval()
    randomise(model, 1)
    model.save_pretrained(original_dir, safe_serialization=True)
    torch.manual_seed(2)
    inputs = {"input_ids": torch.randint(1, VOCAB, (2, 7))}  # no padding (id 0)
    if family == "t5":
        inputs["decoder_input_ids"] = torch.randint(0, VOCAB, (2, 5))
    reference = forward(model, inputs)

    imported = sslx_logits(tool, original_dir, inputs, work)
    report.check(f"{label}: import (sslx on the HF save)", (imported - reference).abs().max().item())

    run(tool, "reexport", original_dir, export_dir)
    exported = load(cls, export_dir)
    original_state, exported_state = model.state_dict(), exported.state_dict()
    tensor_error = max((original_state[name] - exported_state[name]).abs().max().item()
                       for name in original_state)
    report.check(f"{label}: export (tensors)", tensor_error, 0.0)
    report.check(f"{label}: export (transformers on sslx's files)",
                 (forward(exported, inputs) - reference).abs().max().item())

    if generates:
        prompt = inputs["input_ids"][:1, :4]
        with torch.no_grad():
            generated = exported.generate(prompt, max_new_tokens=8, do_sample=False,
                                          pad_token_id=0)
        logits = sslx_logits(tool, export_dir, {"input_ids": generated}, work)
        picks = logits[0, prompt.shape[1] - 1:-1].argmax(-1)
        mismatches = (picks != generated[0, prompt.shape[1]:]).sum().item()
        report.check(f"{label}: generate() picks sslx's argmax", float(mismatches), 0.0)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    tool = os.path.join(build, "bench", "bench_hf_tool")
    if not os.access(tool, os.X_OK):
        print(f"hf_parity: no {tool}; build sslx first (ninja -C {build} bench_hf_tool)")
        return 2
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    report = Report()
    cases = [(f"{family} {'tied' if tied else 'untied'}", family, config, cls, generates)
             for tied in (True, False)
             for family, (config, cls, generates) in configs(tied).items()]
    cases += [(label, family, config, cls, False)
              for label, (family, config, cls) in classifier_configs().items()]
    for label, family, config, cls, generates in cases:
        with tempfile.TemporaryDirectory() as work:
            try:
                parity(label, family, config, cls, generates, tool, report, work)
            except RuntimeError as error:
                report.failures += 1
                print(f"{label}: FAILED: {error}", flush=True)
    print(f"hf_parity: {'all checks passed' if report.failures == 0 else f'{report.failures} failed'}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
