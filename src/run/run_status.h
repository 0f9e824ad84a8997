// A run's status from its journal, in the stable shape scripts and the
// dashboard read (docs/run.md, "Status"):
//
//   {name, state: pending|running|waiting|paused|done|aborted|failed, why,
//    steps: [{index, kind, target, state, started_at, ended_at, seconds, detail}],
//    events: [{seq, at, kind, detail}],
//    queued: [{seq, at, command, who}]}
//
// Times are ISO 8601 UTC ("" until they happen); seconds is how long the
// step ran (until now while it runs). `queued` lists the commands people
// gave that the engine has not taken yet.
#pragma once

#include <string>

#include "core/error.h"
#include "run/plan.h"
#include "run/run_journal.h"

namespace ferry {
class JsonWriter;
}

namespace ferry::run {

// The status's fields written into an object the caller has opened (the
// dashboard's snapshot adds its own after them).
Result<void> write_status_fields(JsonWriter& w, const Plan& plan, const RunJournal& journal,
                                 size_t events = 50);

Result<std::string> render_status_json(const Plan& plan, const RunJournal& journal,
                                       size_t events = 50);
Result<std::string> render_status_text(const Plan& plan, const RunJournal& journal,
                                       size_t events = 10);

}  // namespace ferry::run
