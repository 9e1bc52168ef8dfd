#include "data/chat_template.h"

namespace sslx::data {

std::vector<Segment> ChatTemplate::render(const Conversation& conversation) const {
  std::vector<Segment> segments;
  for (const auto& message : conversation.messages) {
    if (message.role == "assistant") {
      segments.push_back({assistant_prefix, false});
      segments.push_back({message.content + assistant_suffix, true});
    } else if (message.role == "user") {
      segments.push_back({user_prefix + message.content + user_suffix, false});
    } else {
      segments.push_back({system_prefix + message.content + system_suffix, false});
    }
  }
  return segments;
}

}  // namespace sslx::data
