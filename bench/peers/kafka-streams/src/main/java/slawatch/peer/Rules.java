package slawatch.peer;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The rules the peer enforces, written in code the way a team building on
 * Kafka Streams would: the same first-response, emergency-handling,
 * repeated-return and repeated-transfer rules as slawatch's rules/ folder
 * (docs/rules.md). Calendars are not modelled: these four count every
 * millisecond ("always").
 */
final class Rules {
  private Rules() {}

  record Stage(String name, long offsetMs, String severity) {}

  /** A deadline rule: start opens cycle k, stop closes it, pause/resume stop the clock. */
  record Deadline(String id, Set<String> start, Set<String> stop, Set<String> pause, Set<String> resume,
                  Set<String> priorities, List<Stage> stages) {
    boolean matches(String priority) { return priorities.isEmpty() || priorities.contains(priority); }
  }

  /** A count rule: fires once per case when `threshold` counted events fall in `window`. */
  record Count(String id, Set<String> events, int threshold, long windowMs, String severity) {}

  static final List<Deadline> DEADLINES = List.of(
      new Deadline("first-response", Set.of("dispatched"), Set.of("acknowledged", "returned", "resolved", "closed"),
          Set.of(), Set.of(), Set.of(),
          List.of(new Stage("warning", Duration.ofMinutes(24).toMillis(), "minor"),
                  new Stage("breach", Duration.ofMinutes(30).toMillis(), "major"),
                  new Stage("escalated", Duration.ofMinutes(60).toMillis(), "critical"))),
      new Deadline("emergency-handling", Set.of("created"), Set.of("resolved", "closed"),
          Set.of("suspended"), Set.of("resumed"), Set.of("emergency"),
          List.of(new Stage("warning", Duration.ofHours(18).toMillis(), "major"),
                  new Stage("breach", Duration.ofHours(24).toMillis(), "critical"))));

  static final List<Count> COUNTS = List.of(
      new Count("repeated-return", Set.of("returned"), 2, Duration.ofHours(72).toMillis(), "major"),
      new Count("repeated-transfer", Set.of("dispatched"), 3, Duration.ofDays(7).toMillis(), "minor"));
}
