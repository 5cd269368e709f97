// WRITE: a stream from the client to a new file on the tape, its data by the socket (DATA
// frames, received straight into the drive's registered buffers) or by a passed descriptor
// (FdSource), ended by the client's END (or by the descriptor's end of data) and committed only
// once the drive has written the filemark; ABORT, a stall, a failure or the daemon's stop end it
// uncommitted, and the client hears exactly what of it is on the tape. On a labelled tape
// (docs/TAPE_FORMAT.md) the stream's data file is followed by its trailer, written while the job
// still holds the drive, and only then is the stream committed; whether the tape is labelled is
// read from its beginning first when the drive does not know it since the cartridge was loaded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "drive/label_block.hpp"
#include "drive/write_stream.hpp"
#include "server/catalog_record.hpp"
#include "server/fd_data.hpp"
#include "server/frame_reader.hpp"
#include "server/shared_slots.hpp"
#include "server/stream_job.hpp"
#include "server/volume_look.hpp"

namespace tapestream::server {

class ChangerWorker;
class Mailbox;

// Without a library's barcodes only the medium serial number (MAM) tells one cartridge of a
// spanning stream from the next, in PART and in the catalog (which would otherwise take the
// next part's volume for the one before and mark its part overwritten).
inline constexpr const char* no_serial_to_span =
    "the cartridge has no medium serial number (MAM attribute 0401h): without a library "
    "nothing tells its part from the one before";

class WriteJob final : public StreamJob, public FrameReader::PayloadTarget {
 public:
  // A spanning write (TS_WRITE_SPAN): the library whose changer swaps the drive's cartridges,
  // the drive's home's mailbox for the changer's answers, and the daemon's stream numbers
  // (each part is a stream of its own in the catalog).
  struct Spanning {
    ChangerWorker* changer = nullptr;  // none: an autoloader or an operator changes cartridges
    std::shared_ptr<Mailbox> mailbox;
    std::function<std::uint64_t()> next_stream_number;
    std::chrono::seconds volume_wait{3600};  // without a changer (ServerOptions::volume_wait)
  };
  // What the changer did between two parts (write_job_span.cpp).
  struct Swap {
    bool ok = false;
    std::string message;                  // when not ok
    drive::Ending ending = drive::Ending::drive_error;
    std::string unloaded_barcode;         // the cartridge that went back to its slot
    std::uint32_t unloaded_slot = 0;      // and that slot (0: the changer did not know)
    std::uint32_t loaded_slot = 0;        // the slot of the cartridge now in the drive
    std::string loaded_barcode;
  };

  // `request.block_size` is the block size the stream uses (the default already applied).
  WriteJob(JobHost& host, DriveSlot& slot, const proto::WriteRequest& request,
           std::unique_ptr<FdSource> source, StreamRecord record = {});
  ~WriteJob() override;

  WriteJob* as_write() override { return this; }
  // How often the stream reads TapeAlert flags between WRITEs (before start()).
  void watch_tape_alerts(std::chrono::seconds interval) { _tape_alert_interval = interval; }
  // Before start(): the stream goes on on the library's next scratch volume at early warning.
  void span_with(Spanning spanning) { _spanning = std::move(spanning); }
  bool reads_frames() const override {
    return _phase == Phase::streaming || _phase == Phase::reported;
  }
  // The data comes by a passed descriptor: the client's frames are read only for ABORT.
  bool by_descriptor() const { return _source != nullptr; }
  // The data comes in shared buffer slots (SUBMIT), not in DATA frames.
  bool by_shared_buffers() const { return (_request.flags & TS_WRITE_SHARED) != 0; }
  // DATA may come now.
  bool takes_data() const { return reads_frames() && !by_descriptor() && !by_shared_buffers(); }
  // The daemon cut the stream (a stall, its stop) while the client may still have been sending:
  // a DATA frame whose receive was under way is read and dropped, not refused (and so are an
  // END, ABORT or SUBMIT that crossed the cut), so that the client hears the stream's account
  // (STREAM_FAILED) before the connection is sent away.
  bool dropping_data() const { return _send_away && !by_descriptor() && !by_shared_buffers(); }
  // The client's SUBMIT; false when it comes out of sequence (the connection refuses). A slot
  // or length the stream cannot take cuts the stream (the client hears STREAM_FAILED).
  bool submit(const proto::Submit& submit);
  // The client's END and ABORT; false when they come out of sequence (the connection refuses).
  bool end_of_data(const proto::End& end);
  bool abort(const proto::Abort& abort);

  void client_gone() override;
  void cut_for_stop() override;
  void tick() override;
  bool idle() const override {
    return !_commanding && !_changing_volume && (!_source || _source->idle());
  }

  // FrameReader::PayloadTarget: DATA payload goes into the stream's buffers. Between two parts
  // of a spanning stream DATA waits in the socket (no space), never discarded.
  bool accepting() const override {
    return _changing_volume || (_stream && (!_stream->closed() || _stream->parting()));
  }
  std::span<std::uint8_t> space() override {
    return _changing_volume ? std::span<std::uint8_t>{} : _stream->writable();
  }
  std::uint16_t space_buffer() const override {
    return _changing_volume ? 0 : _stream->writable_buffer();
  }
  bool no_room_for_long() const override { return _changing_volume; }
  bool progress_paused() const override { return _changing_volume; }
  void took(std::size_t bytes) override { _stream->commit(bytes); }

 private:
  std::string pool_detail() const;
  void start() override;
  // Whether the tape is labelled: known, or read from its beginning (write_job_volume.cpp).
  void prepare_volume();
  void look_at_tape();
  void volume_known();
  void check_file_before(std::uint64_t file);
  std::string place_refusal(std::uint64_t file) const;
  // The client left or the stream was cut while the job looked at the tape: nothing starts.
  bool stopped_before_stream();
  // Ends the request before a stream began, as a stream that cannot start does.
  void refuse_start(drive::Ending ending, const std::string& message);
  // The stream itself, once the catalog's record knows the cartridge and its layout is known.
  void begin_stream();
  // Shared buffers: the stream's fresh memfd, registered with the drive's ring; false when that
  // failed and the request was answered.
  bool make_slots();
  void start_stream();
  // A labelled tape's trailer after the stream's data file (write_job_volume.cpp).
  bool wants_trailer(const drive::StreamOutcome& outcome) const;
  void write_trailer(const drive::StreamOutcome& outcome);
  void trailer_written(const drive::StreamOutcome& outcome, const drive::LabelStep& step);
  void finish_report(const drive::StreamOutcome& outcome);
  // COMMITTED's digest: none without `digest`; the "not known" zeros for a stream the client
  // wrote without one (WRITE flag 128), so that the body keeps its length.
  std::optional<proto::Digest> committed_digest(const drive::StreamOutcome& outcome) const;
  // Spanning (write_job_span.cpp): a part is committed; the cartridge goes back, the next
  // scratch volume comes, and the next part starts there with the buffered blocks.
  void part_committed(const drive::StreamOutcome& outcome);
  void record_first_barcode();
  void swap_volume();
  void volume_swapped(const Swap& swap);
  // The cartridge the robot loaded is threaded (write_job_span.cpp says how that is waited for).
  void await_ready();
  void await_next_cartridge();
  void begin_ready_wait();  // a new cartridge (or none yet): its attentions counted afresh
  std::string volume_text() const;       // the cartridge in the drive, for the log
  std::string next_volume_text() const;  // for a failure between parts
  void check_scratch();
  void check_write_protect();
  // A cut that came between parts (client gone, ABORT, a wrong END, the daemon stopping) ends
  // the stream here, with no more moves: true when it did.
  bool ended_by_cut();
  void start_next_part();
  void next_part_ready(std::uint64_t file);
  void send_part(const std::string& barcode);
  // Ends a spanning stream between parts: the client hears the parts (sent) and this.
  void fail_between_parts(drive::Ending ending, const std::string& message);
  drive::WriteStream::Options stream_options(bool append);
  void ready(std::uint64_t file);
  void log_tape_alerts(const scsi::TapeAlerts& alerts);
  bool moving_buffers() const override;
  void stop_mover() override;
  void report(const drive::StreamOutcome& outcome) override;
  drive::StreamProgress progress() const override { return _stream->progress(); }
  Sample stall_sample() const override;
  void stalled(const std::string& why) override;
  // Ends the stream uncommitted for the reason given; nothing more is taken from the client.
  void cut(drive::Ending ending, const std::string& message);
  // Between two parts of a spanning stream, where no stream takes a cut: the part's filemark and
  // count (its stream is closing), the drive's unload, the changer, the look at the next tape.
  // A cut, an ABORT or a client that leaves is kept for the moment the next part would start.
  bool between_parts() const {
    return (_changing_volume && !_next_part_starting) || (_stream && _stream->parting());
  }

  proto::WriteRequest _request;
  std::unique_ptr<FdSource> _source;
  std::unique_ptr<SharedSlots> _slots;  // declared before the stream: it outlives its WRITEs
  std::unique_ptr<drive::WriteStream> _stream;
  std::chrono::seconds _tape_alert_interval{30};
  scsi::TapeAlerts _alerts_logged;
  // The client's socket may hold half a frame when the stream is cut: it is sent away after
  // hearing why.
  bool _send_away = false;
  StreamRecord _record;
  TapeLayout _layout;
  // A write where the tape stands: where that is, kept across the look at the tape's beginning.
  std::optional<drive::TapePosition> _here;
  bool _place_checked = false;
  std::uint64_t _here_epoch = 0;  // the drive's medium epoch when _here was read  // the file before _here is a trailer (or the volume label)
  // The drive's medium epoch when the stream stood at its file (READY): a reset since (one its
  // commands absorbed) means the tape may no longer stand after its filemark, where the trailer
  // goes.
  std::uint64_t _stream_epoch = 0;
  bool _commanding = false;  // a command of the job's own is with the drive (not the stream's)
  std::chrono::system_clock::time_point _started_at{};
  // The client left, or the stop cut came, while the medium serial number was being read.
  bool _gone_before_stream = false;
  std::optional<std::pair<drive::Ending, std::string>> _cut_before_stream;
  // Spanning.
  std::optional<Spanning> _spanning;
  bool _changing_volume = false;   // between two parts: the changer or the drive works
  // The next part's stream exists and positions its tape (READY not yet): a cut goes to it.
  bool _next_part_starting = false;
  std::optional<drive::WriteStream::Carryover> _carryover;
  std::optional<drive::StreamOutcome> _part;  // the part just committed, until PART goes out
  std::uint32_t _part_index = 1;
  std::uint64_t _parts_bytes = 0;   // of the stream in the committed parts
  std::vector<std::uint32_t> _tried_slots;  // cartridges found not blank, and the ones written
  std::string _barcode;             // of the cartridge in the drive, when the changer said
  // Waiting for the next cartridge since _wait_began (the robot's load, or without a changer
  // the part's end), threaded since _threading_since: when to ask again.
  std::optional<Clock::time_point> _ready_poll_at;
  Clock::time_point _wait_began{};
  std::optional<Clock::time_point> _threading_since;
  unsigned _ready_attentions = 0;
  bool _finish_pending = false;     // END came between two parts
  std::optional<std::pair<drive::Ending, std::string>> _cut_between_parts;
  std::shared_ptr<bool> _alive = std::make_shared<bool>(true);  // for the changer's answers
};

}  // namespace tapestream::server
