#include "emulated/spec_options.hpp"

#include <charconv>
#include <limits>

#include "base/startup_error.hpp"

namespace tapestream::emulated {

bool SpecOptions::next() {
  if (_rest.empty()) {
    return false;
  }
  const auto amp = _rest.find('&');
  const auto option = _rest.substr(0, amp);
  _rest = amp == std::string_view::npos ? std::string_view{} : _rest.substr(amp + 1);
  const auto eq = option.find('=');
  if (eq == std::string_view::npos) {
    fail("option \"" + std::string{option} + "\" needs a value (key=value)");
  }
  _key = option.substr(0, eq);
  _value = option.substr(eq + 1);
  return true;
}

void SpecOptions::fail(const std::string& why) const {
  throw StartupError{std::string{_what} + " \"" + std::string{_spec} + "\": " + why};
}

std::uint64_t SpecOptions::number_in(std::string_view text, bool with_unit) const {
  const auto whole = std::string{_key} + "=" + std::string{text};
  std::uint64_t n = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc{} || ptr == text.data()) {
    fail(whole + " is not a number");
  }
  const std::string_view unit{ptr, static_cast<std::size_t>(end - ptr)};
  unsigned shift = 0;
  if (with_unit && unit.size() == 1) {
    switch (unit[0]) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      case 'T': case 't': shift = 40; break;
      default: fail(std::string{_key} + ": unit must be K, M, G or T");
    }
  } else if (!unit.empty()) {
    fail(whole + " is not a number");
  }
  if (n > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    fail(std::string{_key} + " is too large");
  }
  return n << shift;
}

std::chrono::milliseconds SpecOptions::duration() const {
  const auto whole = std::string{_key} + "=" + std::string{_value};
  std::uint64_t n = 0;
  const auto* end = _value.data() + _value.size();
  auto [ptr, ec] = std::from_chars(_value.data(), end, n);
  // Seconds may have a fraction down to the millisecond ("2.5s").
  std::uint64_t fraction_ms = 0;
  if (ec == std::errc{} && ptr != end && *ptr == '.') {
    const auto* digits = ++ptr;
    for (std::uint64_t scale = 100; ptr != end && *ptr >= '0' && *ptr <= '9'; ++ptr, scale /= 10) {
      fraction_ms += scale * static_cast<std::uint64_t>(*ptr - '0');
    }
    if (ptr == digits || ptr - digits > 3) {
      ec = std::errc::invalid_argument;
    }
  }
  const std::string_view unit{ptr, static_cast<std::size_t>(end - ptr)};
  // An hour bounds every wait an emulated device makes; more is a typo.
  constexpr std::uint64_t hour_ms = 3'600'000;
  if (ec != std::errc{} || ptr == _value.data() || (unit != "ms" && unit != "s") ||
      n > (unit == "s" ? hour_ms / 1000 : hour_ms) || (fraction_ms != 0 && unit != "s")) {
    fail(whole + ": must be a duration of at most an hour, in ms or s (500ms, 2s, 2.5s)");
  }
  return std::chrono::milliseconds{unit == "s" ? n * 1000 + fraction_ms : n};
}

}  // namespace tapestream::emulated
