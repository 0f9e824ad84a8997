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

TEST(JsonWriter, AnArrayWrittenByTwoWritersReadsAsOne) {
  auto element = [](JsonWriter& j, int i) {
    j.begin_object().field("i", i).key("list").begin_array().value(i).value(i + 1).end_array();
    j.end_object();
  };
  for (int split : {0, 1, 3, 5}) {
    JsonWriter one(2), two(2);
    for (JsonWriter* j : {&one, &two}) j->begin_object().key("items").begin_array();
    for (int i = 0; i < 5; ++i) element(one, i);
    JsonWriter later = two.fork(split > 0);
    for (int i = split; i < 5; ++i) element(later, i);
    for (int i = 0; i < split; ++i) element(two, i);
    two.splice(std::move(later));
    for (JsonWriter* j : {&one, &two}) j->end_array().field("after", true).end_object();
    EXPECT_EQ(two.take(), one.take()) << "split at " << split;
  }
}

}  // namespace
}  // namespace ferry
