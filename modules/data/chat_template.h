// Rendering a conversation as text segments, each marked trainable or not, so that SFT puts the
// loss only on assistant turns. The boundary is exact because segments are tokenized one by one,
// never found again by searching the token stream for a response template.
#pragma once

#include <string>
#include <vector>

#include "data/examples.h"

namespace sslx::data {

struct Segment {
  std::string text;
  bool trainable = false;
};

// For each role, the text before and after the message content.
struct ChatTemplate {
  std::string system_prefix = "<|system|>\n";
  std::string system_suffix = "\n";
  std::string user_prefix = "<|user|>\n";
  std::string user_suffix = "\n";
  std::string assistant_prefix = "<|assistant|>\n";
  std::string assistant_suffix = "\n";

  // Assistant content and its suffix are trainable; every other piece is not.
  std::vector<Segment> render(const Conversation& conversation) const;
};

}  // namespace sslx::data
