package slawatch.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The peer's whole SLA logic: one instance per task (partition), called by
 * that task's stream thread only. Case events update the case's state in the
 * `cases` store; each case's earliest pending stage is a key in the `timers`
 * store ([due, big-endian, sign-flipped][case id]) that a punctuator scans.
 *
 * Clocks: `stream` fires a stage once stream time (the largest event time the
 * task has read, via EventTimeExtractor) has passed its due time, like
 * slawatch's replay and its catch-up clock; `wall` fires it at due + grace on
 * the wall clock, like slawatch's live monitor. The punctuator runs every
 * `punctuateEvery` of that clock: each run is a range scan of `timers`
 * through the store's cache, so on a backlog (event time racing ahead) a
 * short stream-time interval costs a scan per record.
 */
final class SlaProcessor implements Processor<String, String, String, String> {
  static final String CASES = "cases";
  static final String TIMERS = "timers";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final boolean wallClock;
  private final long graceMs;
  private final Duration punctuateEvery;
  private final PeerStats stats;
  private ProcessorContext<String, String> context;
  private KeyValueStore<String, byte[]> cases;
  private KeyValueStore<Bytes, byte[]> timers;
  private long streamTime = CaseState.NO_TIME;

  SlaProcessor(boolean wallClock, long graceMs, Duration punctuateEvery, PeerStats stats) {
    this.wallClock = wallClock;
    this.graceMs = graceMs;
    this.punctuateEvery = punctuateEvery;
    this.stats = stats;
  }

  @Override
  public void init(ProcessorContext<String, String> context) {
    this.context = context;
    this.cases = context.getStateStore(CASES);
    this.timers = context.getStateStore(TIMERS);
    if (wallClock) {
      context.schedule(punctuateEvery, PunctuationType.WALL_CLOCK_TIME, now -> fireDue(now - graceMs));
    } else {
      // Strictly past the due time: an event at exactly the due time may still close the cycle.
      context.schedule(punctuateEvery, PunctuationType.STREAM_TIME, now -> {
        streamTime = now;
        fireDue(now - 1);
      });
    }
  }

  @Override
  public void process(Record<String, String> record) {
    stats.records.increment();
    JsonNode event;
    String id;
    String caseId;
    String type;
    long time;
    try {
      event = JSON.readTree(record.value());
      id = event.get("id").asText();
      caseId = event.get("subject").asText();
      String fullType = event.get("type").asText();
      type = fullType.substring(fullType.lastIndexOf('.') + 1);
      time = OffsetDateTime.parse(event.get("time").asText()).toInstant().toEpochMilli();
    } catch (Exception e) {
      stats.rejected.increment();  // slawatch dead-letters these; the benchmark input has none
      return;
    }
    byte[] stored = cases.get(caseId);
    CaseState state = stored == null ? new CaseState() : CaseState.decode(stored);
    if (state.seen.contains(id)) {
      stats.duplicates.increment();
      return;
    }
    state.seen.add(id);
    JsonNode data = event.path("data");
    if (data.hasNonNull("priority")) state.priority = data.get("priority").asText();
    if (data.hasNonNull("department") && !type.equals("returned")) state.department = data.get("department").asText();
    final long oldTimer = state.timerDue;
    List<String[]> out = new ArrayList<>();
    applyDeadlines(state, caseId, type, time, out);
    applyCounts(state, type, time);
    state.timerDue = nextDue(state);
    moveTimer(caseId, oldTimer, state.timerDue);
    cases.put(caseId, state.encode());
    emit(caseId, state, out);
  }

  private void applyDeadlines(CaseState state, String caseId, String type, long time, List<String[]> out) {
    for (int r = 0; r < Rules.DEADLINES.size(); ++r) {
      Rules.Deadline rule = Rules.DEADLINES.get(r);
      CaseState.Cycle c = state.cycles[r];
      if (rule.start().contains(type)) {
        if (c.open) close(rule, c, time, out);
        ++c.starts;
        if (rule.matches(state.priority)) {
          c.open = true;
          c.startedAt = time;
          c.pausedTotal = 0;
          c.fired = 0;
          if (c.paused) c.pausedSince = time;
        }
      } else if (rule.pause().contains(type)) {
        if (!c.paused) {
          c.paused = true;
          c.pausedSince = time;
        }
      } else if (rule.resume().contains(type)) {
        if (c.paused) {
          if (c.open) c.pausedTotal += time - Math.max(c.pausedSince, c.startedAt);
          c.paused = false;
        }
      } else if (rule.stop().contains(type)) {
        if (c.open) close(rule, c, time, out);
        c.paused = false;  // a resolved or closed case is waiting on nobody (contract, amended 2026-12-06)
      }
    }
  }

  /** Closes the open cycle at `time`: breached stages are fired if not yet, then resolved. */
  private void close(Rules.Deadline rule, CaseState.Cycle c, long time, List<String[]> out) {
    for (int s = 0; s < rule.stages().size(); ++s) {
      Rules.Stage stage = rule.stages().get(s);
      long due = c.startedAt + c.pausedTotal + stage.offsetMs();
      // Open at the due time: breached. A pause at exactly the due time still counts as open.
      boolean breached = c.paused ? due <= c.pausedSince : due < time;
      if (!breached) continue;
      String[] alert = {rule.id(), Integer.toString(c.starts), stage.name(), stage.severity(), Long.toString(due)};
      if ((c.fired & (1 << s)) == 0) out.add(withKind("fired", alert));
      out.add(withKind("resolved", alert));
    }
    c.open = false;
    c.fired = 0;
  }

  private static String[] withKind(String kind, String[] alert) {
    return new String[] {kind, alert[0], alert[1], alert[2], alert[3], alert[4]};
  }

  private void applyCounts(CaseState state, String type, long time) {
    for (int r = 0; r < Rules.COUNTS.size(); ++r) {
      Rules.Count rule = Rules.COUNTS.get(r);
      CaseState.Counter c = state.counters[r];
      if (c.done || !rule.events().contains(type)) continue;
      c.times.add(time);
      c.times.removeIf(t -> t < time - rule.windowMs());
      if (c.times.size() >= rule.threshold()) {
        c.done = true;
        c.pendingDue = time;  // fires when the clock passes it, like a stage
        c.startedAt = c.times.get(0);
        c.times.clear();
      }
    }
  }

  private static long nextDue(CaseState state) {
    long next = Long.MAX_VALUE;
    for (int r = 0; r < Rules.DEADLINES.size(); ++r) {
      CaseState.Cycle c = state.cycles[r];
      if (!c.open || c.paused) continue;
      List<Rules.Stage> stages = Rules.DEADLINES.get(r).stages();
      for (int s = 0; s < stages.size(); ++s) {
        if ((c.fired & (1 << s)) != 0) continue;
        next = Math.min(next, c.startedAt + c.pausedTotal + stages.get(s).offsetMs());
        break;
      }
    }
    for (CaseState.Counter c : state.counters) {
      if (c.pendingDue != CaseState.NO_TIME) next = Math.min(next, c.pendingDue);
    }
    return next == Long.MAX_VALUE ? CaseState.NO_TIME : next;
  }

  /** Fires every stage due at or before `limit`, in due order. */
  private void fireDue(long limit) {
    List<Bytes> due = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = timers.range(null, timerKey(limit + 1, ""))) {
      while (it.hasNext()) due.add(it.next().key);
    }
    for (Bytes key : due) {
      timers.delete(key);
      String caseId = new String(key.get(), 8, key.get().length - 8, StandardCharsets.UTF_8);
      byte[] stored = cases.get(caseId);
      if (stored == null) continue;
      CaseState state = CaseState.decode(stored);
      List<String[]> out = new ArrayList<>();
      for (int r = 0; r < Rules.DEADLINES.size(); ++r) {
        Rules.Deadline rule = Rules.DEADLINES.get(r);
        CaseState.Cycle c = state.cycles[r];
        if (!c.open || c.paused) continue;
        for (int s = 0; s < rule.stages().size(); ++s) {
          Rules.Stage stage = rule.stages().get(s);
          long stageDue = c.startedAt + c.pausedTotal + stage.offsetMs();
          if ((c.fired & (1 << s)) != 0 || stageDue > limit) continue;
          c.fired |= 1 << s;
          out.add(new String[] {"fired", rule.id(), Integer.toString(c.starts), stage.name(), stage.severity(),
                                Long.toString(stageDue)});
        }
      }
      for (int r = 0; r < Rules.COUNTS.size(); ++r) {
        CaseState.Counter c = state.counters[r];
        if (c.pendingDue == CaseState.NO_TIME || c.pendingDue > limit) continue;
        Rules.Count rule = Rules.COUNTS.get(r);
        out.add(new String[] {"fired", rule.id(), "1", "threshold", rule.severity(), Long.toString(c.pendingDue)});
        c.pendingDue = CaseState.NO_TIME;
      }
      state.timerDue = nextDue(state);
      if (state.timerDue != CaseState.NO_TIME) timers.put(timerKey(state.timerDue, caseId), new byte[0]);
      cases.put(caseId, state.encode());
      emit(caseId, state, out);
    }
  }

  private void moveTimer(String caseId, long before, long after) {
    if (before == after) return;
    if (before != CaseState.NO_TIME) timers.delete(timerKey(before, caseId));
    if (after != CaseState.NO_TIME) timers.put(timerKey(after, caseId), new byte[0]);
  }

  static Bytes timerKey(long due, String caseId) {
    byte[] id = caseId.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buffer = ByteBuffer.allocate(8 + id.length);
    buffer.putLong(due ^ Long.MIN_VALUE);  // sign flipped: byte order is time order
    buffer.put(id);
    return Bytes.wrap(buffer.array());
  }

  private void emit(String caseId, CaseState state, List<String[]> alerts) {
    long now = System.currentTimeMillis();
    for (String[] a : alerts) {
      String alertId = caseId + "/" + a[1] + "/" + a[2] + "/" + a[3];
      ObjectNode out = JSON.createObjectNode();
      out.put("specversion", "1.0");
      out.put("id", alertId + "/" + a[0]);
      out.put("source", "/slawatch-streams-peer");
      out.put("type", "slawatch.alert." + a[0]);
      out.put("subject", caseId);
      out.put("time", Instant.ofEpochMilli(now).toString());
      ObjectNode data = out.putObject("data");
      data.put("alert_id", alertId);
      data.put("case_id", caseId);
      data.put("rule", a[1]);
      data.put("cycle", Integer.parseInt(a[2]));
      data.put("stage", a[3]);
      data.put("severity", a[4]);
      data.put("department", state.department);
      data.put("due_at", Instant.ofEpochMilli(Long.parseLong(a[5])).toString());
      if (a[0].equals("fired")) {
        data.put("fired_at", Instant.ofEpochMilli(now).toString());
        stats.fired.increment();
      }
      context.forward(new Record<>(caseId, out.toString(), now));
    }
  }

  @Override
  public void close() {
    if (!wallClock && streamTime != CaseState.NO_TIME) {
      stats.finalStreamTime(context.taskId().partition(), streamTime);
    }
  }

}
