#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ferry {
namespace {

TEST(JsonWriter, NestedDocumentWithIndentation) {
  JsonWriter w;
  w.begin_object();
  w.field("name", "web \"api\"\n");
  w.field("n", 3).field("x", 0.25).field("ok", true);
  w.key("none").null();
  w.key("list").value(std::vector<std::string>{"a", "b"});
  w.key("empty").begin_array().end_array();
  w.key("obj").begin_object().end_object();
  w.end_object();
  EXPECT_EQ(w.take(),
            "{\n"
            "  \"name\": \"web \\\"api\\\"\\n\",\n"
            "  \"n\": 3,\n"
            "  \"x\": 0.25,\n"
            "  \"ok\": true,\n"
            "  \"none\": null,\n"
            "  \"list\": [\n"
            "    \"a\",\n"
            "    \"b\"\n"
            "  ],\n"
            "  \"empty\": [],\n"
            "  \"obj\": {}\n"
            "}\n");
}

TEST(JsonWriter, EscapesControlCharactersAndKeepsUtf8) {
  JsonWriter w;
  w.value(std::string("\x01 tab\t \xc3\xa9"));
  EXPECT_EQ(w.take(), "\"\\u0001 tab\\t \xc3\xa9\"\n");
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  JsonWriter w;
  w.begin_array().value(std::nan("")).value(1e300 * 1e300).value(1e-7).end_array();
  EXPECT_EQ(w.take(), "[\n  null,\n  null,\n  1e-07\n]\n");
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

TEST(JsonWriter, DeepContainersStayOnOneLine) {
  JsonWriter w(/*pretty_depth=*/1);
  w.begin_object()
      .key("a")
      .begin_object()
      .field("x", 1)
      .key("l")
      .value(std::vector<std::string>{"p", "q"})
      .end_object();
  w.key("e").begin_array().end_array().end_object();
  EXPECT_EQ(w.take(), "{\n  \"a\": {\"x\": 1, \"l\": [\"p\", \"q\"]},\n  \"e\": []\n}\n");
}

}  // namespace
}  // namespace ferry
