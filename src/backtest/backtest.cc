#include "backtest/backtest.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "engine/engine.h"
#include "io/io.h"
#include "pipeline/pipeline.h"
#include "replay/replay_driver.h"
#include "state/case_record.h"
#include "state/rocksdb_store.h"

namespace slawatch {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// A temporary RocksDB directory, removed with everything in it when dropped.
class TempDir {
 public:
  static Result<TempDir> create(const std::string& root) {
    std::error_code ec;
    const std::filesystem::path parent = root.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::path(root);
    if (ec) return Error{"no temporary directory: " + ec.message()};
    std::string pattern = (parent / "slawatch-backtest-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Error{"cannot create a temporary directory under " + parent.string()};
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct StandingBreach {
  uint32_t stage_key = 0;   // into SideRun::stage_keys
  uint32_t department = 0;  // into SideRun::departments
};

// One side of the backtest: its rules, and what it found. Owned by one thread
// while it runs, read by the caller after the join.
struct SideRun {
  std::shared_ptr<const RuleSet> rules;
  SideSummary summary;
  std::optional<Error> error;
  Instant final_clock = kMinInstant;

  std::unordered_map<std::string, StandingBreach> breaches;  // by alert id
  std::vector<std::pair<std::string, std::string>> stage_keys;  // (rule, stage)
  std::map<std::pair<std::string, std::string>, uint32_t> stage_index;
  std::vector<std::string> departments;
  std::unordered_map<std::string, uint32_t> department_index;
  std::map<std::string, std::vector<int64_t>> elapsed_ms;  // closed cycles per deadline rule
  std::map<std::string, uint64_t> still_open;

  uint32_t intern_stage(const std::string& rule, const std::string& stage) {
    auto [it, inserted] = stage_index.try_emplace({rule, stage}, static_cast<uint32_t>(stage_keys.size()));
    if (inserted) stage_keys.emplace_back(rule, stage);
    return it->second;
  }
  uint32_t intern_department(const std::string& department) {
    auto [it, inserted] = department_index.try_emplace(department, static_cast<uint32_t>(departments.size()));
    if (inserted) departments.push_back(department);
    return it->second;
  }
  void on_alert(const Alert& alert) {
    if (alert.kind == AlertKind::fired) {
      breaches[alert.alert_id] =
          StandingBreach{intern_stage(std::string(alert.rule.str()), alert.stage), intern_department(alert.department)};
    } else if (alert.kind == AlertKind::retracted) {
      breaches.erase(alert.alert_id);
    }
  }
};

Status replay_side(SideRun& side, const BacktestOptions& options) {
  const auto started = SteadyClock::now();
  std::optional<TempDir> temp;
  std::shared_ptr<RocksDbDatabase> database;
  std::unique_ptr<StateStore> store;
  if (options.store == BacktestStore::rocksdb) {
    auto dir = TempDir::create(options.temp_root);
    if (!dir.ok()) return dir.error();
    temp.emplace(std::move(dir).value());
    RocksDbOptions rocks;
    rocks.path = temp->path();
    auto opened = RocksDbDatabase::open(rocks);
    if (!opened.ok()) return opened.error();
    database = *opened;
    store = std::make_unique<RocksDbStateStore>(database, 0);
  } else {
    store = std::make_unique<MemoryStateStore>();
  }
  auto source = JsonLinesSource::open(options.events_path);
  if (!source.ok()) return source.error();

  {
    EngineOptions engine_options;
    engine_options.grace = Duration{0};  // replay semantics: event time, no grace,
    engine_options.fire_at_due_time = false;  // a stage fires once the clock has passed it
    // The in-memory store is read only after the run (below): cases reach it
    // as they leave the engine's cache and in one complete commit at the end.
    engine_options.write_back_cases = options.store == BacktestStore::memory;
    Engine engine(side.rules, *store, engine_options);
    NullSink alerts, dead_letters;
    PipelineOptions pipeline_options;
    pipeline_options.batch_records = options.batch_records;
    pipeline_options.index_alerts = options.store != BacktestStore::memory;  // alerts reach the side by its observer
    Pipeline pipeline(engine, *store, alerts, dead_letters, pipeline_options);
    pipeline.set_alert_observer([&side](const Alert& alert) { side.on_alert(alert); });
    Pipeline* lanes[] = {&pipeline};
    auto replayed = replay_history(**source, lanes, ReplayOptions{options.until, options.batch_records});
    if (!replayed.ok()) return replayed.error();
    if (auto s = pipeline.commit_if_due((*source)->position(), true, Engine::FlushScope::complete); !s.ok()) {
      return s.error();
    }
    side.final_clock = replayed->final_clock;
    const auto& c = pipeline.counters();
    side.summary.records = c.records;
    side.summary.applied = c.applied;
    side.summary.duplicates = c.duplicates;
    side.summary.dead_letters = c.dead_letters;
    side.summary.fired = c.alerts_fired;
    side.summary.retracted = c.alerts_retracted;
  }

  // Response times: one pass over the final state, each case's cycles as the
  // engine evaluates them (calendar time, pauses excluded).
  Status decode_status = ok_status();
  auto visited = store->for_each_case([&](const CaseId& id, std::string_view encoded) {
    auto record = decode_case_record(encoded, id);
    if (!record.ok()) {
      decode_status = record.error();
      return false;
    }
    const CaseEvaluation evaluation = evaluate_case(record->events, *side.rules);
    for (const auto& cycle : evaluation.cycles) {
      if (cycle.deadline == nullptr) continue;
      if (cycle.closed_at) {
        side.elapsed_ms[std::string(cycle.rule.str())].push_back(cycle.elapsed.count());
      } else {
        ++side.still_open[std::string(cycle.rule.str())];
      }
    }
    return true;
  });
  if (!visited.ok()) return visited;
  if (!decode_status.ok()) return decode_status;
  side.summary.version = side.rules->version;
  side.summary.seconds = seconds_since(started);
  return ok_status();
}

// Rules and stages of both sets: baseline order first, then what only the candidate has.
std::vector<RuleComparison> rule_skeleton(const RuleSet& baseline, const RuleSet& candidate) {
  std::vector<RuleComparison> rules;
  auto find_or_add = [&rules](const std::string& id, const std::string& kind) -> RuleComparison& {
    for (auto& r : rules) {
      if (r.id == id) return r;
    }
    rules.push_back(RuleComparison{});
    rules.back().id = id;
    rules.back().kind = kind;
    return rules.back();
  };
  auto add_stage = [](RuleComparison& rule, const std::string& name, Duration offset, bool is_baseline) {
    auto it = std::find_if(rule.stages.begin(), rule.stages.end(),
                           [&](const StageComparison& s) { return s.name == name; });
    if (it == rule.stages.end()) {
      rule.stages.push_back(StageComparison{});
      it = std::prev(rule.stages.end());
      it->name = name;
    }
    (is_baseline ? it->baseline_offset : it->candidate_offset) = offset;
  };
  for (const RuleSet* set : {&baseline, &candidate}) {
    const bool is_baseline = set == &baseline;
    for (const auto& d : set->deadlines) {
      auto& rule = find_or_add(std::string(d.id.str()), "deadline");
      if (rule.title.empty()) rule.title = d.title;
      (is_baseline ? rule.in_baseline : rule.in_candidate) = true;
      (is_baseline ? rule.baseline_target : rule.candidate_target) = d.target;
      (is_baseline ? rule.baseline_calendar : rule.candidate_calendar) = d.calendar->name();
      for (const auto& stage : d.stages) add_stage(rule, stage.name, stage.offset, is_baseline);
    }
    for (const auto& c : set->counts) {
      auto& rule = find_or_add(std::string(c.id.str()), "count");
      if (rule.title.empty()) rule.title = c.title;
      (is_baseline ? rule.in_baseline : rule.in_candidate) = true;
      add_stage(rule, std::string(kCountStageName), c.window, is_baseline);
    }
  }
  return rules;
}

std::string case_of(const std::string& alert_id) { return alert_id.substr(0, alert_id.find('/')); }

// Keeps the `limit` smallest case ids seen.
void sample(std::set<std::string>& samples, const std::string& case_id, size_t limit) {
  if (limit == 0) return;
  if (samples.size() == limit && case_id >= *samples.rbegin()) return;
  samples.insert(case_id);
  if (samples.size() > limit) samples.erase(std::prev(samples.end()));
}

void compare_breaches(const SideRun& baseline, const SideRun& candidate, size_t sample_limit,
                      std::vector<RuleComparison>& rules) {
  // (rule, stage) -> StageComparison*, plus its samples.
  std::map<std::pair<std::string, std::string>, StageComparison*> stages;
  for (auto& rule : rules) {
    for (auto& stage : rule.stages) stages[{rule.id, stage.name}] = &stage;
  }
  std::map<StageComparison*, std::pair<std::set<std::string>, std::set<std::string>>> samples;
  auto stage_of = [&](const SideRun& side, const StandingBreach& b) -> StageComparison* {
    auto it = stages.find(side.stage_keys[b.stage_key]);
    return it == stages.end() ? nullptr : it->second;
  };
  // Each side's breaches, counted on its side and, when the other side lacks
  // them, as gone (baseline only) or added (candidate only).
  auto tally = [&](const SideRun& side, const SideRun& other, bool is_baseline) {
    for (const auto& [alert_id, breach] : side.breaches) {
      StageComparison* stage = stage_of(side, breach);
      if (stage == nullptr) continue;
      BreachCounts& department = stage->departments[side.departments[breach.department]];
      ++(is_baseline ? stage->total.baseline : stage->total.candidate);
      ++(is_baseline ? department.baseline : department.candidate);
      if (other.breaches.count(alert_id) != 0) continue;
      ++(is_baseline ? stage->total.gone : stage->total.added);
      ++(is_baseline ? department.gone : department.added);
      auto& kept = is_baseline ? samples[stage].first : samples[stage].second;
      sample(kept, case_of(alert_id), sample_limit);
    }
  };
  tally(baseline, candidate, true);
  tally(candidate, baseline, false);
  for (auto& [stage, sets] : samples) {
    stage->gone_cases.assign(sets.first.begin(), sets.first.end());
    stage->added_cases.assign(sets.second.begin(), sets.second.end());
  }
}

void add_response_times(SideRun& baseline, SideRun& candidate, std::vector<RuleComparison>& rules) {
  for (auto& rule : rules) {
    if (rule.kind != "deadline") continue;
    const Duration largest = std::max(rule.baseline_target.value_or(Duration{0}),
                                      rule.candidate_target.value_or(Duration{0}));
    // Three times the larger target shows the breach side of the curve too.
    rule.bucket_width = nice_bucket_width(largest * 3, 30);
    const auto count = static_cast<size_t>((largest * 3 + rule.bucket_width - Duration{1}) / rule.bucket_width) + 1;
    if (rule.in_baseline) {
      rule.baseline_times = summarize_times(baseline.elapsed_ms[rule.id], baseline.still_open[rule.id],
                                            rule.bucket_width, count, rule.baseline_target, rule.candidate_target);
    }
    if (rule.in_candidate) {
      rule.candidate_times = summarize_times(candidate.elapsed_ms[rule.id], candidate.still_open[rule.id],
                                             rule.bucket_width, count, rule.baseline_target, rule.candidate_target);
    }
  }
}

}  // namespace

Duration nice_bucket_width(Duration span, size_t about_buckets) {
  using namespace std::chrono_literals;
  static constexpr Duration kWidths[] = {1s, 5s, 10s, 30s, 1min, 2min, 5min, 10min, 15min, 30min,
                                         1h, 2h, 4h, 6h, 12h, 24h, 48h, 168h};
  const Duration wanted = span / static_cast<int64_t>(std::max<size_t>(about_buckets, 1));
  for (Duration w : kWidths) {
    if (w >= wanted) return w;
  }
  return kWidths[std::size(kWidths) - 1];
}

ResponseTimes summarize_times(std::vector<int64_t>& elapsed_ms, uint64_t still_open, Duration bucket_width,
                              size_t bucket_count, std::optional<Duration> baseline_target,
                              std::optional<Duration> candidate_target) {
  ResponseTimes t;
  t.closed = elapsed_ms.size();
  t.still_open = still_open;
  t.buckets.assign(std::max<size_t>(bucket_count, 1), 0);
  if (elapsed_ms.empty()) return t;
  std::sort(elapsed_ms.begin(), elapsed_ms.end());
  // Nearest rank: the smallest value with at least p of the values at or below it.
  auto rank = [&](double p) {
    const auto index = static_cast<size_t>(std::ceil(p * static_cast<double>(elapsed_ms.size())));
    return Duration{elapsed_ms[std::max<size_t>(index, 1) - 1]};
  };
  t.p50 = rank(0.50);
  t.p90 = rank(0.90);
  t.p99 = rank(0.99);
  t.max = Duration{elapsed_ms.back()};
  // A cycle that closes exactly at its due time met it: within means <=.
  auto within = [&](std::optional<Duration> target) -> uint64_t {
    if (!target) return 0;
    return static_cast<uint64_t>(std::upper_bound(elapsed_ms.begin(), elapsed_ms.end(), target->count()) -
                                 elapsed_ms.begin());
  };
  t.within_baseline = within(baseline_target);
  t.within_candidate = within(candidate_target);
  const int64_t width = std::max<int64_t>(bucket_width.count(), 1);
  for (int64_t ms : elapsed_ms) {
    const auto index = static_cast<size_t>(std::max<int64_t>(ms, 0) / width);
    ++t.buckets[std::min(index, t.buckets.size() - 1)];
  }
  return t;
}

Result<BacktestReport> run_backtest(std::shared_ptr<const RuleSet> baseline, std::string baseline_path,
                                    std::shared_ptr<const RuleSet> candidate, std::string candidate_path,
                                    const BacktestOptions& options) {
  const auto started = SteadyClock::now();
  SideRun sides[2];
  sides[0].rules = std::move(baseline);
  sides[0].summary.rules_path = std::move(baseline_path);
  sides[1].rules = std::move(candidate);
  sides[1].summary.rules_path = std::move(candidate_path);
  // One thread per side: each reads the file and owns its engine and store.
  std::thread other([&] {
    if (auto s = replay_side(sides[1], options); !s.ok()) sides[1].error = s.error();
  });
  if (auto s = replay_side(sides[0], options); !s.ok()) sides[0].error = s.error();
  other.join();
  for (const auto& side : sides) {
    if (side.error) return Error{side.summary.rules_path + ": " + side.error->message};
  }

  BacktestReport report;
  report.events_path = options.events_path;
  report.final_clock = sides[0].final_clock;
  report.baseline = sides[0].summary;
  report.candidate = sides[1].summary;
  report.store = options.store == BacktestStore::memory ? "memory" : "rocksdb";
  report.rules = rule_skeleton(*sides[0].rules, *sides[1].rules);
  compare_breaches(sides[0], sides[1], options.sample_limit, report.rules);
  add_response_times(sides[0], sides[1], report.rules);
  report.seconds = seconds_since(started);
  return report;
}

}  // namespace slawatch
