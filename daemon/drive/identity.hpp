// What a drive says about itself, asked once before it is served: INQUIRY, the unit serial
// number, READ BLOCK LIMITS, and which positioning commands it takes.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "drive/positioning.hpp"
#include "scsi/timeouts.hpp"
#include "transport/transport.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::drive {

struct DriveIdentity {
  std::string vendor;
  std::string product;
  std::string revision;
  std::string serial;
  std::uint32_t max_block_length = 0;
  PositioningCommands positioning;
  // Logical Block Protection with CRC32C can be selected (Control Data Protection page's
  // changeable values); streams confirm it again, since a drive may change its mind with the
  // medium.
  bool offers_crc32c = false;
};

// Contract: runs on `ring` until the answers are in (start-up only, nothing else may be in
// flight on the drive); a unit attention (a reset or a new cartridge since the drive was last
// used) is answered by asking again, twice at most. Fails when the device does not answer
// INQUIRY or is not a tape drive; a missing serial number or block limits leave those empty.
Result<DriveIdentity, Failure> identify(uring::Ring& ring, transport::ScsiTransport& drive,
                                        uring::BufferPool& pool, std::uint16_t buffer,
                                        const scsi::TimeoutTable& timeouts);

}  // namespace tapestream::drive
