// Audit log growth and cost: append throughput with group sync (fdatasync of
// the log plus the atomic head file per group) for group sizes from one alert
// to a full commit batch, the CPU cost of appending alone, bytes per entry for
// a real alert CloudEvent, and how fast `audit verify` reads a log back.
// The log lives in $SLAWATCH_BENCH_DIR (default: the temp directory), so the
// sync numbers are those of that file system.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "audit/audit.h"

namespace slawatch::audit {
namespace {

namespace fs = std::filesystem;

// A fired alert as `slawatch replay` delivers it (623 bytes, the mean of a simulated day).
const std::string kCloudEvent =
    R"({"specversion":"1.0","id":"HK-20260302-000008/first-response/1/breach/fired/1772383461038",)"
    R"("source":"/slawatch","type":"slawatch.alert.fired","subject":"HK-20260302-000008",)"
    R"("time":"2026-03-01T16:44:37.394Z","datacontenttype":"application/json","data":{"alert_id":)"
    R"("HK-20260302-000008/first-response/1/breach","case_id":"HK-20260302-000008","rule":"first-response",)"
    R"("cycle":1,"stage":"breach","severity":"major","department":"landscaping","due_at":)"
    R"("2026-03-01T16:44:21.038Z","rule_version":"85eb4fc8c247","fired_at":"2026-03-01T16:44:37.394Z",)"
    R"("started_at":"2026-03-01T16:14:21.038Z","notify":[{"role":"department.duty_officer","person":null},)"
    R"({"role":"department.head","person":null}]}})";

Record alert_record(int64_t i) {
  return Record{from_millis(1'772'383'461'038 + i), "alert.fired",
                R"({"alert_id":"HK-20260302-000008/first-response/1/breach","cloudevent":)" + kCloudEvent + "}"};
}

fs::path bench_path(const std::string& name) {
  const char* dir = std::getenv("SLAWATCH_BENCH_DIR");
  const fs::path path = fs::path(dir ? dir : fs::temp_directory_path().string()) / ("slawatch-audit-bench-" + name);
  fs::remove(path);
  fs::remove(path.string() + ".head");
  return path;
}

void remove_log(const fs::path& path) {
  fs::remove(path);
  fs::remove(path.string() + ".head");
}

// The log at `path`, or null after marking the benchmark skipped.
std::unique_ptr<AuditLog> open_or_skip(benchmark::State& state, const fs::path& path) {
  auto log = AuditLog::open(path.string());
  if (!log.ok()) {
    state.SkipWithError(log.error().message.c_str());
    return nullptr;
  }
  return std::move(log).value();
}

// Entries per second when every group of `range(0)` entries is appended and synced.
void BM_AppendGroupSync(benchmark::State& state) {
  const auto path = bench_path("sync");
  auto log = open_or_skip(state, path);
  if (!log) return;
  std::vector<Record> group;
  for (int64_t i = 0; i < state.range(0); ++i) group.push_back(alert_record(i));
  for (auto _ : state) {
    if (auto s = log->append_and_sync(group); !s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_entry"] =
      static_cast<double>(log->size_bytes()) / static_cast<double>(log->last_seq());
  state.counters["payload_bytes"] = static_cast<double>(group.front().payload.size());
  remove_log(path);
}
BENCHMARK(BM_AppendGroupSync)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// The CPU side alone: validation, encoding, SHA-256 and write(2), no sync.
void BM_AppendNoSync(benchmark::State& state) {
  const auto path = bench_path("nosync");
  auto log = open_or_skip(state, path);
  if (!log) return;
  std::vector<Record> group;
  for (int64_t i = 0; i < 100; ++i) group.push_back(alert_record(i));
  for (auto _ : state) {
    if (auto s = log->append_batch(group); !s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * 100);
  remove_log(path);
}
BENCHMARK(BM_AppendNoSync);

// `audit verify` (and AuditLog::open, which checks the whole chain) on a log of range(0) entries.
void BM_VerifyChain(benchmark::State& state) {
  const auto path = bench_path("verify");
  {
    auto log = open_or_skip(state, path);
    if (!log) return;
    std::vector<Record> group;
    for (int64_t i = 0; i < state.range(0); ++i) group.push_back(alert_record(i));
    if (!log->append_and_sync(group).ok()) {
      state.SkipWithError("cannot write the log");
      return;
    }
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  for (auto _ : state) {
    auto report = verify_chain(content);
    if (!report.ok()) state.SkipWithError("the chain does not verify");
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(content.size()));
  remove_log(path);
}
BENCHMARK(BM_VerifyChain)->Arg(10000);

}  // namespace
}  // namespace slawatch::audit
