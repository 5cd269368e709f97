// The options of an emulated device's spec ("PATH?key=value&key=value"), one at a time, with
// the number forms every emulated spec takes; a bad one throws StartupError naming the spec,
// the option and what it accepts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tapestream::emulated {

class SpecOptions {
 public:
  // `what` names the device in messages ("emulated drive", "emulated library").
  SpecOptions(std::string_view spec, std::string_view what, std::string_view options)
      : _spec{spec}, _what{what}, _rest{options} {}

  // Moves to the next option; false when there is none left.
  bool next();
  std::string_view key() const { return _key; }
  std::string_view value() const { return _value; }

  // The value as a count, or as a size with K, M, G or T (powers of 1024) when `with_unit`.
  std::uint64_t number(bool with_unit = false) const { return number_in(_value, with_unit); }
  // The same for a part of the value (a field of a compound value such as FLAG@BYTES).
  std::uint64_t number_in(std::string_view text, bool with_unit) const;
  // The value as a duration: a number of ms or s ("500ms", "2s").
  std::chrono::milliseconds duration() const;

  [[noreturn]] void fail(const std::string& why) const;

 private:
  std::string_view _spec;
  std::string_view _what;
  std::string_view _rest;
  std::string_view _key;
  std::string_view _value;
};

}  // namespace tapestream::emulated
