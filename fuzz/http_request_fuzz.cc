// libFuzzer target: the proxy's request parser and body framing on arbitrary
// bytes, as a client could send them. Never a crash, never a view outside the
// input, and a head that parses must rebuild into a request head upstream.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/body_cursor.h"
#include "proxy/http_head.h"
#include "proxy/message_rewrite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::proxy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  RequestHead head;
  HeadLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_target_bytes = 1024;
  const ParseResult r = parse_request_head(input, limits, head);
  if (r.state == ParseState::kInvalid && (r.status < 400 || r.status > 505)) __builtin_trap();
  if (r.state != ParseState::kComplete) return 0;
  if (head.head_bytes > size) __builtin_trap();
  std::string upstream;
  build_upstream_request(head, {"127.0.0.1", "backend"}, upstream);
  // The rest of the input as the body, fed in two pieces.
  BodyCursor body;
  body.reset(head.framing.body, head.framing.content_length);
  const std::string_view rest = input.substr(head.head_bytes);
  const auto first = body.take(rest.substr(0, rest.size() / 2));
  if (first.bytes > rest.size() / 2) __builtin_trap();
  if (!first.done && !first.invalid) {
    const auto second = body.take(rest.substr(first.bytes));
    if (second.bytes > rest.size() - first.bytes) __builtin_trap();
  }
  // And the same bytes as a response head.
  ResponseHead response;
  (void)parse_response_head(input, limits, false, response);
  return 0;
}
