#include <cstddef>
#include <cstdint>

#include "scsi/log_pages.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto page = parse_log_page(ByteView{data, size});
  if (!page) {
    return 0;
  }
  for (const auto& p : page.value().parameters) {
    (void)p.as_integer();
    (void)p.as_text();
    (void)log_parameter_name(page.value().code, p.code);
  }
  if (auto alerts = parse_tape_alerts(page.value())) {
    for (unsigned flag = 1; flag <= 64; ++flag) {
      if (alerts.value().test(flag - 1)) {
        (void)tape_alert_name(flag);
        (void)tape_alert_severity(flag);
      }
    }
  }
  return 0;
}
