#include <iostream>

#include "app/commands.h"
#include "io/io.h"
#include "sim/simulator.h"

namespace slawatch {

int run_simulate(const SimulateArgs& args) {
  SimulatorOptions options;
  options.seed = args.seed;
  options.cases = args.cases;
  options.leave_open = args.leave_open;
  options.late_fraction = args.late_fraction;
  options.reorder_fraction = args.reorder_fraction;
  options.duplicate_fraction = args.duplicate_fraction;
  options.malformed_fraction = args.malformed_fraction;
  options.late_first_response = args.late_first_response;
  auto span = parse_duration(args.span);
  if (!span.ok()) {
    std::cerr << "slawatch: --span: " << span.error().message << "\n";
    return 2;
  }
  options.span = *span;
  if (args.start) {
    auto start = parse_rfc3339(*args.start);
    if (!start.ok()) {
      std::cerr << "slawatch: --start: " << start.error().message << "\n";
      return 2;
    }
    options.start = *start;
  }
  auto sink = JsonLinesSink::open(args.out, false);
  if (!sink.ok()) {
    std::cerr << "slawatch: " << sink.error().message << "\n";
    return 1;
  }
  try {
    HotlineSimulator simulator(options);
    SimRecord record;
    while (simulator.next(record)) {
      if (auto s = (*sink)->write(record.case_id, record.line); !s.ok()) {
        std::cerr << "slawatch: " << s.error().message << "\n";
        return 1;
      }
    }
    if (auto s = (*sink)->flush(); !s.ok()) {
      std::cerr << "slawatch: " << s.error().message << "\n";
      return 1;
    }
    const auto& st = simulator.stats();
    std::cerr << "slawatch: simulated " << st.cases_created << " cases, " << st.good_records
              << " events (" << st.duplicate_records << " duplicates, " << st.malformed_records
              << " malformed, " << st.late_records << " late)\n";
  } catch (const std::invalid_argument& e) {
    std::cerr << "slawatch: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace slawatch
