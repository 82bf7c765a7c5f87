#include "orchestrator/compact_json.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <iterator>

namespace orchestrator {

void AppendCompactJson(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      fmt::format_to(std::back_inserter(out), "{}", value.get_double());
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const boost::json::value& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendCompactJson(out, item);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const boost::json::key_value_pair& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::value(member.key()));
        out += ':';
        AppendCompactJson(out, member.value());
      }
      out += '}';
      return;
    }
    default:  // null, bool, integers, strings
      out += boost::json::serialize(value);
      return;
  }
}

}  // namespace orchestrator
