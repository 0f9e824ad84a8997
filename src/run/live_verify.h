// `verify` in a run compares databases while one of them still takes
// writes (before the cutover the source, after it the target, each
// streaming to the other). A single comparison then also finds the rows
// written in the last moments, not yet applied on the other side. So a
// difference only counts once it has settled:
//
//   1. every table is compared (`ferry db verify`'s rows, schema and
//      settings; sequences are set by the cutover, not streamed, so they
//      are left out);
//   2. a marker is written on the writing side and the follow is waited for
//      until it has applied it: everything written before the comparison
//      has arrived;
//   3. the tables that differed are compared again, and each row that
//      differed is judged: one that matches now was in flight; one whose
//      target side is what it was is a real difference (the source had
//      another value before the marker and the target did not take it; a
//      row missing or extra on the target, too); one whose target side
//      has moved is `tracking`: a hot row the source writes faster than
//      the comparisons go, taking the source's changes (logical
//      replication carries whole rows, so a row that keeps taking them
//      does not drift). A row that differs now and did not the last time
//      was written since: in flight.
//
// Schema and settings differences, and a table that cannot be compared,
// are real at once. Rows only counted, not listed (beyond
// max_rows_reported), cannot be judged one by one: they are compared again,
// up to kMaxVerifyRounds comparisons in all, and still there at the end
// they fail the step as `unsettled`: too little evidence is never a pass.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "db/verify/verify.h"

namespace ferry::run {

inline constexpr int kMaxVerifyRounds = 5;

struct SettleVerdict {
  bool ok = false;
  bool settled = false;           // nothing left to compare again
  std::vector<std::string> real;  // "public.orders id=42: changed (source ..., target ...)"
  std::set<std::string> recheck;  // tables to compare again
  int64_t in_flight = 0;          // rows that differed once and then matched
  int64_t tracking = 0;           // hot rows: still different, their target side moving
  int64_t unsettled = 0;          // rows counted but not listed, still different at the end
};

// The comparisons so far decide what is real: `rounds[0]` is the full
// comparison, each later one covers the tables the one before left to
// compare again. `last_round`: no further comparison will be made.
SettleVerdict settle(const std::vector<db::VerifyReport>& rounds, bool last_round);

}  // namespace ferry::run
