"""Reference values for T5 span-corruption lengths, computed the way t5.data.preprocessors does
(random_spans_helper with Python's round, which rounds half to even).

Writes tests/objectives/t5_span_lengths.txt: one line per case,
  inputs_length noise_density mean_span -> raw_tokens inputs targets
Run: python3 tests/python/t5_span_lengths.py > tests/objectives/t5_span_lengths.txt
"""


def lengths_for(tokens_length, noise_density, mean_noise_span_length):
    num_noise_tokens = int(round(tokens_length * noise_density))
    num_nonnoise_tokens = tokens_length - num_noise_tokens
    num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
    return (num_nonnoise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1)


def random_spans_helper(inputs_length, noise_density, mean_noise_span_length):
    tokens_length = inputs_length - 1
    while lengths_for(tokens_length + 1, noise_density, mean_noise_span_length)[0] <= inputs_length:
        tokens_length += 1
    inputs, targets = lengths_for(tokens_length, noise_density, mean_noise_span_length)
    if noise_density == 0.5 and targets > inputs:
        tokens_length -= 1
        targets -= 1
    return tokens_length, inputs, targets


for inputs_length in [8, 16, 31, 64, 100, 128, 255, 256, 512, 568, 1000, 1024]:
    for density, span in [(0.15, 3.0), (0.15, 8.0), (0.5, 3.0), (0.5, 8.0), (0.15, 64.0),
                          (0.5, 64.0), (0.3, 2.5)]:
        raw, inputs, targets = random_spans_helper(inputs_length, density, span)
        print(inputs_length, density, span, raw, inputs, targets)
