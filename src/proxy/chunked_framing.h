// Finds where a chunked body ends (RFC 9112 7.1) while the bytes are forwarded
// as they are. The proxy never re-encodes a body; it only has to know where
// one message stops and the next begins, and to refuse framing that another
// implementation could read differently (bad sizes, bare LF, overflow).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::proxy {

class ChunkedFraming {
 public:
  enum class Status { kNeedMore, kDone, kInvalid };

  struct Step {
    Status status;
    size_t consumed;  // bytes of the input that belong to this body
  };

  // Scans `data`, the next bytes of the body. kDone: the body ended after
  // `consumed` bytes (the rest belongs to the next message). kNeedMore: all of
  // `data` was body. kInvalid: the framing is broken; reason() says how.
  Step feed(std::string_view data);

  // Body bytes still expected in the current chunk's data, for callers that
  // can forward them without scanning.
  uint64_t chunk_bytes_left() const { return state_ == State::kData ? remaining_ : 0; }
  const char* reason() const { return reason_; }

 private:
  enum class State {
    kSize,       // hex digits of a chunk size
    kSizeSpace,  // whitespace after the size, before ';'
    kExtension,  // ";name=value" after the size, up to CR
    kSizeLf,     // the LF after the size line's CR
    kData,       // remaining_ bytes of chunk data
    kDataCr,     // the CR after chunk data
    kDataLf,
    kTrailerStart,  // start of a trailer line, or the final CRLF
    kTrailer,       // inside a trailer line
    kTrailerLf,     // LF after a trailer line's CR
    kFinalLf,       // LF of the final CRLF
    kDone,
    kInvalid,
  };
  Step fail(const char* why, size_t at);

  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  int size_digits_ = 0;
  size_t line_bytes_ = 0;  // length of the current extension or trailer line
  size_t trailer_bytes_ = 0;
  const char* reason_ = "";
};

// The data of a complete chunked body (as ChunkedFraming accepted it), the
// framing, extensions and trailers taken away: what a parallel run compares.
// nullopt when `framed` is not a whole, well-formed chunked body.
std::optional<std::string> decode_chunked(std::string_view framed);

}  // namespace ferry::proxy
