#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "app/runtime.h"
#include "backtest/backtest.h"

namespace slawatch {

int run_backtest_command(const BacktestArgs& args) {
  BacktestOptions options;
  options.events_path = args.events;
  options.store = args.store == "memory" ? BacktestStore::memory : BacktestStore::rocksdb;
  options.temp_root = args.temp_dir;
  options.sample_limit = args.samples;
  if (args.until) {
    auto parsed = parse_rfc3339(*args.until);
    if (!parsed.ok()) {
      std::cerr << "slawatch: --until: " << parsed.error().message << "\n";
      return 2;
    }
    options.until = *parsed;
  }
  if (args.events == "-") {
    std::cerr << "slawatch: backtest reads --events twice (once per rule set): give a file, not stdin\n";
    return 2;
  }
  auto baseline = load_rules_or_report(args.baseline_path, args.calendar_paths);
  auto candidate = load_rules_or_report(args.candidate_path, args.calendar_paths);
  if (!baseline || !candidate) return 1;

  auto report = run_backtest(baseline, args.baseline_path, candidate, args.candidate_path, options);
  if (!report.ok()) {
    std::cerr << "slawatch: " << report.error().message << "\n";
    return 1;
  }
  const std::string text = args.format == "json"   ? render_json(*report)
                           : args.format == "html" ? render_html(*report)
                                                   : render_markdown(*report);
  if (args.out == "-") {
    std::cout << text;
  } else {
    std::ofstream file(args.out, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      std::cerr << "slawatch: cannot write " << args.out << "\n";
      return 1;
    }
  }
  for (const auto& rule : report->rules) {
    std::cerr << "slawatch: " << headline(rule) << "\n";
  }
  return 0;
}

}  // namespace slawatch
