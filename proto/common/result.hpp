// The result type of every fallible operation in the daemon: a value or a std::error_code.
#pragma once

#include <boost/outcome/std_result.hpp>
#include <boost/outcome/try.hpp>

namespace tapestream {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

template <class T>
using Result = outcome::std_result<T>;

}  // namespace tapestream
