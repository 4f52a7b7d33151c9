// CloudEvent intake, both content modes. Structured: the input is one record.
// Binary: the input is "key=value" header lines (the ce_ attributes), an empty
// line, then the data bytes. Any input must give an event or an error value.
#include <map>
#include <string>

#include "fuzz/fuzz_input.h"
#include "intake/cloudevent.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slawatch;
  static CloudEventParser parser;  // reused across records, as intake does
  const std::string_view input = fuzz::as_text(data, size);
  const auto structured = parser.parse(input);
  if (structured.ok() && structured->case_id.value.empty()) __builtin_trap();  // a valid event names its case

  std::map<std::string, std::string> attributes;
  std::string_view rest = input;
  for (;;) {
    const size_t end = rest.find('\n');
    if (end == std::string_view::npos) break;
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (line.empty()) break;
    const size_t equals = line.find('=');
    attributes[std::string(line.substr(0, equals))] =
        equals == std::string_view::npos ? std::string() : std::string(line.substr(equals + 1));
  }
  (void)parser.parse_binary(attributes, rest);
  return 0;
}
