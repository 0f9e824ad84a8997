// Reads the free-text "Traffic" cells spreadsheets hold: "10k req/day",
// "100 users", "Hourly", "2.5M requests/month".
#pragma once

#include <optional>
#include <string_view>

namespace ferry::assess {

struct Traffic {
  std::optional<double> requests_per_day;
  std::optional<double> active_users;
  bool scheduled = false;  // "hourly", "nightly": a batch job, not a service
};

// nullopt when the text is not understood.
std::optional<Traffic> parse_traffic(std::string_view text);

}  // namespace ferry::assess
