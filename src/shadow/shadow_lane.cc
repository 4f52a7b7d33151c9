#include "shadow/shadow_lane.h"

#include <algorithm>

#include "state/case_record.h"

namespace slawatch {
namespace {

// Logs are deduplicated by event id, so equal ids in equal order are the same log.
bool same_log(const std::vector<CaseEvent>& a, const std::vector<CaseEvent>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const CaseEvent& x, const CaseEvent& y) { return x.id == y.id; });
}

PipelineOptions without_roster(PipelineOptions options) {
  options.roster.reset();
  return options;
}

}  // namespace

std::string describe(const ShadowStart& start) {
  std::string out = start.seeded ? "seeded from the active state (" + std::to_string(start.cases_copied) +
                                       " case(s) copied)"
                                 : "in step with the active state";
  if (start.repair) {
    const RepairReport& r = *start.repair;
    out += "; repaired " + std::to_string(r.cases) + " case(s) under the candidate: " + std::to_string(r.changed) +
           " changed, " + std::to_string(r.fired) + " fired, " + std::to_string(r.resolved) + " resolved, " +
           std::to_string(r.retracted) + " retracted";
  }
  return out;
}

Result<uint64_t> seed_cases(StateStore& from, StateStore& to, size_t slice) {
  StateBatch batch;
  uint64_t copied = 0;
  Status failure = ok_status();
  auto seed_one = [&](const CaseId& id, std::string_view encoded) -> Status {
    auto existing = to.load_case(id);
    if (!existing.ok()) return existing.error();
    auto active = decode_case_record(encoded, id);
    if (!active.ok()) return active.error();
    if (!existing->has_value()) {
      if (active->timer_due) batch.timer_puts.push_back(TimerKey{*active->timer_due, id});
      batch.cases.emplace_back(id, std::string(encoded));
    } else {
      auto own = decode_case_record(**existing, id);
      if (!own.ok()) return own.error();
      if (same_log(own->events, active->events)) return ok_status();
      // The shadow's marks and timer stay: they say what it emitted and which
      // timer key it stored, which the repair compares against and moves.
      own->events = std::move(active->events);
      batch.cases.emplace_back(id, encode_case_record(*own));
    }
    ++copied;
    if (batch.cases.size() >= slice) {
      if (auto s = to.commit(batch); !s.ok()) return s;
      batch = StateBatch{};
    }
    return ok_status();
  };
  auto visited = from.for_each_case([&](const CaseId& id, std::string_view encoded) {
    failure = seed_one(id, encoded);
    return failure.ok();
  });
  if (!visited.ok()) return visited.error();
  if (!failure.ok()) return failure.error();
  if (!batch.empty()) {
    if (auto s = to.commit(batch); !s.ok()) return s.error();
  }
  return copied;
}

ShadowLane::ShadowLane(std::shared_ptr<const RuleSet> candidate, StateStore& store, RecordSink& alerts,
                       EngineOptions engine_options, PipelineOptions pipeline_options)
    : store_(store),
      engine_(std::move(candidate), store, engine_options),
      pipeline_(engine_, store, alerts, dead_letters_, without_roster(std::move(pipeline_options))) {}

Result<ShadowStart> ShadowLane::open(StateStore& active) {
  ShadowStart start;
  auto active_checkpoint = active.load_checkpoint();
  if (!active_checkpoint.ok()) return active_checkpoint.error();
  auto shadow_checkpoint = store_.load_checkpoint();
  if (!shadow_checkpoint.ok()) return shadow_checkpoint.error();
  if (shadow_checkpoint->source_position != active_checkpoint->source_position) {
    auto copied = seed_cases(active, store_, 2000);
    if (!copied.ok()) return copied.error();
    // The copy stands where the active lane stands, computed under the
    // active rules; the repair below takes it to the candidate's.
    StateBatch batch;
    batch.checkpoint = Checkpoint{active_checkpoint->clock, active_checkpoint->source_position,
                                  shadow_checkpoint->next_outbox_seq, active_checkpoint->rules_version};
    if (auto s = store_.commit(batch); !s.ok()) return s.error();
    start.seeded = true;
    start.cases_copied = *copied;
  }
  if (auto s = engine_.open(); !s.ok()) return s.error();
  auto position = pipeline_.recover();
  if (!position.ok()) return position.error();
  start.position = *position;
  if (pipeline_.stored_rules_version() != engine_.rules().version && !position->empty()) {
    auto repaired = pipeline_.reload_rules(engine_.rules_ptr(), *position);
    if (!repaired.ok()) return repaired.error();
    start.repair = *repaired;
  }
  return start;
}

}  // namespace slawatch
