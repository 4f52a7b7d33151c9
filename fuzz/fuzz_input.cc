// The JSON Lines reader and its checkpoint positions: the input's first line
// is a stored position (what a damaged state could hold), the rest an events
// file. Reading must end cleanly whatever the bytes; a position must be
// refused or resume at a line boundary; and the position after the last line
// must resume at the end, on this input, from a fresh reader.
#include "fuzz/fuzz_input.h"
#include "io/io.h"

namespace {

constexpr size_t kLimit = 256;  // small, so oversize lines are common

bool read_to_end(slawatch::JsonLinesSource& source) {
  slawatch::RawRecord record;
  for (;;) {
    auto more = source.next(record);
    if (!more.ok()) return false;
    if (!*more) return true;
    if (record.bytes.empty()) __builtin_trap();  // blank lines carry no record
    if (record.oversize_bytes == 0 && record.bytes.size() > kLimit) __builtin_trap();
    if (record.oversize_bytes != 0 && record.oversize_bytes <= kLimit) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch;
  const std::string_view text = fuzz::as_text(data, size);
  const size_t newline = text.find('\n');
  const std::string_view position = newline == std::string_view::npos ? text : text.substr(0, newline);
  const std::string_view content = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  const std::string path = fuzz::write_scratch("input", "events.jsonl", content);

  {
    auto source = JsonLinesSource::open(path, kLimit);
    if (!source.ok()) __builtin_trap();
    if ((*source)->seek(position).ok()) {
      if (!read_to_end(**source)) __builtin_trap();
    }
  }
  auto first = JsonLinesSource::open(path, kLimit);
  if (!first.ok() || !read_to_end(**first)) __builtin_trap();
  const std::string end = (*first)->position();
  auto resumed = JsonLinesSource::open(path, kLimit);
  if (!resumed.ok() || !(*resumed)->seek(end).ok()) __builtin_trap();
  RawRecord record;
  auto more = (*resumed)->next(record);
  if (!more.ok() || *more) __builtin_trap();  // nothing is left after the end
  if ((*resumed)->position() != end) __builtin_trap();
  return 0;
}
