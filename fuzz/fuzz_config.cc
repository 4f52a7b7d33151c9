// The config loader: the input is slawatch.yaml. A bad file is a
// ConfigError naming the problem (start-up is the one place exceptions are
// the error path); anything else escaping is a finding.
#include "app/config.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch;
  const std::string path = fuzz::write_scratch("config", "slawatch.yaml", fuzz::as_text(data, size));
  try {
    (void)load_config(path);
  } catch (const ConfigError&) {
  }
  return 0;
}
