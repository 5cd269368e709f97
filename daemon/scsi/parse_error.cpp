#include "scsi/parse_error.hpp"

#include <string>

namespace tapestream::scsi {
namespace {

class ParseErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "scsi-parse"; }
  std::string message(int value) const override {
    switch (static_cast<ParseError>(value)) {
      case ParseError::truncated:
        return "response truncated";
      case ParseError::wrong_page:
        return "response is not the page or form requested";
      case ParseError::bad_length:
        return "length field contradicts the response";
      case ParseError::unsupported_format:
        return "unsupported response format";
    }
    return "unknown SCSI parse error";
  }
};

}  // namespace

const std::error_category& parse_error_category() {
  static const ParseErrorCategory category;
  return category;
}

}  // namespace tapestream::scsi
