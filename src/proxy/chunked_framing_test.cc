#include "proxy/chunked_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::proxy {
namespace {

using Status = ChunkedFraming::Status;

// Feeds `body` one byte at a time and in one piece; both must agree.
ChunkedFraming::Step scan(const std::string& body, bool bytewise) {
  ChunkedFraming framing;
  if (!bytewise) return framing.feed(body);
  size_t total = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const auto step = framing.feed(std::string_view(body).substr(i, 1));
    total += step.consumed;
    if (step.status != Status::kNeedMore) return {step.status, total};
  }
  return {Status::kNeedMore, total};
}

TEST(ChunkedFraming, FindsTheEndOfTheBody) {
  const std::string body =
      "5\r\nhello\r\n1a; ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\nGET /next";
  for (bool bytewise : {false, true}) {
    const auto step = scan(body, bytewise);
    EXPECT_EQ(step.status, Status::kDone);
    EXPECT_EQ(step.consumed, body.size() - 9);
  }
}

TEST(ChunkedFraming, AcceptsTrailers) {
  const std::string body = "3\r\nabc\r\n0\r\nX-Checksum: 12\r\nX-Other: y\r\n\r\n";
  for (bool bytewise : {false, true}) {
    const auto step = scan(body, bytewise);
    EXPECT_EQ(step.status, Status::kDone);
    EXPECT_EQ(step.consumed, body.size());
  }
}

TEST(ChunkedFraming, NeedsMoreUntilTheLastChunk) {
  EXPECT_EQ(scan("5\r\nhel", false).status, Status::kNeedMore);
  EXPECT_EQ(scan("5\r\nhello\r\n0\r\n", false).status, Status::kNeedMore);
}

TEST(ChunkedFraming, RejectsBrokenFraming) {
  for (const std::string bad :
       {"x\r\nhello\r\n", "\r\n", "5\nhello\r\n", "5\r\nhello\n0\r\n\r\n", "5\r\nhelloX\r\n",
        "-5\r\nhello\r\n", "5 x\r\n", "1234567890abcdef0\r\n", "0\r\n\n", "0\r\nX: y\n\r\n",
        "0\r\n folded\r\n\r\n", "5;\x01\r\n"}) {
    for (bool bytewise : {false, true}) {
      EXPECT_EQ(scan(bad, bytewise).status, Status::kInvalid) << bad;
    }
  }
}

TEST(ChunkedFraming, SkipsChunkDataWithoutScanningIt) {
  ChunkedFraming framing;
  EXPECT_EQ(framing.feed("10000\r\n").status, Status::kNeedMore);
  EXPECT_EQ(framing.chunk_bytes_left(), 0x10000u);
  const std::string data(0x8000, '\n');  // newlines inside data are just data
  EXPECT_EQ(framing.feed(data).consumed, data.size());
  EXPECT_EQ(framing.chunk_bytes_left(), 0x8000u);
}

TEST(DecodeChunked, TakesTheDataOutOfTheFraming) {
  EXPECT_EQ(decode_chunked("5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\n"), "hello!");
  EXPECT_EQ(decode_chunked("0\r\n\r\n"), "");
  EXPECT_EQ(decode_chunked("A\r\n0123456789\r\n0\r\n\r\n"), "0123456789");
  EXPECT_EQ(decode_chunked("5\r\nhel"), std::nullopt);               // cut short
  EXPECT_EQ(decode_chunked("5\r\nhelloXX0\r\n\r\n"), std::nullopt);  // no CRLF after data
  EXPECT_EQ(decode_chunked("zz\r\n"), std::nullopt);
}

}  // namespace
}  // namespace ferry::proxy
