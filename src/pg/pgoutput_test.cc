#include "pg/pgoutput.h"

#include <gtest/gtest.h>

namespace ferry::pg {
namespace {

// Builds messages the way the server writes them: big-endian, NUL-terminated strings.
class Bytes {
 public:
  explicit Bytes(char type) { s_.push_back(type); }
  Bytes& u(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return *this;
  }
  Bytes& c(char ch) { return u(static_cast<unsigned char>(ch), 1); }
  Bytes& str(std::string_view text) {
    s_.append(text);
    s_.push_back('\0');
    return *this;
  }
  Bytes& text_value(std::string_view text) {
    c('t').u(text.size(), 4);
    s_.append(text);
    return *this;
  }
  std::string take() const { return s_; }

 private:
  std::string s_;
};

TEST(PgOutput, BeginCommitAndLsns) {
  auto begin = decode_pgoutput(Bytes('B').u(0x16B374D848, 8).u(42, 8).u(777, 4).take());
  ASSERT_TRUE(begin) << begin.error().to_string();
  const auto& b = std::get<BeginMessage>(*begin);
  EXPECT_EQ(lsn_text(b.final_lsn), "16/B374D848");
  EXPECT_EQ(b.xid, 777u);
  auto commit = decode_pgoutput(Bytes('C').u(0, 1).u(5, 8).u(9, 8).u(1, 8).take());
  ASSERT_TRUE(commit);
  EXPECT_EQ(std::get<CommitMessage>(*commit).end_lsn, 9u);
  EXPECT_EQ(parse_lsn("16/B374D848"), Lsn{0x16B374D848});
  EXPECT_FALSE(parse_lsn("16B374D848"));
  EXPECT_FALSE(parse_lsn("16/"));
  EXPECT_FALSE(parse_lsn("x/1"));
}

TEST(PgOutput, RelationThenInsertUpdateDelete) {
  auto rel = decode_pgoutput(Bytes('R')
                                 .u(16400, 4)
                                 .str("Sales Data")
                                 .str("Orders")
                                 .c('d')
                                 .u(2, 2)
                                 .u(1, 1)
                                 .str("id")
                                 .u(23, 4)
                                 .u(0xFFFFFFFF, 4)
                                 .u(0, 1)
                                 .str("note")
                                 .u(25, 4)
                                 .u(0xFFFFFFFF, 4)
                                 .take());
  ASSERT_TRUE(rel) << rel.error().to_string();
  const auto& r = std::get<RelationMessage>(*rel);
  EXPECT_EQ(r.schema, "Sales Data");
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_FALSE(r.columns[1].key);
  EXPECT_EQ(r.columns[1].type_modifier, -1);

  auto insert =
      decode_pgoutput(Bytes('I').u(16400, 4).c('N').u(2, 2).text_value("7").c('n').take());
  ASSERT_TRUE(insert);
  const auto& i = std::get<InsertMessage>(*insert);
  EXPECT_EQ(i.new_tuple[0].text, "7");
  EXPECT_EQ(i.new_tuple[1].kind, TupleValue::Kind::kNull);

  // An update that changed the key carries the old key; an unchanged TOASTed
  // value comes as 'u' and must be left as it is on the target.
  auto update = decode_pgoutput(Bytes('U')
                                    .u(16400, 4)
                                    .c('K')
                                    .u(2, 2)
                                    .text_value("7")
                                    .c('n')
                                    .c('N')
                                    .u(2, 2)
                                    .text_value("8")
                                    .c('u')
                                    .take());
  ASSERT_TRUE(update) << update.error().to_string();
  const auto& u = std::get<UpdateMessage>(*update);
  ASSERT_TRUE(u.old_key);
  EXPECT_FALSE(u.old_row);
  EXPECT_EQ((*u.old_key)[0].text, "7");
  EXPECT_EQ(u.new_tuple[1].kind, TupleValue::Kind::kUnchangedToast);

  auto del = decode_pgoutput(Bytes('D').u(16400, 4).c('O').u(1, 2).text_value("8").take());
  ASSERT_TRUE(del);
  EXPECT_TRUE(std::get<DeleteMessage>(*del).old_row);
}

TEST(PgOutput, TruncateOriginTypeAndLogicalMessages) {
  auto t = decode_pgoutput(Bytes('T').u(2, 4).u(3, 1).u(10, 4).u(11, 4).take());
  ASSERT_TRUE(t);
  const auto& tr = std::get<TruncateMessage>(*t);
  EXPECT_TRUE(tr.cascade && tr.restart_identity);
  EXPECT_EQ(tr.relation_ids, (std::vector<uint32_t>{10, 11}));
  auto o = decode_pgoutput(Bytes('O').u(99, 8).str("ferry_reverse").take());
  ASSERT_TRUE(o);
  EXPECT_EQ(std::get<OriginMessage>(*o).name, "ferry_reverse");
  auto y = decode_pgoutput(Bytes('Y').u(16500, 4).str("public").str("mood").take());
  ASSERT_TRUE(y);
  EXPECT_EQ(std::get<TypeMessage>(*y).name, "mood");
  auto m = decode_pgoutput(Bytes('M').u(1, 1).u(5, 8).str("ferry").u(3, 4).take() +
                           std::string("a\0b", 3));
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(std::get<LogicalMessage>(*m).content, std::string("a\0b", 3));
}

TEST(PgOutput, ShortOrMalformedMessagesAreErrorsNotOverreads) {
  const std::string insert =
      Bytes('I').u(16400, 4).c('N').u(2, 2).text_value("hello").c('n').take();
  for (size_t n = 0; n < insert.size(); ++n) {
    auto r = decode_pgoutput(insert.substr(0, n));
    EXPECT_FALSE(r) << "prefix of " << n << " bytes decoded";
  }
  EXPECT_FALSE(decode_pgoutput(insert + "x")) << "trailing bytes are an error too";
  EXPECT_FALSE(decode_pgoutput(Bytes('I').u(1, 4).c('X').take()));
  EXPECT_FALSE(decode_pgoutput(Bytes('I').u(1, 4).c('N').u(1, 2).c('t').u(0xFFFFFFFF, 4).take()));
  auto unknown = decode_pgoutput("Z");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown pgoutput message type 'Z'"), std::string::npos);
}

}  // namespace
}  // namespace ferry::pg
