// The C interface of the SentencePiece bridge library (libsslx_sentencepiece_bridge.so).
//
// Debian's libsentencepiece embeds its own protobuf; linked into a process that also has
// LibTorch's protobuf, the program crashes in static initialisers before main.
// So SentencePiece lives alone in this bridge, which sslx dlopens with RTLD_DEEPBIND: the bridge
// binds to its own protobuf, the rest of the process to LibTorch's. Only C types cross.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// All functions return 0 on success; on failure they write a message into `error`.
int sslx_sp_train(const char* arguments, char* error, std::size_t error_size);
void* sslx_sp_load(const char* model_path, char* error, std::size_t error_size);
void sslx_sp_free(void* processor);
std::int32_t sslx_sp_piece_count(const void* processor);
// The id of `piece`, or -1 when the vocabulary has no such piece.
std::int32_t sslx_sp_piece_id(const void* processor, const char* piece);
// Writes up to `capacity` ids; returns the number of ids of the text (retry with a larger buffer
// when it exceeds capacity), or -1 on error.
std::int64_t sslx_sp_encode(const void* processor, const char* text, std::size_t length,
                            std::int32_t* ids, std::size_t capacity, char* error,
                            std::size_t error_size);
// Same protocol for the decoded text (bytes, without a terminating zero).
std::int64_t sslx_sp_decode(const void* processor, const std::int32_t* ids, std::size_t count,
                            char* text, std::size_t capacity, char* error, std::size_t error_size);
}
