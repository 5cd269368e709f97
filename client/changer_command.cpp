// tapestream changer: a library's elements (status, inventory) and moves of its cartridges (load,
// unload, transfer), through CHANGER_STATUS and CHANGER_MOVE. Slots are numbered from 1 with the
// import/export slots after the storage slots, drives by the daemon's names, as mtx numbers
// them, so that a slot number means the same here and in mtx's output.
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <string>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

using Json = nlohmann::ordered_json;

client::Result<std::vector<proto::ChangerElement>> elements_of(client::Connection& c,
                                                              const std::string& library,
                                                              std::string& library_name) {
  BOOST_OUTCOME_TRY(c.send(proto::ChangerStatus{library}));
  std::vector<proto::ChangerElement> elements;
  for (;;) {
    BOOST_OUTCOME_TRY(reply, c.receive());
    const auto* frame = std::get_if<proto::ChangerElements>(&reply.message);
    if (frame == nullptr) {
      return failed(reply.message, "changer status");
    }
    library_name = frame->library;
    elements.insert(elements.end(), frame->elements.begin(), frame->elements.end());
    if ((frame->flags & TS_ELEMENTS_MORE) == 0) {
      return elements;
    }
  }
}

const char* kind_name(std::uint8_t kind) {
  return kind == TS_ELEMENT_DRIVE ? "drive" : kind == TS_ELEMENT_IMPORT_EXPORT ? "import/export" : "slot";
}

bool full(const proto::ChangerElement& e) { return (e.flags & TS_ELEMENT_FULL) != 0; }

std::string where(const proto::ChangerElement& e) {
  if (e.kind == TS_ELEMENT_DRIVE) {
    return "drive " + (e.drive.empty() ? std::to_string(e.number) : e.drive);
  }
  return std::string{kind_name(e.kind)} + " " + std::to_string(e.number);
}

Json element_json(const proto::ChangerElement& e) {
  Json j;
  j["kind"] = kind_name(e.kind);
  j["number"] = e.number;
  j["address"] = e.address;
  j["drive"] = e.kind == TS_ELEMENT_DRIVE && !e.drive.empty() ? Json(e.drive) : Json(nullptr);
  j["full"] = full(e);
  j["barcode"] = full(e) && !e.barcode.empty() ? Json(e.barcode) : Json(nullptr);
  j["source"] = e.source != 0 ? Json(e.source) : Json(nullptr);
  j["exception"] = (e.flags & TS_ELEMENT_EXCEPTION) != 0;
  return j;
}

std::string contents(const proto::ChangerElement& e) {
  if (!full(e)) {
    return "empty";
  }
  std::string text = "full " + (e.barcode.empty() ? std::string{"(no barcode)"} : e.barcode);
  if (e.source != 0) {
    text += " (from slot " + std::to_string(e.source) + ")";
  }
  return text;
}

client::Result<std::uint32_t> slot_number(const std::string& text) {
  std::uint32_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc{} || end != text.data() + text.size() || n == 0) {
    return client::Failure{proto::Status::bad_request,
                           "changer: \"" + text + "\" is not a slot number (1, 2, ...)"};
  }
  return n;
}

client::Result<void> print_elements(client::Connection& c, const Globals& g,
                                    const std::string& library, bool inventory) {
  std::string name;
  BOOST_OUTCOME_TRY(elements, elements_of(c, library, name));
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
        std::printf("%-16s %s\n", e.barcode.empty() ? "(no barcode)" : e.barcode.c_str(),
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
client::Result<std::string> default_drive(client::Connection& c, const std::string& library,
                                          bool want_full) {
  std::string name;
  BOOST_OUTCOME_TRY(elements, elements_of(c, library, name));
  for (const auto& e : elements) {
    if (e.kind == TS_ELEMENT_DRIVE && !e.drive.empty() && full(e) == want_full) {
      return e.drive;
    }
  }
  return client::Failure{want_full ? proto::Status::no_medium : proto::Status::busy,
                         want_full ? "changer unload: no drive of library " + name + " holds a cartridge"
                                   : "changer load: every drive of library " + name +
                                         " holds a cartridge; name one with --drive"};
}

}  // namespace

client::Result<void> changer_command(client::Connection& c, const Globals& g,
                                     const std::string& library,
                                     const std::vector<std::string>& args) {
  const auto& verb = args.at(0);
  if (verb == "status" || verb == "inventory") {
    return print_elements(c, g, library, verb == "inventory");
  }
  proto::ChangerMove move;
  move.library = library;
  if (verb == "load") {
    move.op = TS_CHANGER_LOAD;
    BOOST_OUTCOME_TRY(slot, slot_number(args.at(1)));
    move.slot = slot;
  } else if (verb == "unload") {
    move.op = TS_CHANGER_UNLOAD;
    if (args.size() > 1) {
      BOOST_OUTCOME_TRY(slot, slot_number(args[1]));
      move.slot = slot;
    }
  } else {
    move.op = TS_CHANGER_TRANSFER;
    BOOST_OUTCOME_TRY(from, slot_number(args.at(1)));
    BOOST_OUTCOME_TRY(to, slot_number(args.at(2)));
    move.slot = from;
    move.to_slot = to;
  }
  if (move.op != TS_CHANGER_TRANSFER) {
    if (g.drive.empty()) {
      BOOST_OUTCOME_TRY(drive, default_drive(c, library, move.op == TS_CHANGER_UNLOAD));
      move.drive = drive;
    } else {
      move.drive = g.drive;
    }
  }
  BOOST_OUTCOME_TRY(c.send(move));
  BOOST_OUTCOME_TRY(reply, c.receive());
  const auto* moved = std::get_if<proto::ChangerMoved>(&reply.message);
  if (moved == nullptr) {
    return failed(reply.message, ("changer " + verb).c_str());
  }
  if (g.json) {
    Json out;
    out["from"] = element_json(moved->from);
    out["to"] = element_json(moved->to);
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s: %s from %s to %s\n", verb.c_str(),
                moved->to.barcode.empty() ? "cartridge" : moved->to.barcode.c_str(),
                where(moved->from).c_str(), where(moved->to).c_str());
  }
  return outcome::success();
}

// Usage errors of `changer ...`, before the daemon is asked anything.
client::Result<void> check_changer_arguments(const std::vector<std::string>& args) {
  const auto usage = [](const std::string& why) {
    return client::Failure{proto::Status::bad_request,
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
