// `slawatch report accountability`: loads rules and roster, replays the
// events and writes the report in the asked format.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "report/accountability.h"
#include "state/rocksdb_store.h"

namespace slawatch {

int accountability_command(const AccountabilityArgs& args) {
  auto time_arg = [](const char* name, const std::string& text) -> std::optional<Instant> {
    auto parsed = parse_rfc3339(text);
    if (parsed.ok()) return *parsed;
    std::cerr << "slawatch: " << name << ": " << parsed.error().message << "\n";
    return std::nullopt;
  };
  const auto from = time_arg("--from", args.from);
  const auto to = time_arg("--to", args.to);
  if (!from || !to) return 2;
  if (args.events.empty() == args.state.empty()) {
    std::cerr << "slawatch: give either --events or --state\n";
    return 2;
  }
  if (*to <= *from) {
    std::cerr << "slawatch: --to must be after --from\n";
    return 2;
  }
  std::string (*render)(const AccountabilityReport&) = nullptr;
  if (args.format == "md") render = render_markdown;
  else if (args.format == "csv") render = render_csv;
  else if (args.format == "html") render = render_html;
  else {
    std::cerr << "slawatch: --format must be md, csv or html, not '" << args.format << "'\n";
    return 2;
  }
  auto rules = load_rules(args.rules);
  for (const auto& d : rules.diagnostics) std::cerr << d.to_string() << "\n";
  auto roster = load_roster(args.roster);
  for (const auto& d : roster.errors) std::cerr << d.to_string() << "\n";
  if (!rules.rules || !roster.roster) return 1;
  auto report = [&]() -> Result<AccountabilityReport> {
    if (!args.state.empty()) {
      if (!std::filesystem::is_directory(args.state)) return make_error("no state directory '" + args.state + "'");
      RocksDbOptions options;
      options.path = args.state;
      auto database = RocksDbDatabase::open(options);
      if (!database.ok()) return database.error();
      RocksDbStateStore store(*database, 0);
      return state_accountability(rules.rules, roster.roster, store, *from, *to);
    }
    auto source = JsonLinesSource::open(args.events);
    if (!source.ok()) return source.error();
    return replay_accountability(rules.rules, roster.roster, **source, *from, *to);
  }();
  if (!report.ok()) {
    std::cerr << "slawatch: " << report.error().message << "\n";
    return 1;
  }
  const std::string text = render(*report);
  if (args.out == "-") {
    std::cout << text;
    return std::cout ? 0 : 1;
  }
  std::ofstream out(args.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "slawatch: cannot write '" << args.out << "'\n";
    return 1;
  }
  return 0;
}

}  // namespace slawatch
