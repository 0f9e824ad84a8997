#include "proxy/http_head.h"

#include <array>
#include <cstring>

namespace ferry::proxy {

namespace {

// tchar from RFC 9110 5.6.2.
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kTokenChar = make_token_table();

// field-vchar, SP and HTAB; obs-text (0x80-0xFF) is allowed as opaque bytes.
constexpr std::array<bool, 256> make_value_table() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = true;
  for (int c = 0x80; c < 0x100; ++c) t[c] = true;
  t['\t'] = true;
  return t;
}
constexpr auto kValueChar = make_value_table();

// Characters of a request-target: visible ASCII, no spaces or controls.
// (Bytes above 0x7f are not valid URI characters; clients percent-encode them.)
constexpr std::array<bool, 256> make_target_table() {
  std::array<bool, 256> t{};
  for (int c = 0x21; c < 0x7f; ++c) t[c] = true;
  return t;
}
constexpr auto kTargetChar = make_target_table();

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ParseResult invalid(int status, std::string_view reason) {
  return {ParseState::kInvalid, status, reason};
}

// Finds the end of the head ("\r\n\r\n"). Every LF must follow a CR: a bare LF
// is one of the ambiguities smuggling relies on. Returns the head length, 0
// when incomplete, or npos for a bare LF.
size_t find_head_end(std::string_view data) {
  const char* begin = data.data();
  const char* end = begin + data.size();
  const char* p = begin;
  while (p < end) {
    const void* lf = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (lf == nullptr) return 0;
    const char* at = static_cast<const char*>(lf);
    if (at == begin || at[-1] != '\r') return std::string_view::npos;
    // A blank line: "\r\n" at the very start (a stray CRLF before the request
    // is tolerated by the caller) or right after the previous line's "\r\n".
    if (at - begin >= 3 && at[-2] == '\n' && at[-3] == '\r') {
      return static_cast<size_t>(at - begin) + 1;
    }
    p = at + 1;
  }
  return 0;
}

// Content-Length: one or more digits, nothing else, no overflow.
bool parse_content_length(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > 18) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  out = n;
  return true;
}

// The last transfer coding of a comma-separated list.
std::string_view last_coding(std::string_view list) {
  const size_t comma = list.rfind(',');
  return trim_ows(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

struct HeaderFacts {
  int content_length_count = 0;
  uint64_t content_length = 0;
  bool content_length_valid = true;
  int transfer_encoding_count = 0;
  std::string_view transfer_encoding;  // the last one's value
  int host_count = 0;
  std::string_view host;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool has_upgrade = false;
  std::string_view expect;
};

// Parses header lines from `lines` (each ending "\r\n", the blank line
// excluded) into `headers`, recording the framing-relevant ones in `facts`.
ParseResult parse_fields(std::string_view lines, const HeadLimits& limits,
                         std::vector<HeaderField>& headers, HeaderFacts& facts) {
  while (!lines.empty()) {
    const size_t eol = lines.find("\r\n");
    std::string_view line = lines.substr(0, eol);
    lines.remove_prefix(eol + 2);
    if (line.front() == ' ' || line.front() == '\t') return invalid(400, "obsolete line folding");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return invalid(400, "header line without a name");
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      // Whitespace before the colon is a smuggling vector (RFC 9112 5.1).
      if (!kTokenChar[static_cast<unsigned char>(c)]) return invalid(400, "invalid header name");
    }
    const std::string_view raw_value = line.substr(colon + 1);
    for (char c : raw_value) {
      if (!kValueChar[static_cast<unsigned char>(c)]) return invalid(400, "invalid header value");
    }
    if (headers.size() == limits.max_headers) return invalid(431, "too many header fields");
    const std::string_view value = trim_ows(raw_value);
    headers.push_back({name, value});

    switch (lower(name.front())) {
      case 'c':
        if (equals_ignore_case(name, "content-length")) {
          ++facts.content_length_count;
          if (!parse_content_length(value, facts.content_length))
            facts.content_length_valid = false;
        } else if (equals_ignore_case(name, "connection")) {
          facts.connection_close |= has_token(value, "close");
          facts.connection_keep_alive |= has_token(value, "keep-alive");
          facts.connection_upgrade |= has_token(value, "upgrade");
        }
        break;
      case 't':
        if (equals_ignore_case(name, "transfer-encoding")) {
          ++facts.transfer_encoding_count;
          facts.transfer_encoding = value;
        }
        break;
      case 'h':
        if (equals_ignore_case(name, "host")) {
          ++facts.host_count;
          facts.host = value;
        }
        break;
      case 'u':
        if (equals_ignore_case(name, "upgrade")) facts.has_upgrade = true;
        break;
      case 'e':
        if (equals_ignore_case(name, "expect")) facts.expect = value;
        break;
      default:
        break;
    }
  }
  return {ParseState::kComplete, 0, {}};
}

// "HTTP/1.0" or "HTTP/1.1" -> minor version; -1 otherwise.
int parse_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1.") return -1;
  if (v[7] == '0') return 0;
  if (v[7] == '1') return 1;
  return -1;
}

bool is_http_version_shape(std::string_view v) {
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && v[6] == '.' && v[5] >= '0' && v[5] <= '9' &&
         v[7] >= '0' && v[7] <= '9';
}

bool keep_alive_for(int minor_version, const HeaderFacts& f) {
  if (f.connection_close) return false;
  return minor_version >= 1 || f.connection_keep_alive;
}

// Splits an absolute-form target ("http://host:80/p?q") into authority and the rest.
bool split_absolute_form(std::string_view target, std::string_view& authority,
                         std::string_view& rest) {
  size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!equals_ignore_case(scheme, "http") && !equals_ignore_case(scheme, "https")) return false;
  std::string_view after = target.substr(scheme_end + 3);
  const size_t slash = after.find_first_of("/?");
  authority = after.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view("/") : after.substr(slash);
  return !authority.empty();
}

}  // namespace

const HeaderField* find_header(std::span<const HeaderField> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (equals_ignore_case(h.name, name)) return &h;
  }
  return nullptr;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kTokenChar[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (equals_ignore_case(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view RequestHead::header(std::string_view name) const {
  const HeaderField* h = find_header(headers, name);
  return h ? h->value : std::string_view();
}

std::string_view ResponseHead::header(std::string_view name) const {
  const HeaderField* h = find_header(headers, name);
  return h ? h->value : std::string_view();
}

ParseResult parse_request_head(std::string_view data, const HeadLimits& limits, RequestHead& head) {
  head.headers.clear();
  head.framing = {};
  head.expect_continue = false;
  head.upgrade = false;
  // The request line comes first; checking its length before the whole head
  // answers an over-long URI with 414 rather than 431.
  const size_t first_lf = data.find('\n');
  if (first_lf == std::string_view::npos) {
    if (data.size() > limits.max_target_bytes + 32) return invalid(414, "request-target too long");
    if (data.size() > limits.max_head_bytes) return invalid(431, "request head too large");
    return {};
  }
  if (first_lf > limits.max_target_bytes + 32) return invalid(414, "request-target too long");
  const size_t end = find_head_end(data.substr(0, std::min(data.size(), limits.max_head_bytes)));
  if (end == std::string_view::npos) return invalid(400, "bare LF in request head");
  if (end == 0) {
    if (data.size() >= limits.max_head_bytes) return invalid(431, "request head too large");
    return {};
  }
  head.head_bytes = end;
  const std::string_view text = data.substr(0, end);
  const size_t line_end = text.find("\r\n");
  const std::string_view line = text.substr(0, line_end);

  // method SP request-target SP HTTP-version, single spaces only.
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return invalid(400, "malformed request line");
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1)
    return invalid(400, "malformed request line");
  head.method = line.substr(0, sp1);
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(head.method)) return invalid(400, "invalid method");
  if (head.target.size() > limits.max_target_bytes) return invalid(414, "request-target too long");
  for (char c : head.target) {
    if (!kTargetChar[static_cast<unsigned char>(c)]) return invalid(400, "invalid request-target");
  }
  head.minor_version = parse_version(version);
  if (head.minor_version < 0) {
    return is_http_version_shape(version) ? invalid(505, "HTTP version not supported")
                                          : invalid(400, "malformed HTTP version");
  }
  if (head.method == "CONNECT") return invalid(501, "CONNECT is not supported");

  HeaderFacts facts;
  const ParseResult fields =
      parse_fields(text.substr(line_end + 2, end - line_end - 4), limits, head.headers, facts);
  if (fields.state != ParseState::kComplete) return fields;

  // Target forms: origin ("/p?q"), absolute ("http://h/p"), asterisk ("*", OPTIONS).
  std::string_view path_and_query = head.target;
  std::string_view authority;
  if (head.target.front() == '/') {
  } else if (head.target == "*") {
    if (head.method != "OPTIONS") return invalid(400, "asterisk-form target is only for OPTIONS");
  } else if (!split_absolute_form(head.target, authority, path_and_query)) {
    return invalid(400, "invalid request-target");
  }
  const size_t q = path_and_query.find('?');
  head.path = path_and_query.substr(0, q);
  head.query = q == std::string_view::npos ? std::string_view() : path_and_query.substr(q + 1);

  if (facts.host_count > 1) return invalid(400, "more than one Host header");
  if (facts.host_count == 0 && head.minor_version == 1) return invalid(400, "missing Host header");
  head.host = authority.empty() ? facts.host : authority;

  MessageFraming& f = head.framing;
  if (facts.transfer_encoding_count > 0) {
    if (facts.content_length_count > 0) {
      return invalid(400, "both Content-Length and Transfer-Encoding");
    }
    if (head.minor_version == 0) return invalid(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (facts.transfer_encoding_count > 1) return invalid(400, "more than one Transfer-Encoding");
    // Only "chunked" is forwarded: any other coding would have to be decoded
    // to find the body's end, and a request whose last coding is not chunked
    // has no knowable end at all (RFC 9112 6.3).
    if (!equals_ignore_case(facts.transfer_encoding, "chunked")) {
      return equals_ignore_case(last_coding(facts.transfer_encoding), "chunked")
                 ? invalid(501, "transfer coding not supported")
                 : invalid(400, "Transfer-Encoding without a final chunked");
    }
    f.body = BodyFraming::kChunked;
  } else if (facts.content_length_count > 0) {
    if (facts.content_length_count > 1) return invalid(400, "more than one Content-Length");
    if (!facts.content_length_valid) return invalid(400, "invalid Content-Length");
    f.content_length = facts.content_length;
    f.body = f.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  }
  f.keep_alive = keep_alive_for(head.minor_version, facts);
  f.connection_upgrade = facts.connection_upgrade;
  head.upgrade = facts.has_upgrade && facts.connection_upgrade;
  if (!facts.expect.empty()) {
    if (!equals_ignore_case(facts.expect, "100-continue"))
      return invalid(417, "unsupported Expect");
    // An HTTP/1.0 client cannot read a 100 Continue (RFC 9110 10.1.1).
    head.expect_continue = head.minor_version == 1;
  }
  return {ParseState::kComplete, 0, {}};
}

ParseResult parse_response_head(std::string_view data, const HeadLimits& limits,
                                bool request_was_head, ResponseHead& head) {
  head.headers.clear();
  head.framing = {};
  const size_t end = find_head_end(data.substr(0, std::min(data.size(), limits.max_head_bytes)));
  if (end == std::string_view::npos) return invalid(502, "bare LF in response head");
  if (end == 0) {
    if (data.size() >= limits.max_head_bytes) return invalid(502, "response head too large");
    return {};
  }
  head.head_bytes = end;
  const std::string_view text = data.substr(0, end);
  const size_t line_end = text.find("\r\n");
  const std::string_view line = text.substr(0, line_end);
  // HTTP-version SP 3DIGIT SP [reason]
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return invalid(502, "malformed status line");
  }
  head.minor_version = parse_version(line.substr(0, 8));
  if (head.minor_version < 0) return invalid(502, "unsupported HTTP version from upstream");
  int status = 0;
  for (char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') return invalid(502, "malformed status code");
    status = status * 10 + (c - '0');
  }
  if (status < 100) return invalid(502, "malformed status code");
  head.status = status;
  head.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (char c : head.reason) {
    if (!kValueChar[static_cast<unsigned char>(c)]) return invalid(502, "invalid reason phrase");
  }
  HeaderFacts facts;
  const ParseResult fields =
      parse_fields(text.substr(line_end + 2, end - line_end - 4), limits, head.headers, facts);
  if (fields.state != ParseState::kComplete) return invalid(502, fields.reason);

  MessageFraming& f = head.framing;
  f.keep_alive = keep_alive_for(head.minor_version, facts);
  f.connection_upgrade = facts.connection_upgrade;
  if (request_was_head || head.is_interim() || status == 204 || status == 304) {
    f.body = BodyFraming::kNone;
    return {ParseState::kComplete, 0, {}};
  }
  if (facts.transfer_encoding_count > 0) {
    if (facts.content_length_count > 0)
      return invalid(502, "both Content-Length and Transfer-Encoding");
    const std::string_view te = facts.transfer_encoding_count == 1 ? facts.transfer_encoding : "";
    if (equals_ignore_case(te, "chunked")) {
      f.body = BodyFraming::kChunked;
    } else {
      // Some other coding: the body runs until the upstream closes.
      f.body = BodyFraming::kUntilClose;
      f.keep_alive = false;
    }
  } else if (facts.content_length_count > 0) {
    if (facts.content_length_count > 1) return invalid(502, "more than one Content-Length");
    if (!facts.content_length_valid) return invalid(502, "invalid Content-Length");
    f.content_length = facts.content_length;
    f.body = f.content_length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  } else {
    f.body = BodyFraming::kUntilClose;
    f.keep_alive = false;
  }
  return {ParseState::kComplete, 0, {}};
}

}  // namespace ferry::proxy
