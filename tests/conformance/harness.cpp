#include "harness.hpp"

#include <algorithm>
#include <stdexcept>

#include "transport/blocking.hpp"

namespace tapestream::test {

Harness::Harness(const Factory& make, std::size_t buffer_size)
    : _ring{uring::Ring::create({})},
      _pool{uring::BufferPool::create(_ring, 2, buffer_size)},
      _transport{make(_ring)} {}

Harness::~Harness() { _transport.reset(); }

void Harness::reopen(const Factory& make) {
  _transport.reset();
  _transport = make(_ring);
}

Exchange Harness::run(const scsi::Command& command, std::span<const std::uint8_t> out,
                      std::size_t in, std::chrono::milliseconds timeout) {
  auto buffer = _pool.buffer(0);
  const std::size_t length = out.empty() ? in : out.size();
  if (length > buffer.size()) {
    throw std::invalid_argument{"harness: transfer larger than the test buffer"};
  }
  std::copy(out.begin(), out.end(), buffer.begin());
  transport::ScsiRequest request;
  request.command = command;
  request.data = {0, buffer.first(length)};
  request.timeout = timeout;
  auto result = transport::run_blocking(_ring, *_transport, request);
  if (!result) {
    throw std::runtime_error{"harness: " + result.error().message()};
  }
  Exchange e;
  e.result = result.value();
  e.classification = scsi::classify(command, e.result.status());
  if (out.empty() && length > 0) {
    const auto moved = length - std::min<std::size_t>(e.result.residue, length);
    e.data.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(moved));
  }
  return e;
}

std::vector<std::uint8_t> pattern_block(std::uint32_t stream, std::uint32_t block,
                                        std::size_t length) {
  std::vector<std::uint8_t> b(length);
  std::uint32_t x = stream * 2654435761U ^ (block + 1) * 40503U;
  for (auto& byte : b) {
    x = x * 1103515245U + 12345U;
    byte = static_cast<std::uint8_t>(x >> 16);
  }
  return b;
}

}  // namespace tapestream::test
