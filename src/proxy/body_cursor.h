// Where a message body ends, whatever its framing: a fixed length, chunked,
// or until the connection closes. The proxy feeds it the bytes it is about to
// forward and learns how many belong to the body and whether it is complete.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "proxy/chunked_framing.h"
#include "proxy/http_head.h"

namespace ferry::proxy {

class BodyCursor {
 public:
  struct Take {
    size_t bytes = 0;      // of the input, belonging to the body
    bool done = false;     // the body is complete
    bool invalid = false;  // chunked framing broken (reason())
  };

  void reset(BodyFraming framing, uint64_t content_length) {
    framing_ = framing;
    remaining_ = content_length;
    chunks_ = ChunkedFraming();
    total_ = 0;
  }

  BodyFraming framing() const { return framing_; }
  uint64_t total() const { return total_; }
  const char* reason() const { return chunks_.reason(); }

  Take take(std::string_view data) {
    Take t;
    switch (framing_) {
      case BodyFraming::kNone:
        t.done = true;
        break;
      case BodyFraming::kContentLength:
        t.bytes = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size()));
        remaining_ -= t.bytes;
        t.done = remaining_ == 0;
        break;
      case BodyFraming::kChunked: {
        const auto step = chunks_.feed(data);
        t.bytes = step.consumed;
        t.done = step.status == ChunkedFraming::Status::kDone;
        t.invalid = step.status == ChunkedFraming::Status::kInvalid;
        break;
      }
      case BodyFraming::kUntilClose:
        t.bytes = data.size();
        break;
    }
    total_ += t.bytes;
    return t;
  }

 private:
  BodyFraming framing_ = BodyFraming::kNone;
  uint64_t remaining_ = 0;
  uint64_t total_ = 0;
  ChunkedFraming chunks_;
};

}  // namespace ferry::proxy
