#pragma once
// The tamper-evident audit log: an append-only file of JSON lines where every
// entry carries the SHA-256 of the entry before it (a hash chain), so altering,
// removing, inserting or reordering any entry breaks the chain at that entry.
//
// Canonical form of one entry (one line, written exactly so, in this order):
//   {"seq":N,"time":"<RFC 3339 UTC>"|null,"kind":"K","payload":P,"prev":"<hex>","hash":"<hex>"}\n
// `hash` is the lowercase hex SHA-256 of the line's bytes from the opening
// brace up to, not including, `,"hash":` — i.e. the hash covers seq, time,
// kind, the payload's exact bytes and prev. The first entry has seq 1 and a
// prev of 64 zeros; entry N+1 has seq N+1 and prev = hash of entry N.
//
// Next to the log, `<log>.head` holds the last synced entry's seq and hash
// ({"seq":N,"hash":"..."}), rewritten atomically after every sync. Copied
// elsewhere (or compared with --expect-head), it anchors the chain so that
// removing entries from the end is caught too: a chain alone cannot show it.
// Entries after the anchored head are an error too: anyone can append an
// entry with a correct hash, so only the writer's own head vouches for the
// end. Before it appends, the writer records its intent in the head file
// ({"seq":N,"hash":"...","writing":M}: entries N+1..M are being written);
// only entries so covered, which a crash left unanchored, are cut off on the
// next open. Any other entry after the head makes the writer refuse the log.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "model/result.h"
#include "model/time.h"

namespace slawatch::audit {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One entry to append. `time` is the caller's clock (engine clock or event
// time); the log never reads a clock. `kind` is [a-z0-9._-]+ (alert.fired,
// alert.resolved, alert.retracted, rules.loaded, roster.loaded...). `payload`
// is one JSON value on one line; its bytes are kept exactly as given.
struct Record {
  std::optional<Instant> time;
  std::string kind;
  std::string payload;
};

// What the log holds about its last entry of one kind (e.g. the last
// rules.loaded, to record a rule set only when it changed).
struct EntrySummary {
  uint64_t seq = 0;
  std::string payload;
};

// A known point of the chain: the entry with `seq` (when given) must have
// `hash`; without seq, some entry must have it.
struct Anchor {
  std::optional<uint64_t> seq;
  std::string hash;
  // A writer's intent (head files only): entries up to this seq may follow
  // the head unanchored, a group being written or a crash's leftover.
  std::optional<uint64_t> writing;
};

// The first thing wrong with a log.
struct Problem {
  uint64_t line = 0;             // 1-based line of the entry named; 0: the log has no entries
  std::optional<uint64_t> seq;   // that entry's seq when it could be read
  std::string what;
  bool torn_tail = false;        // an incomplete last line (a write cut off)
  std::string to_string() const;  // "line 7 (seq 7): altered: ..."
};

struct VerifyReport {
  uint64_t entries = 0;   // whole, valid entries before the first problem
  uint64_t last_seq = 0;
  std::string head_hash = std::string(kGenesisHash);
  uint64_t good_bytes = 0;  // bytes of those entries: where a cut would go
  // With an anchor that was found: the bytes up to and including the anchored
  // entry, and how many valid entries follow it within the writer's intent.
  uint64_t anchored_bytes = 0;
  uint64_t being_written = 0;
  std::optional<Problem> problem;         // the chain's first problem
  std::optional<Problem> anchor_problem;  // the anchor not matched by the valid entries
  std::map<std::string, EntrySummary, std::less<>> last_by_kind;
  bool ok() const { return !problem && !anchor_problem; }
};

// Checks a whole log's content (pure): every entry's hash, seq continuity and
// prev links, stopping at the first problem; then the anchor, if given: the
// entry it names must be there with its hash and be the last one (but for
// entries within the anchor's `writing`).
VerifyReport verify_chain(std::string_view content, const std::optional<Anchor>& anchor = std::nullopt);

// Reads a head file ({"seq":N,"hash":"..."}, optionally "writing":M > N).
Result<Anchor> read_head_file(const std::string& path);

// Lowercase hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view bytes);

// The writer. Appends go to the file at once (write(2)) and become durable at
// sync() (fdatasync, then the head file): callers append a group and sync it
// once. A failed append is cut back, so the file never keeps part of a group.
// On open, a torn trailing entry left by a crash mid-write is cut off (and
// reported through `notice`) and the chain continues from the last whole
// entry; a log damaged anywhere else is refused, never repaired.
// Single-threaded; one writer per file (an exclusive flock, held while open).
struct OpenOptions {
  // A log with entries but no head file is refused (its end may have been
  // cut off with the head deleted) unless the operator accepts it; the
  // writer then anchors the chain as it finds it.
  bool accept_missing_head = false;
};

class AuditLog {
 public:
  using Notice = std::function<void(const std::string&)>;
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path, const Notice& notice = {},
                                                OpenOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  Status append_batch(std::span<const Record> records);
  Status sync();
  Status append_and_sync(std::span<const Record> records);

  uint64_t last_seq() const { return last_seq_; }
  const std::string& head_hash() const { return head_; }
  uint64_t size_bytes() const { return size_; }
  const EntrySummary* last_of_kind(std::string_view kind) const;
  const std::string& path() const { return path_; }
  std::string head_path() const { return path_ + ".head"; }

 private:
  AuditLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  // The head file naming the last synced entry, with the intent to write up
  // to `writing` when given.
  Status write_head(std::optional<uint64_t> writing);

  std::string path_;
  int fd_;
  uint64_t size_ = 0;
  uint64_t last_seq_ = 0;
  uint64_t synced_seq_ = 0;
  std::string synced_head_ = std::string(kGenesisHash);
  std::string head_ = std::string(kGenesisHash);
  std::map<std::string, EntrySummary, std::less<>> last_by_kind_;
  std::string buffer_;
};

}  // namespace slawatch::audit
