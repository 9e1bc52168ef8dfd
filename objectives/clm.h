// Causal language modelling (GPT): next-token prediction on a decoder.
//
// Data: documents packed with EOS into blocks of sequence_length + 1 tokens; the shift happens
// here, in the data: inputs = block[0 .. L), labels = block[1 .. L] (the model predicts position
// t + 1 at position t). Loss: the summed NLL of every valid label, returned with the label
// count. With document_mask, attention stays inside each document (segment ids), positions
// restart per document, and the label that would predict the next document's first token from
// the EOS is ignored (no leakage across packed documents).
#pragma once

#include "data/packing.h"
#include "objectives/block_lm_objective.h"

namespace sslx::objectives {

class ClmObjective : public BlockLmObjective<data::PackedBlocks> {
 public:
  ClmObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "clm"; }
  double training_flops_per_token() const override;
  train::StreamPrediction stream_prediction() const override;
  at::Tensor hidden_states(const train::Batch& batch) override;

 private:
  train::Batch batch_of(const data::PackedBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const override;

  bool document_mask_;
};

void register_clm();

}  // namespace sslx::objectives
