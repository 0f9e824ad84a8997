// A streaming JSON writer: appends to a string as it goes, two-space indent.
//
// Why not nlohmann::json: building a document tree for a 10,000-workload plan
// (95 MB of JSON, every decision traced) took 3.4 s; writing it straight out
// takes a small fraction of that, and the plan has to be done in under a second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

class JsonWriter {
 public:
  // Containers opened deeper than `pretty_depth` are written on one line, so
  // large documents stay compact while their outline stays readable.
  explicit JsonWriter(size_t pretty_depth = 64) : pretty_depth_(pretty_depth) {}

  // Room for `bytes` of output up front: a large document then grows in
  // place instead of being copied each time the string doubles.
  void reserve(size_t bytes) { out_.reserve(bytes); }

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // Inside an object: the next value's key.
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(double d);  // finite: shortest form that reads back; NaN and inf: null
  JsonWriter& value(int64_t i);
  JsonWriter& value(int i) { return value(static_cast<int64_t>(i)); }
  JsonWriter& value(size_t i) { return value(static_cast<int64_t>(i)); }
  JsonWriter& null();
  // A value that is already JSON text (written as it is).
  JsonWriter& raw(std::string_view json);
  JsonWriter& value(const std::vector<std::string>& list);

  // key(k).value(v) in one call.
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  // The document, with a trailing newline.
  std::string take();

  // Writing one array from two threads: fork() gives a writer that goes on
  // in this one's open containers (as if `items_before` had been written into
  // the innermost), the other thread writes the array's later elements into
  // it, and splice() appends them here. The text is the same as one writer's.
  JsonWriter fork(bool items_before) const;
  void splice(JsonWriter&& part);

 private:
  void before_value();
  void newline();
  JsonWriter& end_container(char close);
  void write_string(std::string_view s);

  std::string out_;
  std::vector<bool> has_items_;  // per open container
  bool after_key_ = false;
  size_t pretty_depth_;
};

}  // namespace ferry
