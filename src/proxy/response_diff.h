// Comparing two answers to the same request (the parallel run: the primary
// pool's, which the client got, and the mirror's): the status, the headers a
// route lists, and the body. JSON bodies are compared field by field, so a
// difference is named by its path (`$.items[3].price`): objects by key,
// arrays by index, numbers by value (1.0 is 1), strings by text, and a
// string is never equal to a number ("1" is not 1). Other bodies are
// compared byte for byte. Fields matching an `ignore` pattern
// (`$.generated_at`, `$.items[*].etag`) are left out.
//
// stands_out is Diffy's idea: a field that two instances of the primary
// already disagree on (a timestamp, a request id) is noise, and counts as a
// difference only when primary and candidate disagree on it clearly more often.
//
// Pure: no sockets, no clocks; response_diff_test.cc drives it.
#pragma once

#include <cstdint>
#include <span>
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
// The primary against each of `others` (the candidate, the noise instance),
// its body parsed once: one list of differences per other answer.
std::vector<std::vector<FieldDifference>> diff_answers(const AnswerToCompare& primary,
                                                       std::span<const AnswerToCompare> others,
                                                       const DiffPolicy& policy);

// `$.items[3].price` -> `$.items[*].price`: counts are kept per field, not
// per array element, so they stay few and comparable between samples.
std::string general_path(std::string_view path);

// Diffy's rule, for one field over the samples so far: `candidate` of them
// differed on it between primary and candidate, `noise` between the two
// primaries. It stands out of the noise when the difference beyond the noise
// is more than kRelativeThreshold of the candidate's differences and more
// than kAbsoluteThreshold of all samples: a field that differs on every
// answer anyway (a request id) or at random (an unordered list) does not,
// however often it differs.
constexpr double kRelativeThreshold = 0.20;
constexpr double kAbsoluteThreshold = 0.0003;
bool stands_out(int64_t candidate, int64_t noise, int64_t samples);

}  // namespace ferry::proxy
