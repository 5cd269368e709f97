// The C++ layer of libtapestream: RAII handles over the C API (tapestream.h), header-only so
// that no C++ symbol crosses the library's ABI. Failures throw tapestream::error, which carries
// the C code and the daemon's message.
#ifndef TAPESTREAM_TAPESTREAM_HPP
#define TAPESTREAM_TAPESTREAM_HPP

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tapestream.h"

namespace tapestream {

class error : public std::runtime_error {
 public:
  error(int code, const std::string& message)
      : std::runtime_error{message.empty() ? std::string{ts_strerror(code)} : message}, _code{code} {}
  int code() const noexcept { return _code; }
  // The ts_status behind the code, or -1 when it is an errno.
  int status() const noexcept { return TS_ERROR_STATUS(_code); }

 private:
  int _code;
};

namespace detail {
struct client_deleter {
  void operator()(ts_client* c) const noexcept { ts_close(c); }
};
}  // namespace detail

template <class T>
T init() {
  T value;
  TS_INIT(T, &value);
  return value;
}

class client;

// A write in progress; destroyed without commit() it is aborted (not committed).
class write_stream {
 public:
  write_stream(write_stream&& other) noexcept : _client{other._client}, _stream{std::exchange(other._stream, nullptr)} {}
  write_stream& operator=(write_stream&&) = delete;
  ~write_stream() {
    if (_stream != nullptr) {
      ts_stream_abort(_stream, "the C++ write_stream was destroyed before commit");
    }
  }
  void write(const void* data, std::size_t length);
  // 1.1: waits for `fd` or the daemon (TS_WAIT_* bits, 0 on timeout); moves what waits in the
  // pipe `fd` by splice (bytes moved, 0: none now); the READY flags (TS_READY_FIXED).
  unsigned wait(int fd, int timeout_ms = -1);
  std::size_t splice(int fd, std::size_t max);
  std::uint32_t ready_flags() const noexcept { return ts_stream_ready_flags(_stream); }
  // 1.2, a write begun with TS_WRITE_SHARED: a free slot of the daemon's memory to produce into
  // (waits at most `timeout_ms`, -1: no limit; nothing on timeout), then submit() hands its first
  // `length` bytes over. Every slot but the last is submitted full (its capacity).
  std::optional<ts_slot> acquire(int timeout_ms = -1);
  void submit(const ts_slot& slot, std::size_t length);
  std::uint32_t slot_count() const noexcept { return ts_shared_slot_count(_stream); }
  ts_result commit();
  void abort(const std::string& reason) {
    ts_stream_abort(std::exchange(_stream, nullptr), reason.c_str());
  }

 private:
  friend class client;
  write_stream(ts_client* c, ts_stream* s) : _client{c}, _stream{s} {}
  ts_client* _client;
  ts_stream* _stream;
};

// A read in progress; destroyed before finish() it skips the rest of the file.
class read_stream {
 public:
  read_stream(read_stream&& other) noexcept : _client{other._client}, _stream{std::exchange(other._stream, nullptr)} {}
  read_stream& operator=(read_stream&&) = delete;
  ~read_stream() {
    if (_stream != nullptr) {
      ts_stream_finish(_stream, nullptr);
    }
  }
  // Bytes read into `into`; 0 at the file's end.
  std::size_t read(void* into, std::size_t capacity);
  // 1.4, a shared-buffer read (client::read_shared): the file's next block where it lies, the
  // caller's until give_back(); nullopt at the file's end. A timeout throws (-ETIMEDOUT).
  std::optional<ts_block> next(int timeout_ms = -1);
  void give_back(const ts_block& block);
  ts_result finish();

 private:
  friend class client;
  read_stream(ts_client* c, ts_stream* s) : _client{c}, _stream{s} {}
  ts_client* _client;
  ts_stream* _stream;
};

class client {
 public:
  // Connects (socket_path empty: $TAPESTREAM_SOCKET or the default socket) and says HELLO.
  static client connect(const std::string& socket_path = {}, const std::string& name = {}) {
    ts_client* c = nullptr;
    const int r = ts_connect(socket_path.empty() ? nullptr : socket_path.c_str(),
                             name.empty() ? nullptr : name.c_str(), &c);
    if (r != 0) {
      throw error{r, ts_connect_error()};
    }
    return client{c};
  }

  ts_client* get() const noexcept { return _handle.get(); }
  std::uint32_t features() const noexcept { return ts_features(get()); }
  // 1.1: the daemon's own words for the last failure ("" when it was not the daemon's).
  std::string daemon_message() const { return ts_daemon_message(get()); }

  std::vector<std::string> drives() {
    std::vector<std::string> names;
    check(ts_list_drives(get(), [](const char* d, void* ctx) {
      static_cast<std::vector<std::string>*>(ctx)->emplace_back(d);
      return 0;
    }, &names));
    return names;
  }
  ts_drive_status status(const std::string& drive = {}) {
    auto s = init<ts_drive_status>();
    check(ts_status(get(), drive.c_str(), &s));
    return s;
  }
  // A library's elements (TAPESTREAM_1.1); `library` empty: the daemon's only library.
  std::vector<ts_element> changer_status(const std::string& library = {}) {
    std::vector<ts_element> elements;
    check(ts_changer_status(get(), library.c_str(), [](const char*, const ts_element* e, void* ctx) {
      static_cast<std::vector<ts_element>*>(ctx)->push_back(*e);
      return 0;
    }, &elements));
    return elements;
  }
  // A move (TS_CHANGER_*): the source and destination elements as they are after it.
  std::pair<ts_element, ts_element> changer_move(unsigned operation, std::uint32_t slot,
                                                 std::uint32_t to_slot = 0,
                                                 const std::string& drive = {},
                                                 const std::string& library = {}) {
    auto from = init<ts_element>();
    auto to = init<ts_element>();
    check(ts_changer_move(get(), library.c_str(), operation, slot, to_slot, drive.c_str(), &from, &to));
    return {from, to};
  }
  ts_position control(int op, std::int64_t argument = 0, const std::string& drive = {},
                      std::uint32_t flags = 0) {
    auto p = init<ts_position>();
    check(ts_control(get(), drive.c_str(), op, argument, flags, &p));
    return p;
  }
  void on_progress(std::function<void(const ts_progress&)> fn) {
    _progress = std::make_unique<std::function<void(const ts_progress&)>>(std::move(fn));
    check(ts_set_progress(get(), [](const ts_progress* p, void* ctx) {
      (*static_cast<std::function<void(const ts_progress&)>*>(ctx))(*p);
    }, _progress.get()));
  }
  // 1.3: each committed part of a spanning write (TS_WRITE_SPAN), in order, as it happens;
  // `fn` runs inside the library's C calls and must not throw.
  void on_part(std::function<void(const ts_part&)> fn) {
    _part = std::make_unique<std::function<void(const ts_part&)>>(std::move(fn));
    check(ts_set_part_callback(get(), [](const ts_part* p, void* ctx) {
      (*static_cast<std::function<void(const ts_part&)>*>(ctx))(*p);
    }, _part.get()));
  }
  write_stream write(const ts_write_options& options, const std::string& drive = {}, int fd = -1) {
    ts_stream* s = nullptr;
    check(ts_write_begin(get(), drive.c_str(), &options, fd, &s));
    return write_stream{get(), s};
  }
  read_stream read(std::uint64_t file_number, const std::string& drive = {}, int fd = -1) {
    ts_stream* s = nullptr;
    check(ts_read_begin(get(), drive.c_str(), file_number, fd, &s));
    return read_stream{get(), s};
  }
  // 1.4: a read whose blocks the drive reads into slots shared with this process.
  read_stream read_shared(std::uint64_t file_number, const std::string& drive = {}) {
    ts_stream* s = nullptr;
    check(ts_read_shared_begin(get(), drive.c_str(), file_number, &s));
    return read_stream{get(), s};
  }
  ts_result write_fd(int fd, const ts_write_options& options, const std::string& drive = {}) {
    auto r = init<ts_result>();
    check(ts_write_fd(get(), drive.c_str(), &options, fd, &r));
    return r;
  }
  ts_result read_fd(std::uint64_t file_number, int fd, const std::string& drive = {}) {
    auto r = init<ts_result>();
    check(ts_read_fd(get(), drive.c_str(), file_number, fd, &r));
    return r;
  }
  std::string label(const std::string& name, std::uint32_t flags = 0, const std::string& drive = {}) {
    char uuid[TS_MAX_VOLUME_TEXT + 1];
    check(ts_label(get(), drive.c_str(), name.c_str(), flags, uuid, sizeof uuid));
    return uuid;
  }
  ts_verify_summary verify(std::uint64_t file_number, std::uint32_t flags = 0,
                           const std::string& drive = {}) {
    auto s = init<ts_verify_summary>();
    check(ts_verify(get(), drive.c_str(), file_number, flags, nullptr, nullptr, &s));
    return s;
  }
  // The catalog's files of a volume (empty: the cartridge in the drive).
  std::vector<ts_file> files(const std::string& volume = {}, const std::string& drive = {}) {
    std::vector<ts_file> all;
    check(ts_list_files(get(), drive.c_str(), volume.c_str(), [](const ts_volume*, const ts_file* f, void* ctx) {
      auto copy = *f;
      copy.label = copy.failure = nullptr;  // valid only during the callback
      static_cast<std::vector<ts_file>*>(ctx)->push_back(copy);
      return 0;
    }, &all));
    return all;
  }

  void check(int code) const {
    if (code < 0) {
      throw error{code, ts_last_error(get())};
    }
  }

 private:
  explicit client(ts_client* c) : _handle{c} {}
  std::unique_ptr<ts_client, detail::client_deleter> _handle;
  std::unique_ptr<std::function<void(const ts_progress&)>> _progress;
  std::unique_ptr<std::function<void(const ts_part&)>> _part;
};

inline void write_stream::write(const void* data, std::size_t length) {
  if (const int r = ts_stream_write(_stream, data, length); r != 0) {
    throw error{r, ts_last_error(_client)};
  }
}

inline unsigned write_stream::wait(int fd, int timeout_ms) {
  const int r = ts_stream_wait(_stream, fd, timeout_ms);
  if (r < 0) {
    throw error{r, ts_last_error(_client)};
  }
  return static_cast<unsigned>(r);
}

inline std::size_t write_stream::splice(int fd, std::size_t max) {
  const long r = ts_stream_splice(_stream, fd, max);
  if (r < 0) {
    throw error{static_cast<int>(r), ts_last_error(_client)};
  }
  return static_cast<std::size_t>(r);
}

inline std::optional<ts_slot> write_stream::acquire(int timeout_ms) {
  auto slot = init<ts_slot>();
  const int r = ts_shared_acquire(_stream, &slot, timeout_ms);
  if (r == -ETIMEDOUT) {
    return std::nullopt;
  }
  if (r != 0) {
    throw error{r, ts_last_error(_client)};
  }
  return slot;
}

inline void write_stream::submit(const ts_slot& slot, std::size_t length) {
  if (const int r = ts_shared_submit(_stream, slot.index, length); r != 0) {
    throw error{r, ts_last_error(_client)};
  }
}

inline ts_result write_stream::commit() {
  auto result = init<ts_result>();
  const int r = ts_stream_commit(std::exchange(_stream, nullptr), &result);
  if (r != 0) {
    throw error{r, ts_last_error(_client)};
  }
  return result;
}

inline std::size_t read_stream::read(void* into, std::size_t capacity) {
  const long r = ts_stream_read(_stream, into, capacity);
  if (r < 0) {
    throw error{static_cast<int>(r), ts_last_error(_client)};
  }
  return static_cast<std::size_t>(r);
}

inline std::optional<ts_block> read_stream::next(int timeout_ms) {
  auto block = init<ts_block>();
  const int r = ts_shared_next(_stream, &block, timeout_ms);
  if (r < 0) {
    throw error{r, ts_last_error(_client)};
  }
  return r == 1 ? std::optional<ts_block>{block} : std::nullopt;
}

inline void read_stream::give_back(const ts_block& block) {
  if (const int r = ts_shared_return(_stream, block.index); r != 0) {
    throw error{r, ts_last_error(_client)};
  }
}

inline ts_result read_stream::finish() {
  auto result = init<ts_result>();
  const int r = ts_stream_finish(std::exchange(_stream, nullptr), &result);
  if (r != 0) {
    throw error{r, ts_last_error(_client)};
  }
  return result;
}

}  // namespace tapestream

#endif  // TAPESTREAM_TAPESTREAM_HPP
