// Runs one command on a transport and turns the ring until it completes: for start-up probes,
// the self-check and tests, where nothing else needs the thread meanwhile.
#pragma once

#include <chrono>

#include "common/result.hpp"
#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::transport {

// Errors: the transport refused the command, the ring failed, or no completion arrived within
// the request's timeout plus `grace` (a transport that breaks its contract).
Result<ScsiResult> run_blocking(uring::Ring& ring, ScsiTransport& transport,
                                const ScsiRequest& request,
                                std::chrono::milliseconds grace = std::chrono::seconds{10});

}  // namespace tapestream::transport
