#include "objectives/sft.h"

#include <torch/torch.h>

#include "data/batching.h"
#include "data/jsonl_reader.h"
#include "objectives/batch_indices.h"
#include "objectives/clm.h"
#include "objectives/file_splits.h"
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
  return sequences;
}

}  // namespace

SftObjective::SftObjective(const config::Node& options, const ObjectiveContext& context)
    : batch_size_(context.trainer.batch_size),
      sequence_length_(context.trainer.sequence_length),
      pad_(context.tokenizer.specials().pad.value_or(context.tokenizer.specials().require_eos())),
      train_(read_sequences(options, "train_files", context.tokenizer, sequence_length_,
                            train_counts_)),
      validation_(read_sequences(options, "validation_files", context.tokenizer, sequence_length_,
                                 validation_counts_)),
      sampler_(training_sampler(static_cast<std::int64_t>(train_.size()), context.seed)) {
  require_architecture("sft", context.model, {"decoder"});
  model_ = LanguageModel(context.model, context.tokenizer.vocab_size());
  const std::string& init_from = options.get_string("init_from");
  if (!init_from.empty()) load_pretrained(*model_, init_from);
}

double SftObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(sequence_length_);
}

train::Batch SftObjective::batch_of(const std::vector<SftSequence>& sequences,
                                    const std::vector<std::int64_t>& indices) const {
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
  batch.n_tokens = lengths.sum().item<std::int64_t>();
  batch.n_targets = (batch.tensors["labels"] != kIgnore).sum().item<std::int64_t>();
  return batch;
}

train::Batch SftObjective::train_batch() {
  const auto indices = sampled_indices(sampler_, batch_size_);
  return batch_of(train_, indices);
}

bool SftObjective::eval_batch(data::Split split, std::int64_t index, train::Batch& batch) {
  const auto indices =
      file_split_indices(split, index, batch_size_, static_cast<std::int64_t>(train_.size()),
                         static_cast<std::int64_t>(validation_.size()));
  if (indices.empty()) return false;
  batch = batch_of(split == data::Split::kValidation ? validation_ : train_, indices);
  return true;
}

train::LossTerms SftObjective::loss(const train::Batch& batch) {
  return next_token_loss(
      model_->logits({.token_ids = batch.at("input_ids"), .key_valid = batch.at("key_valid")}),
      batch.at("labels"));
}

void SftObjective::save_state(train::TrainerState& state) const {
  state.sampler = sampler_.state();
}

void SftObjective::load_state(const train::TrainerState& state) {
  sampler_.restore(state.sampler);
}

void register_sft() {
  config::Schema schema;
  schema.add({.key = "format",
              .type = config::Type::kString,
              .default_value = "prompt_completion",
              .doc = "JSONL format: {prompt, completion}, {messages} (chat template) or {text}",
              .choices = {"prompt_completion", "messages", "text"}});
  add_file_split_fields(schema, "examples");
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
