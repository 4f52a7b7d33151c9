#pragma once
// Shadow rules: a candidate rule set run beside the active one on the same
// input. The lane has its own state, engine and pipeline, and its alerts go to
// its own sink. It notifies nobody: no duty roster (every `person` is null),
// no Alertmanager, no audit log, and its dead letters are dropped because the
// active lane already dead-letters the same records.
//
// Its state starts as a copy of the active lane's, repaired under the
// candidate exactly as a reload would repair it. The shadow output is
// therefore what the alerts output would carry had the candidate been
// promoted when the shadow started: first the differences a promotion would
// make (retractions, newly overdue stages), then the candidate's alerts as
// records arrive and timers fall due. Both lanes then read the same records
// and commit at the same input positions. Whenever the shadow's committed
// position is not the active one's (a first start, a crash between the two
// commits, a shadow switched off for a while), it is seeded again.
//
// Single-threaded: the monitor loop drives it right after the active lane.
#include <memory>
#include <optional>
#include <string>

#include "engine/engine.h"
#include "io/io.h"
#include "pipeline/pipeline.h"
#include "rules/rules.h"
#include "state/store.h"

namespace slawatch {

// What bringing the shadow in step with the active lane did.
struct ShadowStart {
  bool seeded = false;       // the state was copied from the active lane
  uint64_t cases_copied = 0; // cases written (those the shadow had already are skipped)
  // Present when the stored shadow state was computed under other rules than
  // the candidate (after a seed, or after the candidate file changed).
  std::optional<RepairReport> repair;
  std::string position;  // the input position both lanes resume at
};

// One line for the log: "seeded from the active state (N cases copied);
// repaired M cases under the candidate: ...", or "in step with the active state".
std::string describe(const ShadowStart& start);

// Seeds the shadow state `to` from the active state `from`, in commits of at
// most `slice` cases. Every case takes the active lane's event log. A case the
// shadow already holds keeps its own fired marks and timer, so the repair
// that follows changes only what the shadow itself emitted (a retraction of
// an alert it fired, never of one only the active lane fired); a case new to
// the shadow takes the active lane's marks and timer, as a promotion would.
// Cases whose log the shadow already has are skipped. The stores must be
// distinct. Returns the number of cases written.
Result<uint64_t> seed_cases(StateStore& from, StateStore& to, size_t slice);

class ShadowLane {
 public:
  // `store` is the shadow's own state; `alerts` its own output. The options
  // are the active lane's (grace, batch size, alert source); the roster is dropped.
  ShadowLane(std::shared_ptr<const RuleSet> candidate, StateStore& store, RecordSink& alerts,
             EngineOptions engine_options, PipelineOptions pipeline_options);
  ShadowLane(const ShadowLane&) = delete;
  ShadowLane& operator=(const ShadowLane&) = delete;

  // Brings the shadow in step with the active lane's committed state. Call
  // once, after the active lane recovered (and repaired at start-up), before
  // the first record. The repair's alerts wait in the shadow outbox.
  Result<ShadowStart> open(StateStore& active);

  // Commits whenever the active lane committed: same records, same position.
  Status commit(const std::string& source_position) { return pipeline_.commit_if_due(source_position, true); }

  Pipeline& pipeline() { return pipeline_; }

 private:
  StateStore& store_;
  Engine engine_;
  NullSink dead_letters_;  // the active lane dead-letters the same records
  Pipeline pipeline_;
};

}  // namespace slawatch
