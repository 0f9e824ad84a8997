#include "proxy/chunked_framing.h"

#include <algorithm>

namespace ferry::proxy {

namespace {

// Limits that keep a hostile peer from holding the scanner in one line forever.
constexpr int kMaxSizeDigits = 15;          // 2^60 bytes in one chunk is plenty
constexpr size_t kMaxLineBytes = 4096;      // one chunk extension or trailer line
constexpr size_t kMaxTrailerBytes = 16384;  // all trailers together

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedFraming::Step ChunkedFraming::fail(const char* why, size_t at) {
  state_ = State::kInvalid;
  reason_ = why;
  return {Status::kInvalid, at};
}

ChunkedFraming::Step ChunkedFraming::feed(std::string_view data) {
  size_t i = 0;
  const size_t n = data.size();
  while (i < n) {
    const char c = data[i];
    switch (state_) {
      case State::kSize: {
        const int v = hex_value(c);
        if (v >= 0) {
          if (++size_digits_ > kMaxSizeDigits) return fail("chunk size too large", i);
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
          ++i;
        } else if (size_digits_ == 0) {
          return fail("chunk size is not hexadecimal", i);
        } else if (c == ';') {
          state_ = State::kExtension;
          line_bytes_ = 0;
          ++i;
        } else if (c == ' ' || c == '\t') {
          // Whitespace is tolerated only before an extension (RFC 9112 7.1.1 BWS).
          state_ = State::kSizeSpace;
          ++i;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else {
          return fail("invalid character after chunk size", i);
        }
        break;
      }
      case State::kSizeSpace:
        if (c == ';') {
          state_ = State::kExtension;
          line_bytes_ = 0;
        } else if (c != ' ' && c != '\t') {
          return fail("invalid character after chunk size", i);
        }
        ++i;
        break;
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n') {
          return fail("bare LF in chunk extension", i);
        } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
          return fail("control character in chunk extension", i);
        } else if (++line_bytes_ > kMaxLineBytes) {
          return fail("chunk extension too long", i);
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail("chunk size line not ended by CRLF", i);
        ++i;
        size_digits_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailerStart;
          trailer_bytes_ = 0;
        } else {
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const uint64_t take = std::min<uint64_t>(remaining_, n - i);
        remaining_ -= take;
        i += static_cast<size_t>(take);
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail("chunk data longer than its size", i);
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return fail("chunk data not ended by CRLF", i);
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLf;
        } else if (c == '\n') {
          return fail("bare LF after the last chunk", i);
        } else if (c == ' ' || c == '\t') {
          return fail("obsolete line folding in trailers", i);
        } else {
          state_ = State::kTrailer;
          line_bytes_ = 1;
        }
        ++i;
        break;
      case State::kTrailer:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n') {
          return fail("bare LF in trailer", i);
        } else if (++line_bytes_ > kMaxLineBytes) {
          return fail("trailer line too long", i);
        }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail("trailer line not ended by CRLF", i);
        trailer_bytes_ += line_bytes_ + 2;
        if (trailer_bytes_ > kMaxTrailerBytes) return fail("trailers too large", i);
        state_ = State::kTrailerStart;
        ++i;
        break;
      case State::kFinalLf:
        if (c != '\n') return fail("last chunk not ended by CRLF", i);
        state_ = State::kDone;
        return {Status::kDone, i + 1};
      case State::kDone:
        return {Status::kDone, i};
      case State::kInvalid:
        return {Status::kInvalid, i};
    }
  }
  if (state_ == State::kDone) return {Status::kDone, i};
  return {Status::kNeedMore, i};
}

std::optional<std::string> decode_chunked(std::string_view framed) {
  std::string data;
  size_t at = 0;
  for (;;) {
    const size_t eol = framed.find("\r\n", at);
    if (eol == std::string_view::npos) return std::nullopt;
    uint64_t size = 0;
    int digits = 0;
    for (size_t i = at; i < eol && hex_value(framed[i]) >= 0; ++i, ++digits) {
      if (digits == kMaxSizeDigits) return std::nullopt;
      size = size * 16 + static_cast<uint64_t>(hex_value(framed[i]));
    }
    if (digits == 0) return std::nullopt;
    at = eol + 2;
    if (size == 0) return data;  // trailers follow; they are not data
    if (framed.size() - at < size + 2 || framed.substr(at + size, 2) != "\r\n") return std::nullopt;
    data.append(framed.substr(at, size));
    at += size + 2;
  }
}

}  // namespace ferry::proxy
