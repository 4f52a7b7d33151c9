#include <chrono>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "io/io.h"
#include "kafka/kafka_sink.h"
#include "sim/simulator.h"

namespace slawatch {

int run_simulate(const SimulateArgs& args) {
  SimulatorOptions options;
  options.seed = args.seed;
  options.cases = args.cases;
  options.leave_open = args.leave_open;
  options.late_fraction = args.late_fraction;
  options.reorder_fraction = args.reorder_fraction;
  options.duplicate_fraction = args.duplicate_fraction;
  options.malformed_fraction = args.malformed_fraction;
  options.late_first_response = args.late_first_response;
  auto span = parse_duration(args.span);
  if (!span.ok()) {
    std::cerr << "slawatch: --span: " << span.error().message << "\n";
    return 2;
  }
  options.span = *span;
  if (args.start) {
    auto start = parse_rfc3339(*args.start);
    if (!start.ok()) {
      std::cerr << "slawatch: --start: " << start.error().message << "\n";
      return 2;
    }
    options.start = *start;
  } else if (args.kafka_brokers) {
    // Into a live monitor: a city as it is now, not a backfill of the sample day
    // (a past-dated history on Kafka is a backlog, caught up on event time).
    options.start = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  auto fail = [](const Error& e) {
    std::cerr << "slawatch: " << e.message << "\n";
    return 1;
  };
  // To a Kafka topic (keyed by case id, so a case stays in one partition) or to a file.
  std::unique_ptr<KafkaProducer> producer;
  std::unique_ptr<RecordSink> sink;
  if (args.kafka_brokers) {
    KafkaConfig kafka;
    kafka.brokers = *args.kafka_brokers;
    kafka.delivery_wait = std::chrono::seconds(30);
    auto created = KafkaProducer::create(kafka, [](const std::string& message, bool) {
      std::cerr << "slawatch: " << message << "\n";
    });
    if (!created.ok()) return fail(created.error());
    producer = std::move(created).value();
    sink = std::make_unique<KafkaSink>(*producer, args.topic, KafkaPayloadMode::cloudevent_structured,
                                       kafka.delivery_wait);
  } else {
    auto opened = JsonLinesSink::open(args.out, false);
    if (!opened.ok()) return fail(opened.error());
    sink = std::move(opened).value();
  }
  // Paced against the steady clock in small steps when a rate is given.
  const auto started = std::chrono::steady_clock::now();
  auto pace = [&](uint64_t sent) {
    if (args.rate <= 0) return;
    const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(sent) / args.rate));
    std::this_thread::sleep_until(due);
  };
  try {
    HotlineSimulator simulator(options);
    SimRecord record;
    uint64_t sent = 0;
    while (simulator.next(record)) {
      if (auto s = sink->write(OutboundRecord{sent, record.case_id, record.line, nullptr}); !s.ok()) {
        return fail(s.error());
      }
      // Bounded in flight: acknowledge every few thousand records.
      if (++sent % 5000 == 0 && producer) {
        if (auto s = sink->flush(); !s.ok()) return fail(s.error());
      }
      if (sent % 100 == 0) pace(sent);
    }
    if (auto s = sink->flush(); !s.ok()) return fail(s.error());
    const auto& st = simulator.stats();
    std::cerr << "slawatch: simulated " << st.cases_created << " cases, " << st.good_records
              << " events (" << st.duplicate_records << " duplicates, " << st.malformed_records
              << " malformed, " << st.late_records << " late)\n";
  } catch (const std::invalid_argument& e) {
    std::cerr << "slawatch: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace slawatch
