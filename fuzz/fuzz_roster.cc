// The roster loader: the input is a roster file. Any input must load or give
// errors, never both and never neither.
#include "fuzz/fuzz_input.h"
#include "roster/roster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch;
  const std::string path = fuzz::write_scratch("roster", "roster.yaml", fuzz::as_text(data, size));
  const LoadedRoster loaded = load_roster(path);
  if ((loaded.roster == nullptr) == loaded.errors.empty()) __builtin_trap();
  return 0;
}
