#pragma once
// Seeded, reproducible traffic generator for a city service hotline (modelled
// on Haikou 12345): emits case events as CloudEvents JSON Lines, optionally
// with the disorder a real feed has (late, reordered, duplicate and malformed
// records). Single-threaded; one instance is one stream.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/time.h"

namespace slawatch {

// 2026-03-02T00:00:00+08:00, a Monday.
inline constexpr Instant kDefaultSimulationStart =
    std::chrono::sys_days{std::chrono::year{2026} / std::chrono::March / 2} -
    std::chrono::hours{8};

struct SimulatorOptions {
  uint64_t seed = 12345;
  Instant start = kDefaultSimulationStart;  // first creation time
  Duration span = std::chrono::hours{24};   // creations spread over [start, start + span)
  int64_t cases = 10000;
  int departments = 91;  // member units: 91 named ones, then "unit-092", ...
  // Fraction of acknowledged dispatches answered more than 30 minutes after
  // the dispatch. Some departments are systematically slower than others.
  double late_first_response = 0.15;
  // Stop every case after its first acknowledgement, so cases stay open.
  bool leave_open = false;

  // Disorder. Fractions are of the good records; duplicates and malformed
  // records are extra records, so the good stream is always complete.
  double late_fraction = 0;       // arrive up to max_lateness after their event time
  double reorder_fraction = 0;    // swapped with the next record in arrival order
  double duplicate_fraction = 0;  // the same bytes again, a little later
  double malformed_fraction = 0;  // truncated, missing field, bad time, unknown type, bad case id
  Duration max_lateness = std::chrono::hours{2};
};

enum class RecordKind : uint8_t { good, duplicate, malformed };

struct SimRecord {
  std::string line;  // one JSON Lines record, without the newline
  Instant event_time;
  Instant arrival_time;
  std::string case_id;
  RecordKind kind = RecordKind::good;
};

struct SimulatorStats {
  int64_t cases_created = 0;
  int64_t good_records = 0;
  int64_t duplicate_records = 0;
  int64_t malformed_records = 0;
  int64_t late_records = 0;
  int64_t reordered_records = 0;
  // Memory high-water marks: cases with events still to come, and everything
  // held (those cases plus records waiting for their arrival time).
  int64_t max_active_cases = 0;
  int64_t max_pending_records = 0;
};

// Produces records in arrival order (arrival_time non-decreasing); without
// disorder arrival time equals event time. Memory is bounded by the number
// of concurrently open cases, not by the total number of cases.
class HotlineSimulator {
 public:
  // Throws std::invalid_argument for options out of range (start-up only).
  explicit HotlineSimulator(SimulatorOptions options);
  ~HotlineSimulator();
  HotlineSimulator(const HotlineSimulator&) = delete;
  HotlineSimulator& operator=(const HotlineSimulator&) = delete;

  // Fills `out` with the next record; false when the stream is finished.
  bool next(SimRecord& out);

  const SimulatorStats& stats() const;

  // The department ids the simulator uses for `count` member units.
  static std::vector<std::string> department_ids(int count);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slawatch
