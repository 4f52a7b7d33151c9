#pragma once
// The clock one live partition fires on (contract section 4, amended
// 2026-12-06). Caught up, it is the wall clock (the engine then waits out the
// grace). While records of the partition are still waiting to be read (a
// backlog after downtime, a monitor started on a stored topic) it is no later
// than the partition's event-time watermark, the largest event time read minus
// the allowed lateness: the backlog is replayed like history, and nobody is
// paged for a stage whose stop event is already waiting in the topic.
#include <algorithm>
#include <optional>

#include "model/time.h"

namespace slawatch {

struct LaneClockPolicy {
  Duration allowed_lateness{0};

  // `watermark`: the largest event time read from the partition (none yet:
  // the clock stays where it is, kMinInstant, since the engine never moves
  // backwards). Pure: the caller reads the wall clock and the lag.
  Instant now(Instant wall, bool caught_up, std::optional<Instant> watermark) const {
    if (caught_up) return wall;
    if (!watermark) return kMinInstant;
    // 1 ms before: the next record may share the watermark's millisecond and
    // close a cycle exactly at its due time (as replay waits, section 4).
    return std::min(wall, *watermark - allowed_lateness - Duration{1});
  }
};

}  // namespace slawatch
