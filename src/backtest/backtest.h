#pragma once
// Backtest: replays one history through two rule sets (baseline and candidate)
// with the same engine and pipeline as `slawatch replay`, and compares what
// each would have reported: standing breaches per rule, stage and department,
// the cases whose outcome changes, and the observed response times of every
// deadline rule against both targets.
//
// Streaming: each side reads the events file itself, on its own thread, with
// its own engine and state store (memory, or RocksDB in a temporary directory
// removed afterwards), so events are never held in memory; only the standing
// breaches (alert id -> rule/stage/department) and one response time per
// closed cycle are. Threading: run_backtest blocks; it starts and joins the
// two side threads, which share nothing but the read-only rule sets.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/result.h"
#include "model/time.h"
#include "rules/rules.h"

namespace slawatch {

enum class BacktestStore : uint8_t { memory, rocksdb };

struct BacktestOptions {
  std::string events_path;           // JSON Lines case events, in the order they arrived
  std::optional<Instant> until;      // final clock (default: the largest event time)
  BacktestStore store = BacktestStore::rocksdb;
  std::string temp_root;             // parent of the RocksDB dirs; empty: the system temp dir
  size_t sample_limit = 20;          // case ids listed per rule/stage and direction
  size_t batch_records = 2000;       // records per state commit
};

// Counts for one (rule, stage[, department]).
struct BreachCounts {
  uint64_t baseline = 0;   // standing breaches (fired, not retracted) under the baseline
  uint64_t candidate = 0;  // ... under the candidate
  uint64_t gone = 0;       // breached under the baseline only (the change removes them)
  uint64_t added = 0;      // breached under the candidate only
  int64_t difference() const { return static_cast<int64_t>(candidate) - static_cast<int64_t>(baseline); }
};

struct StageComparison {
  std::string name;
  std::optional<Duration> baseline_offset;   // absent when the stage exists on one side only
  std::optional<Duration> candidate_offset;
  BreachCounts total;
  std::map<std::string, BreachCounts> departments;  // department at due_at ("" when none)
  std::vector<std::string> gone_cases;    // first `sample_limit` case ids, sorted
  std::vector<std::string> added_cases;
};

// Response times of one rule's closed cycles on one side (that side's rule
// decides the cycles and the calendar that counts them).
struct ResponseTimes {
  uint64_t closed = 0;       // cycles closed by the final clock
  uint64_t still_open = 0;   // cycles open at the final clock (censored: not in the figures)
  Duration p50{0}, p90{0}, p99{0}, max{0};
  uint64_t within_baseline = 0;   // closed cycles with elapsed <= baseline target
  uint64_t within_candidate = 0;  // closed cycles with elapsed <= candidate target
  std::vector<uint64_t> buckets;  // counts per Histogram bucket (last one: overflow)
};

struct RuleComparison {
  std::string id;
  std::string kind;   // deadline | count
  std::string title;
  bool in_baseline = false, in_candidate = false;
  std::optional<Duration> baseline_target, candidate_target;  // deadline rules
  std::string baseline_calendar, candidate_calendar;
  std::vector<StageComparison> stages;
  // Deadline rules: histogram bucket width (buckets of [i*w, (i+1)*w), last = overflow).
  Duration bucket_width{0};
  std::optional<ResponseTimes> baseline_times, candidate_times;
};

struct SideSummary {
  std::string rules_path;
  std::string version;
  uint64_t records = 0, applied = 0, duplicates = 0, dead_letters = 0;
  uint64_t fired = 0, retracted = 0;
  double seconds = 0;
};

struct BacktestReport {
  std::string events_path;
  Instant final_clock;
  SideSummary baseline, candidate;
  std::string store;  // memory | rocksdb
  std::vector<RuleComparison> rules;
  double seconds = 0;
};

// Rule sets are loaded (and checked) by the caller.
Result<BacktestReport> run_backtest(std::shared_ptr<const RuleSet> baseline, std::string baseline_path,
                                    std::shared_ptr<const RuleSet> candidate, std::string candidate_path,
                                    const BacktestOptions& options);

// Response-time statistics from unsorted elapsed times (sorted in place).
ResponseTimes summarize_times(std::vector<int64_t>& elapsed_ms, uint64_t still_open, Duration bucket_width,
                              size_t bucket_count, std::optional<Duration> baseline_target,
                              std::optional<Duration> candidate_target);
// A round bucket width (1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, ...)
// giving about `about_buckets` buckets up to `span`.
Duration nice_bucket_width(Duration span, size_t about_buckets);

// The one-sentence answer to "what does the candidate change, and where?" for
// a rule: e.g. "first-response/breach: 30m -> 45m, 5,210 of 12,001 breaches
// disappear (-43.4%), most in dept-12 (-310), dept-03 (-298), dept-44 (-251)."
std::string headline(const RuleComparison& rule);

// Renderers. `format` is md, json or html.
std::string render_markdown(const BacktestReport& report);
std::string render_json(const BacktestReport& report);
std::string render_html(const BacktestReport& report);

}  // namespace slawatch
