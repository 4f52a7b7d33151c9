package slawatch.peer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer: case events in, SLA alerts out, state in RocksDB
 * stores, timers as punctuators. Flags:
 *   --brokers HOST:PORT --input TOPIC --output TOPIC --app-id ID --state-dir DIR
 *   [--clock stream|wall] [--grace-ms N] [--punctuate-ms N] [--exit-when-idle-ms N] [--no-changelog]
 * --punctuate-ms: how often the timer punctuator runs, on the chosen clock
 * (default 100 ms of wall time, 60 s of stream time).
 * With --exit-when-idle-ms it stops once no record arrived for that long after
 * the first, and prints what it processed (for bench/peer_bench.sh).
 */
public final class PeerApp {
  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < argv.length; ++i) {
      if (argv[i].equals("--no-changelog")) {
        args.put("no-changelog", "true");
      } else if (argv[i].startsWith("--") && i + 1 < argv.length) {
        args.put(argv[i].substring(2), argv[++i]);
      } else {
        System.err.println("usage: see PeerApp.java; bad argument " + argv[i]);
        System.exit(2);
      }
    }
    boolean wallClock = args.getOrDefault("clock", "stream").equals("wall");
    long graceMs = Long.parseLong(args.getOrDefault("grace-ms", "0"));
    Duration punctuateEvery =
        Duration.ofMillis(Long.parseLong(args.getOrDefault("punctuate-ms", wallClock ? "100" : "60000")));
    long idleMs = Long.parseLong(args.getOrDefault("exit-when-idle-ms", "0"));
    boolean changelog = !args.containsKey("no-changelog");
    PeerStats stats = new PeerStats();

    StoreBuilder<KeyValueStore<String, byte[]>> cases =
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SlaProcessor.CASES), Serdes.String(),
                                    Serdes.ByteArray()).withCachingEnabled();
    var timers = Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SlaProcessor.TIMERS), Serdes.Bytes(),
                                             Serdes.ByteArray()).withCachingEnabled();
    if (!changelog) {
      cases.withLoggingDisabled();
      timers.withLoggingDisabled();
    }
    Topology topology = new Topology();
    topology.addSource("events", Serdes.String().deserializer(), Serdes.String().deserializer(), args.get("input"));
    topology.addProcessor("sla", () -> new SlaProcessor(wallClock, graceMs, punctuateEvery, stats), "events");
    topology.addStateStore(cases, "sla");
    topology.addStateStore(timers, "sla");
    topology.addSink("alerts", args.get("output"), Serdes.String().serializer(), Serdes.String().serializer(), "sla");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("app-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("brokers"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, args.get("state-dir"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EventTimeExtractor.class);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
    long started = System.nanoTime();
    streams.start();
    long firstAt = 0;
    long lastAt = 0;
    long lastCount = 0;
    while (!stopped.await(200, java.util.concurrent.TimeUnit.MILLISECONDS)) {
      long count = stats.records.sum();
      long now = System.nanoTime();
      if (count != lastCount) {
        if (lastCount == 0) firstAt = now;
        lastAt = now;
        lastCount = count;
      }
      if (idleMs > 0 && count > 0 && (now - lastAt) / 1_000_000 >= idleMs) break;
    }
    streams.close(Duration.ofSeconds(60));
    double busy = (lastAt - firstAt) / 1e9;
    System.err.printf("peer: %d records consumed in %.1fs (%.0f records/s), %d duplicates, %d rejected, "
                      + "%d alerts fired; %.1fs since start%n",
                      lastCount, busy, busy > 0 ? lastCount / busy : 0.0, stats.duplicates.sum(),
                      stats.rejected.sum(), stats.fired.sum(), (System.nanoTime() - started) / 1e9);
    stats.finalStreamTimes().forEach(
        (partition, time) -> System.err.printf("peer: partition %d stream time %d%n", partition, time));
  }
}
