#include "server/connection.hpp"

#include <sys/socket.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"
#include "server/server.hpp"

namespace tapestream::server {
namespace {

using scsi::TapeCondition;
// DRIVE_STATUS and CONTROL_DONE state flags of a position the drive reported.
std::uint32_t position_state(const scsi::Position& p) {
  return TS_STATE_LOADED | (p.beginning_of_partition ? TS_STATE_BOP : 0U) |
         (p.end_of_partition ? TS_STATE_EARLY_WARNING : 0U) |
         (p.logical_file ? 0U : TS_STATE_FILE_UNKNOWN);
}
constexpr std::size_t discard_chunk = 64 * 1024;

std::string position_text(const drive::StreamOutcome& o) {
  return std::to_string(o.bytes) + " bytes in " + std::to_string(o.blocks) + " blocks";
}

}  // namespace

Connection::Connection(Server& server, UniqueFd fd, std::uint64_t id)
    : _server{server}, _fd{std::move(fd)}, _id{id} {
  _input.connection = this;
  _output.connection = this;
}

Connection::~Connection() = default;

void Connection::start() { read_more(); }

void Connection::collect() {
  _ended_writes.clear();
  _ended_reads.clear();
  std::erase_if(_ended_sources, [](const auto& s) { return s->idle(); });
  std::erase_if(_ended_sinks, [](const auto& s) { return s->idle(); });
}

bool Connection::fd_data_idle() const {
  auto idle = [](const auto& list) {
    return std::all_of(list.begin(), list.end(), [](const auto& s) { return s->idle(); });
  };
  return (!_source || _source->idle()) && (!_sink || _sink->idle()) && idle(_ended_sources) &&
         idle(_ended_sinks);
}

std::optional<UniqueFd> Connection::claim_passed_fd(bool wanted, bool for_reading) {
  if (!wanted) {
    return UniqueFd{};
  }
  if (!_fd_passing) {
    refuse(proto::Status::bad_request, "fd passing was not agreed in HELLO");
    return std::nullopt;
  }
  if (!_passed_fd) {
    refuse(proto::Status::bad_request,
           "the request asks for fd passing but no descriptor came with it (SCM_RIGHTS)");
    return std::nullopt;
  }
  if (auto problem = check_passed_fd(_passed_fd.get(), for_reading); !problem.empty()) {
    refuse(proto::Status::bad_request, problem);
    return std::nullopt;
  }
  return std::move(_passed_fd);
}

bool Connection::finished() const {
  return _input_closed && !_reading && !_sending && !_write && !_read && _control_in_flight == 0 &&
         !_ticket && fd_data_idle() && !_pending_outcome;
}

// --- input -----------------------------------------------------------------------------------

void Connection::read_more() {
  if (_reading || _input_closed || _waiting_for_space) {
    return;
  }
  uring::Request request = uring::Nop{};
  switch (_in) {
    case In::header:
    case In::body: {
      const auto into = _in == In::header ? std::span{_header_bytes}.subspan(_have)
                                          : std::span{_body}.subspan(_have);
      _iov = {into.data(), into.size()};
      _message = {};
      _message.msg_iov = &_iov;
      _message.msg_iovlen = 1;
      _message.msg_control = _control.data();
      _message.msg_controllen = _control.size();
      request = uring::RecvMsg{_fd.get(), &_message};
      break;
    }
    case In::payload: {
      if (!_write || _write->closed()) {
        _in = In::discard;
        read_more();
        return;
      }
      const auto space = _write->writable();
      if (space.empty()) {
        _waiting_for_space = true;  // every buffer is full: the client waits on the socket
        return;
      }
      // Straight into the registered buffer: the socket's bytes land where WRITE takes them.
      request = uring::ReadFixed{_fd.get(), space.first(std::min<std::size_t>(space.size(), _payload_left)),
                                 _write->writable_buffer(), 0};
      break;
    }
    case In::discard:
      _discard.resize(discard_chunk);
      request = uring::Recv{_fd.get(), std::span{_discard}.first(
                                           std::min<std::size_t>(discard_chunk, _payload_left))};
      break;
  }
  if (_server.ring().prepare(request, &_input)) {
    _reading = true;
  } else {
    peer_gone();
  }
}

void Connection::received(int result) {
  frame_bytes_in(result);
  settle_pending_stream();
}

void Connection::frame_bytes_in(int result) {
  _reading = false;
  if (_in == In::header || _in == In::body) {
    take_passed_fds();
  }
  if (_input_closed) {
    return;
  }
  if (result <= 0) {
    peer_gone();
    return;
  }
  const auto n = static_cast<std::size_t>(result);
  switch (_in) {
    case In::header:
      _have += n;
      if (_have == _header_bytes.size()) {
        frame_in();
      }
      break;
    case In::body:
      _have += n;
      if (_have == _body.size()) {
        auto message = proto::decode_body(_header, _body);
        _in = In::header;
        _have = 0;
        if (!message) {
          refuse(static_cast<proto::Status>(message.error().value()),
                 "the body of the message does not decode: " + message.error().message(), true);
          return;
        }
        dispatch(message.value());
      }
      break;
    case In::payload:
      _write->commit(n);
      _payload_left -= static_cast<std::uint32_t>(n);
      if (_payload_left == 0) {
        _in = In::header;
      }
      break;
    case In::discard:
      _payload_left -= static_cast<std::uint32_t>(n);
      if (_payload_left == 0) {
        _in = In::header;
      }
      break;
  }
  read_more();
}

// Keeps the first descriptor that came with the frame being read (a WRITE or READ with fd
// passing claims it) and closes any other: a client cannot make the daemon hold descriptors.
void Connection::take_passed_fds() {
  if (_message.msg_controllen == 0) {
    return;
  }
  for (auto* c = CMSG_FIRSTHDR(&_message); c != nullptr; c = CMSG_NXTHDR(&_message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      UniqueFd owned{fd};
      if (!_passed_fd) {
        _passed_fd = std::move(owned);
      }
    }
  }
  _message.msg_controllen = 0;
}

bool Connection::filling_buffers() const {
  return (_reading && _in == In::payload) || (_source && !_source->idle()) ||
         (_sink && !_sink->idle());
}

// A stream's outcome waits while a read into its buffers (or a write out of them) is still in
// flight: once the drive is released, those buffers belong to the next stream.
void Connection::settle_pending_stream() {
  if (!_pending_outcome || filling_buffers()) {
    return;
  }
  const auto outcome = *_pending_outcome;
  _pending_outcome.reset();
  if (_read) {
    read_done(outcome);
  } else {
    write_done(outcome);
  }
}

void Connection::frame_in() {
  _have = 0;
  auto header = proto::decode_header(_header_bytes, proto::Receiver::daemon,
                                     _server.options().max_data);
  if (!header) {
    refuse(static_cast<proto::Status>(header.error().value()),
           "malformed frame header: " + header.error().message(), true);
    return;
  }
  _header = header.value();
  if (!_hello_done && _header.type != proto::Type::hello) {
    refuse(proto::Status::out_of_sequence, "the first message must be HELLO", true);
    return;
  }
  if (_header.type == proto::Type::data) {
    if (!_write || _end_received || _source) {
      refuse(proto::Status::out_of_sequence, "DATA outside a write stream", true);
      return;
    }
    _payload_left = _header.length;
    _in = _write->closed() ? In::discard : In::payload;
    return;
  }
  if (_header.length == 0) {
    auto message = proto::decode_body(_header, {});
    if (message) {
      dispatch(message.value());
    }
    return;
  }
  _body.assign(_header.length, 0);
  _in = In::body;
}

void Connection::dispatch(const proto::Message& message) {
  dispatch_request(message);
  _passed_fd.reset();  // a descriptor no request claimed
}

void Connection::dispatch_request(const proto::Message& message) {
  if (std::holds_alternative<proto::End>(message)) {
    end_of_write(std::get<proto::End>(message));
    return;
  }
  if (_request_active) {
    refuse(proto::Status::out_of_sequence, "one request at a time: the previous one is running",
           true);
    return;
  }
  _request_id = _header.request_id;
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::Hello>) {
          hello(m);
        } else if constexpr (std::is_same_v<T, proto::ListDrives>) {
          list_drives();
        } else if constexpr (std::is_same_v<T, proto::StatusRequest>) {
          status(m);
        } else if constexpr (std::is_same_v<T, proto::WriteRequest>) {
          write(m);
        } else if constexpr (std::is_same_v<T, proto::ReadRequest>) {
          read(m);
        } else if constexpr (std::is_same_v<T, proto::ControlRequest>) {
          control(m);
        } else {
          refuse(proto::Status::bad_type, "not a request", true);
        }
      },
      message);
}

void Connection::peer_gone() {
  if (_input_closed) {
    return;
  }
  _input_closed = true;
  _waiting_for_space = false;
  if (_ticket && _slot != nullptr) {
    _slot->withdraw(*_ticket);
    _ticket.reset();
    _slot = nullptr;
  }
  if (_write && _write_reported) {
    // The stream already ended and said so; the client left without sending END.
    _ended_writes.push_back(std::move(_write));
    _write_reported = false;
    _request_active = false;
  } else if (_write) {
    _write->abandon();  // settles through write_done, which releases the drive
  }
  if (_source) {
    _source->stop([this] { settle_pending_stream(); });
  }
  if (_sink) {
    _sink->stop([this] { settle_pending_stream(); });
  }
  if (_read) {
    _read->abandon();
  }
  ::shutdown(_fd.get(), SHUT_RDWR);
}

// --- output ----------------------------------------------------------------------------------

void Connection::reply(const proto::Message& message) {
  auto frame = proto::encode(message, _request_id);
  if (!frame) {
    spdlog::error("connection {}: cannot encode a reply: {}", _id, frame.error().message());
    return;
  }
  send_bytes(std::move(frame.value()));
}

void Connection::send_bytes(std::vector<std::uint8_t> bytes, std::function<void()> after) {
  OutItem item;
  item.owned = std::move(bytes);
  item.after = std::move(after);
  _out.push_back(std::move(item));
  flush();
}

void Connection::send_view(std::span<const std::uint8_t> view, std::function<void()> after) {
  OutItem item;
  item.view = view;
  item.after = std::move(after);
  _out.push_back(std::move(item));
  flush();
}

void Connection::flush() {
  if (_sending || _out.empty()) {
    if (!_sending && _out.empty() && _close_after_send) {
      ::shutdown(_fd.get(), SHUT_RDWR);
    }
    return;
  }
  const auto& item = _out.front();
  if (_server.ring().prepare(uring::Send{_fd.get(), item.bytes().subspan(item.done)}, &_output)) {
    _sending = true;
  } else {
    _out.clear();
    peer_gone();
  }
}

void Connection::sent(int result) {
  _sending = false;
  if (result < 0) {
    _out.clear();  // the peer is gone; what was queued for it goes nowhere
    peer_gone();
    return;
  }
  auto& item = _out.front();
  item.done += static_cast<std::size_t>(result);
  if (item.done == item.bytes().size()) {
    auto after = std::move(item.after);
    _out.pop_front();
    if (after) {
      after();
    }
  }
  flush();
}

void Connection::refuse(proto::Status status, std::string message, bool close) {
  spdlog::warn("connection {}: {}: {}", _id, proto::status_name(status), message);
  reply(proto::Error{status, message.substr(0, TS_MAX_MESSAGE)});
  if (close) {
    _close_after_send = true;
    _input_closed = true;  // read nothing more: the next frame cannot be found
    if (_write) {
      _write->abandon();
    }
    if (_read) {
      _read->abandon();
    }
    flush();
  } else {
    finish_request();
  }
}

void Connection::finish_request() {
  _request_active = false;
  _progress_wanted = false;
  // A request refused before its stream began leaves its passed descriptor unused.
  if (_source && !_write) {
    _source->stop();
    _ended_sources.push_back(std::move(_source));
  }
  if (_sink && !_read) {
    _sink->stop();
    _ended_sinks.push_back(std::move(_sink));
  }
  _source_error.clear();
}

// About twice a second while a stream moves, if its request asked for it.
void Connection::report_progress() {
  if (!_progress_wanted || _input_closed || (!_write && !_read)) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - _progress_sent < std::chrono::milliseconds{500}) {
    return;
  }
  _progress_sent = now;
  reply(_write ? _write->progress() : _read->progress());
}

void Connection::release_drive() {
  _slot->release();
  _slot = nullptr;
}

// --- requests --------------------------------------------------------------------------------

void Connection::hello(const proto::Hello& m) {
  if (_hello_done) {
    refuse(proto::Status::out_of_sequence, "HELLO twice", true);
    return;
  }
  if (m.min_version > TS_PROTO_VERSION || m.max_version < TS_PROTO_VERSION) {
    refuse(proto::Status::bad_version, "this daemon speaks protocol version 1 only", true);
    return;
  }
  _hello_done = true;
  _fd_passing = (m.features & TS_FEATURE_FD_PASSING) != 0;
  spdlog::debug("connection {}: hello from \"{}\"", _id, m.client);
  reply(proto::HelloOk{TS_PROTO_VERSION, _fd_passing ? TS_FEATURE_FD_PASSING : 0U,
                       _server.options().max_data, "tapestreamd " TAPESTREAM_VERSION});
}

void Connection::list_drives() {
  proto::DriveList list;
  for (const auto& [name, slot] : _server.drives()) {
    list.drives.push_back(name);
  }
  reply(list);
}

DriveSlot* Connection::drive_for(const std::string& name) {
  auto* slot = _server.drive(name);
  if (slot == nullptr) {
    refuse(proto::Status::unknown_drive, "no drive named \"" + name + "\"");
  }
  return slot;
}

void Connection::status(const proto::StatusRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  _request_active = true;
  ++_control_in_flight;
  auto answer = std::make_shared<proto::DriveStatus>();
  const auto& id = slot->identity();
  answer->drive = slot->name();
  answer->transport = std::string{slot->transport().kind()};
  answer->vendor = id.vendor;
  answer->product = id.product;
  answer->revision = id.revision;
  answer->serial = id.serial;
  answer->max_block_length = id.max_block_length;
  if (slot->busy()) {
    answer->state |= TS_STATE_BUSY;
  }
  const auto form = slot->identity().positioning.position_form();
  _server.commands().run(*slot, scsi::cdb::read_position(form), [this, slot, answer, form](const auto& r) {
    if (r.classification.condition == TapeCondition::good) {
      if (auto p = scsi::parse_read_position(form, r.data)) {
        answer->state |= position_state(p.value());
        answer->block_number = p.value().first_logical_object.value_or(0);
        answer->file_number = p.value().logical_file.value_or(0);
      }
    }
    _server.commands().run(*slot, scsi::cdb::mode_sense6(0x0F), [this, answer](const auto& mode) {
      if (mode.classification.condition == TapeCondition::good) {
        if (auto parsed = scsi::parse_mode_sense6(mode.data)) {
          const auto& p = parsed.value();
          if (p.header.write_protected) {
            answer->state |= TS_STATE_WRITE_PROTECTED;
          }
          if (!p.block_descriptors.empty()) {
            answer->block_size = p.block_descriptors.front().block_length;
            answer->density_code = p.block_descriptors.front().density_code;
          }
          if (const auto* page = p.find_page(scsi::DataCompressionPage::code)) {
            if (auto c = scsi::DataCompressionPage::from(*page); c && c.value().compression_enabled()) {
              answer->state |= TS_STATE_COMPRESSION;
            }
          }
        }
      }
      --_control_in_flight;
      if (!_input_closed) {
        reply(*answer);
      }
      finish_request();
    });
  });
}

void Connection::write(const proto::WriteRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  auto data_fd = claim_passed_fd((m.flags & TS_WRITE_FD) != 0, true);
  if (!data_fd) {
    return;
  }
  const auto block = m.block_size == 0 ? _server.options().default_block_size : m.block_size;
  if (block > _server.pool().buffer_size() ||
      (slot->identity().max_block_length != 0 && block > slot->identity().max_block_length)) {
    refuse(proto::Status::bad_request,
           "block size " + std::to_string(block) + " is larger than the daemon's buffers (" +
               std::to_string(_server.pool().buffer_size()) + ") or the drive's limit");
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping");
    return;
  }
  if (slot->busy() && (m.flags & TS_WRITE_NO_WAIT) != 0) {
    refuse(proto::Status::busy, "drive " + slot->name() + " is in use");
    return;
  }
  _request_active = true;
  _slot = slot;
  _progress_wanted = (m.flags & TS_WRITE_PROGRESS) != 0;
  if (*data_fd) {
    _source = std::make_unique<FdSource>(_server.ring(), std::move(*data_fd));
  }
  auto request = m;
  request.block_size = block;
  _ticket = slot->acquire([this, request] {
    _ticket.reset();
    start_write(request);
  });
}

void Connection::start_write(const proto::WriteRequest& m) {
  const auto positioning = _slot->identity().positioning;
  auto begin = [this, m, positioning](std::optional<std::uint64_t> starting_file) {
    drive::WriteStream::Options options;
    options.block_size = m.block_size;
    options.fixed = (m.flags & TS_WRITE_FIXED) != 0;
    options.position_form = positioning.position_form();
    options.file_number = starting_file;
    _write = std::make_unique<drive::WriteStream>(
        _slot->transport(), _server.pool(), _server.timeouts(), _slot->stream_buffers(), options,
        [this](const drive::StreamOutcome& o) { write_done(o); });
    _write->on_space([this] {
      report_progress();
      if (_source) {
        _source->resume();
      } else if (_waiting_for_space) {
        _waiting_for_space = false;
        read_more();
      }
    });
    _block_size = m.block_size;
    _write->start([this, block = m.block_size, fixed = options.fixed](std::uint64_t file) {
      spdlog::info("drive {}: connection {} writes file {}{}", _slot->name(), _id, file,
                   _source ? (_source->direct() ? " from a passed file (O_DIRECT)"
                                                : " from a passed descriptor")
                           : "");
      reply(proto::Ready{file, block, fixed ? TS_READY_FIXED : 0U});
      if (_source) {
        _source->start(*_write, [this](const std::string& error) {
          if (!_write) {
            return;
          }
          if (error.empty()) {
            _write->finish();
          } else {
            _source_error = error;
            _write->abandon();
          }
        });
        return;
      }
      if (_waiting_for_space) {  // DATA came before READY was sent: take it now
        _waiting_for_space = false;
        read_more();
      }
    });
  };
  if ((m.flags & TS_WRITE_APPEND) == 0) {
    if (!positioning.long_position) {
      release_drive();
      refuse(proto::Status::bad_request,
             "this drive reports no file numbers (no READ POSITION long form), so a stream "
             "written where the tape stands could not say which file it is; append instead");
      return;
    }
    begin(std::nullopt);
    return;
  }
  // Append: to end of data first, so that nothing already on the tape is overwritten.
  ++_control_in_flight;
  if (!positioning.long_position) {
    // The file number comes from the count of filemarks spaced over from the beginning.
    _server.commands().run(*_slot, scsi::cdb::rewind(false), [this, begin, positioning](const auto& r) {
      if (r.classification.condition != TapeCondition::good) {
        --_control_in_flight;
        release_drive();
        refuse(drive::stream_status(r.classification, r.result.timed_out),
               "cannot rewind to count the files: " +
                   std::string{scsi::condition_name(r.classification.condition)});
        return;
      }
      const auto all = drive::space_to_end_count;
      _server.commands().run(*_slot, *positioning.space(scsi::cdb::SpaceCode::filemarks, all),
                             [this, begin, all](const auto& spaced) {
        --_control_in_flight;
        const auto& c = spaced.classification;
        if (c.condition != TapeCondition::end_of_data || !c.residue || *c.residue < 0 ||
            *c.residue > all) {
          release_drive();
          refuse(drive::stream_status(c, spaced.result.timed_out),
                 "cannot count the files on the tape: spacing to end of data ended in " +
                     std::string{scsi::condition_name(c.condition)});
          return;
        }
        if (_input_closed) {
          release_drive();
          return;
        }
        begin(static_cast<std::uint64_t>(all - *c.residue));
      });
    });
    return;
  }
  _server.commands().run(*_slot, *positioning.space(scsi::cdb::SpaceCode::end_of_data, 0),
                         [this, begin](const auto& r) {
                           --_control_in_flight;
                           if (r.classification.condition != TapeCondition::good) {
                             release_drive();
                             refuse(drive::stream_status(r.classification, r.result.timed_out),
                                    "cannot go to end of data: " +
                                        std::string{scsi::condition_name(r.classification.condition)});
                             return;
                           }
                           if (_input_closed) {
                             release_drive();
                             return;
                           }
                           begin(std::nullopt);
                         });
}

void Connection::end_of_write(const proto::End& m) {
  if (!_write || _end_received || _source) {
    refuse(proto::Status::out_of_sequence, "END outside a write stream", true);
    return;
  }
  _end_received = true;
  if (_write_reported) {  // the stream had already failed and said so; its end is now clean
    _ended_writes.push_back(std::move(_write));
    _end_received = false;
    _write_reported = false;
    finish_request();
    return;
  }
  if (_write->closed()) {  // a failure stopped the stream; its outcome, on its way, reports it
    return;
  }
  if (m.bytes != _write->bytes_received()) {
    _end_bytes_mismatch = m.bytes;
    _write->abandon();
    return;
  }
  _write->finish();
}

void Connection::write_done(const drive::StreamOutcome& outcome) {
  if (filling_buffers()) {
    _pending_outcome = outcome;
    if (_source) {
      _source->stop([this] { settle_pending_stream(); });
    }
    return;
  }
  auto* slot = _slot;
  _slot = nullptr;
  if (slot != nullptr) {
    slot->release();
  }
  const auto name = slot != nullptr ? slot->name() : std::string{"?"};
  if (outcome.status == proto::Status::ok) {
    spdlog::info("drive {}: file {} committed: {}", name, outcome.file_number, position_text(outcome));
    reply(proto::Committed{outcome.bytes, outcome.blocks, outcome.file_number, _block_size,
                           outcome.early_warning ? TS_COMMITTED_EARLY_WARNING : 0U, {}});
  } else if (outcome.status == proto::Status::client_gone && !_end_bytes_mismatch &&
             _source_error.empty()) {
    spdlog::warn("drive {}: the client of file {} went away; {} are on the tape{}", name,
                 outcome.file_number, position_text(outcome),
                 outcome.filemark_written ? ", closed by a filemark" : "");
  } else {
    auto status = outcome.status;
    auto message = outcome.message;
    if (_end_bytes_mismatch) {
      status = proto::Status::bad_request;
      message = "END says " + std::to_string(*_end_bytes_mismatch) + " bytes but " +
                std::to_string(_write->bytes_received()) + " arrived; the stream was not committed";
    } else if (!_source_error.empty()) {
      status = proto::Status::internal;
      message = _source_error + "; the stream was not committed";
    }
    spdlog::error("drive {}: file {} failed ({}): {}; {} are on the tape", name,
                  outcome.file_number, proto::status_name(status), message, position_text(outcome));
    if (!_input_closed) {
      reply(proto::StreamFailed{status,
                                static_cast<std::uint16_t>(outcome.filemark_written
                                                               ? TS_FAILED_FILEMARK_WRITTEN
                                                               : 0),
                                outcome.bytes, outcome.blocks, outcome.file_number,
                                message.substr(0, TS_MAX_MESSAGE)});
    }
  }
  _write_reported = true;
  // With fd passing no END comes: the stream's end is the request's (finish_request lets the
  // source go; it is idle, checked above).
  if (_end_received || _input_closed || outcome.status == proto::Status::ok || _source) {
    _ended_writes.push_back(std::move(_write));
    _end_received = false;
    _write_reported = false;
    _end_bytes_mismatch.reset();
    finish_request();
  }
}

void Connection::read(const proto::ReadRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  auto out_fd = claim_passed_fd((m.flags & TS_READ_FD) != 0, false);
  if (!out_fd) {
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping");
    return;
  }
  _request_active = true;
  _slot = slot;
  _progress_wanted = (m.flags & TS_READ_PROGRESS) != 0;
  if (*out_fd) {
    _sink = std::make_unique<FdSink>(_server.ring(), std::move(*out_fd));
  }
  _ticket = slot->acquire([this, m] {
    _ticket.reset();
    start_read(m);
  });
}

void Connection::start_read(const proto::ReadRequest& m) {
  _read = std::make_unique<drive::ReadStream>(
      _slot->transport(), _server.pool(), _server.timeouts(), _slot->stream_buffers(),
      _slot->identity().positioning, [this](const drive::StreamOutcome& o) { read_done(o); });
  _read->on_data([this] { pump_read(); });
  _read->start(m.file_number, [this, file = m.file_number] {
    spdlog::info("drive {}: connection {} reads file {}{}", _slot->name(), _id, file,
                 _sink ? " into a passed descriptor" : "");
    reply(proto::Ready{file, 0, 0});
    if (_sink) {
      _sink->start(*_read, [this](const std::string& error) {
        spdlog::warn("connection {}: {}", _id, error);
        _source_error = error;
        if (_read) {
          _read->abandon();
        }
      });
    }
  });
}

// One block at a time goes out: its DATA header, then the block from the registered buffer.
void Connection::pump_read() {
  report_progress();
  if (_sink) {
    _sink->resume();
    return;
  }
  if (!_read || _read_sending || _input_closed) {
    return;
  }
  auto block = _read->next();
  if (!block) {
    return;
  }
  _read_sending = true;
  const auto header = proto::data_header(_request_id, static_cast<std::uint32_t>(block->size()));
  send_bytes({header.begin(), header.end()});
  send_view(*block, [this] {
    _read_sending = false;
    if (_read) {
      _read->consumed();  // may report the outcome
    }
    pump_read();
  });
}

void Connection::read_done(const drive::StreamOutcome& outcome) {
  if (filling_buffers()) {
    _pending_outcome = outcome;
    if (_sink) {
      _sink->stop([this] { settle_pending_stream(); });
    }
    return;
  }
  auto* slot = _slot;
  _slot = nullptr;
  if (slot != nullptr) {
    slot->release();
  }
  if (!_input_closed) {
    if (outcome.status == proto::Status::ok) {
      reply(proto::End{outcome.bytes, outcome.blocks, {}});
    } else {
      const auto& message = _source_error.empty() ? outcome.message : _source_error;
      reply(proto::StreamFailed{_source_error.empty() ? outcome.status : proto::Status::internal,
                                0, outcome.bytes, outcome.blocks, outcome.file_number,
                                message.substr(0, TS_MAX_MESSAGE)});
    }
  }
  spdlog::info("drive {}: read of file {} ended ({}): {}", slot != nullptr ? slot->name() : "?",
               outcome.file_number, proto::status_name(outcome.status), position_text(outcome));
  _ended_reads.push_back(std::move(_read));
  finish_request();
}

void Connection::control(const proto::ControlRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (slot->busy()) {
    refuse(proto::Status::busy, "drive " + slot->name() + " is in use by a stream");
    return;
  }
  const bool immediate = (m.flags & TS_CONTROL_IMMEDIATE) != 0;
  const auto n = m.argument;
  std::optional<scsi::Command> command;
  std::vector<std::uint8_t> parameters;
  using Op = proto::ControlOp;
  using scsi::cdb::SpaceCode;
  auto positive = [&](std::int64_t v) { return v >= 1 && v <= INT32_MAX; };
  switch (m.op) {
    case Op::rewind:
      command = scsi::cdb::rewind(immediate);
      break;
    case Op::load:
      command = scsi::cdb::load_unload(scsi::cdb::LoadAction::load, immediate);
      break;
    case Op::eject:
      command = scsi::cdb::load_unload(scsi::cdb::LoadAction::unload, immediate);
      break;
    case Op::weof:
      if (n >= 0 && n <= scsi::Count24::max) {
        command = scsi::cdb::write_filemarks6(scsi::Count24::from(static_cast<std::uint64_t>(n)).value(),
                                              false);
      }
      break;
    case Op::fsf:
    case Op::bsf:
    case Op::fsr:
    case Op::bsr:
      if (positive(n)) {
        const bool files = m.op == Op::fsf || m.op == Op::bsf;
        const bool back = m.op == Op::bsf || m.op == Op::bsr;
        command = slot->identity().positioning.space(files ? SpaceCode::filemarks : SpaceCode::blocks,
                                                     back ? -n : n);
      }
      break;
    case Op::eod:
      command = slot->identity().positioning.space(SpaceCode::end_of_data, 0);
      break;
    case Op::tell:
      break;  // only the position
    case Op::seek:
      if (n >= 0) {
        command = slot->identity().positioning.locate_block(static_cast<std::uint64_t>(n), immediate);
      }
      break;
    case Op::erase:
      command = scsi::cdb::erase6(n != 0, immediate);
      break;
    case Op::setblk:
      if (n >= 0 && n <= slot->identity().max_block_length) {
        if (auto list = scsi::mode_select6_parameters(
                scsi::BlockDescriptor{0, 0, static_cast<std::uint32_t>(n)}, {})) {
          parameters = list.value();
          command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(parameters.size()));
        }
      }
      break;
    case Op::compression:
      if (n == 0 || n == 1) {
        const auto page = scsi::DataCompressionPage::make(n == 1);
        const std::span<const std::uint8_t> pages[] = {page.bytes()};
        if (auto list = scsi::mode_select6_parameters(std::nullopt, pages)) {
          parameters = list.value();
          command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(parameters.size()));
        }
      }
      break;
  }
  if (!command && m.op != Op::tell) {
    refuse(proto::Status::bad_request, "argument " + std::to_string(n) + " is out of range for this operation");
    return;
  }
  _request_active = true;
  _slot = slot;
  ++_control_in_flight;
  (void)slot->acquire([] {});  // free, as checked above: held for the operation
  auto tell = [this] {
    const auto form = _slot->identity().positioning.position_form();
    _server.commands().run(*_slot, scsi::cdb::read_position(form), [this, form](const auto& r) {
      proto::ControlDone done;
      if (auto p = scsi::parse_read_position(form, r.data);
          r.classification.condition == TapeCondition::good && p) {
        done.block_number = p.value().first_logical_object.value_or(0);
        done.file_number = p.value().logical_file.value_or(0);
        done.state = position_state(p.value());
      }
      --_control_in_flight;
      release_drive();
      if (!_input_closed) {
        reply(done);
      }
      finish_request();
    });
  };
  if (!command) {
    tell();
    return;
  }
  _server.commands().run(
      *_slot, *command,
      [this, tell](const auto& r) {
        const auto condition = r.classification.condition;
        if (condition == TapeCondition::good) {
          tell();
          return;
        }
        --_control_in_flight;
        release_drive();
        auto status = drive::stream_status(r.classification, r.result.timed_out);
        if (condition == TapeCondition::end_of_data || condition == TapeCondition::beginning_of_medium ||
            condition == TapeCondition::filemark) {
          status = proto::Status::end_of_data;
        }
        std::string message = "the drive answered " + std::string{scsi::condition_name(condition)};
        if (r.classification.residue) {
          message += "; " + std::to_string(*r.classification.residue) + " not done";
        }
        if (!_input_closed) {
          refuse(status, message);
        } else {
          finish_request();
        }
      },
      parameters);
}

}  // namespace tapestream::server
