// `slawatch demo`: the live monitor on a simulated hotline day, with a clock
// that runs a day in about a minute, printing alerts as they fire and a
// per-department summary at the end. Same engine and pipeline as `run`.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <date/tz.h>
#include <fmt/format.h>

#include "app/commands.h"
#include "app/runtime.h"
#include "engine/evaluator.h"
#include "io/io.h"
#include "pipeline/pipeline.h"
#include "runtime/live_lane.h"
#include "runtime/monitor_loop.h"
#include "sim/simulator.h"

namespace slawatch {
namespace {

// Simulated time that runs `speed` times faster than the wall clock, from
// `start` until it stops at `end`.
class AcceleratedClock final : public Clock {
 public:
  AcceleratedClock(Instant start, Instant end, double speed)
      : start_(start), end_(end), speed_(speed), wall_start_(std::chrono::steady_clock::now()) {}
  Instant now() const override {
    const auto wall = std::chrono::steady_clock::now() - wall_start_;
    const auto ms = std::chrono::duration<double, std::milli>(wall).count() * speed_;
    return std::min(end_, start_ + Duration{static_cast<int64_t>(ms)});
  }

 private:
  Instant start_;
  Instant end_;
  double speed_;
  std::chrono::steady_clock::time_point wall_start_;
};

struct Palette {
  const char* reset = "";
  const char* dim = "";
  const char* bold = "";
  const char* red = "";
  const char* yellow = "";
  const char* magenta = "";
  const char* green = "";
  const char* cyan = "";
  static Palette make(bool color) {
    if (!color) return {};
    return {"\033[0m", "\033[2m", "\033[1m", "\033[31m", "\033[33m", "\033[35m", "\033[32m", "\033[36m"};
  }
  const char* for_severity(std::string_view severity) const {
    if (severity == "critical") return magenta;
    if (severity == "major") return red;
    if (severity == "minor") return yellow;
    return cyan;
  }
};

std::string local_time(Instant t, const date::time_zone* zone, const char* format) {
  return date::format(format, date::make_zoned(zone, std::chrono::floor<std::chrono::seconds>(t)));
}

// "Li Lei (duty officer)", or the role itself when nobody is named.
std::string describe_target(const NotifyTarget& target) {
  if (target.person.empty()) return target.role;
  std::string role = target.role.substr(target.role.find('.') + 1);
  std::replace(role.begin(), role.end(), '_', ' ');
  return target.person + " (" + role + ")";
}

struct DepartmentSummary {
  int64_t cycles = 0;
  int64_t met = 0;
  std::map<std::string, int64_t> breached;  // by stage name
  std::vector<Duration> first_responses;
  int64_t total_breaches() const {
    int64_t n = 0;
    for (const auto& [stage, count] : breached) n += count;
    return n;
  }
};

std::string format_minutes(Duration d) {
  return fmt::format("{:.1f} min", static_cast<double>(d.count()) / 60000.0);
}

void print_summary(StateStore& store, const RuleSet& rules, Instant clock, const Palette& p,
                   bool all_departments) {
  std::map<std::string, DepartmentSummary> by_department;
  std::vector<std::string> stage_names;
  for (const auto& rule : rules.deadlines) {
    for (const auto& stage : rule.stages) {
      if (std::find(stage_names.begin(), stage_names.end(), stage.name) == stage_names.end()) {
        stage_names.push_back(stage.name);
      }
    }
  }
  auto status = store.for_each_case([&](const CaseId& id, std::string_view bytes) {
    auto record = decode_case_record(bytes, id);
    if (!record.ok()) return true;
    const auto evaluation = evaluate_case(record->events, rules);
    for (size_t i = 0; i < evaluation.cycles.size(); ++i) {
      const auto& cycle = evaluation.cycles[i];
      if (cycle.deadline == nullptr) continue;
      std::string department = attributes_at(record->events, cycle.started_at).department;
      if (department.empty()) {
        department = attributes_at(record->events, cycle.closed_at.value_or(clock)).department;
      }
      if (department.empty()) department = "unassigned";
      auto& summary = by_department[department];
      ++summary.cycles;
      bool breached = false;
      for (const auto& stage : evaluation.stages) {
        if (stage.cycle_index != i || stage.status != StageStatus::due || stage.due_at > clock) continue;
        ++summary.breached[std::string(stage.stage)];
        breached = true;
      }
      if (cycle.closed_at && !breached) ++summary.met;
      if (cycle.rule.str() == "first-response" && cycle.closed_at) {
        summary.first_responses.push_back(*cycle.closed_at - cycle.started_at);
      }
    }
    return true;
  });
  if (!status.ok()) std::cerr << "slawatch: " << status.error().message << "\n";

  std::vector<std::pair<std::string, DepartmentSummary*>> rows;
  DepartmentSummary total;
  for (auto& [name, summary] : by_department) {
    rows.emplace_back(name, &summary);
    total.cycles += summary.cycles;
    total.met += summary.met;
    for (const auto& [stage, n] : summary.breached) total.breached[stage] += n;
    total.first_responses.insert(total.first_responses.end(), summary.first_responses.begin(),
                                 summary.first_responses.end());
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.second->total_breaches() != b.second->total_breaches()) {
      return a.second->total_breaches() > b.second->total_breaches();
    }
    return a.first < b.first;
  });
  auto median = [](std::vector<Duration> v) -> std::string {
    if (v.empty()) return "-";
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return format_minutes(v[v.size() / 2]);
  };
  std::string header = fmt::format("{:<26} {:>7} {:>7}", "department", "cycles", "met");
  for (const auto& s : stage_names) header += fmt::format(" {:>10}", s);
  header += fmt::format(" {:>16}", "median 1st resp");
  std::cout << "\n" << p.bold << "Per-department summary (all deadline rules; breached = stage due and cycle still open)"
            << p.reset << "\n" << p.bold << header << p.reset << "\n";
  auto print_row = [&](const std::string& name, const DepartmentSummary& s, const char* style) {
    std::string line = fmt::format("{:<26} {:>7} {:>7}", name, s.cycles, s.met);
    for (const auto& stage : stage_names) {
      auto it = s.breached.find(stage);
      line += fmt::format(" {:>10}", it == s.breached.end() ? 0 : it->second);
    }
    line += fmt::format(" {:>16}", median(s.first_responses));
    std::cout << style << line << p.reset << "\n";
  };
  const size_t shown = all_departments ? rows.size() : std::min<size_t>(rows.size(), 20);
  for (size_t i = 0; i < shown; ++i) print_row(rows[i].first, *rows[i].second, "");
  if (shown < rows.size()) {
    std::cout << p.dim << "... " << rows.size() - shown << " more departments (fewest breaches)"
              << p.reset << "\n";
  }
  print_row("TOTAL (" + std::to_string(rows.size()) + " departments)", total, p.bold);
}

}  // namespace

int run_demo(const DemoArgs& args) {
  auto rules = load_rules_or_report(args.rules_path, {});
  if (!rules) return 1;
  std::shared_ptr<const Roster> roster;
  if (!load_roster_or_report(args.roster_path, roster)) return 1;
  const bool color = args.color && ::isatty(STDOUT_FILENO);
  const Palette p = Palette::make(color);
  const date::time_zone* zone = date::locate_zone("Asia/Shanghai");

  const auto state_dir = std::filesystem::temp_directory_path() /
                         ("slawatch-demo-" + std::to_string(::getpid()));
  auto state = open_state(state_dir.string(), false);
  if (!state.ok()) {
    std::cerr << "slawatch: " << state.error().message << "\n";
    return 1;
  }
  NullSink alerts_sink, dead_sink;
  EngineOptions engine_options;
  engine_options.grace = std::chrono::seconds{30};
  Engine engine(rules, *state->store, engine_options);
  Pipeline pipeline(engine, *state->store, alerts_sink, dead_sink, PipelineOptions{.roster = roster});
  (void)engine.open();

  SimulatorOptions sim_options;
  sim_options.seed = args.seed;
  sim_options.cases = args.cases;
  sim_options.span = std::chrono::hours{24};
  sim_options.late_fraction = 0.03;
  sim_options.duplicate_fraction = 0.01;
  sim_options.malformed_fraction = 0.002;
  sim_options.max_lateness = std::chrono::minutes{20};
  HotlineSimulator simulator(sim_options);
  const Instant day_end = sim_options.start + sim_options.span;
  const double speed = static_cast<double>(sim_options.span.count()) / (args.seconds * 1000.0);
  // Run until the day is over and the last first-response deadlines (2 x 30 min) have passed.
  const Instant stop_at = day_end + std::chrono::hours{1} + std::chrono::minutes{1};
  AcceleratedClock clock(sim_options.start, stop_at, speed);

  std::cout << p.bold << "slawatch demo" << p.reset << ": a simulated day of the Haikou 12345 hotline ("
            << args.cases << " cases, 91 member units), one day in about " << args.seconds
            << " s.\nRules: " << args.rules_path << " (version " << rules->version
            << ")" << (roster ? ", roster " + args.roster_path : std::string(", no roster"))
            << ". Times are Asia/Shanghai. Warnings are counted"
            << (args.show_warnings ? " and shown" : ", not shown (--warnings shows them)") << ".\n\n";
  std::cout << p.bold
            << fmt::format("{:<6} {:<9} {:<9} {:<8} {:<19} {:<22} {:<20} {}", "time", "event", "stage",
                           "severity", "rule", "case", "department", "detail")
            << p.reset << "\n";

  int64_t printed_warnings = 0;
  pipeline.set_alert_observer([&](const Alert& a) {
    if (a.kind == AlertKind::resolved) return;
    if (a.kind == AlertKind::fired && a.stage == "warning" && !args.show_warnings) {
      ++printed_warnings;
      return;
    }
    const char* kind_color = a.kind == AlertKind::retracted ? p.green : p.for_severity(a.severity);
    std::string detail;
    if (a.kind == AlertKind::fired) {
      detail = "due " + local_time(a.due_at, zone, "%H:%M");
      if (!a.notify.empty()) {
        detail += " -> ";
        for (size_t i = 0; i < a.notify.size(); ++i) detail += (i ? ", " : "") + describe_target(a.notify[i]);
      }
    } else {
      detail = a.reason;
    }
    std::cout << fmt::format("{:<6} {}{:<9}{} {:<9} {:<8} {:<19} {:<22} {:<20} {}{}{}",
                             local_time(a.emitted_at, zone, "%H:%M"), kind_color,
                             a.kind == AlertKind::fired ? "FIRED" : "RETRACTED", p.reset, a.stage,
                             a.severity, a.rule.str(), a.case_id.str(),
                             a.department.empty() ? "unassigned" : a.department, p.dim, detail, p.reset)
              << "\n";
  });

  SimRecord next;
  bool have_next = simulator.next(next);
  RawRecord raw;
  auto fail = [](const Error& e) {
    std::cerr << "slawatch: " << e.message << "\n";
    return 1;
  };
  // The same lane and loop as `run`: firing budget, commit cadence, delivery.
  // The lane is always caught up: its clock is the demo's accelerated one.
  LiveLane lane(pipeline, nullptr, nullptr, std::string());
  lane.set_caught_up(true);
  SteadyMonotonicClock steady;
  MonitorLoop loop(MonitorPolicy{}, clock, steady, nullptr, nullptr);
  LiveLane* lanes[] = {&lane};
  install_stop_signals();
  Instant now = clock.now();
  uint64_t read = 0;
  while (now < stop_at && !stop_requested().load()) {
    now = clock.now();
    while (have_next && next.arrival_time <= now) {
      raw.bytes = std::move(next.line);
      raw.origin = "simulator";
      raw.key = next.case_id;
      if (auto s = lane.apply(raw, std::to_string(++read)); !s.ok()) return fail(s.error());
      have_next = simulator.next(next);
    }
    if (auto stepped = loop.step(lanes); !stepped.ok()) return fail(stepped.error());
    std::cout.flush();
    // The demo's pace: simulated arrivals follow the accelerated clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (auto left = loop.drain(lanes, std::chrono::seconds(1)); !left.ok()) return fail(left.error());

  const auto& c = pipeline.counters();
  std::cout << "\n" << p.bold << "Day over" << p.reset << " at " << local_time(now, zone, "%Y-%m-%d %H:%M")
            << ": " << c.records << " records, " << c.applied << " events applied, " << c.duplicates
            << " duplicates ignored, " << c.dead_letters << " malformed records dead-lettered.\n"
            << "Alerts: " << c.alerts_fired << " fired (" << printed_warnings << " warnings not shown), "
            << c.alerts_resolved << " resolved, " << c.alerts_retracted
            << " retracted (late acknowledgements that showed a deadline was met).\n";
  print_summary(*state->store, *rules, engine.clock() - engine_options.grace, p, false);
  state = Result<OpenedState>(make_error("closed"));  // close RocksDB before removing its files
  std::error_code ec;
  std::filesystem::remove_all(state_dir, ec);
  return 0;
}

}  // namespace slawatch
