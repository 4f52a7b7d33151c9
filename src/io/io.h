#pragma once
// Small I/O interfaces at the edges of slawatch, and their file implementations.
// Sources give raw records (bytes plus where they came from); sinks take
// encoded output. Kafka implements the same interfaces.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/record_header.h"
#include "model/result.h"

namespace slawatch {

struct RawRecord {
  std::string bytes;
  std::string origin;  // "events.jsonl:12", "topic/partition@offset"
  std::string key;     // record key when the transport has one
  RecordHeaders headers;     // transport headers as received
  RecordHeaders provenance;  // where it came from, as headers for a dead letter (topic, partition, offset)
  // Nonzero when the record was larger than the source's limit: its full size.
  // `bytes` then holds only its first kOversizeKeptBytes, never the whole record.
  uint64_t oversize_bytes = 0;
};

// How much of an oversize record its dead letter keeps: enough to recognise
// the producer and the record, small enough that a hostile line costs nothing.
inline constexpr size_t kOversizeKeptBytes = 4096;

// Cuts `record` down to its first kOversizeKeptBytes (or `limit`, if smaller)
// and marks it oversize.
void mark_oversize(RawRecord& record, uint64_t full_size, size_t limit);

// One output record as the outbox holds it: an alert, or a dead letter whose
// payload is the original bytes and whose headers name the reason.
struct OutboundRecord {
  uint64_t seq = 0;  // outbox sequence: the same record across delivery retries
  std::string_view key;
  std::string_view payload;
  const RecordHeaders* headers = nullptr;
};

// Gives raw records one by one. Single-threaded.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Fills `out`; false at the end of input.
  virtual Result<bool> next(RawRecord& out) = 0;
  // Position after the last record returned, to store in a checkpoint.
  virtual std::string position() const = 0;
  // Continues after a position returned by position() in an earlier run.
  virtual Status seek(std::string_view position) = 0;
};

// Takes encoded output records (one alert or one dead letter each).
// A failed write or flush is retried later by writing the same records again
// (same seq); a sink that still has one of them in flight skips it.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual Status write(const OutboundRecord& record) = 0;
  // Ok once everything written so far is durable or acknowledged.
  virtual Status flush() = 0;
  // The non-blocking half of delivery: appends to `acknowledged` those of
  // `written` (seqs given to write() earlier) that are durable or acknowledged
  // by now, without waiting for the rest. A record the far side refused is
  // forgotten, so writing it again resends it; the error says so. A local sink
  // never waits on anyone, so by default it flushes and acknowledges them all.
  virtual Status collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) {
    if (auto s = flush(); !s.ok()) return s;
    acknowledged.insert(acknowledged.end(), written.begin(), written.end());
    return ok_status();
  }
};

// JSON Lines from a file or from stdin ("-"). Never holds more than
// max_record_bytes (plus one byte) of a line: a longer line comes out marked
// oversize with its first bytes, and reading goes on at the next line.
// A position names the input it belongs to: "offset:line:hash:path", the
// hash (FNV-1a 64) covering the bytes before the offset. seek() refuses an
// input whose bytes before the offset differ (another file, or this one
// rewritten); old "offset:line" positions are still accepted unchecked. For
// stdin, seek() reads and checks the bytes it skips.
class JsonLinesSource final : public RecordSource {
 public:
  static Result<std::unique_ptr<JsonLinesSource>> open(const std::string& path,
                                                        size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~JsonLinesSource() override;
  Result<bool> next(RawRecord& out) override;
  std::string position() const override;
  Status seek(std::string_view position) override;

 private:
  JsonLinesSource(std::FILE* file, std::string name, bool owned, size_t max_record_bytes);
  // The next chunk of input into buffer_; false at the end.
  Result<bool> refill();
  // Consumes `n` buffered bytes: counts and hashes them.
  void consume(size_t n);

  // Identifies the bytes read so far (a position carries it; seek() checks
  // it). Eight bytes at a time, each word folded in with a 128-bit multiply:
  // every input byte passes through here, and the byte-at-a-time FNV-1a that
  // positions used before was 5 % of replay's instructions.
  class InputDigest {
   public:
    void update(const char* bytes, size_t n);
    uint64_t value() const;

   private:
    uint64_t state_ = 0x243f6a8885a308d3ULL;
    uint64_t tail_ = 0;         // the bytes after the last whole word, little-endian
    unsigned tail_bytes_ = 0;
  };

  std::FILE* file_;
  std::string name_;
  bool owned_;
  size_t max_record_bytes_;
  uint64_t offset_ = 0;
  uint64_t line_ = 0;
  InputDigest digest_;
  // While seek() checks a position of the earlier format: FNV-1a of the bytes.
  std::optional<uint64_t> legacy_fnv_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
};

// Appends one record per line to a file or stdout ("-"); flush() fflushes and,
// when asked, fsyncs.
class JsonLinesSink final : public RecordSink {
 public:
  static Result<std::unique_ptr<JsonLinesSink>> open(const std::string& path, bool append,
                                                     bool fsync_on_flush = false);
  ~JsonLinesSink() override;
  Status write(const OutboundRecord& record) override;
  Status flush() override;

 private:
  JsonLinesSink(std::FILE* file, bool owned, bool fsync) : file_(file), owned_(owned), fsync_(fsync) {}
  std::FILE* file_;
  bool owned_;
  bool fsync_;
};

// Discards everything (dead letters when no output was asked for are counted, not lost:
// the caller logs them).
class NullSink final : public RecordSink {
 public:
  Status write(const OutboundRecord&) override { return ok_status(); }
  Status flush() override { return ok_status(); }
};

// Dead letters for files: turns each into the JSON envelope of
// encode_dead_letter (reason, origin, original bytes) and passes it on.
class DeadLetterJsonSink final : public RecordSink {
 public:
  explicit DeadLetterJsonSink(std::unique_ptr<RecordSink> inner) : inner_(std::move(inner)) {}
  Status write(const OutboundRecord& record) override;
  Status flush() override { return inner_->flush(); }

 private:
  std::unique_ptr<RecordSink> inner_;
};

}  // namespace slawatch
