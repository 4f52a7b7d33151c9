#pragma once
// The one replay loop (contract section 4, the replay clock) behind `replay`,
// `backtest` and `report accountability`: a history read once from a
// RecordSource, split by case id over the lanes (CaseIdPartitioner), each lane
// a Pipeline driven on event time, every lane committing at the same input
// positions, then all settled at one final clock.
//
// Determinism: a lane sees exactly its cases' records, in input order, and its
// clock is the largest event time among them; the final clock (the largest
// event time of all input, or `until`) is the same for every lane count. Each
// lane's output therefore depends only on the input and the lane count, and
// the alerts standing at the end are the same for any lane count.
//
// Threading: the calling thread reads and routes records. One lane runs on
// the calling thread too; with more, each lane runs on a worker thread of its
// own, so a lane's pipeline is only ever used by one thread. Sinks and
// observers shared by several lanes must be thread-safe (LockedSink).
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/io.h"
#include "model/result.h"
#include "model/time.h"
#include "pipeline/pipeline.h"

namespace slawatch {

struct ReplayOptions {
  // The final clock, when later than every event read (`--until`).
  std::optional<Instant> until;
  // Records read between two commits of every lane (a lane whose batch
  // reaches its bounds commits between them, Pipeline::batch_bounds_reached).
  size_t batch_records = 20000;
  // Read the input from its beginning even though the state has a checkpoint
  // (another input for the same state; `--restart-input`).
  bool restart_input = false;
};

struct ReplayResult {
  Instant final_clock = kMinInstant;
  bool resumed = false;               // the state had a checkpoint: the input continued after it
  std::vector<RepairReport> repairs;  // one per lane whose stored cases were repaired under changed rules
};

// `lanes[i]` processes partition i. Each lane's engine is opened, its state
// recovered (repaired first when it was computed under other rules) and the
// input resumed after its checkpoint. A state written with another lane count
// is refused: its cases would be looked for in the wrong partitions.
Result<ReplayResult> replay_history(RecordSource& source, std::span<Pipeline* const> lanes,
                                    const ReplayOptions& options);

// A sink several lanes write to: one lane's write, flush or acknowledgement
// at a time, so every record stays whole. Records of different lanes may
// interleave; each lane's own records keep their order.
class LockedSink final : public RecordSink {
 public:
  explicit LockedSink(RecordSink& inner) : inner_(inner) {}
  Status write(const OutboundRecord& record) override;
  Status flush() override;
  Status collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) override;

 private:
  RecordSink& inner_;
  std::mutex mutex_;
};

}  // namespace slawatch
