// Reading the tasks CSV.
#ifndef ORCHESTRATOR_TASK_READER_H_
#define ORCHESTRATOR_TASK_READER_H_

#include <cstddef>

#include "orchestrator/input_file.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// The longest line the readers accept: a longer one is an input error, not gigabytes of
/// memory spent on a file that is not what we think it is.
inline constexpr std::size_t kMaxLineLength = std::size_t{1} << 20;

/// Reads every row of a tasks CSV: RFC 4180 with a header naming `task_id` (required) and
/// `task_type` (optional), in any order among other columns. Accepts quoted fields, CRLF,
/// a UTF-8 BOM, blank lines and a missing final newline. Each task_id is kept once, at its
/// first occurrence (rows counts every data row): duplicates are dropped while reading, so
/// memory follows the unique tasks, not the rows. An empty input, or a header alone, gives
/// no tasks.
///
/// Throws InputError naming the file and the physical line (the header is line 1) for the
/// first problem in file order: a bad task_id, too few or too many fields, an unclosed quote
/// (line breaks inside quoted fields are not supported and are reported as such), a NUL
/// byte, a lone carriage return, or a line longer than kMaxLineLength.
TaskList ReadTasks(const InputFile& input);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_READER_H_
