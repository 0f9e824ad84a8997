#include "core/log.h"

#include <gtest/gtest.h>

#include "core/yaml.h"

namespace ferry {
namespace {

TEST(LogValue, PlainWordsStayBareAndTheRestIsQuotedSoItReadsBack) {
  EXPECT_EQ(log_value("public.orders"), "public.orders");
  EXPECT_EQ(log_value("connection refused"), "\"connection refused\"");
  EXPECT_EQ(log_value("say \"hi\" \\ now"), "\"say \\\"hi\\\" \\\\ now\"");
  EXPECT_EQ(log_value("a\nb"), "\"a\\nb\"");
  EXPECT_EQ(log_value(""), "\"\"");
  EXPECT_EQ(log_value("k=v"), "\"k=v\"");
}

TEST(LogLine, TextKeepsOneProblemPerLineWithoutIndentation) {
  EXPECT_EQ(
      format_log_line(LogFormat::kText, LogLevel::kError, "2 problem(s):\n  first\n  second\n", ""),
      "2 problem(s):\nfirst\nsecond");
}

TEST(LogLine, JsonCarriesEveryFieldOfAnEventAndTheWholeMessage) {
  const std::string message =
      "proxy: event=upstream_failure route=api pool=modern endpoint=10.0.0.1:80 attempt=2 detail=" +
      log_value("reset by \"peer\"\nthen gone") + ": retrying";
  const std::string line =
      format_log_line(LogFormat::kJson, LogLevel::kWarn, message, "2026-12-07T12:00:00.000Z");
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto doc = parse_yaml(line, "log line");
  ASSERT_TRUE(doc) << line;
  EXPECT_EQ(doc->find("time")->scalar(), "2026-12-07T12:00:00.000Z");
  EXPECT_EQ(doc->find("level")->scalar(), "warning");
  EXPECT_EQ(doc->find("event")->scalar(), "upstream_failure");
  EXPECT_EQ(doc->find("route")->scalar(), "api");
  EXPECT_EQ(doc->find("endpoint")->scalar(), "10.0.0.1:80");
  EXPECT_EQ(doc->find("attempt")->scalar(), "2");
  EXPECT_EQ(doc->find("detail")->scalar(), "reset by \"peer\"\nthen gone");
  EXPECT_NE(doc->find("msg")->scalar().find("proxy: event=upstream_failure"), std::string::npos);
}

TEST(LogLine, JsonOfProseIsTimeLevelAndMessage) {
  const std::string line =
      format_log_line(LogFormat::kJson, LogLevel::kInfo, "copied public.items: 10 rows", "T");
  auto doc = parse_yaml(line, "log line");
  ASSERT_TRUE(doc) << line;
  EXPECT_EQ(doc->find("msg")->scalar(), "copied public.items: 10 rows");
  EXPECT_EQ(doc->find("event"), nullptr);
}

TEST(LogLine, AFieldCannotOverwriteTimeLevelOrMessage) {
  const std::string line =
      format_log_line(LogFormat::kJson, LogLevel::kInfo, "event=x level=fake msg=no", "T");
  auto doc = parse_yaml(line, "log line");
  ASSERT_TRUE(doc) << line;
  EXPECT_EQ(doc->find("level")->scalar(), "info");
  EXPECT_EQ(doc->find("event")->scalar(), "x");
}

}  // namespace
}  // namespace ferry
