#include "base/log_fields.hpp"

namespace tapestream {
namespace {

thread_local std::span<const LogField> current;

}  // namespace

LogFieldScope::LogFieldScope(std::span<const LogField> fields) : _previous{current} {
  current = fields;
}

LogFieldScope::~LogFieldScope() { current = _previous; }

std::span<const LogField> current_log_fields() { return current; }

}  // namespace tapestream
