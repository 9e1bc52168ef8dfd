// Compiled only into the bridge library; see sentencepiece_bridge.h.
#include "data/sentencepiece_bridge.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

void set_error(char* error, std::size_t size, const std::string& message) {
  if (error == nullptr || size == 0) return;
  std::strncpy(error, message.c_str(), size - 1);
  error[size - 1] = '\0';
}

const sentencepiece::SentencePieceProcessor& processor_of(const void* handle) {
  return *static_cast<const sentencepiece::SentencePieceProcessor*>(handle);
}

}  // namespace

extern "C" {

int sslx_sp_train(const char* arguments, char* error, std::size_t error_size) {
  const auto status = sentencepiece::SentencePieceTrainer::Train(arguments);
  if (!status.ok()) {
    set_error(error, error_size, status.ToString());
    return 1;
  }
  return 0;
}

void* sslx_sp_load(const char* model_path, char* error, std::size_t error_size) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->Load(model_path);
  if (!status.ok()) {
    set_error(error, error_size, status.ToString());
    delete processor;
    return nullptr;
  }
  return processor;
}

void sslx_sp_free(void* processor) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

std::int32_t sslx_sp_piece_count(const void* processor) {
  return processor_of(processor).GetPieceSize();
}

std::int32_t sslx_sp_piece_id(const void* processor, const char* piece) {
  const auto& sp = processor_of(processor);
  const int id = sp.PieceToId(piece);
  // PieceToId answers the unknown id for absent pieces; only an exact match counts.
  return sp.IdToPiece(id) == piece ? id : -1;
}

std::int64_t sslx_sp_encode(const void* processor, const char* text, std::size_t length,
                            std::int32_t* ids, std::size_t capacity, char* error,
                            std::size_t error_size) {
  std::vector<int> encoded;
  const auto status = processor_of(processor).Encode(std::string(text, length), &encoded);
  if (!status.ok()) {
    set_error(error, error_size, status.ToString());
    return -1;
  }
  for (std::size_t i = 0; i < encoded.size() && i < capacity; ++i)
    ids[i] = encoded[i];
  return static_cast<std::int64_t>(encoded.size());
}

std::int64_t sslx_sp_decode(const void* processor, const std::int32_t* ids, std::size_t count,
                            char* text, std::size_t capacity, char* error, std::size_t error_size) {
  std::string decoded;
  const auto status = processor_of(processor).Decode(std::vector<int>(ids, ids + count), &decoded);
  if (!status.ok()) {
    set_error(error, error_size, status.ToString());
    return -1;
  }
  std::memcpy(text, decoded.data(), std::min(capacity, decoded.size()));
  return static_cast<std::int64_t>(decoded.size());
}
}
