// Import tags that say what a field would: `eol` (end of life), `critical`,
// `pii`, `cots`. Discovery tools and CMDBs carry such facts as tags, not as
// columns; read here, they feed the rules like the fields they stand for.
// A field the inventory gives is never overridden; a tag that disagrees with
// one is a warning.
#pragma once

#include "assess/inventory.h"
#include "core/diagnostics.h"

namespace ferry::assess {

// Fills the fields the workload's tags stand for and records each in
// `w.from_tags` ("eol -> remaining_lifespan_years 0").
void apply_tags(Workload& w, Diagnostics& warnings);

}  // namespace ferry::assess
