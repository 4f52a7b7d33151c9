#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "audit/entry.h"

namespace slawatch::audit {
namespace {

Error os_error(const std::string& what, const std::string& path) {
  return make_error(what + " '" + path + "': " + std::strerror(errno));
}

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Result<std::string> read_all(int fd, const std::string& path) {
  std::string content;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot read", path);
    }
    if (n == 0) return content;
    content.append(chunk, static_cast<size_t>(n));
  }
}

Status sync_directory_of(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open directory", dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return os_error("cannot sync directory", dir.string());
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path, const Notice& notice,
                                                 OpenOptions options) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot open audit log", path);
  std::unique_ptr<AuditLog> log(new AuditLog(path, fd));
  // One writer per file: a second one would fork the chain.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return make_error("audit log '" + path + "' is in use by another process (" + std::strerror(errno) + ")");
  }
  auto content = read_all(fd, path);
  if (!content.ok()) return content.error();

  // The head file names the last synced entry: everything up to it was
  // durable and must be intact; only what follows it, and only while the
  // head records a write in progress, can be a crash's leftover.
  std::optional<Anchor> head;
  if (std::filesystem::exists(log->head_path())) {
    auto read = read_head_file(log->head_path());
    if (!read.ok()) return read.error();
    head = *read;
  } else if (!content->empty() && !options.accept_missing_head) {
    return make_error("audit log '" + path + "' has entries but no head file " + log->head_path() +
                      ": entries may have been removed from its end; refusing to append (check it with slawatch "
                      "audit verify and a copy of its head; accept it as it is with --audit-accept-missing-head)");
  }
  VerifyReport report = verify_chain(*content, head);
  const Problem* problem = report.problem ? &*report.problem : nullptr;
  const bool after_head = head && report.last_seq >= *head->seq;
  const bool crash_leftover = problem && after_head && (problem->torn_tail || head->writing);
  if (problem && !problem->torn_tail && !crash_leftover) {
    return make_error("audit log '" + path + "' is damaged at " + problem->to_string() +
                      "; refusing to append (check it with slawatch audit verify)");
  }
  // Checked before any cut: a log shorter than its head, or with entries the
  // writer never anchored, is evidence, left as found.
  if (report.anchor_problem) {
    return make_error("audit log '" + path + "' does not match its head file " + log->head_path() + ": " +
                      report.anchor_problem->to_string() + "; refusing to append");
  }
  const uint64_t keep = head ? report.anchored_bytes : report.good_bytes;
  if (keep < content->size()) {
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 || ::fsync(fd) != 0) {
      return os_error("cannot cut the unanchored tail of audit log", path);
    }
    if (notice) {
      const std::string what =
          problem ? "a torn trailing entry at line " + std::to_string(problem->line) + " (" +
                        std::to_string(content->size() - keep) + " bytes: " + problem->what + ")"
                  : std::to_string(report.being_written) + " unanchored entries a crash left mid-write (" +
                        std::to_string(content->size() - keep) + " bytes)";
      report = verify_chain(std::string_view(*content).substr(0, keep), head);
      notice("audit log " + path + ": cut off " + what + "; the chain continues from seq " +
             std::to_string(report.last_seq));
    } else {
      report = verify_chain(std::string_view(*content).substr(0, keep), head);
    }
  }
  log->size_ = report.good_bytes;
  log->last_seq_ = report.last_seq;
  log->synced_seq_ = report.last_seq;
  log->head_ = report.head_hash;
  log->synced_head_ = report.head_hash;
  log->last_by_kind_ = std::move(report.last_by_kind);
  return log;
}

AuditLog::~AuditLog() { ::close(fd_); }

Status AuditLog::append_batch(std::span<const Record> records) {
  buffer_.clear();
  uint64_t seq = last_seq_;
  std::string head = head_;
  for (const Record& record : records) {
    if (auto s = detail::validate(record); !s.ok()) return s;
    head = detail::append_entry(buffer_, ++seq, head, record);
  }
  if (records.empty()) return ok_status();
  // The intent first: entries the head does not cover are refused on open.
  if (auto s = write_head(seq); !s.ok()) return s;
  if (auto s = write_all(fd_, buffer_, path_); !s.ok()) {
    // Never leave part of a group behind: the chain must end at a whole entry.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      return make_error(s.error().message + "; and cannot cut the partial write back: " + std::strerror(errno));
    }
    return s;
  }
  // Only the group's last entry of each kind is summarized (the payload is parsed once per kind).
  for (size_t i = records.size(); i-- > 0;) {
    auto& summary = last_by_kind_[records[i].kind];
    const uint64_t entry_seq = last_seq_ + 1 + i;
    if (summary.seq < entry_seq) summary = EntrySummary{entry_seq, detail::normalized_payload(records[i].payload)};
  }
  size_ += buffer_.size();
  last_seq_ = seq;
  head_ = std::move(head);
  return ok_status();
}

Status AuditLog::sync() {
  if (synced_seq_ == last_seq_) return ok_status();
  if (::fdatasync(fd_) != 0) return os_error("cannot sync audit log", path_);
  synced_seq_ = last_seq_;
  synced_head_ = head_;
  return write_head(std::nullopt);
}

Status AuditLog::append_and_sync(std::span<const Record> records) {
  if (auto s = append_batch(records); !s.ok()) return s;
  return sync();
}

const EntrySummary* AuditLog::last_of_kind(std::string_view kind) const {
  auto it = last_by_kind_.find(kind);
  return it == last_by_kind_.end() ? nullptr : &it->second;
}

// The head never names an entry that is not durable (it names the last
// synced one); replaced atomically (temporary file, fdatasync, rename), so
// the intent is durable before the entries it covers are written.
Status AuditLog::write_head(std::optional<uint64_t> writing) {
  const std::string head_path = this->head_path();
  const std::string temp = head_path + ".tmp";
  const bool first = !std::filesystem::exists(head_path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot write head file", temp);
  const std::string text = "{\"seq\":" + std::to_string(synced_seq_) + ",\"hash\":\"" + synced_head_ + "\"" +
                           (writing ? ",\"writing\":" + std::to_string(*writing) : std::string()) + "}\n";
  auto written = write_all(fd, text, temp);
  if (written.ok() && ::fdatasync(fd) != 0) written = os_error("cannot sync head file", temp);
  ::close(fd);
  if (!written.ok()) return written;
  if (::rename(temp.c_str(), head_path.c_str()) != 0) return os_error("cannot replace head file", head_path);
  // A lost rename later only leaves an older, still valid anchor; a lost first
  // one would leave none, so the directory entry is made durable once.
  return first ? sync_directory_of(head_path) : ok_status();
}

}  // namespace slawatch::audit
