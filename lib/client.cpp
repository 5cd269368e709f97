// The C API's handle, errors, drives, status and control (tapestream.h).
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "handle.hpp"

namespace tapestream::lib {

int fail(ts_client* client, const client::Failure& failure) {
  if (failure.status == proto::Status::unreachable || client->connection.out_of_step()) {
    client->broken = true;
  }
  client->last_error = failure.message;
  client->daemon_message = failure.daemon_message;
  return failure.system_error != 0 ? -failure.system_error : lib::code(failure.status);
}

int fail(ts_client* client, proto::Status status, std::string message) {
  return fail(client, client::Failure{status, std::move(message)});
}

int fail_errno(ts_client* client, int error, std::string message) {
  client->last_error = std::move(message) + ": " + std::strerror(error);
  return -error;
}

int usable(ts_client* client) {
  if (client == nullptr) {
    return -EINVAL;
  }
  if (client->broken) {
    return fail(client, proto::Status::unreachable,
                "the connection to tapestreamd is lost; connect again");
  }
  if (client->stream != nullptr) {
    client->last_error = "a stream is open on this handle: commit, abort or finish it first";
    return -EBUSY;
  }
  client->last_error.clear();
  client->daemon_message.clear();
  return 0;
}

std::optional<std::string> text_argument(const char* text, std::size_t limit) {
  if (text == nullptr) {
    return std::string{};
  }
  const auto length = ::strnlen(text, limit + 1);
  if (length > limit) {
    return std::nullopt;
  }
  return std::string{text, length};
}

client::Result<std::string> pick_drive(ts_client* client, const char* wanted) {
  const auto name = text_argument(wanted, TS_MAX_DRIVE_NAME);
  if (!name || (!name->empty() && !proto::valid_drive_name(*name))) {
    return client::Failure{proto::Status::bad_request,
                           "a drive name is 1 to 32 of A-Z a-z 0-9 . _ -"};
  }
  if (!name->empty()) {
    return *name;
  }
  auto& c = client->connection;
  BOOST_OUTCOME_TRY(c.send(proto::ListDrives{}));
  BOOST_OUTCOME_TRY(reply, c.receive());
  const auto* list = std::get_if<proto::DriveList>(&reply.message);
  if (list == nullptr) {
    return unexpected(reply.message, "listing the drives");
  }
  if (list->drives.size() != 1) {
    return client::Failure{proto::Status::unknown_drive,
                           list->drives.empty() ? "the daemon serves no drive"
                                                : "the daemon serves several drives: name one"};
  }
  return list->drives.front();
}

client::Failure unexpected(const proto::Message& reply, const char* what) {
  if (const auto* e = std::get_if<proto::Error>(&reply)) {
    client::Failure failure{e->status, std::string{what} + ": " + e->message};
    failure.daemon_message = e->message;
    return failure;
  }
  if (const auto* f = std::get_if<proto::StreamFailed>(&reply)) {
    client::Failure failure{f->status, std::string{what} + ": " + f->message, *f};
    failure.daemon_message = f->message;
    return failure;
  }
  // Out of step with the daemon: the unreachable status marks the handle broken.
  return {proto::Status::unreachable,
          std::string{what} + ": tapestreamd answered with an unexpected message"};
}

void report_progress(ts_client* client, const proto::Progress& p) {
  if (client->progress == nullptr) {
    return;
  }
  ProgressReport report{};
  report.progress = {p.bytes, p.on_tape, p.buffers_full, p.buffers};
  if (const auto& t = p.telemetry) {
    report.has_telemetry = true;
    auto& out = report.telemetry;
    out.struct_size = sizeof out;
    out.state = t->state;
    out.owner_uid = t->owner_uid;
    out.owner_since = t->owner_since;
    out.drive_waited_ns = t->drive_waited_ns;
    out.backhitches = t->backhitches;
    out.rate_now = t->rate_now;
    out.rate_average = t->rate_average;
    out.fill_now_permille = t->fill_now;
    out.fill_min_permille = t->fill_min;
  }
  client->progress(&report.progress, client->progress_context);
}

}  // namespace tapestream::lib

using namespace tapestream;
using lib::fail;
using lib::guarded;

namespace {
thread_local std::string connect_error;
}

extern "C" {

int ts_connect(const char* socket_path, const char* client_name, ts_client** out) {
  if (out == nullptr) {
    return -EINVAL;
  }
  *out = nullptr;
  try {
    connect_error.clear();
    std::string path;
    if (socket_path != nullptr) {
      path = socket_path;
    } else if (const char* env = std::getenv("TAPESTREAM_SOCKET"); env != nullptr && *env != 0) {
      path = env;
    } else {
      path = TS_PROTO_DEFAULT_SOCKET;
    }
    const auto name = lib::text_argument(client_name, TS_MAX_PEER_NAME);
    if (!name || !proto::valid_utf8(*name)) {
      connect_error = "the client name is at most 126 bytes of UTF-8";
      return -EINVAL;
    }
    auto c = client::Connection::open(path, name->empty() ? "libtapestream " TAPESTREAM_VERSION
                                                          : *name);
    if (!c) {
      connect_error = c.error().message;
      return c.error().system_error != 0 ? -c.error().system_error : lib::code(c.error().status);
    }
    *out = new ts_client{std::move(c).value()};
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (...) {
    return lib::code(proto::Status::internal);
  }
}

const char* ts_connect_error(void) { return connect_error.c_str(); }

void ts_close(ts_client* client) {
  if (client == nullptr) {
    return;
  }
  delete client->stream;  // the daemon sees the connection close: an unfinished write is lost
  delete client;
}

const char* ts_last_error(const ts_client* client) {
  return client == nullptr ? "" : client->last_error.c_str();
}

const char* ts_daemon_message(const ts_client* client) {
  return client == nullptr ? "" : client->daemon_message.c_str();
}

uint32_t ts_features(const ts_client* client) {
  return client == nullptr ? 0 : client->connection.features();
}

const char* ts_server_name(const ts_client* client) {
  return client == nullptr ? "" : client->connection.server().c_str();
}

const char* ts_version(void) { return TAPESTREAM_VERSION; }

int ts_progress_telemetry(const struct ts_progress* progress, struct ts_telemetry* out) {
  if (progress == nullptr || !lib::sized(out)) {
    return -EINVAL;
  }
  // The callback's argument is the first member of the library's report (handle.hpp).
  const auto* report = reinterpret_cast<const lib::ProgressReport*>(progress);
  if (!report->has_telemetry) {
    return -ENODATA;
  }
  lib::deliver(out, report->telemetry);
  return 0;
}

int ts_set_progress(ts_client* client, ts_progress_fn fn, void* context) {
  if (client == nullptr) {
    return -EINVAL;
  }
  client->progress = fn;
  client->progress_context = context;
  return 0;
}

int ts_list_drives(ts_client* client, ts_drive_fn each, void* context) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    auto& c = client->connection;
    if (auto sent = c.send(proto::ListDrives{}); !sent) {
      return fail(client, sent.error());
    }
    auto reply = c.receive();
    if (!reply) {
      return fail(client, reply.error());
    }
    const auto* list = std::get_if<proto::DriveList>(&reply.value().message);
    if (list == nullptr) {
      return fail(client, lib::unexpected(reply.value().message, "listing the drives"));
    }
    for (const auto& drive : list->drives) {
      if (each != nullptr) {
        if (const int stop = each(drive.c_str(), context); stop != 0) {
          return stop;
        }
      }
    }
    return static_cast<int>(list->drives.size());
  });
}

int ts_status(ts_client* client, const char* drive, struct ts_drive_status* out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (!lib::sized(out, offsetof(ts_drive_status, has_health))) {
      return fail(client, proto::Status::bad_request, "ts_status: set struct_size with TS_INIT");
    }
    auto name = lib::pick_drive(client, drive);
    if (!name) {
      return fail(client, name.error());
    }
    auto& c = client->connection;
    if (auto sent = c.send(proto::StatusRequest{name.value()}); !sent) {
      return fail(client, sent.error());
    }
    auto reply = c.receive();
    if (!reply) {
      return fail(client, reply.error());
    }
    const auto* s = std::get_if<proto::DriveStatus>(&reply.value().message);
    if (s == nullptr) {
      return fail(client, lib::unexpected(reply.value().message, "status"));
    }
    ts_drive_status filled;
    std::memset(&filled, 0, sizeof filled);
    filled.state = s->state;
    filled.block_size = s->block_size;
    filled.max_block_length = s->max_block_length;
    filled.density_code = s->density_code;
    filled.block_number = s->block_number;
    filled.file_number = s->file_number;
    filled.tape_alerts = s->tape_alerts;
    filled.capacity_mib = s->capacity_mib;
    filled.remaining_mib = s->remaining_mib;
    filled.state_age_ms = s->state_age_ms;
    filled.drive_state = s->drive_state;
    filled.known = s->known;
    lib::copy_text(filled.drive, s->drive);
    lib::copy_text(filled.transport, s->transport);
    lib::copy_text(filled.vendor, s->vendor);
    lib::copy_text(filled.product, s->product);
    lib::copy_text(filled.revision, s->revision);
    lib::copy_text(filled.serial, s->serial);
    lib::copy_text(filled.medium_serial, s->medium_serial);
    if (s->health) {
      const auto& h = *s->health;
      filled.has_health = 1;
      filled.health_known = h.known;
      filled.loads = h.loads;
      filled.mb_written_load = h.mb_written_load;
      filled.mb_read_load = h.mb_read_load;
      filled.mb_written_life = h.mb_written_life;
      filled.mb_read_life = h.mb_read_life;
      filled.write_retries = h.write_retries;
      filled.read_retries = h.read_retries;
      filled.write_errors = h.write_errors;
      filled.read_errors = h.read_errors;
      filled.block_in_file = h.block_in_file;
      filled.cleaning = h.cleaning;
      lib::copy_text(filled.density_name, h.density_name);
    }
    lib::deliver(out, filled);
    return 0;
  });
}

int ts_control(ts_client* client, const char* drive, int op, int64_t argument, uint32_t flags,
               struct ts_position* out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (op < TS_CTL_REWIND || op > TS_CTL_COMPRESSION) {
      return fail(client, proto::Status::bad_request, "ts_control: unknown operation");
    }
    if (flags > 0xFFFF) {
      return fail(client, proto::Status::bad_request, "ts_control: unknown flags");
    }
    if (out != nullptr && !lib::sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_control: set struct_size with TS_INIT");
    }
    auto name = lib::pick_drive(client, drive);
    if (!name) {
      return fail(client, name.error());
    }
    auto& c = client->connection;
    const proto::ControlRequest request{static_cast<proto::ControlOp>(op),
                                        static_cast<std::uint16_t>(flags), argument, name.value()};
    if (auto sent = c.send(request); !sent) {
      return fail(client, sent.error());
    }
    auto reply = c.receive();
    if (!reply) {
      return fail(client, reply.error());
    }
    const auto* done = std::get_if<proto::ControlDone>(&reply.value().message);
    if (done == nullptr) {
      return fail(client, lib::unexpected(reply.value().message, "control"));
    }
    if (out != nullptr) {
      out->block_number = done->block_number;
      out->file_number = done->file_number;
      out->state = done->state;
    }
    return 0;
  });
}

}  // extern "C"
