#include "pg/conninfo.h"

#include <gtest/gtest.h>

namespace ferry::pg {
namespace {

TEST(ConnInfo, UriPasswordIsMaskedEverywhereItIsShown) {
  auto info = parse_conninfo("postgresql://app:s3cret@db1.example:6543/shop", "--source");
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->redacted(), "postgres://app:***@db1.example:6543/shop");
  EXPECT_EQ(info->password(), "s3cret");
  EXPECT_EQ(info->without_password().find("s3cret"), std::string::npos);
  EXPECT_NE(info->without_password().find("host='db1.example'"), std::string::npos);
}

TEST(ConnInfo, KeyValueFormIsAccepted) {
  auto info = parse_conninfo("host=10.0.0.5 port=5433 dbname='my db user=x", "--target");
  ASSERT_FALSE(info) << "an unterminated quote must be rejected";
  info = parse_conninfo("host=10.0.0.5 port=5433 dbname='my db' user=x", "--target");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->redacted(), "postgres://x@10.0.0.5:5433/my db");
  EXPECT_FALSE(info->has_password);
}

TEST(ConnInfo, MalformedInputNamesTheOptionAndNeverEchoesIt) {
  // libpq accepts any port text at parse time; an unknown option is a parse error.
  auto info = parse_conninfo("postgresql://u:hunter2@host/db?sslmod=require", "--source");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(info.error().message.find("--source"), std::string::npos);
  EXPECT_EQ(info.error().message.find("hunter2"), std::string::npos);
  EXPECT_FALSE(parse_conninfo("", "--target"));
}

TEST(ConnInfo, SpecialCharactersSurviveTheRoundTripToChildPrograms) {
  auto info = parse_conninfo("postgresql://us%20er@h/d%27b", "--source");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->user, "us er");
  EXPECT_EQ(info->dbname, "d'b");
  EXPECT_NE(info->without_password().find("dbname='d\\'b'"), std::string::npos);
}

TEST(ConnInfo, UsualSlipsGetAHint) {
  auto scheme = parse_conninfo("postgress://app:s3cret@h/d", "--source");
  ASSERT_FALSE(scheme);
  EXPECT_NE(scheme.error().message.find("(did you mean postgres://?)"), std::string::npos)
      << scheme.error().message;
  EXPECT_EQ(scheme.error().message.find("s3cret"), std::string::npos) << scheme.error().message;
  auto query = parse_conninfo("postgres://h/d?sslmod=require", "--target");
  ASSERT_FALSE(query);
  EXPECT_NE(query.error().message.find("\"sslmod\" (did you mean 'sslmode'?)"), std::string::npos)
      << query.error().message;
  auto option = parse_conninfo("hots=db1 dbname=shop", "--source");
  ASSERT_FALSE(option);
  EXPECT_NE(option.error().message.find("(did you mean 'host'?)"), std::string::npos)
      << option.error().message;
}

}  // namespace
}  // namespace ferry::pg
