#include "state/rocksdb_store.h"

#include <algorithm>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include <cstdarg>
#include <cstdio>
#include <numeric>

#include "state/alert_index_value.h"

namespace slawatch {
namespace {

void put_u64_be(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint64_t get_u64_be(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

// An outbox value starts with its channel (OutboxEntry::Channel), or with
// this tag for an alert kept in its compact form (alert_index_value.h).
constexpr uint8_t kCompactAlertOutboxTag = 0x10;

// An outbox entry's key: the partition prefix, then the sequence number big-endian.
std::string outbox_key(std::string_view prefix, uint64_t seq) {
  std::string key(prefix);
  put_u64_be(key, seq);
  return key;
}

// Flipping the sign bit makes unsigned byte order equal signed time order.
uint64_t biased(Instant t) { return static_cast<uint64_t>(to_millis(t)) ^ (1ull << 63); }
Instant unbiased(uint64_t v) { return from_millis(static_cast<int64_t>(v ^ (1ull << 63))); }

std::string partition_prefix(uint16_t partition) {
  return std::string{static_cast<char>(partition >> 8), static_cast<char>(partition & 0xff)};
}

Status to_status(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return ok_status();
  return make_error(std::string(what) + ": " + s.ToString());
}

// RocksDB's own info LOG file lives in the state directory. On a full disk its
// writer fails once and then aborts the process on its next line (assertion
// `sync_without_flush_called_`, exit 134) before slawatch can say anything, so
// the LOG file is replaced by this: errors and worse to stderr, the rest
// dropped. The errors that matter come back as statuses anyway.
class StderrErrorLogger final : public rocksdb::Logger {
 public:
  StderrErrorLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::ERROR_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    std::string_view text(line);
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    std::fprintf(stderr, "slawatch: rocksdb: %.*s\n", static_cast<int>(text.size()), text.data());
  }
};

constexpr std::string_view kCheckpointKey = "checkpoint";
// Format 1 had no rules version; it is still read.
constexpr uint8_t kCheckpointFormat = 2;
constexpr std::string_view kTimerCountKey = "timer_count";
constexpr std::string_view kTallyPrefix = "tally/";

}  // namespace

Result<std::shared_ptr<RocksDbDatabase>> RocksDbDatabase::open(const RocksDbOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.db_write_buffer_size = options.memtable_budget_bytes;
  // A column family written a little per commit (meta: the checkpoint) never
  // fills its memtable, and an unflushed memtable keeps every WAL file since
  // its first write alive: without a cap the logs grew without bound (745 MB
  // after a 200,000-case replay). Past the cap RocksDB flushes the families
  // holding the oldest log, so the logs stay within about twice the budget.
  db_options.max_total_wal_size = options.memtable_budget_bytes;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  // Never continue from a silently shortened history. The WALs that were
  // closed and synced are listed in the MANIFEST, so one deleted from the
  // middle or cut short is refused at open. Recovery tolerates only a torn
  // last record (a crash in the middle of writing it: that commit never
  // happened); any other corruption refuses to open instead of stopping the
  // replay early as the default point-in-time mode does.
  db_options.track_and_verify_wals_in_manifest = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.paranoid_checks = true;
  db_options.info_log = std::make_shared<StderrErrorLogger>();

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  auto table_options = [&](bool bloom, size_t block_bytes = 4 << 10) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.block_size = block_bytes;
    t.cache_index_and_filter_blocks = true;  // keeps index memory inside the cache budget
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
  };

  // Most bytes end in the bottommost level. A value there is compressed in
  // blocks of a few records each, so what records share with each other
  // (event fields, rule and department names, an alert's JSON keys) was
  // stored again in every block: a ZSTD dictionary trained per file carries
  // it once. Upper levels stay LZ4 (written by flushes on the commit path).
  rocksdb::CompressionOptions bottommost_dictionary;
  bottommost_dictionary.enabled = true;
  bottommost_dictionary.max_dict_bytes = 16 << 10;
  bottommost_dictionary.zstd_max_train_bytes = 100 * bottommost_dictionary.max_dict_bytes;
  // Samples are buffered until the dictionary is made: bounded, not a whole file.
  bottommost_dictionary.max_dict_buffer_bytes = 8 << 20;

  rocksdb::ColumnFamilyOptions cases_cf;
  cases_cf.table_factory = table_options(true);  // point lookups per event
  cases_cf.write_buffer_size = 64 << 20;
  cases_cf.compression = rocksdb::kLZ4Compression;
  cases_cf.bottommost_compression = rocksdb::kZSTD;
  cases_cf.bottommost_compression_opts = bottommost_dictionary;
  // Open cases are updated all over their key range, so every L0 -> L1
  // compaction rewrites (and recompresses) most of L1, the bottom level of a
  // state this size. Waiting for eight L0 files instead of four halves those
  // rewrites: 0.86x the CPU of a dense replay segment on a 2M-open-case state
  // (docs/benchmarks.md), for a few more files a point read may check (their
  // Bloom filters answer most of them).
  cases_cf.level0_file_num_compaction_trigger = 8;
  // Every event of a case the engine's cache does not hold reads its record,
  // and a new case's read finds nothing: without a filter it searched each
  // memtable's skip list to the bottom (6 % of durable replay). A whole-key
  // Bloom filter per memtable answers most of those misses from one probe.
  cases_cf.memtable_prefix_bloom_size_ratio = 0.02;
  cases_cf.memtable_whole_key_filtering = true;

  // The alert index holds every alert's latest event (its fields, ~150 bytes,
  // state/alert_index_value.h; the CloudEvent's ~650 bytes of JSON before,
  // still read), several per open case, and is read only by the case API,
  // never per event: blocks four times the default size compress it about
  // twice as well (measured on the JSON values of a 1M-open-case state: 126
  // -> 66 bytes per alert, 46 with the dictionary), at a cost only the API's
  // point reads pay.
  rocksdb::ColumnFamilyOptions alerts_cf = cases_cf;
  alerts_cf.table_factory = table_options(true, 16 << 10);  // point reads by case prefix, scans for listings
  alerts_cf.memtable_prefix_bloom_size_ratio = 0;  // never read per event

  rocksdb::ColumnFamilyOptions timers_cf;
  timers_cf.table_factory = table_options(false);  // range scans only
  timers_cf.write_buffer_size = 32 << 20;
  // Timers are written once and deleted once; compact ranges full of deletes
  // early so the head of the queue never sits behind tombstones.
  timers_cf.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(1024, 256));

  rocksdb::ColumnFamilyOptions small_cf;
  small_cf.table_factory = table_options(false);
  small_cf.write_buffer_size = 4 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, small_cf},
      {"cases", cases_cf},
      {"timers", timers_cf},
      {"outbox", small_cf},
      {"meta", small_cf},
      {"alerts", alerts_cf},
  };
  std::shared_ptr<RocksDbDatabase> database(new RocksDbDatabase());
  database->sync_writes_ = options.sync_writes;
  auto s = rocksdb::DB::Open(db_options, options.path, families, &database->handles_,
                             &database->db_);
  if (s.IsCorruption()) {
    return make_error("state directory '" + options.path + "' is damaged (" + s.ToString() +
                      "): refusing to continue from a shortened or inconsistent history; restore the directory "
                      "from a backup, or move it away to rebuild the state from the input");
  }
  if (!s.ok()) return make_error("cannot open state directory '" + options.path + "': " + s.ToString());
  return database;
}

RocksDbDatabase::~RocksDbDatabase() {
  if (db_ == nullptr) return;
  if (!write_failed_) {
    db_->FlushWAL(true).PermitUncheckedError();
    // Memtables go to files at a clean close: the next open then starts from
    // them instead of replaying the write-ahead logs into memtables again (up
    // to the memtable budget: 10.7 G instructions reopening a dense state,
    // more than a third of a 50,000-event run on it). A crash skips this and
    // recovers from the logs as before; a failed flush leaves them in place.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    db_->Flush(flush, handles_).PermitUncheckedError();
  }
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
  delete db_;
}

void RocksDbDatabase::track_closed_wals() {
  std::unique_ptr<rocksdb::LogFile> current;
  if (!db_->GetCurrentWalFile(&current).ok() || !current) return;
  const uint64_t number = current->LogNumber();
  const uint64_t before = current_wal_.exchange(number);
  if (before == 0 || before == number) return;
  if (!db_->SyncWAL().ok()) note_write_failed();
}

uint64_t RocksDbDatabase::live_wal_bytes() const {
  rocksdb::VectorLogPtr files;
  if (!db_->GetSortedWalFiles(files).ok()) return 0;
  uint64_t total = 0;
  for (const auto& file : files) {
    if (file->Type() == rocksdb::kAliveLogFile) total += file->SizeFileBytes();
  }
  return total;
}

std::optional<StoreFamily> RocksDbDatabase::family_of(uint32_t column_family_id) const {
  for (size_t i = 1; i < handles_.size(); ++i) {
    if (handles_[i]->GetID() == column_family_id) return static_cast<StoreFamily>(i);
  }
  return std::nullopt;
}

uint64_t RocksDbDatabase::live_data_bytes() const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) total += v;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

RocksDbStateStore::RocksDbStateStore(std::shared_ptr<RocksDbDatabase> database, uint16_t partition)
    : database_(std::move(database)),
      partition_(partition),
      prefix_(partition_prefix(partition)),
      next_prefix_(partition_prefix(static_cast<uint16_t>(partition + 1))) {
  if (partition == 0xffff) next_prefix_ = std::string(3, '\xff');
}

std::string RocksDbStateStore::case_key(const CaseId& id) const {
  std::string key;
  key.reserve(prefix_.size() + id.str().size());
  key.append(prefix_).append(id.str());
  return key;
}

std::string RocksDbStateStore::timer_key(const TimerKey& key) const {
  std::string k = prefix_;
  put_u64_be(k, biased(key.due));
  k.append(key.case_id.str());
  return k;
}

Result<std::optional<std::string>> RocksDbStateStore::load_case(const CaseId& id) {
  std::string value;
  auto s = database_->db()->Get(rocksdb::ReadOptions(), database_->cases(), case_key(id), &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return make_error("reading case '" + std::string(id.str()) + "': " + s.ToString());
  return std::optional<std::string>{std::move(value)};
}

Result<std::vector<TimerKey>> RocksDbStateStore::scan_timers(Instant after, size_t limit) {
  std::string start = prefix_;
  put_u64_be(start, biased(after + Duration{1}));
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->timers()));
  std::vector<TimerKey> out;
  for (it->Seek(start); it->Valid(); it->Next()) {
    auto key = it->key();
    if (key.size() < prefix_.size() + 8) return make_error("corrupt timer key");
    const Instant due = unbiased(get_u64_be(std::string_view(key.data() + prefix_.size(), 8)));
    if (out.size() >= limit && due != out.back().due) break;
    out.push_back(TimerKey{due, CaseId{std::string_view(key.data() + prefix_.size() + 8,
                                                        key.size() - prefix_.size() - 8)}});
  }
  if (!it->status().ok()) return make_error("scanning timers: " + it->status().ToString());
  return out;
}

Result<std::vector<OutboxEntry>> RocksDbStateStore::load_outbox() {
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->outbox()));
  std::vector<OutboxEntry> out;
  for (it->Seek(prefix_); it->Valid(); it->Next()) {
    auto key = it->key();
    auto value = it->value();
    OutboxEntry entry;
    if (key.size() != prefix_.size() + 8 || value.size() < 1) return make_error("corrupt outbox entry");
    entry.seq = get_u64_be(std::string_view(key.data() + prefix_.size(), 8));
    codec::Reader in(std::string_view(value.data(), value.size()));
    uint8_t channel = 0;
    uint64_t header_count = 0;
    bool good = in.byte(channel) && in.string(entry.key) && in.string(entry.payload) &&
                in.varint(header_count) && header_count <= value.size();
    for (uint64_t i = 0; good && i < header_count; ++i) {
      RecordHeader& header = entry.headers.emplace_back();
      good = in.string(header.name) && in.string(header.value);
    }
    // A channel byte of neither kind is damage: guessing would send the payload to the wrong topic.
    good = good && (channel == kCompactAlertOutboxTag ||
                    channel == static_cast<uint8_t>(OutboxEntry::Channel::alerts) ||
                    channel == static_cast<uint8_t>(OutboxEntry::Channel::dead_letter));
    if (good && channel == kCompactAlertOutboxTag) {
      auto payload = alert_cloudevent_of(entry.payload);
      good = payload.has_value();
      if (good) {
        entry.compact_alert = std::move(entry.payload);
        entry.payload = std::move(*payload);
        channel = static_cast<uint8_t>(OutboxEntry::Channel::alerts);
      }
    }
    if (!good) return make_error("corrupt outbox entry " + std::to_string(entry.seq));
    entry.channel = static_cast<OutboxEntry::Channel>(channel);
    out.push_back(std::move(entry));
  }
  if (!it->status().ok()) return make_error("reading outbox: " + it->status().ToString());
  return out;
}

Result<Checkpoint> RocksDbStateStore::load_checkpoint() {
  auto stored = read_value(StoreFamily::meta, kCheckpointKey, "the checkpoint");
  if (!stored.ok()) return stored.error();
  Checkpoint checkpoint;
  if (!*stored) return checkpoint;
  const std::string& value = **stored;
  codec::Reader in(value);
  uint8_t format = 0;
  int64_t clock = 0;
  uint64_t seq = 0;
  if (!in.byte(format) || format < 1 || format > kCheckpointFormat || !in.signed_varint(clock) ||
      !in.string(checkpoint.source_position) || !in.varint(seq) ||
      (format >= 2 && !in.string(checkpoint.rules_version))) {
    return make_error("corrupt checkpoint record");
  }
  checkpoint.clock = from_millis(clock);
  checkpoint.next_outbox_seq = seq;
  return checkpoint;
}

Status RocksDbStateStore::load_timer_count() {
  auto stored = read_value(StoreFamily::meta, kTimerCountKey, "the timer count");
  if (!stored.ok()) return stored.error();
  if (*stored) {
    codec::Reader in(**stored);
    uint64_t count = 0;
    if (!in.varint(count)) return make_error("corrupt timer count record");
    timer_count_ = count;
    return ok_status();
  }
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->timers()));
  uint64_t count = 0;
  for (it->Seek(prefix_); it->Valid(); it->Next()) ++count;
  if (!it->status().ok()) return make_error("counting timers: " + it->status().ToString());
  timer_count_ = count;
  return ok_status();
}

Result<uint64_t> RocksDbStateStore::pending_timers() {
  if (!timer_count_) {
    if (auto s = load_timer_count(); !s.ok()) return s.error();
  }
  return *timer_count_;
}

Status RocksDbStateStore::load_tallies() {
  const std::string first = prefix_ + std::string(kTallyPrefix);
  std::string last = first;
  last.back() = static_cast<char>(last.back() + 1);
  rocksdb::Slice upper(last);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->meta()));
  Tallies tallies;
  for (it->Seek(first); it->Valid(); it->Next()) {
    codec::Reader in(std::string_view(it->value().data(), it->value().size()));
    int64_t value = 0;
    if (!in.signed_varint(value)) return make_error("corrupt tally record");
    tallies.emplace(it->key().ToString().substr(first.size()), value);
  }
  if (!it->status().ok()) return make_error("reading tallies: " + it->status().ToString());
  tallies_ = std::move(tallies);
  return ok_status();
}

Result<Tallies> RocksDbStateStore::tallies() {
  if (!tallies_) {
    if (auto s = load_tallies(); !s.ok()) return s.error();
  }
  return *tallies_;
}

// Delivered entries leave in runs of consecutive sequence numbers (output is
// delivered in outbox order), one range tombstone per run: a point tombstone
// per alert was a tenth of a durable replay's keys. Outbox keys are never
// written again (sequence numbers only grow), and only a restart scans the
// outbox, so the range tombstones cost no read on the data path. The
// changelog still gets one tombstone per entry (ChangelogCollector).
void RocksDbStateStore::retire_outbox(std::vector<uint64_t>& delivered, rocksdb::WriteBatch& wb) const {
  std::sort(delivered.begin(), delivered.end());
  for (size_t first = 0; first < delivered.size();) {
    size_t end = first + 1;
    while (end < delivered.size() && delivered[end - 1] != UINT64_MAX && delivered[end] == delivered[end - 1] + 1) ++end;
    if (end - first == 1) {
      wb.SingleDelete(database_->outbox(), outbox_key(prefix_, delivered[first]));
    } else {
      wb.DeleteRange(database_->outbox(), outbox_key(prefix_, delivered[first]),
                     outbox_key(prefix_, delivered[end - 1] + 1));
    }
    first = end;
  }
}

Status RocksDbStateStore::commit(StateBatch& batch) {
  if (auto s = settle_changelog(); !s.ok()) return s;
  if (!timer_count_) {
    if (auto s = load_timer_count(); !s.ok()) return s;
  }
  if (!tallies_ && !batch.tallies.empty()) {
    if (auto s = load_tallies(); !s.ok()) return s;
  }
  // In key order: RocksDB's memtable starts each insert's skip-list search
  // from where the previous one ended, which pays when the keys ascend. The
  // searches and their key comparisons are about a quarter of durable
  // replay's profile; in the engine's touch order they were 7 % for the
  // searches alone, in key order 5.5 %.
  std::sort(batch.cases.begin(), batch.cases.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Alert index entries are ordered through their positions: an entry is an
  // alert of a dozen strings, and moving them through a stable sort was 3 %
  // of a dense replay segment's instructions. Ties keep batch order, and of
  // several events of one alert only the last (the latest) is put: the batch
  // is applied whole, so the earlier ones could never be read.
  std::vector<uint32_t> alert_order(batch.alert_index.size());
  std::iota(alert_order.begin(), alert_order.end(), 0u);
  std::sort(alert_order.begin(), alert_order.end(), [&](uint32_t a, uint32_t b) {
    const int order = batch.alert_index[a].alert.alert_id.compare(batch.alert_index[b].alert.alert_id);
    return order < 0 || (order == 0 && a < b);
  });
  rocksdb::WriteBatch wb;
  for (const auto& id : batch.case_deletes) {
    if (auto s = delete_case(id, wb); !s.ok()) return s;
  }
  for (const auto& [id, bytes] : batch.cases) wb.Put(database_->cases(), case_key(id), bytes);
  // Each timer key is written once and deleted once, the case SingleDelete is made for.
  for (const auto& key : batch.timer_deletes) wb.SingleDelete(database_->timers(), timer_key(key));
  for (const auto& key : batch.timer_puts) wb.Put(database_->timers(), timer_key(key), rocksdb::Slice());
  retire_outbox(batch.outbox_deletes, wb);
  for (const auto& entry : batch.outbox_puts) {
    // An alert with its compact form keeps that, not its CloudEvent
    // (OutboxEntry::compact_alert): load_outbox renders the same bytes.
    const bool compact = entry.channel == OutboxEntry::Channel::alerts && !entry.compact_alert.empty();
    std::string v;
    v.push_back(static_cast<char>(compact ? kCompactAlertOutboxTag : static_cast<uint8_t>(entry.channel)));
    codec::put_string(v, entry.key);
    codec::put_string(v, compact ? entry.compact_alert : entry.payload);
    codec::put_varint(v, entry.headers.size());
    for (const auto& header : entry.headers) {
      codec::put_string(v, header.name);
      codec::put_string(v, header.value);
    }
    wb.Put(database_->outbox(), outbox_key(prefix_, entry.seq), v);
  }
  for (size_t i = 0; i < alert_order.size(); ++i) {
    const IndexedAlert& indexed = batch.alert_index[alert_order[i]];
    const bool superseded = i + 1 < alert_order.size() &&
                            batch.alert_index[alert_order[i + 1]].alert.alert_id == indexed.alert.alert_id;
    if (superseded) continue;
    if (!indexed.encoded.empty()) {
      wb.Put(database_->alerts(), prefix_ + indexed.alert.alert_id, indexed.encoded);
    } else {
      wb.Put(database_->alerts(), prefix_ + indexed.alert.alert_id, encode_alert_index_value(indexed));
    }
  }
  if (batch.checkpoint) {
    std::string v;
    v.push_back(static_cast<char>(kCheckpointFormat));
    codec::put_signed(v, to_millis(batch.checkpoint->clock));
    codec::put_string(v, batch.checkpoint->source_position);
    codec::put_varint(v, batch.checkpoint->next_outbox_seq);
    codec::put_string(v, batch.checkpoint->rules_version);
    wb.Put(database_->meta(), prefix_ + std::string(kCheckpointKey), v);
  }
  const uint64_t timer_count = *timer_count_ + batch.timer_puts.size() - batch.timer_deletes.size();
  if (!batch.timer_puts.empty() || !batch.timer_deletes.empty()) {
    std::string v;
    codec::put_varint(v, timer_count);
    wb.Put(database_->meta(), prefix_ + std::string(kTimerCountKey), v);
  }
  // Only the tallies the batch touches are rewritten (or deleted at zero).
  for (const auto& [name, delta] : batch.tallies) {
    if (delta == 0) continue;
    auto it = tallies_->find(name);
    const int64_t value = (it == tallies_->end() ? 0 : it->second) + delta;
    const std::string key = prefix_ + std::string(kTallyPrefix) + name;
    if (value == 0) {
      wb.Delete(database_->meta(), key);
    } else {
      std::string v;
      codec::put_signed(v, value);
      wb.Put(database_->meta(), key, v);
    }
  }
  const ChangelogMarker marker{marker_.lineage, marker_.commit + 1, marker_.writer, marker_.instance};
  if (changelog_ != nullptr) wb.Put(database_->meta(), prefix_ + std::string(ChangelogMarker::kKey), marker.encode());
  rocksdb::WriteOptions write_options;
  write_options.sync = database_->sync_writes();
  auto status = to_status(database_->db()->Write(write_options, &wb), "committing state");
  if (!status.ok()) database_->note_write_failed();
  if (status.ok()) {
    if (changelog_ != nullptr) {
      // Written locally first: the changelog is never ahead of the local state.
      marker_ = marker;
      // An append the client refused outright is retried by the next settle_changelog().
      unacknowledged_ = changelog_records(wb);
      unsent_ = !changelog_->append(partition_, unacknowledged_).ok();
    }
    timer_count_ = timer_count;
    if (!batch.tallies.empty()) add_tallies(*tallies_, batch.tallies);
    count_commit(wb);
    batch.clear_all_but_outbox();
    database_->track_closed_wals();
  }
  return status;
}

void RocksDbStateStore::attach_changelog(StateChangelog& changelog, ChangelogMarker marker) {
  changelog_ = &changelog;
  marker_ = std::move(marker);
  unacknowledged_.clear();
  unsent_ = false;
}

Result<std::optional<ChangelogMarker>> RocksDbStateStore::load_changelog_marker() {
  auto value = read_value(StoreFamily::meta, ChangelogMarker::kKey, "the changelog marker");
  if (!value.ok()) return value.error();
  if (!*value) return std::optional<ChangelogMarker>{};
  auto marker = ChangelogMarker::decode(**value);
  if (!marker) return make_error("corrupt changelog marker of partition " + std::to_string(partition_));
  return marker;
}

Status RocksDbStateStore::settle_changelog() {
  if (changelog_ == nullptr || unacknowledged_.empty()) return ok_status();
  if (unsent_) {
    if (auto s = changelog_->append(partition_, unacknowledged_); !s.ok()) return s;
    unsent_ = false;
  }
  if (auto s = changelog_->wait_acknowledged(partition_); !s.ok()) {
    unsent_ = true;
    return make_error("changelog behind the local state by one commit: " + s.error().message);
  }
  unacknowledged_.clear();
  return ok_status();
}

Status RocksDbStateStore::flush_changelog() {
  if (auto s = settle_changelog(); !s.ok()) return s;
  if (changelog_ == nullptr) return ok_status();
  // Everything committed is acknowledged: the last acknowledged record is this
  // store's latest marker (each commit ends with it), so the local state is
  // the changelog up to there.
  const auto acknowledged = changelog_->last_acknowledged(partition_);
  if (!acknowledged) return ok_status();
  auto local = load_changelog_marker();
  if (!local.ok()) return local.error();
  if (*local != marker_) return ok_status();
  rocksdb::WriteBatch wb;
  wb.Put(database_->meta(), prefix_ + std::string(ChangelogPosition::kKey),
         ChangelogPosition{marker_, *acknowledged}.encode());
  return to_status(database_->db()->Write(rocksdb::WriteOptions(), &wb), "recording the changelog position");
}

Result<std::optional<ChangelogPosition>> RocksDbStateStore::load_changelog_position() {
  auto local = load_changelog_marker();
  if (!local.ok()) return local.error();
  if (!*local) return std::optional<ChangelogPosition>{};
  auto value = read_value(StoreFamily::meta, ChangelogPosition::kKey, "the changelog position");
  if (!value.ok()) return value.error();
  if (!*value) return std::optional<ChangelogPosition>{};
  auto position = ChangelogPosition::decode(**value);
  // A damaged position only costs a full restore: it is not state.
  if (!position || position->marker != **local) return std::optional<ChangelogPosition>{};
  return position;
}

Result<bool> RocksDbStateStore::last_commit_replicated(bool wait) {
  if (changelog_ == nullptr || unacknowledged_.empty()) return true;
  if (wait) {
    if (auto s = settle_changelog(); !s.ok()) return s.error();
    return true;
  }
  if (unsent_) {
    if (auto s = changelog_->append(partition_, unacknowledged_); !s.ok()) return false;
    unsent_ = false;
  }
  auto acknowledged = changelog_->poll_acknowledged(partition_);
  if (!acknowledged.ok()) {
    unsent_ = true;  // refused: appended again at the next call or commit
    return acknowledged.error();
  }
  if (*acknowledged) unacknowledged_.clear();
  return *acknowledged;
}

namespace {

// Turns a WriteBatch of one partition into changelog records, in write order.
class ChangelogCollector final : public rocksdb::WriteBatch::Handler {
 public:
  ChangelogCollector(const RocksDbDatabase& database, size_t prefix_size, std::vector<ChangelogRecord>& out)
      : database_(database), prefix_size_(prefix_size), out_(out) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    return add(id, key, value.ToString());
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& key) override { return add(id, key, std::nullopt); }
  rocksdb::Status SingleDeleteCF(uint32_t id, const rocksdb::Slice& key) override {
    return add(id, key, std::nullopt);
  }
  // Only delivered outbox runs are deleted by range (retire_outbox): one
  // tombstone per entry, so a compacted changelog forgets each of them.
  rocksdb::Status DeleteRangeCF(uint32_t id, const rocksdb::Slice& begin, const rocksdb::Slice& end) override {
    const size_t key_size = prefix_size_ + 8;
    if (database_.family_of(id) != StoreFamily::outbox || begin.size() != key_size || end.size() != key_size) {
      return rocksdb::Status::Corruption("unexpected range delete in a commit");
    }
    const std::string_view prefix(begin.data(), prefix_size_);
    const uint64_t last = get_u64_be(std::string_view(end.data() + prefix_size_, 8));
    for (uint64_t seq = get_u64_be(std::string_view(begin.data() + prefix_size_, 8)); seq < last; ++seq) {
      if (auto s = add(id, outbox_key(prefix, seq), std::nullopt); !s.ok()) return s;
    }
    return rocksdb::Status::OK();
  }

 private:
  rocksdb::Status add(uint32_t id, const rocksdb::Slice& key, std::optional<std::string> value) {
    auto family = database_.family_of(id);
    if (!family || key.size() < prefix_size_) return rocksdb::Status::Corruption("unexpected write in a commit");
    out_.push_back(ChangelogRecord{*family, std::string(key.data() + prefix_size_, key.size() - prefix_size_),
                                   std::move(value)});
    return rocksdb::Status::OK();
  }
  const RocksDbDatabase& database_;
  size_t prefix_size_;
  std::vector<ChangelogRecord>& out_;
};

// Counts a WriteBatch's keys by family: what the totals report.
class FamilyKeyCounter final : public rocksdb::WriteBatch::Handler {
 public:
  FamilyKeyCounter(const RocksDbDatabase& database, CommitTotals& totals) : database_(database), totals_(totals) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice&, const rocksdb::Slice&) override { return count(id); }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice&) override { return count(id); }
  rocksdb::Status SingleDeleteCF(uint32_t id, const rocksdb::Slice&) override { return count(id); }
  rocksdb::Status DeleteRangeCF(uint32_t id, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return count(id);
  }

 private:
  rocksdb::Status count(uint32_t id) {
    ++totals_.keys_of(database_.family_of(id).value_or(StoreFamily::meta));
    return rocksdb::Status::OK();
  }
  const RocksDbDatabase& database_;
  CommitTotals& totals_;
};

constexpr StoreFamily kFamilies[] = {StoreFamily::cases, StoreFamily::timers, StoreFamily::outbox,
                                     StoreFamily::meta, StoreFamily::alerts};

}  // namespace

std::vector<ChangelogRecord> RocksDbStateStore::changelog_records(rocksdb::WriteBatch& wb) const {
  std::vector<ChangelogRecord> records;
  records.reserve(wb.Count());
  ChangelogCollector collector(*database_, prefix_.size(), records);
  // Only this store's own writes are in the batch, so the collector cannot fail.
  wb.Iterate(&collector).PermitUncheckedError();
  return records;
}

void RocksDbStateStore::count_commit(rocksdb::WriteBatch& wb) {
  ++totals_.commits;
  totals_.bytes += wb.GetDataSize();
  FamilyKeyCounter counter(*database_, totals_);
  // Only this store's own writes are in the batch, so the counter cannot fail.
  wb.Iterate(&counter).PermitUncheckedError();
}

Status RocksDbStateStore::for_each_record(const std::function<Status(ChangelogRecord&&)>& fn) {
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  read_options.fill_cache = false;
  for (const StoreFamily family : kFamilies) {
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->family(family)));
    for (it->Seek(prefix_); it->Valid(); it->Next()) {
      const auto key = it->key().ToStringView().substr(prefix_.size());
      if (family == StoreFamily::meta && key == ChangelogPosition::kKey) continue;
      if (auto s = fn(ChangelogRecord{family, std::string(key), it->value().ToString()}); !s.ok()) return s;
    }
    if (!it->status().ok()) return make_error("reading the state of partition " + std::to_string(partition_) + ": " +
                                              it->status().ToString());
  }
  return ok_status();
}

Result<std::optional<std::string>> RocksDbStateStore::read_record(StoreFamily family, std::string_view key) {
  return read_value(family, key, "a record");
}

Result<std::optional<std::string>> RocksDbStateStore::read_value(StoreFamily family, std::string_view key,
                                                                 std::string_view what) {
  std::string value;
  auto s = database_->db()->Get(rocksdb::ReadOptions(), database_->family(family), prefix_ + std::string(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) {
    return make_error("reading " + std::string(what) + " of partition " + std::to_string(partition_) + ": " +
                      s.ToString());
  }
  return std::optional<std::string>{std::move(value)};
}

Result<bool> RocksDbStateStore::has_state() {
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  for (const StoreFamily family : kFamilies) {
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->family(family)));
    it->Seek(prefix_);
    if (it->Valid()) return true;
    if (!it->status().ok()) return make_error("reading the state of partition " + std::to_string(partition_) +
                                              ": " + it->status().ToString());
  }
  return false;
}

Status RocksDbStateStore::wipe() {
  const std::string what = "wiping partition " + std::to_string(partition_);
  // The marker goes first, on its own: a crash in the middle of the wipe must
  // not leave a marker that vouches for a half-deleted state.
  rocksdb::WriteBatch marker;
  marker.Delete(database_->meta(), prefix_ + std::string(ChangelogMarker::kKey));
  marker.Delete(database_->meta(), prefix_ + std::string(ChangelogPosition::kKey));
  if (auto s = to_status(database_->db()->Write(rocksdb::WriteOptions(), &marker), what); !s.ok()) return s;
  // Point deletes, not DeleteRange: timer and outbox keys are later removed
  // with SingleDelete, which needs a plain Delete between two Puts of a key.
  // Written in slices so a large partition never sits in one batch.
  constexpr size_t kSlice = 65536;
  rocksdb::WriteBatch wb;
  auto write = [&] {
    auto status = to_status(database_->db()->Write(rocksdb::WriteOptions(), &wb), what);
    wb.Clear();
    return status;
  };
  auto s = for_each_record([&](ChangelogRecord&& record) {
    wb.Delete(database_->family(record.family), prefix_ + record.key);
    return static_cast<size_t>(wb.Count()) < kSlice ? ok_status() : write();
  });
  if (s.ok()) s = write();
  timer_count_.reset();
  tallies_.reset();
  return s;
}

Status RocksDbStateStore::apply_changelog(const std::vector<ChangelogRecord>& records,
                                          const std::optional<ChangelogPosition>& position) {
  rocksdb::WriteBatch wb;
  if (position) wb.Put(database_->meta(), prefix_ + std::string(ChangelogPosition::kKey), position->encode());
  for (const auto& record : records) {
    const std::string key = prefix_ + record.key;
    // A Delete before each Put: the changelog may hold several Puts of a key
    // (an uncompacted history) and the key may later get a SingleDelete.
    wb.Delete(database_->family(record.family), key);
    if (record.value) wb.Put(database_->family(record.family), key, *record.value);
  }
  auto status = to_status(database_->db()->Write(rocksdb::WriteOptions(), &wb), "restoring partition " +
                                                                                 std::to_string(partition_));
  timer_count_.reset();
  tallies_.reset();
  return status;
}

Status RocksDbStateStore::delete_case(const CaseId& id, rocksdb::WriteBatch& wb) {
  wb.Delete(database_->cases(), case_key(id));
  // A case has a handful of alert ids, {case}/{rule}/{cycle}/{stage}: point
  // deletes keep reads free of range tombstones.
  const std::string first = case_key(id) + '/';
  const std::string end = case_key(id) + static_cast<char>('/' + 1);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->alerts()));
  for (it->Seek(first); it->Valid(); it->Next()) wb.Delete(database_->alerts(), it->key());
  return to_status(it->status(), "reading the alert index of case '" + std::string(id.str()) + "'");
}

Status RocksDbStateStore::for_each_case(
    const std::function<bool(const CaseId&, std::string_view)>& fn) {
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->cases()));
  for (it->Seek(prefix_); it->Valid(); it->Next()) {
    auto key = it->key();
    const CaseId id{std::string_view(key.data() + prefix_.size(), key.size() - prefix_.size())};
    if (!fn(id, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return to_status(it->status(), "iterating cases");
}

Status RocksDbStateStore::for_each_alert(const std::function<bool(const AlertIndexEntry&)>& fn) {
  rocksdb::Slice upper(next_prefix_);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper;
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read_options, database_->alerts()));
  for (it->Seek(prefix_); it->Valid(); it->Next()) {
    const auto key = it->key().ToStringView();
    auto entry = decode_alert_index_entry(key.substr(prefix_.size()), it->value().ToStringView());
    if (!entry.ok()) return entry.error();
    if (!fn(*entry)) break;
  }
  return to_status(it->status(), "iterating alerts");
}

}  // namespace slawatch
