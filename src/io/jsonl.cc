#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "io/alert_json.h"
#include "io/io.h"

namespace slawatch {
namespace {

// A process killed mid-write can leave a partial last line. Every record in
// it is still in the outbox and will be delivered again, so the fragment is
// cut off before appending rather than glued to the next record.
Status drop_torn_last_line(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return ok_status();  // not there yet, or not a regular file
  struct stat st {};
  if (::fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    std::fclose(f);
    return ok_status();
  }
  off_t keep = st.st_size;
  char buffer[4096];
  while (keep > 0) {
    const off_t chunk = std::min<off_t>(keep, sizeof(buffer));
    if (std::fseek(f, static_cast<long>(keep - chunk), SEEK_SET) != 0 ||
        std::fread(buffer, 1, static_cast<size_t>(chunk), f) != static_cast<size_t>(chunk)) {
      std::fclose(f);
      return make_error("reading output file '" + path + "' to check its last line");
    }
    off_t i = chunk;
    while (i > 0 && buffer[i - 1] != '\n') --i;
    if (i > 0) {
      keep = keep - chunk + i;
      break;
    }
    keep -= chunk;
  }
  std::fclose(f);
  if (keep != st.st_size && ::truncate(path.c_str(), keep) != 0) {
    return make_error("cannot cut the torn last line of '" + path + "': " + std::strerror(errno));
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<JsonLinesSource>> JsonLinesSource::open(const std::string& path) {
  if (path == "-") return std::unique_ptr<JsonLinesSource>(new JsonLinesSource(stdin, "stdin", false));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error("cannot open events file '" + path + "': " + std::strerror(errno));
  return std::unique_ptr<JsonLinesSource>(new JsonLinesSource(f, path, true));
}

JsonLinesSource::JsonLinesSource(std::FILE* file, std::string name, bool owned)
    : file_(file), name_(std::move(name)), owned_(owned) {}

JsonLinesSource::~JsonLinesSource() {
  std::free(buffer_);
  if (owned_) std::fclose(file_);
}

Result<bool> JsonLinesSource::next(RawRecord& out) {
  for (;;) {
    const ssize_t n = ::getline(&buffer_, &capacity_, file_);
    if (n < 0) {
      if (std::ferror(file_)) return make_error("reading " + name_ + ": " + std::strerror(errno));
      return false;
    }
    offset_ += static_cast<uint64_t>(n);
    ++line_;
    size_t len = static_cast<size_t>(n);
    while (len > 0 && (buffer_[len - 1] == '\n' || buffer_[len - 1] == '\r')) --len;
    if (len == 0) continue;  // blank lines carry no record
    out.bytes.assign(buffer_, len);
    out.origin = name_ + ":" + std::to_string(line_);
    out.key.clear();
    return true;
  }
}

std::string JsonLinesSource::position() const {
  return std::to_string(offset_) + ":" + std::to_string(line_);
}

Status JsonLinesSource::seek(std::string_view position) {
  uint64_t offset = 0;
  uint64_t line = 0;
  const auto colon = position.find(':');
  if (colon == std::string_view::npos ||
      std::from_chars(position.data(), position.data() + colon, offset).ec != std::errc{} ||
      std::from_chars(position.data() + colon + 1, position.data() + position.size(), line).ec !=
          std::errc{}) {
    return make_error("bad input position '" + std::string(position) + "' in checkpoint");
  }
  if (owned_ && std::fseek(file_, static_cast<long>(offset), SEEK_SET) == 0) {
    offset_ = offset;
    line_ = line;
    return ok_status();
  }
  // Not seekable (a pipe): skip the bytes already processed.
  while (offset_ < offset) {
    if (std::fgetc(file_) == EOF) return make_error("input is shorter than the checkpoint position");
    ++offset_;
  }
  line_ = line;
  return ok_status();
}

Result<std::unique_ptr<JsonLinesSink>> JsonLinesSink::open(const std::string& path, bool append,
                                                           bool fsync_on_flush) {
  if (path == "-") return std::unique_ptr<JsonLinesSink>(new JsonLinesSink(stdout, false, false));
  if (append) {
    if (auto s = drop_torn_last_line(path); !s.ok()) return s.error();
  }
  std::FILE* f = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (f == nullptr) return make_error("cannot open output file '" + path + "': " + std::strerror(errno));
  return std::unique_ptr<JsonLinesSink>(new JsonLinesSink(f, true, fsync_on_flush));
}

JsonLinesSink::~JsonLinesSink() {
  std::fflush(file_);
  if (owned_) std::fclose(file_);
}

Status JsonLinesSink::write(const OutboundRecord& record) {
  const std::string_view payload = record.payload;
  if (std::fwrite(payload.data(), 1, payload.size(), file_) != payload.size() ||
      std::fputc('\n', file_) == EOF) {
    return make_error(std::string("writing output: ") + std::strerror(errno));
  }
  return ok_status();
}

Status JsonLinesSink::flush() {
  if (std::fflush(file_) != 0) return make_error(std::string("flushing output: ") + std::strerror(errno));
  if (fsync_ && ::fsync(fileno(file_)) != 0) {
    return make_error(std::string("fsync of output: ") + std::strerror(errno));
  }
  return ok_status();
}

Status DeadLetterJsonSink::write(const OutboundRecord& record) {
  auto header = [&](std::string_view name) {
    const std::string* value = record.headers != nullptr ? find_header(*record.headers, name) : nullptr;
    return value != nullptr ? std::string_view(*value) : std::string_view();
  };
  const std::string envelope = encode_dead_letter(record.payload, header(kDeadLetterReasonHeader),
                                                  header(kDeadLetterOriginHeader));
  return inner_->write(OutboundRecord{record.seq, record.key, envelope, nullptr});
}

}  // namespace slawatch
