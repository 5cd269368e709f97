#include "transport/blocking.hpp"

#include <optional>
#include <system_error>

namespace tapestream::transport {
namespace {

struct Waiter final : ScsiCallback {
  std::optional<ScsiResult> result;
  void on_scsi_complete(const ScsiResult& r) override { result = r; }
};

}  // namespace

Result<ScsiResult> run_blocking(uring::Ring& ring, ScsiTransport& transport,
                                const ScsiRequest& request, std::chrono::milliseconds grace) {
  Waiter waiter;
  BOOST_OUTCOME_TRY(transport.submit(request, waiter));
  if (waiter.result) {
    return std::make_error_code(std::errc::protocol_error);  // completed inside submit()
  }
  const auto deadline = std::chrono::steady_clock::now() + request.timeout + grace;
  while (!waiter.result) {
    if (std::chrono::steady_clock::now() > deadline) {
      return std::make_error_code(std::errc::timed_out);
    }
    BOOST_OUTCOME_TRY(ring.run_once(std::chrono::milliseconds{100}));
  }
  return *waiter.result;
}

}  // namespace tapestream::transport
