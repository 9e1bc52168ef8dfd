// The built-in Hugging Face families, one file each (hf_family.h lists them).
#pragma once

#include "interop/hf_family.h"

namespace sslx::interop {

const HfFamily& gpt2_family();   // GPT2LMHeadModel (hf_gpt2.cpp)
const HfFamily& llama_family();  // LlamaForCausalLM (hf_llama.cpp)
const HfFamily& t5_family();     // T5ForConditionalGeneration (hf_t5.cpp)
const HfFamily& bert_family();   // BertForMaskedLM (hf_bert.cpp)

}  // namespace sslx::interop
