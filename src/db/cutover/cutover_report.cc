#include <fmt/format.h>

#include "core/json_writer.h"
#include "db/cutover/cutover.h"

namespace ferry::db {

std::string render_cutover_text(const CutoverReport& r) {
  std::string out = fmt::format("{} {}\n", r.kind,
                                r.switched   ? "done"
                                : r.restored ? "failed; old side restored"
                                             : "failed");
  for (const auto& s : r.steps)
    out += fmt::format("  {} {:<10} {:>8.3f} s  {}\n", s.ok ? "ok  " : "FAIL", s.name, s.seconds,
                       s.detail);
  if (r.switched) {
    out += fmt::format("writes now go to {}\n", r.writable);
    out += fmt::format("write-unavailable {:.3f} s (read-only on to switched), total {:.3f} s\n",
                       r.write_unavailable_seconds, r.total_seconds);
  }
  if (r.reverse_follow_pid > 0)
    out += fmt::format("reverse stream running as pid {}\n", r.reverse_follow_pid);
  if (r.reverse_follow_external)
    out += "reverse stream prepared: start ferry db follow --reverse under its supervisor\n";
  for (const auto& t : r.diverged_accepted)
    out += fmt::format("DIVERGED, accepted with --allow-diverged: {} differs on the new side\n", t);
  if (!r.failure.empty()) out += "failure: " + r.failure + "\n";
  return out;
}

std::string render_cutover_json(const CutoverReport& r) {
  JsonWriter w;
  w.begin_object()
      .field("kind", r.kind)
      .field("switched", r.switched)
      .field("restored", r.restored)
      .field("write_unavailable_seconds", r.write_unavailable_seconds)
      .field("total_seconds", r.total_seconds)
      .field("stop_lsn", r.stop_lsn)
      .field("writable", r.writable)
      .field("reverse_follow_pid", r.reverse_follow_pid)
      .field("reverse_follow", r.reverse_follow_pid > 0    ? "started"
                               : r.reverse_follow_external ? "external"
                                                           : "none")
      .field("failure", r.failure)
      .field("differences", r.differences)
      .field("diverged_accepted", r.diverged_accepted)
      .key("steps")
      .begin_array();
  for (const auto& s : r.steps)
    w.begin_object()
        .field("name", s.name)
        .field("ok", s.ok)
        .field("seconds", s.seconds)
        .field("detail", s.detail)
        .end_object();
  w.end_array().end_object();
  return w.take();
}

}  // namespace ferry::db
