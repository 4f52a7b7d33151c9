#pragma once
// Where alerts leave the pipeline for Alertmanager: a RecordSink decorator
// around the real alert sink (file, stdout, Kafka). The pipeline writes
// alerts to a sink only after their state commit, and flush() succeeds only
// once the inner sink has them durably (Kafka: acknowledged). Then, and only
// then, the alerts are decoded and handed to the sender's queue, so
// Alertmanager never hears of an alert the state could still lose. Output
// re-delivered after a crash reaches Alertmanager again with the same
// labels, which it deduplicates.
// Single-threaded: the pipeline's thread.
#include <map>
#include <string>
#include <vector>

#include "alertmanager/sender.h"
#include "io/io.h"

namespace slawatch {

class AlertmanagerTeeSink final : public RecordSink {
 public:
  // `inner` and `sender` must outlive the sink.
  AlertmanagerTeeSink(RecordSink& inner, AlertmanagerSender& sender) : inner_(inner), sender_(sender) {}

  Status write(const OutboundRecord& record) override;
  Status flush() override;
  // Hands over what the inner sink acknowledged, without waiting for the rest.
  Status collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) override;

  size_t waiting_for_flush() const { return written_.size(); }

 private:
  // Decodes a delivered alert into `group`; one group goes to the sender at once.
  void decode_into(const std::string& payload, std::vector<Alert>& group);

  RecordSink& inner_;
  AlertmanagerSender& sender_;
  std::map<uint64_t, std::string> written_;  // outbox seq -> payload; a retried write replaces its entry
};

}  // namespace slawatch
