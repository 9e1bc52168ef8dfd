#include "data/sentencepiece_tokenizer.h"

#include <dlfcn.h>

#include "data/sentencepiece_bridge.h"

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace sslx::data {
namespace {

// The bridge's functions, resolved once from the isolated library.
struct Bridge {
  decltype(&sslx_sp_train) train;
  decltype(&sslx_sp_load) load;
  decltype(&sslx_sp_free) free;
  decltype(&sslx_sp_piece_count) piece_count;
  decltype(&sslx_sp_piece_id) piece_id;
  decltype(&sslx_sp_encode) encode;
  decltype(&sslx_sp_decode) decode;
};

std::filesystem::path own_directory() {
  Dl_info info{};
  dladdr(reinterpret_cast<void*>(&own_directory), &info);
  return std::filesystem::path(info.dli_fname).parent_path();
}

const Bridge& bridge() {
  static const Bridge instance = [] {
    const auto path = own_directory() / "libsslx_sentencepiece_bridge.so";
    // RTLD_DEEPBIND: the bridge resolves protobuf from its own dependencies, not LibTorch's.
    // The fuzz build (no LibTorch; AddressSanitizer refuses RTLD_DEEPBIND) goes without it.
#ifdef SSLX_NO_DEEPBIND
    constexpr int kBind = 0;
#else
    constexpr int kBind = RTLD_DEEPBIND;
#endif
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | kBind);
    if (library == nullptr) {
      throw Error("cannot load the SentencePiece bridge " + path.string() + ": " + dlerror(),
                  "rebuild sslx; the bridge is built next to libsslx_data.so");
    }
    const auto symbol = [library, &path](const char* name) {
      void* address = dlsym(library, name);
      if (address == nullptr) throw Error(path.string() + " lacks " + name);
      return address;
    };
    return Bridge{reinterpret_cast<decltype(&sslx_sp_train)>(symbol("sslx_sp_train")),
                  reinterpret_cast<decltype(&sslx_sp_load)>(symbol("sslx_sp_load")),
                  reinterpret_cast<decltype(&sslx_sp_free)>(symbol("sslx_sp_free")),
                  reinterpret_cast<decltype(&sslx_sp_piece_count)>(symbol("sslx_sp_piece_count")),
                  reinterpret_cast<decltype(&sslx_sp_piece_id)>(symbol("sslx_sp_piece_id")),
                  reinterpret_cast<decltype(&sslx_sp_encode)>(symbol("sslx_sp_encode")),
                  reinterpret_cast<decltype(&sslx_sp_decode)>(symbol("sslx_sp_decode"))};
  }();
  return instance;
}

std::optional<TokenId> lookup(void* processor, const char* piece) {
  const std::int32_t id = bridge().piece_id(processor, piece);
  return id >= 0 ? std::optional<TokenId>(id) : std::nullopt;
}

}  // namespace

void train_sentencepiece(const SentencePieceTrainOptions& options) {
  if (options.model_type != "unigram" && options.model_type != "bpe") {
    throw Error("SentencePiece model_type must be unigram or bpe, not " + options.model_type);
  }
  const std::string arguments =
      "--input=" + options.input.string() + " --model_prefix=" + options.model_prefix.string() +
      " --vocab_size=" + std::to_string(options.vocab_size) +
      " --model_type=" + options.model_type +
      " --input_sentence_size=" + std::to_string(options.max_sentences) +
      " --shuffle_input_sentence=true --character_coverage=1.0 --byte_fallback=true"
      " --hard_vocab_limit=false --minloglevel=2 --num_threads=2" +
      std::string(options.sslx_specials ? " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3"
                                          " --user_defined_symbols=<mask>,<cls>,<sep>"
                                        : "");
  char error[1024] = {};
  if (bridge().train(arguments.c_str(), error, sizeof error) != 0) {
    throw Error("SentencePiece training on " + options.input.string() + " failed: " + error);
  }
}

SentencePieceTokenizer::SentencePieceTokenizer(const std::filesystem::path& model,
                                               std::int32_t sentinel_count)
    : model_(model) {
  if (!std::filesystem::is_regular_file(model)) {
    throw IoError("SentencePiece model " + model.string() + " does not exist");
  }
  char error[1024] = {};
  processor_ = bridge().load(model.c_str(), error, sizeof error);
  if (processor_ == nullptr) {
    throw IoError("cannot load SentencePiece model " + model.string() + ": " + error);
  }
  piece_count_ = bridge().piece_count(processor_);
  specials_ = SpecialTokens{.pad = lookup(processor_, "<pad>"),
                            .bos = lookup(processor_, "<s>"),
                            .eos = lookup(processor_, "</s>"),
                            .unk = lookup(processor_, "<unk>"),
                            .mask = lookup(processor_, "<mask>"),
                            .cls = lookup(processor_, "<cls>"),
                            .sep = lookup(processor_, "<sep>"),
                            .sentinel_count = sentinel_count,
                            .vocab_size = piece_count_ + sentinel_count,
                            .tokenizer_name = "sentencepiece " + model.string()};
  fingerprint_ = "sentencepiece-" + Hasher().add(fs::read_text(model)).hex() + "-sentinels" +
                 std::to_string(sentinel_count);
}

SentencePieceTokenizer::~SentencePieceTokenizer() {
  if (processor_ != nullptr) bridge().free(processor_);
}

std::vector<TokenId> SentencePieceTokenizer::encode(std::string_view text) const {
  std::vector<TokenId> ids(text.size() + 16);
  char error[512] = {};
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::int64_t count = bridge().encode(processor_, text.data(), text.size(), ids.data(),
                                               ids.size(), error, sizeof error);
    if (count < 0) throw Error(std::string("SentencePiece encoding failed: ") + error);
    if (static_cast<std::size_t>(count) <= ids.size()) {
      ids.resize(static_cast<std::size_t>(count));
      return ids;
    }
    ids.resize(static_cast<std::size_t>(count));
  }
  throw Error("SentencePiece encoding did not converge on a buffer size");
}

std::string SentencePieceTokenizer::decode(const std::vector<TokenId>& ids) const {
  std::string text;
  std::vector<TokenId> run;
  const auto flush_run = [&] {
    if (run.empty()) return;
    std::string piece(run.size() * 8 + 16, '\0');
    char error[512] = {};
    std::int64_t size = bridge().decode(processor_, run.data(), run.size(), piece.data(),
                                        piece.size(), error, sizeof error);
    if (size > static_cast<std::int64_t>(piece.size())) {
      piece.resize(static_cast<std::size_t>(size));
      size = bridge().decode(processor_, run.data(), run.size(), piece.data(), piece.size(), error,
                             sizeof error);
    }
    if (size < 0) throw Error(std::string("SentencePiece decoding failed: ") + error);
    piece.resize(static_cast<std::size_t>(size));
    text += piece;
    run.clear();
  };
  const std::pair<std::optional<TokenId>, const char*> named[] = {
      {specials_.pad, "<pad>"}, {specials_.bos, "<s>"},     {specials_.eos, "</s>"},
      {specials_.unk, "<unk>"}, {specials_.mask, "<mask>"}, {specials_.cls, "<cls>"},
      {specials_.sep, "<sep>"}};
  for (TokenId id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw Error("id " + std::to_string(id) + " is outside the vocabulary of " +
                  std::to_string(vocab_size()) + " (" + specials_.tokenizer_name + ")");
    }
    const char* name = nullptr;
    for (const auto& [special, text_name] : named) {
      if (special && *special == id) name = text_name;
    }
    if (name == nullptr && id < piece_count_) {
      run.push_back(id);
      continue;
    }
    flush_run();
    text += name != nullptr ? std::string(name)
                            : "<extra_id_" + std::to_string(vocab_size() - 1 - id) + ">";
  }
  flush_run();
  return text;
}

}  // namespace sslx::data
