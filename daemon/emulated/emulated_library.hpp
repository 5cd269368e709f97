// An emulated tape library's changer (SMC-3) as a SCSI transport: the robot of a LibraryModel
// whose cartridges are the image files of a directory (library_spec.hpp, library_state.hpp).
// It answers TEST UNIT READY, INQUIRY (peripheral type 08h), MODE SENSE of the Element Address
// Assignment and Device Capabilities pages, READ ELEMENT STATUS, MOVE MEDIUM (which takes the
// spec's move time, loads the image into the drive it moves to, and is saved before it
// completes), INITIALIZE ELEMENT STATUS (with and without range), POSITION TO ELEMENT and
// PREVENT ALLOW MEDIUM REMOVAL; anything else is ILLEGAL REQUEST, invalid command operation code.
// Commands run one at a time in submission order and complete from the ring, as the
// transport contract asks.
#pragma once

#include <deque>
#include <filesystem>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "emulated/library_drive.hpp"
#include "emulated/library_model.hpp"
#include "emulated/library_spec.hpp"
#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::emulated {

class EmulatedLibrary final : public transport::ScsiTransport {
 public:
  // `drives` are the library's data transfer elements in order (spec.drives names them); the
  // model is restored from the directory (throws StartupError when it cannot be), and each
  // cartridge the record puts in a drive is inserted there.
  EmulatedLibrary(uring::Ring& ring, LibrarySpec spec, std::vector<LibraryDrive*> drives);
  ~EmulatedLibrary() override;
  EmulatedLibrary(const EmulatedLibrary&) = delete;
  EmulatedLibrary& operator=(const EmulatedLibrary&) = delete;

  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override;
  std::string_view kind() const override { return "emulated-library"; }

  const LibraryModel& model() const { return _model; }

 private:
  // Throws StartupError when another library (in any process) has the directory.
  void lock_directory();
  struct Queued {
    transport::ScsiRequest request;
    transport::ScsiCallback* callback;
  };
  struct Timer final : uring::Completion {
    EmulatedLibrary* library = nullptr;
    __kernel_timespec when{};
    void on_complete(const io_uring_cqe&) override { library->timer_done(); }
  };

  void start_next();
  void execute(const transport::ScsiRequest& request);
  void complete_after(std::chrono::milliseconds delay);
  void timer_done();

  void inquiry(const transport::ScsiRequest& request);
  void mode_sense(const transport::ScsiRequest& request);
  void read_element_status(const transport::ScsiRequest& request);
  void move_medium(const transport::ScsiRequest& request);
  void respond(const transport::ScsiRequest& request, const std::vector<std::uint8_t>& bytes);
  void check(scsi::SenseKey key, std::uint8_t asc, std::uint8_t ascq);

  uring::Ring& _ring;
  LibrarySpec _spec;
  std::vector<LibraryDrive*> _drives;
  LibraryModel _model;
  std::uint64_t _moves = 0;
  std::deque<Queued> _queue;
  std::optional<Queued> _current;
  transport::ScsiResult _result;
  // flock(2) on the directory for the library's life: one robot per library, as one daemon per
  // drive, or two daemons would each keep their own record of where the cartridges are.
  UniqueFd _directory_lock;
  Timer _timer;
  bool _timer_armed = false;
};

}  // namespace tapestream::emulated
