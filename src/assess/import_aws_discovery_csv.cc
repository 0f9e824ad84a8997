#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "assess/importers.h"
#include "core/csv.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

// "Wave 2" -> 2, "wave-02" -> 2, "Wave 2.5" -> 2: the first whole number.
std::optional<int> wave_number(const std::string& s) {
  const auto begin = std::find_if(
      s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  const auto end = std::find_if(
      begin, s.end(), [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); });
  if (begin == s.end() || end - begin > 6) return std::nullopt;
  return std::stoi(std::string(begin, end));
}

// A count such as cores: whole, positive and sane, or nothing.
std::optional<int> count_of(const std::string& s) {
  auto v = parse_double(s);
  if (!v || *v < 1 || *v > 1e6) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

std::vector<Workload> import_aws_discovery_csv(const CsvTable& table, const std::string& path,
                                               Diagnostics& diags) {
  std::vector<Workload> out;
  if (!table.column("Applications")) {
    diags.error({path, 1, 0},
                "missing column 'Applications': ferry groups servers into workloads by it");
    return out;
  }
  auto col = [&](std::string_view name) { return table.column(name); };
  const auto c_external = col("ExternalId"), c_ip = col("IPAddress"), c_mac = col("MACAddress"),
             c_host = col("HostName"), c_moref = col("VMware.MoRefId"),
             c_vcenter = col("VMware.VCenterId"), c_cores = col("CPU.NumberOfCores"),
             c_processors = col("CPU.NumberOfProcessors"), c_ram = col("RAM.TotalSizeInMB"),
             c_os = col("OS.Name"), c_os_version = col("OS.Version"), c_apps = col("Applications"),
             c_wave = col("ApplicationWave"), c_tags = col("Tags");
  std::unordered_map<std::string, size_t> by_name;
  std::unordered_set<std::string> wave_conflicts;  // warn once per application

  for (const auto& row : table.rows) {
    auto cell = [&](std::optional<size_t> i) { return row.cell(i); };
    const SourceLocation where{path, row.line, 0};
    const std::string host = cell(c_host), ip = cell(c_ip), external = cell(c_external);
    const bool vmware = !cell(c_moref).empty() && !cell(c_vcenter).empty();
    if (host.empty() && ip.empty() && external.empty() && cell(c_mac).empty() && !vmware) {
      diags.error(where,
                  "a server needs one of ExternalId, IPAddress, MACAddress, HostName or "
                  "VMware.MoRefId with VMware.VCenterId");
      continue;
    }
    Server server;
    server.host = host.empty() ? external : host;
    server.ip = split_trimmed(ip, ",").empty() ? "" : split_trimmed(ip, ",").front();
    server.cpus = count_of(cell(c_cores));
    if (!server.cpus) server.cpus = count_of(cell(c_processors));
    if (auto ram = parse_double(cell(c_ram)); ram && *ram > 0) server.ram_gb = *ram / 1024;
    server.os = join(split_trimmed(cell(c_os) + " " + cell(c_os_version), " "), " ");

    const auto apps = split_trimmed(cell(c_apps), ",");
    if (apps.empty()) {
      diags.warning(where,
                    fmt::format("server {} belongs to no application (Applications is empty); "
                                "it is not planned",
                                server.host.empty() ? server.ip : server.host));
      continue;
    }
    std::vector<std::string> tags;
    std::optional<std::string> owner, criticality;
    for (const auto& tag : split_trimmed(cell(c_tags), ",")) {
      const auto colon = tag.find(':');
      const std::string key = to_lower(trim(tag.substr(0, colon)));
      const std::string value =
          colon == std::string::npos ? "" : std::string(trim(tag.substr(colon + 1)));
      if (key == "owner" && !value.empty())
        owner = value;
      else if ((key == "criticality" || key == "critical") && !value.empty()) {
        criticality = criticality_from_text(value);
        if (!criticality) {
          diags.error(
              where,
              fmt::format(
                  "Tags: criticality '{}' is not one of low, medium, high, critical, yes, no{}",
                  value, did_you_mean_hint(to_lower(value), kCriticalities)));
        }
      }
      tags.push_back(tag);
    }
    const std::string wave_text = cell(c_wave);
    for (const auto& app : apps) {
      if (auto problem = name_problem(app); !problem.empty()) {
        diags.error(where, fmt::format("Applications: '{}': {}", app, problem));
        continue;
      }
      auto [it, inserted] = by_name.emplace(app, out.size());
      if (inserted) {
        Workload w;
        w.name = app;
        w.where = where;
        // Discovery sees servers: the workload runs on hosts, not containers.
        w.containerized = false;
        w.sources.push_back(path);
        out.push_back(std::move(w));
      }
      Workload& w = out[it->second];
      w.servers.push_back(server);
      for (const auto& tag : tags) {
        if (std::find(w.tags.begin(), w.tags.end(), tag) == w.tags.end()) w.tags.push_back(tag);
      }
      if (owner && !w.owner) w.owner = owner;
      // An application is as critical as its most critical server.
      if (criticality &&
          (!w.criticality || criticality_rank(*criticality) > criticality_rank(*w.criticality)))
        w.criticality = criticality;
      if (!server.os.empty() && !w.technology) w.technology = server.os;
      if (auto wave = wave_number(wave_text)) {
        if (w.wave_hint && *w.wave_hint != *wave) {
          if (!wave_conflicts.insert(app).second) continue;
          diags.warning(
              where, fmt::format("{}: servers disagree on ApplicationWave ({} and {}); keeping {}",
                                 app, *w.wave_hint, *wave, *w.wave_hint));
        } else {
          w.wave_hint = *wave;
        }
      }
    }
  }
  if (out.empty() && !diags.has_errors()) {
    diags.error({path, 0, 0}, "no servers with an application; nothing to plan");
  }
  return out;
}

}  // namespace ferry::assess
