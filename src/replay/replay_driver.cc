#include "replay/replay_driver.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <thread>

#include "model/bounded_queue.h"
#include "replay/partitioner.h"

namespace slawatch {
namespace {

// Where a lane of a multi-lane replay stands: the number of records read from
// the start of the input up to its last commit (its ordinal), and the input
// position there. Ordinals order the lanes' positions without comparing input
// positions (opaque to the driver): after a crash between two lanes' commits,
// reading resumes at the lowest and the lanes ahead skip what they have.
// Encoded "<lanes>/<ordinal>|<input position>"; a single lane stores the input
// position alone, as replay always has.
struct LanePosition {
  size_t lanes = 1;
  uint64_t ordinal = 0;
  std::string input;
};

std::string encode_position(const LanePosition& p) {
  if (p.lanes == 1) return p.input;
  return std::to_string(p.lanes) + "/" + std::to_string(p.ordinal) + "|" + p.input;
}

std::optional<LanePosition> decode_position(std::string_view text) {
  const auto slash = text.find('/');
  const auto bar = text.find('|');
  if (slash == std::string_view::npos || bar == std::string_view::npos || slash > bar) return std::nullopt;
  LanePosition p;
  if (std::from_chars(text.data(), text.data() + slash, p.lanes).ec != std::errc{} ||
      std::from_chars(text.data() + slash + 1, text.data() + bar, p.ordinal).ec != std::errc{}) {
    return std::nullopt;
  }
  p.input = std::string(text.substr(bar + 1));
  return p;
}

// Where reading resumes, and which lanes skip records they already committed.
struct ResumePlan {
  std::string seek_to;             // "" = from the beginning
  uint64_t start_ordinal = 0;      // records before seek_to
  std::vector<uint64_t> skip_through;  // per lane: records up to this ordinal are already in its state
};

Result<ResumePlan> plan_resume(const std::vector<std::string>& stored) {
  const size_t lanes = stored.size();
  ResumePlan plan;
  plan.skip_through.resize(lanes, 0);
  if (std::all_of(stored.begin(), stored.end(), [](const auto& s) { return s.empty(); })) return plan;
  if (lanes == 1) {
    if (decode_position(stored[0])) {
      return make_error("the state was written by a replay with several partitions; resume it with the same "
                        "--partitions, or start from an empty state directory");
    }
    plan.seek_to = stored[0];
    return plan;
  }
  std::vector<LanePosition> positions;
  for (const auto& text : stored) {
    if (text.empty()) {
      // Killed before this lane's first commit (others committed): it starts from the beginning.
      positions.push_back(LanePosition{lanes, 0, ""});
      continue;
    }
    auto decoded = decode_position(text);
    if (!decoded || decoded->lanes != lanes) {
      const std::string written = !decoded ? "--partitions 1" : "--partitions " + std::to_string(decoded->lanes);
      return make_error("the state was written by a replay with " + written + ", not --partitions " +
                        std::to_string(lanes) +
                        "; resume it with the same --partitions, or start from an empty state directory");
    }
    positions.push_back(std::move(*decoded));
  }
  const auto behind = std::min_element(positions.begin(), positions.end(),
                                       [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; });
  plan.seek_to = behind->input;
  plan.start_ordinal = behind->ordinal;
  for (size_t i = 0; i < lanes; ++i) {
    if (positions[i].ordinal > behind->ordinal) plan.skip_through[i] = positions[i].ordinal;
  }
  return plan;
}

Status open_lanes(std::span<Pipeline* const> lanes, std::vector<std::string>& stored,
                  ReplayResult& result) {
  stored.clear();
  for (Pipeline* lane : lanes) {
    if (auto s = lane->engine().open(); !s.ok()) return s;
    auto position = lane->recover();
    if (!position.ok()) return position.error();
    stored.push_back(std::move(position).value());
  }
  for (size_t i = 0; i < lanes.size(); ++i) {
    Pipeline& lane = *lanes[i];
    if (lane.stored_rules_version().empty() || lane.stored_rules_version() == lane.engine().rules().version) continue;
    // Resuming under other rules: the stored cases are brought up to them first.
    auto repaired = lane.reload_rules(lane.engine().rules_ptr(), stored[i]);
    if (!repaired.ok()) return repaired.error();
    if (auto s = lane.maybe_commit(stored[i], true); !s.ok()) return s;
    result.repairs.push_back(*repaired);
  }
  for (size_t i = 0; i < lanes.size(); ++i) {
    // A crash between two slices of one record's timers left some due at the
    // committed clock: they fire first, at that clock, as they would have.
    for (;;) {
      auto more = lanes[i]->advance(lanes[i]->engine().clock(), lanes[i]->replay_timer_slice());
      if (!more.ok()) return more.error();
      if (auto s = lanes[i]->maybe_commit(stored[i]); !s.ok()) return s;
      if (!*more) break;
    }
  }
  return ok_status();
}

// Fires what is left at the final clock (a stage due exactly then too: no
// event follows) and commits twice: the second removes what the first
// delivered from the outbox.
Status settle_lane(Pipeline& lane, Instant final_clock, const std::string& position) {
  for (;;) {
    auto more = lane.settle(final_clock, lane.replay_timer_slice());
    if (!more.ok()) return more.error();
    if (auto s = lane.maybe_commit(position); !s.ok()) return s;
    if (!*more) break;
  }
  for (int i = 0; i < 2; ++i) {
    if (auto s = lane.maybe_commit(position, true); !s.ok()) return s;
  }
  return ok_status();
}

Result<ReplayResult> replay_one_lane(RecordSource& source, Pipeline& lane, const ReplayOptions& options,
                                     ReplayResult result) {
  RawRecord record;
  const Pipeline::PositionAfter position = [&source] { return source.position(); };
  for (;;) {
    auto more = source.next(record);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (auto s = lane.on_record_replay(record, position); !s.ok()) return s.error();
    if (auto s = lane.maybe_commit(position); !s.ok()) return s.error();
  }
  result.final_clock = std::max(lane.engine().clock(), options.until.value_or(kMinInstant));
  if (auto s = settle_lane(lane, result.final_clock, source.position()); !s.ok()) {
    return s.error();
  }
  return result;
}

// What the reading thread hands a lane's worker: a run of its records, then
// optionally the barrier to commit at (every lane gets every barrier).
struct LaneChunk {
  std::vector<RawRecord> records;
  // The lane position after each record: where a commit between slices of its
  // timers stands (Pipeline::on_record_replay).
  std::vector<std::string> positions;
  std::optional<std::string> commit_at;
};

// One lane on its own thread, fed through a bounded queue.
class LaneWorker {
 public:
  LaneWorker(Pipeline& lane, std::atomic<bool>& failed) : lane_(lane), failed_(failed) {
    thread_ = std::thread([this] { run(); });
  }
  ~LaneWorker() { (void)finish(); }  // the status was taken by finish() already, or the driver failed first

  bool push(LaneChunk chunk) { return queue_.push(std::move(chunk)); }
  // Waits for the worker to drain its queue and stop; its status after.
  Status finish() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  void run() {
    while (auto chunk = queue_.pop()) {
      if (!status_.ok()) continue;  // drain without work so the reader never blocks on us
      for (size_t i = 0; i < chunk->records.size(); ++i) {
        if (status_ = lane_.on_record_replay(chunk->records[i], chunk->positions[i]); !status_.ok()) break;
      }
      if (status_.ok() && chunk->commit_at) status_ = lane_.commit_if_due(*chunk->commit_at, true);
      if (status_.ok() && chunk->commit_at) status_ = lane_.deliver_pending();
      if (!status_.ok()) failed_ = true;
    }
  }

  Pipeline& lane_;
  std::atomic<bool>& failed_;
  BoundedQueue<LaneChunk> queue_{8};
  Status status_ = ok_status();
  std::thread thread_;
};

// Several lanes: this thread reads and routes, each lane's worker applies.
// Every `batch_records` records read, every lane commits at the same input
// position (a barrier); a lane that committed further on than the others
// before a crash (a later barrier, or a commit between slices of its timers)
// skips the records it already has.
Result<ReplayResult> replay_lanes(RecordSource& source, std::span<Pipeline* const> lanes,
                                  const ReplayOptions& options, const ResumePlan& plan, ReplayResult result) {
  const size_t count = lanes.size();
  constexpr size_t kChunkRecords = 256;
  std::atomic<bool> failed{false};
  std::vector<std::unique_ptr<LaneWorker>> workers;
  for (Pipeline* lane : lanes) workers.push_back(std::make_unique<LaneWorker>(*lane, failed));
  auto finish_all = [&]() -> Status {
    Status first = ok_status();
    for (auto& worker : workers) {
      if (auto s = worker->finish(); !s.ok() && first.ok()) first = s;
    }
    return first;
  };

  CaseIdPartitioner partitioner(count);
  const std::vector<uint64_t>& skip_through = plan.skip_through;
  std::vector<LaneChunk> chunks(count);
  uint64_t ordinal = plan.start_ordinal;
  size_t since_barrier = 0;
  Status read_status = ok_status();
  RawRecord record;
  for (;;) {
    if (failed) break;
    auto more = source.next(record);
    if (!more.ok()) {
      read_status = more.error();
      break;
    }
    if (!*more) break;
    ++ordinal;
    const size_t lane = partitioner.partition_of(record);
    // A lane ahead skips what it committed before the crash.
    if (ordinal > skip_through[lane]) {
      chunks[lane].positions.push_back(encode_position(LanePosition{count, ordinal, source.position()}));
      chunks[lane].records.push_back(std::move(record));
      record = RawRecord{};
      if (chunks[lane].records.size() >= kChunkRecords) workers[lane]->push(std::exchange(chunks[lane], {}));
    }
    if (++since_barrier >= options.batch_records) {
      since_barrier = 0;
      const std::string position = encode_position(LanePosition{count, ordinal, source.position()});
      for (size_t i = 0; i < count; ++i) {
        if (ordinal < skip_through[i]) continue;  // a lane still skipping stands further on already
        chunks[i].commit_at = position;
        workers[i]->push(std::exchange(chunks[i], {}));
      }
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (!chunks[i].records.empty()) workers[i]->push(std::exchange(chunks[i], {}));
  }
  const Status worked = finish_all();
  if (!read_status.ok()) return read_status.error();
  if (!worked.ok()) return worked.error();
  for (size_t i = 0; i < count; ++i) {
    if (ordinal < skip_through[i]) {
      return make_error("the input ends after " + std::to_string(ordinal) + " records, before record " +
                        std::to_string(skip_through[i]) + " where partition " + std::to_string(i) +
                        " of the state was committed: it is not the input of this state");
    }
  }

  // Every lane settles at the clock a single lane would reach.
  result.final_clock = options.until.value_or(kMinInstant);
  for (Pipeline* lane : lanes) result.final_clock = std::max(result.final_clock, lane->engine().clock());
  const std::string position = encode_position(LanePosition{count, ordinal, source.position()});
  std::vector<Status> settled(count, ok_status());
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < count; ++i) {
      threads.emplace_back([&, i] {
        settled[i] = settle_lane(*lanes[i], result.final_clock, position);
      });
    }
  }
  for (const auto& s : settled) {
    if (!s.ok()) return s.error();
  }
  return result;
}

}  // namespace

Result<ReplayResult> replay_history(RecordSource& source, std::span<Pipeline* const> lanes,
                                    const ReplayOptions& options) {
  if (lanes.empty()) return make_error("replay needs at least one partition");
  ReplayResult result;
  std::vector<std::string> stored;
  if (auto s = open_lanes(lanes, stored, result); !s.ok()) return s.error();
  auto plan = plan_resume(stored);
  if (!plan.ok()) return plan.error();
  if (options.restart_input) *plan = ResumePlan{"", 0, std::vector<uint64_t>(lanes.size(), 0)};
  result.resumed = std::any_of(stored.begin(), stored.end(), [](const auto& p) { return !p.empty(); });
  if (!plan->seek_to.empty()) {
    if (auto s = source.seek(plan->seek_to); !s.ok()) return s.error();
  }
  if (lanes.size() == 1) return replay_one_lane(source, *lanes[0], options, std::move(result));
  return replay_lanes(source, lanes, options, *plan, std::move(result));
}

Status LockedSink::write(const OutboundRecord& record) {
  std::lock_guard lock(mutex_);
  return inner_.write(record);
}

Status LockedSink::flush() {
  std::lock_guard lock(mutex_);
  return inner_.flush();
}

Status LockedSink::collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) {
  std::lock_guard lock(mutex_);
  return inner_.collect_acknowledged(written, acknowledged);
}

}  // namespace slawatch
