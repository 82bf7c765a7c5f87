// A JSON value written back as compact text, numbers as people write them.
#ifndef ORCHESTRATOR_COMPACT_JSON_H_
#define ORCHESTRATOR_COMPACT_JSON_H_

#include <boost/json/value.hpp>
#include <string>

namespace orchestrator {

/// Appends `value` as compact JSON. Boost.JSON 1.81 writes a double as 2.45E1, so a double is
/// written as the shortest decimal that reads back the same (24.5), which also makes the text
/// of a json: capture read back from a result file (--resume) the text it was; strings are
/// escaped by Boost.JSON.
void AppendCompactJson(std::string& out, const boost::json::value& value);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_COMPACT_JSON_H_
