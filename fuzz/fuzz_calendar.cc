// The calendar loader: the input is a calendar file given as an extra
// calendar path (as `rules check --calendars` and the config's calendars
// take it), beside an empty rule folder.
#include <filesystem>

#include "fuzz/fuzz_input.h"
#include "rules/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch;
  const std::string calendar = fuzz::write_scratch("calendar", "calendar.yaml", fuzz::as_text(data, size));
  const auto rules_dir = fuzz::scratch_dir("calendar") / "rules";
  std::filesystem::create_directories(rules_dir);
  const LoadedRules loaded = load_rules(rules_dir.string(), {calendar});
  if ((loaded.rules == nullptr) == loaded.diagnostics.empty()) __builtin_trap();
  return 0;
}
