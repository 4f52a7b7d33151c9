#include "pipeline/pipeline.h"

#include <algorithm>
#include <iterator>
#include <span>

#include "io/alert_json.h"
#include "pipeline/state_tallies.h"
#include "state/alert_index_value.h"

namespace slawatch {

Pipeline::Pipeline(Engine& engine, StateStore& store, RecordSink& alerts, RecordSink& dead_letters,
                   PipelineOptions options)
    : engine_(engine),
      store_(store),
      alert_sink_(alerts),
      dead_letter_sink_(dead_letters),
      options_(std::move(options)),
      parser_(options_.max_record_bytes) {}

Result<std::string> Pipeline::recover() {
  auto checkpoint = store_.load_checkpoint();
  if (!checkpoint.ok()) return checkpoint.error();
  next_outbox_seq_ = checkpoint->next_outbox_seq;
  stored_rules_version_ = checkpoint->rules_version;
  auto leftovers = store_.load_outbox();
  if (!leftovers.ok()) return leftovers.error();
  // Delivered before anything new, at the next maybe_commit or deliver_pending.
  // They are in the replica: a restore reads them from there.
  undelivered_ = std::move(leftovers).value();
  return checkpoint->source_position;
}

Result<CaseEvent*> Pipeline::intake(const RawRecord& record) {
  ++counters_.records;
  ++uncommitted_records_;
  if (record.oversize_bytes > 0) {
    dead_letter(record, oversize_reason(record.oversize_bytes, options_.max_record_bytes, record.bytes.size()));
    return static_cast<CaseEvent*>(nullptr);
  }
  auto parsed = parse_record(parser_, record.bytes, record.headers);
  if (!parsed.ok()) {
    dead_letter(record, parsed.error().message);
    return static_cast<CaseEvent*>(nullptr);
  }
  scratch_event_ = std::move(parsed).value();
  if (!latest_event_time_ || scratch_event_.time > *latest_event_time_) latest_event_time_ = scratch_event_.time;
  return &scratch_event_;
}

void Pipeline::dead_letter(const RawRecord& record, const std::string& reason) {
  ++counters_.dead_letters;
  if (reject_observer_) reject_observer_(record, reason);
  OutboxEntry entry{next_outbox_seq_++, OutboxEntry::Channel::dead_letter, record.key, record.bytes,
                    record.headers};
  entry.headers.insert(entry.headers.end(), record.provenance.begin(), record.provenance.end());
  entry.headers.push_back(RecordHeader{kDeadLetterReasonHeader, reason});
  entry.headers.push_back(RecordHeader{kDeadLetterOriginHeader, record.origin});
  if (record.oversize_bytes > 0) {
    entry.headers.push_back(RecordHeader{kDeadLetterOriginalSizeHeader, std::to_string(record.oversize_bytes)});
  }
  outbox_.push_back(std::move(entry));
}

Status Pipeline::apply(CaseEvent& event, const RawRecord& record, bool hold) {
  scratch_alerts_.clear();
  CaseEvent displaced;
  // Observers see the event after the engine has taken it, so they keep the
  // one copy; without them the event moves into the case log. Its ids are kept
  // for the dead letters below either way.
  const EventId event_id = event.id;
  const CaseId case_id = event.case_id;
  auto outcome = event_observer_ ? engine_.apply(static_cast<const CaseEvent&>(event), scratch_alerts_, &displaced)
                                 : engine_.apply(std::move(event), scratch_alerts_, &displaced);
  if (!outcome.ok()) return outcome.error();
  switch (*outcome) {
    case ApplyOutcome::applied: ++counters_.applied; break;
    case ApplyOutcome::duplicate: ++counters_.duplicates; break;
    case ApplyOutcome::conflicting_duplicate:
      dead_letter(record, "conflicting duplicate: event id " + std::string(event_id.str()) + " of case " +
                              std::string(case_id.str()) + " is already applied with other content, which is kept (of two records with one id, "
                              "the one whose content hashes smaller is kept)");
      break;
    case ApplyOutcome::replaced: {
      ++counters_.applied;
      // The stored record's bytes are gone: its dead letter is rebuilt from the case log.
      RawRecord loser;
      loser.bytes = encode_case_event(displaced);
      loser.key = case_id.str();
      loser.origin = "case log of " + std::string(case_id.str()) + " (replaced by " + record.origin + ")";
      dead_letter(loser, "conflicting duplicate: event id " + std::string(event_id.str()) + " of case " +
                             std::string(case_id.str()) + " arrived again with other content, which replaces this one (of two records with one "
                             "id, the one whose content hashes smaller is kept); rebuilt from the case log");
      break;
    }
    case ApplyOutcome::case_full:
      dead_letter(record, "case " + std::string(case_id.str()) + " has reached its event limit; event " +
                              std::string(event_id.str()) + " was not applied");
      break;
  }
  if (event_observer_) {
    // Observers see events and alerts in the order they happened: behind held
    // alerts, an event waits with them (a tracker must see a stage fire before
    // the acknowledgement that closes its cycle).
    if (hold && !held_.empty()) {
      held_.push_back(HeldOutput{std::nullopt, event, *outcome});
    } else {
      event_observer_(event, *outcome);
    }
  }
  if (hold) {
    hold_alerts(scratch_alerts_);
  } else {
    emit(scratch_alerts_);
  }
  return ok_status();
}

void Pipeline::hold_alerts(std::vector<Alert>& alerts) {
  for (auto& alert : alerts) {
    std::string key = alert.alert_id + '@' + std::to_string(to_millis(alert.due_at));
    switch (alert.kind) {
      case AlertKind::fired:
        held_fired_[std::move(key)] = held_.size();
        held_.push_back(HeldOutput{std::move(alert), std::nullopt, ApplyOutcome::applied});
        break;
      case AlertKind::retracted:
        if (auto it = held_fired_.find(key); it != held_fired_.end()) {
          // Fired and retracted within one batch: neither leaves.
          held_[it->second].alert.reset();
          held_fired_.erase(it);
          break;
        }
        held_.push_back(HeldOutput{std::move(alert), std::nullopt, ApplyOutcome::applied});
        break;
      case AlertKind::resolved:
        held_fired_.erase(key);  // a real breach: a later retraction must follow its resolution
        held_.push_back(HeldOutput{std::move(alert), std::nullopt, ApplyOutcome::applied});
        break;
    }
  }
  alerts.clear();
}

void Pipeline::release_held() {
  if (held_.empty()) return;
  std::vector<HeldOutput> held = std::exchange(held_, {});
  held_fired_.clear();
  for (auto& output : held) {
    if (output.event) {
      event_observer_(*output.event, output.outcome);
    } else if (output.alert) {
      emit_one(*output.alert);
    }
  }
}

Status Pipeline::on_record_replay(const RawRecord& record) { return replay_record(record, nullptr); }

Status Pipeline::on_record_replay(const RawRecord& record, const std::string& position_after) {
  const PositionAfter position = [&position_after] { return position_after; };
  return replay_record(record, &position);
}

Status Pipeline::on_record_replay(const RawRecord& record, const PositionAfter& position_after) {
  return replay_record(record, &position_after);
}

Status Pipeline::replay_record(const RawRecord& record, const PositionAfter* position_after) {
  auto event = intake(record);
  if (!event.ok()) return event.error();
  if (*event == nullptr) return ok_status();
  const Instant event_time = (*event)->time;
  if (auto s = apply(**event, record, false); !s.ok()) return s;
  const size_t slice = position_after ? replay_timer_slice() : SIZE_MAX;
  for (;;) {
    auto more = advance(event_time, slice);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (auto s = maybe_commit(*position_after, true); !s.ok()) return s;
  }
  // A lane fed by several-lane replay commits only at barriers: this keeps
  // its batch within bounds between them (single-lane replay's per-record
  // commit_if_due would see the same).
  if (position_after && batch_bounds_reached()) return maybe_commit(*position_after, true);
  return ok_status();
}

Status Pipeline::on_record_live(const RawRecord& record) {
  auto event = intake(record);
  if (!event.ok()) return event.error();
  if (*event == nullptr) return ok_status();
  return apply(**event, record, true);
}

Result<bool> Pipeline::advance(Instant now, size_t max_timers) { return fire(now, max_timers, false); }

Result<bool> Pipeline::settle(Instant now, size_t max_timers) { return fire(now, max_timers, true); }

Result<bool> Pipeline::fire(Instant now, size_t max_timers, bool end_of_input) {
  release_held();
  scratch_alerts_.clear();
  auto more = end_of_input ? engine_.settle(now, scratch_alerts_, max_timers)
                           : engine_.advance(now, scratch_alerts_, max_timers);
  if (!more.ok()) return more.error();
  emit(scratch_alerts_);
  return *more;
}

void Pipeline::emit(std::vector<Alert>& alerts) {
  for (auto& alert : alerts) emit_one(alert);
  alerts.clear();
}

void Pipeline::emit_one(Alert& alert) {
  if (options_.roster) resolve_notify(*options_.roster, alert);
  switch (alert.kind) {
    case AlertKind::fired: ++counters_.alerts_fired; break;
    case AlertKind::resolved: ++counters_.alerts_resolved; break;
    case AlertKind::retracted: ++counters_.alerts_retracted; break;
  }
  if (alert_observer_) alert_observer_(alert);
  tally_alert(alert, tallies_, tally_name_);
  std::string compact =
      store_.keeps_compact_alerts() ? encode_alert_index_value(alert, options_.alert_source) : std::string{};
  outbox_.push_back(OutboxEntry{next_outbox_seq_++, OutboxEntry::Channel::alerts, std::string(alert.case_id.str()),
                                encode_alert_cloudevent(alert, options_.alert_source), {}, compact});
  // Last: the index takes the alert itself (the store keeps its fields, not
  // the ~650 bytes of its CloudEvent), and the compact form when made: the
  // index's value is the same bytes.
  if (options_.index_alerts) {
    alert_index_.push_back(IndexedAlert{std::move(alert), options_.alert_source, std::move(compact)});
  }
}

Status Pipeline::maybe_commit(const std::string& source_position, bool force) {
  return maybe_commit([&source_position] { return source_position; }, force);
}

Status Pipeline::maybe_commit(const PositionAfter& position_after, bool force) {
  release_held();  // held alerts count towards the batch's output bound
  if (force || batch_full()) {
    if (auto s = commit_if_due(position_after(), true); !s.ok()) return s;
  }
  return deliver_pending();
}

Status Pipeline::commit_if_due(const std::string& source_position, bool force, Engine::FlushScope scope) {
  release_held();
  if (!force && !batch_full()) return ok_status();
  StateBatch batch;
  engine_.flush_into(batch, scope);
  engine_.take_cycle_outcomes(cycle_outcomes_);
  for (const auto& outcome : cycle_outcomes_) tally_cycle(outcome, tallies_, tally_name_);
  cycle_outcomes_.clear();
  batch.outbox_puts = std::move(outbox_);
  outbox_.clear();
  batch.alert_index = std::move(alert_index_);
  alert_index_.clear();
  for (const auto& [name, delta] : tallies_) {
    if (delta != 0) batch.tallies.emplace(name, delta);
  }
  const size_t deletions = delivered_.size();
  batch.outbox_deletes = std::move(delivered_);
  delivered_.clear();
  batch.checkpoint = Checkpoint{engine_.clock(), source_position, next_outbox_seq_, engine_.rules().version};
  if (auto s = store_.commit(batch); !s.ok()) {
    outbox_ = std::move(batch.outbox_puts);  // kept for the next attempt
    alert_index_ = std::move(batch.alert_index);  // the same
    delivered_ = std::move(batch.outbox_deletes);  // else a restart would deliver them again
    return s;
  }
  ++counters_.commits;
  uncommitted_records_ = 0;
  tallies_.clear();
  // Committed: now the output may leave. If we crash before the next commit
  // deletes these entries, recover() delivers them again (same ids).
  // The store left the batch's outbox entries to us (StateStore::commit).
  std::move(batch.outbox_puts.begin(), batch.outbox_puts.end(), std::back_inserter(undelivered_));
  // The previous commit is replicated now (a store with a replica waits for
  // it before committing again); this one may not be yet.
  unreplicated_tail_ = batch.outbox_puts.size();
  unreplicated_deletions_ = deletions;
  return ok_status();
}

Status Pipeline::deliver_pending() {
  if (undelivered_.empty()) return ok_status();
  if (auto replicated = store_.last_commit_replicated(true); !replicated.ok()) {
    ++counters_.delivery_failures;
    return replicated.error();
  }
  unreplicated_tail_ = unreplicated_deletions_ = 0;
  bool alerts = false;
  bool dead = false;
  auto attempt = [&]() -> Status {
    for (const auto& entry : undelivered_) {
      const bool is_alert = entry.channel == OutboxEntry::Channel::alerts;
      auto& sink = is_alert ? alert_sink_ : dead_letter_sink_;
      if (auto s = sink.write(OutboundRecord{entry.seq, entry.key, entry.payload, &entry.headers}); !s.ok()) {
        return s;
      }
      (is_alert ? alerts : dead) = true;
    }
    if (alerts) {
      if (auto s = alert_sink_.flush(); !s.ok()) return s;
    }
    if (dead) {
      if (auto s = dead_letter_sink_.flush(); !s.ok()) return s;
    }
    return delivery_observer_ ? delivery_observer_(undelivered_) : ok_status();
  };
  if (auto s = attempt(); !s.ok()) {
    ++counters_.delivery_failures;
    return s;
  }
  for (const auto& entry : undelivered_) delivered_.push_back(entry.seq);
  undelivered_.clear();
  return ok_status();
}

Result<RepairReport> Pipeline::reload_rules(std::shared_ptr<const RuleSet> rules,
                                           const std::string& source_position) {
  RepairReport report;
  report.from_version = stored_rules_version_.empty() ? engine_.rules().version : stored_rules_version_;
  report.to_version = rules->version;
  // Everything before the reload is committed under the old set first, every
  // case included (an engine writing back holds some only in its cache), so
  // the walk of the store below meets them all.
  if (auto s = commit_if_due(source_position, true, Engine::FlushScope::complete); !s.ok()) return s.error();
  engine_.replace_rules(std::move(rules));
  Status failure = ok_status();
  std::vector<Alert> alerts;
  auto visit = [&](const CaseId& id, std::string_view) {
    ++report.cases;
    alerts.clear();
    auto changed = engine_.repair(id, alerts);
    if (!changed.ok()) {
      failure = changed.error();
      return false;
    }
    if (*changed) {
      ++report.changed;
      for (const auto& alert : alerts) {
        switch (alert.kind) {
          case AlertKind::fired: ++report.fired; break;
          case AlertKind::resolved: ++report.resolved; break;
          case AlertKind::retracted: ++report.retracted; break;
        }
      }
      emit(alerts);
    }
    // Commit in slices: the engine's cache (where repaired cases wait) is
    // trimmed at each commit, so millions of cases never sit in memory at once.
    if (report.cases % options_.batch_records == 0) {
      if (auto s = commit_if_due(source_position, true); !s.ok()) {
        failure = s;
        return false;
      }
      // Hand each slice's alerts on without waiting, so a repair that changes
      // millions of stages does not hold them all in memory. A refusal is not
      // the repair's failure: the output stays pending for the caller's loop.
      if (auto s = deliver_available(); !s.ok()) {
        // Kept pending; counted in delivery_failures by deliver_available.
      }
    }
    return true;
  };
  if (auto s = store_.for_each_case(visit); !s.ok()) return s.error();
  if (!failure.ok()) return failure.error();
  if (auto s = commit_if_due(source_position, true); !s.ok()) return s.error();
  stored_rules_version_ = report.to_version;
  return report;
}

Status Pipeline::deliver_available() {
  if (auto delivered = deliver_within_window(AwaitAcknowledgement::no); !delivered.ok()) return delivered.error();
  return ok_status();
}

Result<size_t> Pipeline::deliver_window() { return deliver_within_window(AwaitAcknowledgement::yes); }

// Two limits make a handover repeat at most one batch of output (issue 14):
// nothing leaves before the commit that produced it is in the changelog (a
// next owner would produce it again from the input), and no more than
// batch_records entries are out (in flight, acknowledged, or recorded by a
// commit the changelog does not hold yet) at a time (a next owner would find
// them pending and send them again). Only the last commit can be missing
// from the changelog, so only its entries (the tail) wait. A revocation or
// a shutdown delivers through the same window (deliver_window), committing
// between windows: it can be cut off at any point too (a kill, a give-up),
// and a bulk send of a long outbox whose flush ran out of time recorded
// none of it, so the next owner sent all of it again.
Result<size_t> Pipeline::deliver_within_window(AwaitAcknowledgement await) {
  const bool wait = await == AwaitAcknowledgement::yes;
  if (undelivered_.empty()) return size_t{0};
  if (unreplicated_tail_ > 0 || unreplicated_deletions_ > 0) {
    auto replicated = store_.last_commit_replicated(wait);
    if (!replicated.ok()) {
      ++counters_.delivery_failures;
      return replicated.error();
    }
    if (*replicated) unreplicated_tail_ = unreplicated_deletions_ = 0;
  }
  const size_t ready = undelivered_.size() - std::min(unreplicated_tail_, undelivered_.size());
  const size_t sendable = std::min(ready, delivery_window());
  if (sendable == 0) return size_t{0};  // asked again at the next call
  std::vector<uint64_t> written_alerts;
  std::vector<uint64_t> written_dead;
  Status status = ok_status();
  for (const auto& entry : std::span(undelivered_).first(sendable)) {
    const bool is_alert = entry.channel == OutboxEntry::Channel::alerts;
    auto& sink = is_alert ? alert_sink_ : dead_letter_sink_;
    // Stop at the first refusal (a full producer queue): later records must not overtake it.
    status = sink.write(OutboundRecord{entry.seq, entry.key, entry.payload, &entry.headers});
    if (!status.ok()) break;
    (is_alert ? written_alerts : written_dead).push_back(entry.seq);
  }
  std::vector<uint64_t> acknowledged;
  auto collect = [&](RecordSink& sink, const std::vector<uint64_t>& written) {
    if (written.empty()) return;
    // A flush that succeeds vouches for everything written; one that runs out
    // of time leaves the acknowledged ones to collect like a non-blocking call.
    // Not after a refused write: records in flight behind the refused one are
    // not in `written`, and a flush would settle them without their being counted.
    if (wait && status.ok()) {
      auto flushed = sink.flush();
      if (flushed.ok()) {
        acknowledged.insert(acknowledged.end(), written.begin(), written.end());
        return;
      }
      status = flushed;
    }
    if (auto s = sink.collect_acknowledged(written, acknowledged); !s.ok() && status.ok()) status = s;
  };
  collect(alert_sink_, written_alerts);
  collect(dead_letter_sink_, written_dead);
  size_t delivered = 0;
  if (!acknowledged.empty()) {
    std::sort(acknowledged.begin(), acknowledged.end());
    auto is_acknowledged = [&](const OutboxEntry& entry) {
      return std::binary_search(acknowledged.begin(), acknowledged.end(), entry.seq);
    };
    Status observed = ok_status();
    if (delivery_observer_) {
      std::vector<OutboxEntry> group;
      std::copy_if(undelivered_.begin(), undelivered_.end(), std::back_inserter(group), is_acknowledged);
      observed = delivery_observer_(group);
    }
    // A failed observer (the audit log) keeps the group pending: it is sent and observed again.
    if (observed.ok()) {
      delivered = std::erase_if(undelivered_, is_acknowledged);
      delivered_.insert(delivered_.end(), acknowledged.begin(), acknowledged.end());
    } else if (status.ok()) {
      status = observed;
    }
  }
  if (!status.ok()) {
    ++counters_.delivery_failures;
    return status.error();
  }
  return delivered;
}

}  // namespace slawatch
