// What CHANGER_STATUS and CHANGER_MOVE do on the changer's thread (changer_worker.hpp): READ
// ELEMENT STATUS and MOVE MEDIUM through the changer's transport, the elements numbered as
// mtx numbers them (slots from 1, the import/export slots after them, drives from 0), drives
// named by the identifier the changer reports for them (DVCID), and the changer's sense turned
// into an answer that names the element at fault.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codec.hpp"
#include "common/result.hpp"
#include "scsi/smc.hpp"
#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

// The answer a connection gets back: frames of CHANGER_ELEMENTS, or CHANGER_MOVED, or an error.
struct ChangerAnswer {
  proto::Status status = proto::Status::ok;
  std::string message;  // when not ok
  std::vector<proto::ChangerElements> frames;
  std::optional<proto::ChangerMoved> moved;
};

struct ChangerContext {
  transport::ScsiTransport& changer;
  uring::Ring& ring;
  // Registered with `ring` (a transport moves data only through registered buffers): what
  // READ ELEMENT STATUS answers into, so its size bounds the elements a changer may report.
  transport::DataBuffer buffer;
  const std::string& library;  // the daemon's name for it
  // The daemon's drive in each data transfer element, by element address (changer_worker.hpp
  // matched them by serial number); an element not here holds no drive the daemon serves.
  const std::map<std::uint16_t, std::string>& drive_at;
};

// Every element the changer reports, with volume tags and the identifiers of its drives; the
// failure says what the changer answered.
Result<std::vector<scsi::ElementStatus>, std::string> read_changer_elements(
    const ChangerContext& context);

ChangerAnswer changer_inventory(const ChangerContext& context);
// A move the connection has checked (a drive named is the library's, and unloaded already).
ChangerAnswer changer_move(const ChangerContext& context, const proto::ChangerMove& move);

}  // namespace tapestream::server
