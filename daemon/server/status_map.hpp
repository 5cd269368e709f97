// The one place where the drive's terms become the wire protocol's: how a stream or a control
// operation ended (drive::Ending) as a protocol status code, the drive's state as the protocol's
// state flags, a stream's progress as the PROGRESS message, and control operations.
#pragma once

#include "codec.hpp"
#include "drive/control.hpp"
#include "drive/stream_outcome.hpp"
#include "drive/tape_state.hpp"

namespace tapestream::server {

proto::Status to_status(drive::Ending ending);

// The TS_STATE_* flags of a position the drive reported (loaded, beginning, early warning, file
// number unknown), and of everything it last said of its medium (busy and stale are the
// server's to add).
std::uint32_t state_flags(const drive::TapePosition& position);
std::uint32_t state_flags(const drive::KnownState& state);
// DRIVE_STATUS's drive state (TS_DRIVE_*).
std::uint8_t to_drive_state(drive::DriveState state);

// The protocol's control operation as the drive's.
drive::ControlRequest to_control(const proto::ControlRequest& request);

// DRIVE_STATUS's TapeAlert, capacity and remaining fields from what the drive last said; with
// `health` also the known mask (byte 65) and the health extension, without it the version-1
// layout, where 0 stands for not known.
void fill_health(proto::DriveStatus& answer, const drive::KnownState& known, bool health);

proto::Progress to_progress(const drive::StreamProgress& progress);

}  // namespace tapestream::server
