// Strict HTTP/1.1 message heads (RFC 9112), parsed in place. The proxy
// forwards bytes, so a head is a set of views into the connection's read
// buffer; nothing is copied. Parsing is strict on purpose: whatever two HTTP
// implementations could read differently (request smuggling: both
// Content-Length and Transfer-Encoding, duplicate Content-Length, bad framing,
// obs-fold, bare LF) is refused here, before a byte reaches an upstream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ferry::proxy {

struct HeaderField {
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

struct HeadLimits {
  size_t max_head_bytes = 64 * 1024;   // request line + headers; more is 431
  size_t max_headers = 100;            // more is 431
  size_t max_target_bytes = 8 * 1024;  // request-target; more is 414
};

enum class BodyFraming {
  kNone,           // no body
  kContentLength,  // exactly content_length bytes
  kChunked,        // chunked transfer coding, ends with the last chunk and trailers
  kUntilClose,     // responses only: the body ends when the upstream closes
};

enum class ParseState { kComplete, kIncomplete, kInvalid };

// What a head declares about the connection and the body that follows.
struct MessageFraming {
  BodyFraming body = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;           // after this message, per version and Connection
  bool connection_upgrade = false;  // "upgrade" among the Connection tokens
};

struct RequestHead {
  std::string_view method;
  std::string_view target;  // as sent
  std::string_view path;    // target up to '?' (origin form; absolute form reduced to its path)
  std::string_view query;   // after '?', or empty
  std::string_view host;    // Host header (or the authority of an absolute-form target)
  int minor_version = 1;    // HTTP/1.0 or HTTP/1.1
  std::vector<HeaderField> headers;
  MessageFraming framing;
  bool expect_continue = false;  // Expect: 100-continue
  bool upgrade = false;          // Upgrade with Connection: upgrade (WebSocket)
  size_t head_bytes = 0;         // bytes of the head, blank line included

  // Value of the first header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  bool is_head_method() const { return method == "HEAD"; }
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  int minor_version = 1;
  std::vector<HeaderField> headers;
  MessageFraming framing;
  size_t head_bytes = 0;

  std::string_view header(std::string_view name) const;
  bool is_interim() const { return status >= 100 && status < 200; }
};

struct ParseResult {
  ParseState state = ParseState::kIncomplete;
  // For kInvalid: the status to answer with (400, 413 is not decided here,
  // 414, 417, 431, 501, 505) and a short reason for the error log.
  int status = 0;
  std::string_view reason;
};

// Parses a request head from the start of `data`. kIncomplete means more
// bytes are needed (and the limits are not yet exceeded). `head.headers` is
// cleared and refilled, so a caller can reuse one head to keep its capacity.
ParseResult parse_request_head(std::string_view data, const HeadLimits& limits, RequestHead& head);

// Parses a response head. The body framing depends on the request: HEAD
// responses and 1xx/204/304 have no body. An invalid response head is
// answered to the client with 502.
ParseResult parse_response_head(std::string_view data, const HeadLimits& limits,
                                bool request_was_head, ResponseHead& head);

// The first header with this name (case-insensitive), or nullptr: present
// with an empty value is not the same as absent.
const HeaderField* find_header(std::span<const HeaderField> headers, std::string_view name);
// A token (RFC 9110 5.6.2): method names, header names.
bool is_token(std::string_view s);
// Case-insensitive ASCII comparison, for header names and tokens.
bool equals_ignore_case(std::string_view a, std::string_view b);
// True when the comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token);

}  // namespace ferry::proxy
