# Warning, sanitizer and fuzzer flags, attached to one INTERFACE target.

function(tapestream_apply_flags target)
  target_compile_options(${target} INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough -Wdouble-promotion -Wformat=2)
  # Not -Wnull-dereference: at -O2 GCC 12 reports it inside libstdc++ strings (program_options).

  if(TAPESTREAM_WERROR)
    target_compile_options(${target} INTERFACE -Werror)
  endif()

  set(sanitizers "")
  if(TAPESTREAM_SANITIZE)
    set(sanitizers "address,undefined")
  endif()
  if(TAPESTREAM_TSAN)
    if(TAPESTREAM_SANITIZE OR TAPESTREAM_FUZZ)
      message(FATAL_ERROR "TAPESTREAM_TSAN cannot be combined with ASan (TAPESTREAM_SANITIZE, TAPESTREAM_FUZZ)")
    endif()
    set(sanitizers "thread")
  endif()
  if(TAPESTREAM_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      message(FATAL_ERROR "TAPESTREAM_FUZZ needs clang (libFuzzer); set CMAKE_CXX_COMPILER=clang++")
    endif()
    set(sanitizers "fuzzer-no-link,address,undefined")
  endif()
  if(sanitizers)
    # _GLIBCXX_ASSERTIONS bounds-checks std::span and std::vector indexing, so that a parser
    # reading past a drive's response aborts even where ASan's redzones would not notice.
    target_compile_options(${target} INTERFACE
      -fsanitize=${sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_compile_definitions(${target} INTERFACE _GLIBCXX_ASSERTIONS)
    string(REPLACE "fuzzer-no-link," "" link_sanitizers "${sanitizers}")
    target_link_options(${target} INTERFACE -fsanitize=${link_sanitizers} -fno-sanitize-recover=all)
  endif()
endfunction()
