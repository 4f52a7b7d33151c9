#pragma once
// Splits raw records by case id over N partitions, the way Kafka's keyed
// topics do: every event of a case lands in the same partition, so each
// partition's engine sees whole cases and the partitions never share state.
// Single-threaded (reuses one parse buffer); one per reading thread.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "io/io.h"

namespace slawatch {

// FNV-1a (64 bit) of the case id: stable across runs, builds and machines, so
// a durable state written with N partitions is found again by a later run.
uint64_t case_id_hash(std::string_view case_id);

class CaseIdPartitioner {
 public:
  explicit CaseIdPartitioner(size_t partitions);
  ~CaseIdPartitioner();
  CaseIdPartitioner(CaseIdPartitioner&&) noexcept;

  // The record key when the transport has one, else the CloudEvent `subject`.
  // A record with neither (bad JSON, no subject) goes to partition 0, whose
  // intake dead-letters it with the reason.
  size_t partition_of(const RawRecord& record);
  size_t partitions() const { return partitions_; }

 private:
  struct Parser;
  size_t partitions_;
  std::unique_ptr<Parser> parser_;
};

}  // namespace slawatch
