package slawatch.peer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the peer keeps per case in its `cases` RocksDB store: the event ids
 * seen (duplicates are ignored), the attributes the rules read, one cycle
 * state per deadline rule, the counted event times per count rule, and the
 * case's one pending timer. Applied in arrival order: the peer does not
 * re-evaluate a case's history when an event arrives late.
 */
final class CaseState {
  static final long NO_TIME = Long.MIN_VALUE;

  static final class Cycle {
    int starts;              // start events seen: the number of the latest cycle
    boolean open;
    long startedAt;
    long pausedTotal;        // paused time inside the open cycle so far
    boolean paused;          // the case's paused state for this rule
    long pausedSince;
    int fired;               // bit per stage: fired in the open cycle
  }

  static final class Counter {
    List<Long> times = new ArrayList<>();  // counted events within the window of the latest
    boolean done;            // fired or pending: a count rule fires once per case
    long pendingDue = NO_TIME;
    long startedAt;
  }

  List<String> seen = new ArrayList<>();
  String priority = "";
  String department = "";
  final Cycle[] cycles = new Cycle[Rules.DEADLINES.size()];
  final Counter[] counters = new Counter[Rules.COUNTS.size()];
  long timerDue = NO_TIME;

  CaseState() {
    for (int i = 0; i < cycles.length; ++i) cycles[i] = new Cycle();
    for (int i = 0; i < counters.length; ++i) counters[i] = new Counter();
  }

  byte[] encode() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(seen.size());
      for (String id : seen) out.writeUTF(id);
      out.writeUTF(priority);
      out.writeUTF(department);
      for (Cycle c : cycles) {
        out.writeInt(c.starts);
        out.writeBoolean(c.open);
        out.writeLong(c.startedAt);
        out.writeLong(c.pausedTotal);
        out.writeBoolean(c.paused);
        out.writeLong(c.pausedSince);
        out.writeInt(c.fired);
      }
      for (Counter c : counters) {
        out.writeInt(c.times.size());
        for (long t : c.times) out.writeLong(t);
        out.writeBoolean(c.done);
        out.writeLong(c.pendingDue);
        out.writeLong(c.startedAt);
      }
      out.writeLong(timerDue);
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static CaseState decode(byte[] encoded) {
    CaseState s = new CaseState();
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded));
      int seen = in.readInt();
      for (int i = 0; i < seen; ++i) s.seen.add(in.readUTF());
      s.priority = in.readUTF();
      s.department = in.readUTF();
      for (Cycle c : s.cycles) {
        c.starts = in.readInt();
        c.open = in.readBoolean();
        c.startedAt = in.readLong();
        c.pausedTotal = in.readLong();
        c.paused = in.readBoolean();
        c.pausedSince = in.readLong();
        c.fired = in.readInt();
      }
      for (Counter c : s.counters) {
        int n = in.readInt();
        for (int i = 0; i < n; ++i) c.times.add(in.readLong());
        c.done = in.readBoolean();
        c.pendingDue = in.readLong();
        c.startedAt = in.readLong();
      }
      s.timerDue = in.readLong();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
