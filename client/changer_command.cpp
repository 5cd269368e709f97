// tapestream changer: a library's elements (status, inventory) and moves of its cartridges (load,
// unload, transfer), through CHANGER_STATUS and CHANGER_MOVE. Slots are numbered from 1 with the
// import/export slots after the storage slots, drives by the daemon's names, as mtx numbers
// them, so that a slot number means the same here and in mtx's output.
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

using Json = nlohmann::ordered_json;

struct Elements {
  std::string library;  // the library's name, as the daemon calls it
  std::vector<ts_element> list;
};

int collect(const char* library, const ts_element* element, void* context) {
  auto* into = static_cast<Elements*>(context);
  into->library = library;
  into->list.push_back(*element);
  return 0;
}

Result<Elements> elements_of(ts_client* c, const std::string& library) {
  Elements elements;
  if (const int r = ts_changer_status(c, library.c_str(), collect, &elements); r < 0) {
    return lib_failure(c, r, "changer status");
  }
  return elements;
}

const char* kind_name(std::uint8_t kind) {
  return kind == TS_ELEMENT_DRIVE ? "drive" : kind == TS_ELEMENT_IMPORT_EXPORT ? "import/export" : "slot";
}

bool full(const ts_element& e) { return (e.flags & TS_ELEMENT_FULL) != 0; }

std::string where(const ts_element& e) {
  if (e.kind == TS_ELEMENT_DRIVE) {
    return "drive " + (e.drive[0] == '\0' ? std::to_string(e.number) : std::string{e.drive});
  }
  return std::string{kind_name(e.kind)} + " " + std::to_string(e.number);
}

Json element_json(const ts_element& e) {
  Json j;
  j["kind"] = kind_name(e.kind);
  j["number"] = e.number;
  j["address"] = e.address;
  j["drive"] = e.kind == TS_ELEMENT_DRIVE && e.drive[0] != '\0' ? Json(e.drive) : Json(nullptr);
  j["full"] = full(e);
  j["barcode"] = full(e) && e.barcode[0] != '\0' ? Json(e.barcode) : Json(nullptr);
  j["source"] = e.source != 0 ? Json(e.source) : Json(nullptr);
  j["exception"] = (e.flags & TS_ELEMENT_EXCEPTION) != 0;
  return j;
}

std::string contents(const ts_element& e) {
  if (!full(e)) {
    return "empty";
  }
  std::string text = "full " + (e.barcode[0] == '\0' ? std::string{"(no barcode)"} : std::string{e.barcode});
  if (e.source != 0) {
    text += " (from slot " + std::to_string(e.source) + ")";
  }
  return text;
}

Result<std::uint32_t> slot_number(const std::string& text) {
  std::uint32_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc{} || end != text.data() + text.size() || n == 0) {
    return Failure{TS_BAD_REQUEST,
                           "changer: \"" + text + "\" is not a slot number (1, 2, ...)"};
  }
  return n;
}

Result<void> print_elements(ts_client* c, const Globals& g, const std::string& library,
                            bool inventory) {
  BOOST_OUTCOME_TRY(found, elements_of(c, library));
  const auto& name = found.library;
  const auto& elements = found.list;
  if (g.json) {
    Json list = Json::array();
    for (const auto& e : elements) {
      if (!inventory || full(e)) {
        list.push_back(element_json(e));
      }
    }
    Json out;
    out["library"] = name;
    out[inventory ? "cartridges" : "elements"] = std::move(list);
    std::printf("%s\n", out.dump().c_str());
    return outcome::success();
  }
  if (inventory) {
    for (const auto& e : elements) {
      if (full(e)) {
        std::printf("%-16s %s\n", e.barcode[0] == '\0' ? "(no barcode)" : e.barcode,
                    where(e).c_str());
      }
    }
    return outcome::success();
  }
  std::size_t slots = 0, mail = 0, drives = 0;
  for (const auto& e : elements) {
    (e.kind == TS_ELEMENT_DRIVE ? drives : e.kind == TS_ELEMENT_SLOT ? slots : mail) += 1;
  }
  std::printf("library %s: %zu drives, %zu slots, %zu import/export slots\n", name.c_str(), drives,
              slots, mail);
  for (const auto& e : elements) {
    std::printf("%-24s %s\n", (where(e) + ":").c_str(), contents(e).c_str());
  }
  return outcome::success();
}

// Without --drive: load into the first empty drive, unload the first full one.
Result<std::string> default_drive(ts_client* c, const std::string& library, bool want_full) {
  BOOST_OUTCOME_TRY(found, elements_of(c, library));
  const auto& name = found.library;
  for (const auto& e : found.list) {
    if (e.kind == TS_ELEMENT_DRIVE && e.drive[0] != '\0' && full(e) == want_full) {
      return std::string{e.drive};
    }
  }
  return Failure{want_full ? TS_NO_MEDIUM : TS_BUSY,
                         want_full ? "changer unload: no drive of library " + name + " holds a cartridge"
                                   : "changer load: every drive of library " + name +
                                         " holds a cartridge; name one with --drive"};
}

}  // namespace

Result<void> changer_command(ts_client* c, const Globals& g, const std::string& library,
                             const std::vector<std::string>& args) {
  const auto& verb = args.at(0);
  if (verb == "status" || verb == "inventory") {
    return print_elements(c, g, library, verb == "inventory");
  }
  unsigned op = TS_CHANGER_TRANSFER;
  std::uint32_t slot = 0;
  std::uint32_t to_slot = 0;
  if (verb == "load") {
    op = TS_CHANGER_LOAD;
    BOOST_OUTCOME_TRY(n, slot_number(args.at(1)));
    slot = n;
  } else if (verb == "unload") {
    op = TS_CHANGER_UNLOAD;
    if (args.size() > 1) {
      BOOST_OUTCOME_TRY(n, slot_number(args[1]));
      slot = n;
    }
  } else {
    BOOST_OUTCOME_TRY(from, slot_number(args.at(1)));
    BOOST_OUTCOME_TRY(to, slot_number(args.at(2)));
    slot = from;
    to_slot = to;
  }
  std::string drive;
  if (op != TS_CHANGER_TRANSFER) {
    if (g.drive.empty()) {
      BOOST_OUTCOME_TRY(chosen, default_drive(c, library, op == TS_CHANGER_UNLOAD));
      drive = chosen;
    } else {
      drive = g.drive;
    }
  }
  ts_element from;
  ts_element to;
  TS_INIT(struct ts_element, &from);
  TS_INIT(struct ts_element, &to);
  if (const int r = ts_changer_move(c, library.c_str(), op, slot, to_slot,
                                    op == TS_CHANGER_TRANSFER ? nullptr : drive.c_str(), &from, &to);
      r < 0) {
    return lib_failure(c, r, "changer " + verb);
  }
  if (g.json) {
    Json out;
    out["from"] = element_json(from);
    out["to"] = element_json(to);
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s: %s from %s to %s\n", verb.c_str(),
                to.barcode[0] == '\0' ? "cartridge" : to.barcode, where(from).c_str(),
                where(to).c_str());
  }
  return outcome::success();
}

// Usage errors of `changer ...`, before the daemon is asked anything.
Result<void> check_changer_arguments(const std::vector<std::string>& args) {
  const auto usage = [](const std::string& why) {
    return Failure{TS_BAD_REQUEST,
                           "changer: " + why +
                               " (status | inventory | load SLOT | unload [SLOT] | transfer FROM TO)"};
  };
  if (args.empty()) {
    return usage("which subcommand?");
  }
  const auto& verb = args[0];
  std::size_t min = 0, max = 0;
  if (verb == "load") {
    min = max = 1;
  } else if (verb == "unload") {
    max = 1;
  } else if (verb == "transfer") {
    min = max = 2;
  } else if (verb != "status" && verb != "inventory") {
    return usage("unknown subcommand \"" + verb + "\"");
  }
  if (args.size() - 1 < min || args.size() - 1 > max) {
    return usage(verb + " takes " + std::to_string(min) + (max > min ? " or " + std::to_string(max) : "") +
                 " argument(s)");
  }
  return outcome::success();
}

}  // namespace tapestream::cli
