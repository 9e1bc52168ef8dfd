#include "objectives/sft.h"

#include <torch/torch.h>

#include <algorithm>

#include "data/batching.h"
#include "data/jsonl_reader.h"
#include "objectives/batch_indices.h"
#include "objectives/file_splits.h"
#include "objectives/language_model.h"
#include "objectives/mlm_masking.h"
#include "objectives/run_checks.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {

TokenizedExample tokenize_segments(const std::vector<data::Segment>& segments,
                                   const data::Tokenizer& tokenizer, data::TokenId eos) {
  TokenizedExample example;
  const auto end_trainable_run = [&] {
    if (!example.trainable.empty() && example.trainable.back() && example.tokens.back() != eos) {
      example.tokens.push_back(eos);
      example.trainable.push_back(true);
    }
  };
  for (const auto& segment : segments) {
    if (!segment.trainable) end_trainable_run();
    for (const data::TokenId id : tokenizer.encode(segment.text)) {
      example.tokens.push_back(id);
      example.trainable.push_back(segment.trainable);
    }
  }
  end_trainable_run();
  return example;
}

std::optional<SftSequence> sft_sequence(const TokenizedExample& example,
                                        std::int64_t sequence_length, SftCounts& counts) {
  const auto total = static_cast<std::int64_t>(example.tokens.size());
  const std::int64_t n = std::min(total, sequence_length + 1);  // inputs and the last label
  SftSequence sequence;
  bool any_label = false;
  for (std::int64_t t = 0; t + 1 < n; ++t) {
    sequence.inputs.push_back(example.tokens[t]);
    const bool trained = example.trainable[t + 1];
    sequence.labels.push_back(trained ? example.tokens[t + 1] : kIgnore);
    any_label = any_label || trained;
  }
  if (!any_label) {
    ++counts.dropped;
    return std::nullopt;
  }
  if (total > n) ++counts.truncated;
  ++counts.kept;
  return sequence;
}

std::vector<SftSequence> pack_sequences(const std::vector<SftSequence>& sequences,
                                        std::int64_t sequence_length) {
  std::vector<SftSequence> rows;
  for (const SftSequence& sequence : sequences) {
    const auto n = static_cast<std::int64_t>(sequence.inputs.size());
    if (rows.empty() ||
        static_cast<std::int64_t>(rows.back().inputs.size()) + n > sequence_length) {
      rows.emplace_back();
    }
    SftSequence& row = rows.back();
    const std::int64_t segment = row.segment_ids.empty() ? 0 : row.segment_ids.back() + 1;
    row.inputs.insert(row.inputs.end(), sequence.inputs.begin(), sequence.inputs.end());
    row.labels.insert(row.labels.end(), sequence.labels.begin(), sequence.labels.end());
    for (std::int64_t t = 0; t < n; ++t) {
      row.segment_ids.push_back(segment);
      row.position_ids.push_back(t);
    }
  }
  return rows;
}

namespace {

// Every example of `files` as segments, in the configured format.
std::vector<std::vector<data::Segment>> read_segments(const config::Node& options,
                                                      const std::string& files_key) {
  data::JsonlOptions jsonl{.skip_malformed = options.get_bool("skip_malformed")};
  jsonl.fields.prompt = options.get_string("prompt_field");
  jsonl.fields.completion = options.get_string("completion_field");
  jsonl.fields.messages = options.get_string("messages_field");
  jsonl.fields.text = options.get_string("text_field");
  const std::string& format = options.get_string("format");
  const data::ChatTemplate chat_template;
  std::vector<std::vector<data::Segment>> examples;
  for (const auto& file : options.at_path(files_key).as_array()) {
    data::SkipReport skips;
    if (format == "prompt_completion") {
      for (const auto& example : data::read_jsonl_prompt_completion(file.as_string(), jsonl, skips))
        examples.push_back({{example.prompt, false}, {example.completion, true}});
    } else if (format == "messages") {
      for (const auto& conversation :
           data::read_jsonl_conversations(file.as_string(), jsonl, skips))
        examples.push_back(chat_template.render(conversation));
    } else {
      for (const auto& document : data::read_jsonl_documents(file.as_string(), false, jsonl, skips))
        examples.push_back({{document.text, true}});
    }
    if (skips.skipped > 0) console::warning("sft: " + skips.summary());
  }
  return examples;
}

std::vector<SftSequence> read_sequences(const config::Node& options, const std::string& files_key,
                                        const data::Tokenizer& tokenizer,
                                        std::int64_t sequence_length, SftCounts& counts) {
  const data::TokenId eos = tokenizer.specials().require_eos();
  std::vector<SftSequence> sequences;
  for (const auto& segments : read_segments(options, files_key)) {
    auto sequence =
        sft_sequence(tokenize_segments(segments, tokenizer, eos), sequence_length, counts);
    if (sequence) sequences.push_back(std::move(*sequence));
  }
  console::info("sft " + files_key + ": " + std::to_string(counts.kept) + " examples, " +
                std::to_string(counts.truncated) + " truncated, " + std::to_string(counts.dropped) +
                " dropped (no completion token left within sequence_length)");
  if (sequences.empty()) {
    throw Error("sft: " + files_key + " gave no example with a completion token",
                "check the files and format, or raise trainer.sequence_length");
  }
  if (!options.get_bool("packing")) return sequences;
  std::vector<SftSequence> rows = pack_sequences(sequences, sequence_length);
  counts.rows = static_cast<std::int64_t>(rows.size());
  std::int64_t tokens = 0;
  for (const SftSequence& row : rows)
    tokens += static_cast<std::int64_t>(row.inputs.size());
  console::info("sft " + files_key + ": packed into " + std::to_string(counts.rows) +
                " rows of up to " + std::to_string(sequence_length) + " tokens (" +
                std::to_string(100 * tokens / (counts.rows * sequence_length)) + "% filled)");
  return rows;
}

}  // namespace

SftObjective::SftObjective(const config::Node& options, const ObjectiveContext& context)
    : FileSplitObjective(context,
                         [&](const std::string& files_key, SftCounts& counts) {
                           return read_sequences(options, files_key, context.tokenizer,
                                                 context.trainer.sequence_length, counts);
                         }),
      pad_(context.tokenizer.specials().pad.value_or(context.tokenizer.specials().require_eos())),
      token_loss_(context.trainer.token_loss) {
  require_architecture("sft", context.model, {"decoder"});
  model_ = LanguageModel(context.model, context.tokenizer.vocab_size());
  const std::string& init_from = options.get_string("init_from");
  if (!init_from.empty()) load_pretrained(*model_, init_from);
}

double SftObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(sequence_length_);
}

train::Batch SftObjective::batch_of(data::Split split, const std::vector<std::int64_t>& indices) {
  const std::vector<SftSequence>& sequences = examples(split);
  std::vector<std::vector<data::TokenId>> inputs, labels;
  for (const std::int64_t index : indices) {
    inputs.push_back(sequences[index].inputs);
    labels.push_back(sequences[index].labels);
  }
  const data::PaddedBatch padded_inputs = data::pad_batch(inputs, pad_);
  const data::PaddedBatch padded_labels = data::pad_batch(labels, kIgnore);
  const std::int64_t B = padded_inputs.batch, T = padded_inputs.length;
  const at::Tensor lengths = torch::tensor(padded_inputs.lengths, torch::kInt64);
  const auto ids = [B, T](const std::vector<data::TokenId>& values) {
    return torch::tensor(values, torch::kInt32).to(torch::kInt64).reshape({B, T});
  };
  train::Batch batch;
  batch.tensors["input_ids"] = ids(padded_inputs.tokens);
  batch.tensors["labels"] = ids(padded_labels.tokens);
  batch.tensors["key_valid"] = torch::arange(T).unsqueeze(0) < lengths.unsqueeze(1);  // (B, T)
  if (!sequences[indices.front()].segment_ids.empty()) {
    // Packed rows: padding gets segment -1 and position 0 (masked by key_valid, never a label).
    std::vector<std::int64_t> segments(B * T, -1), positions(B * T, 0);
    for (std::int64_t b = 0; b < B; ++b) {
      const SftSequence& row = sequences[indices[b]];
      std::copy(row.segment_ids.begin(), row.segment_ids.end(), segments.begin() + b * T);
      std::copy(row.position_ids.begin(), row.position_ids.end(), positions.begin() + b * T);
    }
    batch.tensors["segment_ids"] = torch::tensor(segments, torch::kInt64).reshape({B, T});
    batch.tensors["position_ids"] = torch::tensor(positions, torch::kInt64).reshape({B, T});
  }
  batch.n_tokens = lengths.sum().item<std::int64_t>();
  batch.n_targets = (batch.tensors["labels"] != kIgnore).sum().item<std::int64_t>();
  return batch;
}

train::LossTerms SftObjective::loss(const train::Batch& batch) {
  arch::ArchitectureInputs inputs{.token_ids = batch.at("input_ids"),
                                  .key_valid = batch.at("key_valid")};
  if (batch.tensors.count("segment_ids") > 0) {
    inputs.segment_ids = batch.at("segment_ids");
    inputs.position_ids = batch.at("position_ids");
  }
  return token_loss(*model_, model_->hidden_states(inputs), batch.at("labels"), token_loss_);
}

void register_sft() {
  config::Schema schema;
  schema.add({.key = "format",
              .type = config::Type::kString,
              .default_value = "prompt_completion",
              .doc = "JSONL format: {prompt, completion}, {messages} (chat template) or {text}",
              .choices = {"prompt_completion", "messages", "text"}});
  add_file_split_fields(schema, "examples");
  schema.add({.key = "packing",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "pack examples in order into rows of sequence_length tokens (attention and "
                     "positions stay inside each example; batch_size counts rows)"});
  schema.add({.key = "prompt_field",
              .type = config::Type::kString,
              .default_value = "prompt",
              .doc = "field of the prompt (prompt_completion)"});
  schema.add({.key = "completion_field",
              .type = config::Type::kString,
              .default_value = "completion",
              .doc = "field of the completion, the trained part (prompt_completion)"});
  schema.add({.key = "messages_field",
              .type = config::Type::kString,
              .default_value = "messages",
              .doc = "field of the [{role, content}] list (messages)"});
  schema.add({.key = "text_field",
              .type = config::Type::kString,
              .default_value = "text",
              .doc = "field of the text, all trained (text)"});
  add_init_from_field(schema,
                      "checkpoint directory (with model.pt) of a pretraining run to start from; or "
                      "\"hf:DIR\", a Hugging Face model directory");
  objective_registry().add(
      "sft", "supervised fine-tuning: next-token loss on completion / assistant tokens only",
      schema,
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<SftObjective>(options, context);
      },
      all_of({accepts_architectures("sft", {"decoder"}), check_init_from, check_files_exist}));
}

}  // namespace sslx::objectives
