package slawatch.peer;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters the processors update (stream threads) and main reads: thread-safe. */
final class PeerStats {
  final LongAdder records = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder rejected = new LongAdder();
  final LongAdder fired = new LongAdder();
  private final Map<Integer, Long> finalStreamTime = new TreeMap<>();

  synchronized void finalStreamTime(int partition, long time) { finalStreamTime.put(partition, time); }

  synchronized Map<Integer, Long> finalStreamTimes() { return new TreeMap<>(finalStreamTime); }
}
