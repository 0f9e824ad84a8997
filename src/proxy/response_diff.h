// Comparing two answers to the same request (the parallel run: the primary
// pool's, which the client got, and the mirror's): the status, the headers a
// route lists, and the body. JSON bodies are compared field by field, so a
// difference is named by its path (`$.items[3].price`): objects by key,
// arrays by index, numbers by value (1.0 is 1), strings by text, and a
// string is never equal to a number ("1" is not 1). Other bodies are
// compared byte for byte. Fields matching an `ignore` pattern
// (`$.generated_at`, `$.items[*].etag`) are left out.
//
// NoiseFilter is Diffy's idea: a field that two instances of the primary
// already disagree on (a timestamp, a request id) is noise, and counts as a
// difference only when primary and candidate disagree on it more often.
//
// Pure: no sockets, no clocks; response_diff_test.cc drives it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace ferry::proxy {

// A field path pattern: `$`, then `.key` or `[N]` or `[*]` steps.
struct JsonPathPattern {
  struct Step {
    bool index = false;  // [N] or [*], else .key
    bool any = false;    // [*]
    std::string key;     // .key
    size_t n = 0;        // [N]
  };
  std::vector<Step> steps;
  std::string text;
};

// Fails on anything else, naming what is wrong.
Result<JsonPathPattern> parse_json_path(std::string_view text);

struct AnswerToCompare {
  int status = 0;
  // Header names in lower case, as received (several of one name allowed).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

struct DiffPolicy {
  std::vector<std::string> headers;  // lower case; the status is always compared
  std::vector<JsonPathPattern> ignore;
};

// One difference: `path` is "status", "header:NAME", "body" (a body that
// is not JSON, or not JSON on both sides) or a JSON path.
struct FieldDifference {
  std::string path;
  std::string primary, candidate;  // the values, shortened; "(absent)" when missing
};

std::vector<FieldDifference> diff_answers(const AnswerToCompare& primary,
                                          const AnswerToCompare& candidate,
                                          const DiffPolicy& policy);

// `$.items[3].price` -> `$.items[*].price`: counts are kept per field, not
// per array element, so they stay few and comparable between samples.
std::string general_path(std::string_view path);

class NoiseFilter {
 public:
  // One sampled request: what primary and candidate differed on, and what
  // the two primaries differed on.
  void observe(const std::vector<FieldDifference>& candidate,
               const std::vector<FieldDifference>& noise);
  // Whether differences on `path` (general or exact) stand out of the noise:
  // primary and candidate differ on it in more of the samples than the two
  // primaries do.
  bool is_signal(std::string_view path) const;
  int64_t samples() const { return samples_; }

 private:
  int64_t samples_ = 0;
  std::map<std::string, std::pair<int64_t, int64_t>, std::less<>> counts_;  // candidate, noise
};

}  // namespace ferry::proxy
