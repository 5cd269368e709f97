// A tape drive in user space: it executes the SCSI layer's CDBs with SSC semantics against a
// SIMH image, through the same ring and registered buffers as a real drive's transport, with
// faults injected from its DriveSpec. It is the embedded default, so that everything above the
// transport runs on a machine without a tape.
//
// With DriveSpec::null_medium it is the null drive: the same SSC logic over a tape that keeps
// only the index (block lengths and filemarks) and no data, with no image and no I/O; every
// command still completes through the ring (drive_data.cpp).
//
// In a library (emulated_library.hpp) it starts empty and the robot inserts and removes
// cartridges (library_drive.hpp) from the changer's thread: the cartridge's state is handed over
// under a mutex that the drive's own thread holds while a command runs (its synchronous part and
// each I/O step), so a hand-over lands between two commands, never in one. A mutex rather than
// a message to the drive's mailbox because removal must release the image's lock before the
// robot puts the cartridge elsewhere, and a drive thread that is busy (or wedged by a fault)
// must not hold the robot up for longer than one command's step.
//
// What it emulates and what it does not is listed in docs/EMULATED_DRIVE.md.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <span>
#include <optional>
#include <vector>

#include "common/unique_fd.hpp"
#include "emulated/cartridge.hpp"
#include "emulated/drive_model.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/image_layout.hpp"
#include "emulated/library_drive.hpp"
#include "emulated/responses.hpp"
#include "emulated/tape_index.hpp"
#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::emulated {

// The appends the drive's buffer holds unlinked (EmulatedDrive::buffering, drive_buffer.cpp). At
// namespace scope: an optional of a nested struct with member initializers is not constructible
// inside its enclosing class for clang.
struct BufferBatch {
  std::uint64_t offset = 0;          // of the first link's first page
  std::vector<std::uint8_t> link;    // the first link's whole pages, as they must become
  std::uint64_t last_offset = 0;     // the latest append's link, when it is not the first
  std::vector<std::uint8_t> last;
  ImageTail tail;                    // the image's tail before the batch
  std::uint64_t objects = 0;         // the tape's objects before the batch
  TapeIndex run;                     // the batch's objects (one run)
  std::uint64_t data_bytes = 0;
  std::uint64_t end() const { return offset + link.size(); }
};

class EmulatedDrive final : public transport::ScsiTransport, public LibraryDrive {
 public:
  struct NoCartridge {};
  static constexpr NoCartridge no_cartridge{};

  // Opens the image (creating an empty tape when it does not exist), locks it for the drive's
  // life and indexes it, without writing to it unless the spec says damaged=cut
  // (image_file.hpp); the null drive starts with a blank tape and opens nothing. Throws
  // StartupError.
  EmulatedDrive(uring::Ring& ring, DriveSpec spec);
  // A library's drive: empty (NOT READY, MEDIUM NOT PRESENT) until a cartridge is inserted;
  // spec.image is ignored, the rest of the spec applies to every cartridge it takes.
  EmulatedDrive(uring::Ring& ring, DriveSpec spec, NoCartridge);
  // Cancels what is in flight and waits for the ring to give it back.
  ~EmulatedDrive() override;
  EmulatedDrive(const EmulatedDrive&) = delete;
  EmulatedDrive& operator=(const EmulatedDrive&) = delete;

  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override;
  std::string_view kind() const override { return _spec.null_medium ? "null" : "emulated"; }

  // LibraryDrive, from any thread. A cartridge inserted is loaded at once with the unit
  // attention a real load gives (NOT READY TO READY CHANGE); one removed leaves the drive empty.
  bool tape_threaded() const override;
  std::optional<std::string> insert(const std::filesystem::path& image) override;
  std::optional<std::string> remove() override;
  void take_back() override;

  // The drive's own thread only.
  const TapeIndex& image_index() const { return _index; }
  // Whether appends bypass the page cache (the file system takes O_DIRECT).
  bool direct_io() const { return _direct; }
  // The drive model's counts so far (zeros without buffer=).
  DriveModel::Counters model_counters();

 private:
  struct Queued {
    transport::ScsiRequest request;
    transport::ScsiCallback* callback;
  };
  // One image I/O request of the current command (or the NOP that completes a command
  // without I/O); held in a deque so that its address stays put while it is in flight.
  struct IoOperation final : uring::Completion {
    EmulatedDrive* drive = nullptr;
    std::uint32_t expected = 0;  // bytes it must move
    int result = 0;
    bool delay = false;  // the drive model's wait (hold_completion), which moves nothing
    bool ok() const {
      return delay || (result >= 0 && static_cast<std::uint32_t>(result) == expected);
    }
    void on_complete(const io_uring_cqe& cqe) override {
      result = cqe.res;
      drive->io_done();
    }
  };
  struct Timer final : uring::Completion {
    EmulatedDrive* drive = nullptr;
    std::uint64_t command = 0;
    __kernel_timespec when{};
    std::list<Timer>::iterator self;
    void on_complete(const io_uring_cqe& cqe) override { drive->timer_done(*this, cqe.res); }
  };

  // The drive model (spec buffer=): the current command completes `delay` later, through a
  // timeout on the drive's ring, never a sleep.
  void hold_completion(DriveModel::Duration delay);
  // WRITE of `blocks` blocks of `bytes` each went into the modelled buffer.
  void model_write(std::uint64_t blocks, std::uint64_t bytes);
  // Commands that move the tape write the buffer out first.
  static bool moves_tape(scsi::Opcode op);
  void model_flush_before(scsi::Opcode op);

  void start_next();
  void execute();
  void io_done();
  void timer_done(Timer& timer, int result);
  void deliver();
  void finish_now();
  void queue_io(const uring::Request& request, std::uint32_t expected, std::uint8_t flags = 0);
  bool io_failed() const;
  // A write failed for want of space in the file system (or a short write, which means that).
  bool out_of_space() const;
  std::span<std::uint8_t> data() const { return _current->request.data.bytes; }
  // Where appends, links and syncs go: the O_DIRECT descriptor when there is one.
  int append_fd() const { return _append_fd ? _append_fd.get() : _fd.get(); }
  // TapeAlert flags (log page 2Eh), as bits of _tape_alerts.
  static constexpr std::uint64_t alert(unsigned flag) { return std::uint64_t{1} << (flag - 1); }
  static constexpr unsigned alert_read_failure = 5;
  static constexpr unsigned alert_write_failure = 6;
  static constexpr unsigned alert_write_protect = 9;

  // Outcomes of the current command.
  void good();
  void check(scsi::SenseKey key, std::uint16_t asc_ascq, SenseFlags flags = {},
             std::optional<std::int64_t> information = {});
  void respond(const Bytes& data);
  void transport_error();

  // A READ or WRITE moves one block of `count` bytes, or `count` blocks of the mode's length.
  struct TransferShape {
    std::uint32_t block;
    std::uint32_t blocks;
  };
  // Empty, with the result set, when there is nothing to move or the slice is too small.
  std::optional<TransferShape> transfer_shape(bool fixed, std::uint32_t count);

  // Commands.
  void write(const scsi::Command& c);
  void read(const scsi::Command& c);
  void write_filemarks(const scsi::Command& c);
  void space(const scsi::Command& c);
  void locate(const scsi::Command& c);
  void read_position(const scsi::Command& c);
  void load_unload(const scsi::Command& c);
  void erase(const scsi::Command& c);
  void mode_sense(const scsi::Command& c);
  void mode_select(const scsi::Command& c);
  void inquiry(const scsi::Command& c);
  void log_sense(const scsi::Command& c);
  void read_attribute(const scsi::Command& c);
  void maintenance_in(const scsi::Command& c);

  // Tape geometry.
  bool past_early_warning(std::uint64_t offset) const { return offset >= _early_warning; }
  // A write here makes it the new end of data; the first write after opening an image whose
  // end is not the writer's open end also puts one there before appending.
  Result<void> cut_at(std::uint64_t object);
  // Whether a write of `objects` objects keeps the index within TapeIndex::max_runs.
  bool index_has_room(std::size_t objects) const;
  void append(AppendPlan plan, bool sync, std::function<void(bool written)> done);
  void queue_plan_write(const ImageWrite& w);
  void commit_plan();  // the planned objects become the tape's end (the append is acknowledged)

  // The drive's buffer on an image (drive_buffer.cpp): with the model on and in buffered mode,
  // an append is acknowledged once its pages are on the image, before the page that links it
  // into the tape. Those appends are the batch. Each link page is held until the append it links
  // in has completed and goes with the next append; the batch's first link, which makes the
  // whole batch part of the tape, is held until a command writes the buffer out, the batch would
  // outgrow the model's buffer, the tape took all of it (the model's buffer ran empty), or an
  // append would make it more than one run (what opening the image takes for a crash's remains
  // rather than damage). A crash loses the batch, as a power loss loses a real drive's buffer.
  bool buffering() const;
  void buffered_append(bool sync, std::function<void(bool written)> done);
  // Writes the batch's links (then fdatasync with `sync`) as the command's next step; `done`
  // learns whether the batch is on the tape. Without a batch it only syncs (or nothing).
  void link_batch(bool sync, std::function<void(bool linked)> done);
  // Queues the batch's held links; the operations, to learn how they ended.
  std::vector<IoOperation*> queue_batch_links(bool then_sync = false);
  IoOperation* queue_last_link(std::uint8_t flags);  // the held link of the latest append
  // The same with plain system calls, outside any command: the drive closing, its cartridge
  // leaving, a write that cuts the tape. False (the batch lost, and said so) when it failed.
  bool link_batch_now();
  // A link could not be written: the batch's objects are not on the tape, and the image is cut
  // where it began.
  void lose_batch();
  // Commands that write the buffer out before they run (as model_flush_before waits for it).
  static bool links_first(scsi::Opcode op);
  void dispatch(const scsi::Command& c);
  // The sense for a WRITE (FILEMARKS) that failed: in its I/O, or with `error` before it.
  void failed_append(std::uint32_t count, std::error_code error = {});
  void reserve(std::uint64_t end);  // allocates the image's blocks ahead of the appends
  // The null drive's append: up to `count` objects of one kind at the end of data, each as
  // long as in a SIMH image without alignment gaps (8 bytes + the padded length, 4 a filemark),
  // as many as end within the capacity (`all_or_nothing`: all of them or none). Touches no data.
  std::uint64_t null_append(std::uint32_t length, bool filemark, std::uint64_t count,
                            bool all_or_nothing);
  bool needs_medium();                         // false (and NOT READY set) without a cartridge
  ModeState mode_state() const;
  // The cartridge's state into the drive's members, and back out (under _cartridge_mutex).
  void install(Cartridge cartridge);
  Cartridge take_out();
  // What threading a tape does: at its beginning, per-load counters reset, a unit attention.
  void thread_tape();
  // A cartridge the robot inserted is still being threaded (load_time): commands are answered
  // NOT READY, BECOMING READY (drive_cartridge.cpp).
  bool still_threading() const;
  // magazine=: the unloaded cartridge goes back, the next one goes in (drive_cartridge.cpp).
  void change_from_magazine();
  // What a power-on reset does to a real drive: back to the beginning, mode parameters to their
  // defaults, prevention of removal cleared, and a unit attention for the next command.
  void power_on_reset();

  uring::Ring& _ring;
  DriveSpec _spec;
  const DriveSpec _blank_spec;  // as given: what every cartridge inserted is opened with
  // Held by the drive's thread while a command runs, by the changer's while it hands a
  // cartridge over; guards the cartridge's members below and _present/_loaded.
  mutable std::mutex _cartridge_mutex;
  bool _present = true;  // a cartridge is in the drive (threaded or not)
  UniqueFd _fd;         // reads, and writes outside the data path
  UniqueFd _append_fd;  // appends: O_DIRECT where the file system takes it
  bool _direct = false;
  std::uint64_t _reserved = 0;  // the file's size: allocated ahead of the tail
  TapeIndex _index;
  bool _tail_on_disk = false;  // the file holds _tail as it is, and only zeros after it
  std::uint64_t _early_warning;

  // Drive state.
  bool _loaded = true;
  bool _prevent_removal = false;
  std::uint64_t _position = 0;  // object number
  std::uint32_t _block_length = 0;  // 0: variable-block mode
  bool _compression = false;
  std::uint8_t _buffered_mode = 1;
  std::uint8_t _protection_method = 0;
  bool _protect_write = false;
  bool _protect_read = false;
  std::optional<std::uint16_t> _unit_attention;  // ASC/ASCQ reported on the next command
  std::uint64_t _tape_alerts = 0;
  std::uint64_t _bytes_written = 0;
  std::uint64_t _bytes_read = 0;
  // Volume statistics: true counts since the drive was opened (its image keeps none).
  std::uint64_t _loads = 1;  // the cartridge is loaded when the drive opens
  std::chrono::steady_clock::time_point _threaded_at{};  // of the cartridge last inserted
  std::size_t _magazine_next = 0;  // the magazine's cartridge the next unload brings
  std::uint64_t _bytes_written_load = 0;
  std::uint64_t _bytes_read_load = 0;
  bool _tape_alert_raised = false;  // the tape_alert fault fires once
  void count_written(std::uint64_t bytes);
  // The corrupt_read fault, over the data a READ delivered: (where in the buffer, how long).
  void corrupt_read_data(const std::vector<std::pair<std::uint64_t, std::uint32_t>>& pieces);
  std::uint64_t _commands = 0;
  std::uint64_t _writes = 0;
  std::uint64_t _reads = 0;
  // Data bytes (CRCs not counted) written and read since the drive was opened, for the
  // corrupt_write and corrupt_read faults, which fire once each.
  std::uint64_t _data_written = 0;
  std::uint64_t _data_read = 0;
  bool _write_corrupted = false;
  bool _read_corrupted = false;

  // The command in execution.
  std::deque<Queued> _queue;
  std::optional<Queued> _current;
  std::uint64_t _command_number = 0;
  transport::ScsiResult _result;
  std::uint64_t _transferred = 0;  // bytes of the data slice that moved
  // Read by the changer's thread in remove(); changed by the drive's thread only.
  std::atomic<unsigned> _io_outstanding = 0;
  bool _abandoned = false;  // timed out; its I/O still has to drain
  bool _closing = false;
  std::function<void()> _on_io_done;
  std::deque<IoOperation> _io;
  std::list<Timer> _timers;
  ImageTail _tail;
  AppendPlan _plan;  // of the append in flight: its staging bytes must outlive the writes
  std::optional<BufferBatch> _batch;
  PageBytes _link_bytes;       // of the batch's first link in flight
  PageBytes _last_link_bytes;  // of the latest append's link in flight
  std::optional<DriveModel> _model;
  __kernel_timespec _model_delay{};  // of the command in execution (one at a time)
};

}  // namespace tapestream::emulated
