// Audit verification: the input is a log's content. Verification must name a
// problem or pass; a log that passes must also pass anchored at its own head,
// and its cut point (good_bytes) must be a prefix that passes by itself.
#include "audit/audit.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch::audit;
  const std::string_view content = slawatch::fuzz::as_text(data, size);
  const VerifyReport report = verify_chain(content);
  if (report.good_bytes > content.size()) __builtin_trap();
  if (!verify_chain(content.substr(0, report.good_bytes)).ok()) __builtin_trap();
  if (report.ok()) {
    if (!verify_chain(content, Anchor{report.last_seq, report.head_hash, std::nullopt}).ok()) __builtin_trap();
    if (report.entries > 0 && !verify_chain(content, Anchor{std::nullopt, report.head_hash, std::nullopt}).ok()) {
      __builtin_trap();
    }
  }
  return 0;
}
