#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <optional>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "io/alert_json.h"
#include "io/io.h"
#include "model/hash.h"

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

void mark_oversize(RawRecord& record, uint64_t full_size, size_t limit) {
  const size_t keep = std::min(kOversizeKeptBytes, limit);
  if (record.bytes.size() > keep) record.bytes.resize(keep);
  record.oversize_bytes = full_size;
}

namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;

// Sixteen lower-case hex digits. By hand: position() runs once per record in
// replay, and snprintf showed in its profile.
void append_hex64(std::string& out, uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char text[16];
  for (size_t i = 16; i-- > 0; v >>= 4) text[i] = kDigits[v & 15];
  out.append(text, sizeof text);
}

// A checkpoint position of a JSON Lines input: "offset:line:w<digest>:path".
// Without `hash` (positions written before inputs were identified) nothing
// but the offset is known; `legacy_fnv`: the hash is FNV-1a, as positions
// written before the InputDigest carry it ("offset:line:<fnv>:path").
struct LinePosition {
  uint64_t offset = 0;
  uint64_t line = 0;
  std::optional<uint64_t> hash;
  bool legacy_fnv = false;
  std::string_view path;
};

std::optional<LinePosition> parse_line_position(std::string_view text) {
  LinePosition p;
  auto number = [](std::string_view field, uint64_t& out, int base) {
    if (field.empty()) return false;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), out, base);
    return ec == std::errc{} && end == field.data() + field.size();
  };
  const auto first = text.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find(':', first + 1);
  if (!number(text.substr(0, first), p.offset, 10)) return std::nullopt;
  if (second == std::string_view::npos) {
    if (!number(text.substr(first + 1), p.line, 10)) return std::nullopt;
    return p;
  }
  const auto third = text.find(':', second + 1);
  if (third == std::string_view::npos) return std::nullopt;
  std::string_view hash_text = text.substr(second + 1, third - second - 1);
  p.legacy_fnv = !hash_text.starts_with('w');
  if (!p.legacy_fnv) hash_text.remove_prefix(1);
  uint64_t hash = 0;
  if (!number(text.substr(first + 1, second - first - 1), p.line, 10) || hash_text.size() != 16 ||
      !number(hash_text, hash, 16)) {
    return std::nullopt;
  }
  p.hash = hash;
  p.path = text.substr(third + 1);
  return p;
}

}  // namespace

Result<std::unique_ptr<JsonLinesSource>> JsonLinesSource::open(const std::string& path, size_t max_record_bytes) {
  if (path == "-") {
    return std::unique_ptr<JsonLinesSource>(new JsonLinesSource(stdin, "stdin", false, max_record_bytes));
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error("cannot open events file '" + path + "': " + std::strerror(errno));
  return std::unique_ptr<JsonLinesSource>(new JsonLinesSource(f, path, true, max_record_bytes));
}

JsonLinesSource::JsonLinesSource(std::FILE* file, std::string name, bool owned, size_t max_record_bytes)
    : file_(file),
      name_(std::move(name)),
      owned_(owned),
      max_record_bytes_(max_record_bytes),
      buffer_(kReadChunkBytes) {}

JsonLinesSource::~JsonLinesSource() {
  if (owned_) std::fclose(file_);
}

// Reads the descriptor directly (not stdio): read() returns what a pipe has
// now, where fread would wait for a whole chunk.
Result<bool> JsonLinesSource::refill() {
  for (;;) {
    const ssize_t n = ::read(fileno(file_), buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("reading " + name_ + ": " + std::strerror(errno));
    begin_ = 0;
    end_ = static_cast<size_t>(n);
    return n > 0;
  }
}

void JsonLinesSource::InputDigest::update(const char* bytes, size_t n) {
  // The same value however the input is cut into calls: a partial word waits
  // in tail_ for the bytes that complete it.
  while (tail_bytes_ != 0 && n > 0) {
    tail_ |= static_cast<uint64_t>(static_cast<uint8_t>(*bytes++)) << (8 * tail_bytes_);
    --n;
    if (++tail_bytes_ == 8) {
      state_ = fold_multiply(tail_ ^ kHashOdd1, state_ ^ kHashOdd2);
      tail_ = 0;
      tail_bytes_ = 0;
    }
  }
  for (; n >= 8; bytes += 8, n -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes, 8);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    state_ = fold_multiply(word ^ kHashOdd1, state_ ^ kHashOdd2);
  }
  for (; n > 0; --n) tail_ |= static_cast<uint64_t>(static_cast<uint8_t>(*bytes++)) << (8 * tail_bytes_++);
}

uint64_t JsonLinesSource::InputDigest::value() const {
  return fold_multiply(tail_ ^ kHashOdd1 ^ tail_bytes_, state_ ^ kHashOdd2);
}

void JsonLinesSource::consume(size_t n) {
  const char* bytes = buffer_.data() + begin_;
  digest_.update(bytes, n);
  if (legacy_fnv_) legacy_fnv_ = fnv1a64(std::string_view(bytes, n), *legacy_fnv_);
  begin_ += n;
  offset_ += n;
}

Result<bool> JsonLinesSource::next(RawRecord& out) {
  out.key.clear();
  for (;;) {
    out.bytes.clear();
    out.oversize_bytes = 0;
    uint64_t length = 0;  // bytes of the line before its newline
    char last = 0;
    bool read_any = false;
    for (;;) {
      if (begin_ == end_) {
        auto more = refill();
        if (!more.ok()) return more.error();
        if (!*more) break;  // end of input; a last line may lack its newline
      }
      read_any = true;
      const char* start = buffer_.data() + begin_;
      const size_t available = end_ - begin_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', available));
      const size_t take = newline != nullptr ? static_cast<size_t>(newline - start) : available;
      // Holds at most the limit plus one byte (a '\r' that may still be stripped).
      const size_t held_limit = max_record_bytes_ + 1;
      const size_t keep = std::min(take, held_limit - std::min(out.bytes.size(), held_limit));
      if (out.bytes.size() + keep > out.bytes.capacity() && out.bytes.capacity() * 2 > held_limit) {
        // Doubling would pass the limit (libstdc++ doubles even on reserve):
        // move to a buffer of exactly the limit, what one record may cost.
        std::string exact;
        exact.reserve(held_limit);
        exact.append(out.bytes);
        out.bytes.swap(exact);
      }
      out.bytes.append(start, keep);
      if (take > 0) last = start[take - 1];
      length += take;
      consume(take + (newline != nullptr ? 1 : 0));
      if (newline != nullptr) break;
    }
    if (!read_any) return false;
    ++line_;
    if (length == out.bytes.size()) {
      while (!out.bytes.empty() && out.bytes.back() == '\r') out.bytes.pop_back();
      length = out.bytes.size();
    } else if (last == '\r') {
      --length;
    }
    if (length == 0) continue;  // blank lines carry no record
    if (length > max_record_bytes_) mark_oversize(out, length, max_record_bytes_);
    char line[24];
    const char* line_end = std::to_chars(line, line + sizeof line, line_).ptr;
    out.origin.assign(name_).append(":").append(line, static_cast<size_t>(line_end - line));
    return true;
  }
}

std::string JsonLinesSource::position() const {
  // Once per record in replay: one allocation, digits written in place.
  char numbers[48];
  char* end = std::to_chars(numbers, numbers + 20, offset_).ptr;
  *end++ = ':';
  end = std::to_chars(end, end + 20, line_).ptr;
  std::string text;
  text.reserve(static_cast<size_t>(end - numbers) + 19 + name_.size());
  text.append(numbers, static_cast<size_t>(end - numbers));
  text.append(":w");
  append_hex64(text, digest_.value());
  text.append(":").append(name_);
  return text;
}

Status JsonLinesSource::seek(std::string_view position) {
  const auto target = parse_line_position(position);
  if (!target) return make_error("bad input position '" + std::string(position) + "' in checkpoint");
  // Reads (and hashes) the bytes before the position instead of jumping over
  // them: that is how another input, or this one rewritten, is recognised.
  if (owned_ && ::lseek(fileno(file_), 0, SEEK_SET) == 0) {
    offset_ = 0;
    digest_ = InputDigest{};
    begin_ = end_ = 0;
  }
  // Checked against FNV-1a for a position of the earlier format; positions
  // written from here on carry the digest. (A source that cannot rewind,
  // stdin, is only ever positioned before its first read.)
  if (target->hash && target->legacy_fnv) legacy_fnv_ = kFnv1aOffsetBasis;
  const std::string checkpoint_input = target->hash ? std::string(target->path) : std::string("the input");
  const std::string restart_hint = "; pass --restart-input to read '" + name_ +
                                   "' from its beginning (the state is kept: events already applied count as "
                                   "duplicates)";
  while (offset_ < target->offset) {
    if (begin_ == end_) {
      auto more = refill();
      if (!more.ok()) return more.error();
      if (!*more) {
        return make_error("input '" + name_ + "' is shorter (" + std::to_string(offset_) +
                          " bytes) than the checkpoint position (" + std::to_string(target->offset) +
                          " bytes into " + checkpoint_input + "): it is not the input the state was built from" +
                          restart_hint);
      }
    }
    consume(std::min<uint64_t>(end_ - begin_, target->offset - offset_));
  }
  const uint64_t read_hash = legacy_fnv_ ? *legacy_fnv_ : digest_.value();
  legacy_fnv_.reset();
  if (target->hash && *target->hash != read_hash) {
    return make_error("input '" + name_ + "' is not the input the state was built from: its first " +
                      std::to_string(target->offset) + " bytes differ from those of '" + checkpoint_input +
                      "' read before the checkpoint" + restart_hint);
  }
  line_ = target->line;
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
  std::optional<uint64_t> original_size;
  if (const auto size = header(kDeadLetterOriginalSizeHeader); !size.empty()) {
    uint64_t value = 0;
    if (std::from_chars(size.data(), size.data() + size.size(), value).ec == std::errc{}) original_size = value;
  }
  const std::string envelope = encode_dead_letter(record.payload, header(kDeadLetterReasonHeader),
                                                  header(kDeadLetterOriginHeader), original_size);
  return inner_->write(OutboundRecord{record.seq, record.key, envelope, nullptr});
}

}  // namespace slawatch
