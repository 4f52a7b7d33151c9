#include "replay/partitioner.h"

#include <simdjson.h>

#include "model/hash.h"

namespace slawatch {

uint64_t case_id_hash(std::string_view case_id) { return fnv1a64(case_id); }

// Reused across records, so routing allocates nothing once warm.
struct CaseIdPartitioner::Parser {
  simdjson::ondemand::parser json;
  std::string padded;  // the record copied with simdjson's padding
};

CaseIdPartitioner::CaseIdPartitioner(size_t partitions)
    : partitions_(partitions == 0 ? 1 : partitions), parser_(std::make_unique<Parser>()) {}
CaseIdPartitioner::~CaseIdPartitioner() = default;
CaseIdPartitioner::CaseIdPartitioner(CaseIdPartitioner&&) noexcept = default;

size_t CaseIdPartitioner::partition_of(const RawRecord& record) {
  if (partitions_ == 1) return 0;
  if (!record.key.empty()) return case_id_hash(record.key) % partitions_;
  std::string& padded = parser_->padded;
  padded.assign(record.bytes);
  padded.resize(record.bytes.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser_->json.iterate(padded.data(), record.bytes.size(), padded.size()).get(doc) != simdjson::SUCCESS) {
    return 0;
  }
  std::string_view subject;
  if (doc["subject"].get_string().get(subject) != simdjson::SUCCESS) return 0;
  return case_id_hash(subject) % partitions_;
}

}  // namespace slawatch
