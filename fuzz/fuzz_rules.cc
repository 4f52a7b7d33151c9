// The rules loader: the input is one rule file (any mix of rule and calendar
// documents). Any input must load or give diagnostics, and a loaded set must
// name a version.
#include "fuzz/fuzz_input.h"
#include "rules/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch;
  const std::string path = fuzz::write_scratch("rules", "rules.yaml", fuzz::as_text(data, size));
  const LoadedRules loaded = load_rules(path);
  if ((loaded.rules == nullptr) == loaded.diagnostics.empty()) __builtin_trap();
  if (loaded.rules != nullptr && loaded.rules->version.empty()) __builtin_trap();
  return 0;
}
