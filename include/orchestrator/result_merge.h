// `orchestrator merge`: the result CSVs of a run's shards (--shard K/N) made into one.
#ifndef ORCHESTRATOR_RESULT_MERGE_H_
#define ORCHESTRATOR_RESULT_MERGE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/output_stream.h"
#include "orchestrator/result_format.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// What a merge wrote and found.
struct MergeSummary {
  std::size_t files = 0;
  std::size_t rows_read = 0;   ///< data rows of every file (headers and torn rows aside)
  std::size_t completed = 0;   ///< rows written Completed
  std::size_t failed = 0;      ///< rows written Failed (the missing ones included)
  std::size_t duplicates = 0;  ///< rows left out: their task_id won in another file
  std::size_t missing = 0;     ///< tasks of --tasks no file had, written Failed
  std::size_t torn = 0;        ///< torn last rows ignored
};

/// Merges result CSVs (task_id,final_status,error_info and any capture columns, header
/// first, as this tool writes them) into one, in two passes over regular files:
///
///   1. Read() reads and checks every file, keeping 16 bytes per row (task_id, file,
///      status, a 32-bit hash of the Failed reason), then sorts them and picks each
///      task's winning row: the last Completed one in file order, else the last Failed
///      one. Disjoint shards cost exactly 16 bytes per task; a task in k files costs k
///      entries.
///   2. Write() reads the files again and copies each winning row byte for byte (quotes
///      and all), in file order, the header once first, then the tasks ExpectTasks()
///      found missing, as `ID,Failed,not run (no shard reported it)` and an empty cell per
///      capture column, in task_id order.
///      A file in which no row lost is copied in bulk, without parsing; only the lost
///      rows' entries are kept for this pass. A file that changed since pass 1 (size,
///      mtime, inode: a shard still writing) is an InputError.
///
/// A file is read as written by this tool: the header line task_id,final_status,error_info,
/// then a `,NAME` per capture column (NAME letters, digits and _, not starting with a digit,
/// naming no other column); rows of as many fields, the first a task_id, the second
/// Completed or Failed, the others empty, plain, or quoted as RFC 4180 asks (line breaks
/// inside quotes are kept); LF line ends; no blank line, NUL byte or line longer than
/// kMaxLineLength. Every file with a header has the first one's (one run's files), or it is
/// an InputError naming both files and their columns; the output has that header. An empty
/// file has no rows. A last row without its line feed was torn by a killed shard: it is left
/// out with a warning. Anything else, and a task_id on two rows of one file (never written by
/// one shard), is an InputError naming FILE:LINE[:COLUMN], thrown by Read() before anything
/// is written.
///
/// JSON Lines files (--format jsonl; a file that starts with "{") are merged alike, a row per
/// line as ReadJsonlResultRow checks it, with no header; the output is JSON Lines then, and a
/// missing task's row has no capture keys. The files of one merge are all CSVs or all JSON
/// Lines: a CSV's cells do not say which are JSON values, so one of each is an InputError
/// naming both files. JSON Lines may be written as a CSV (SetOutputFormat): its capture
/// columns are every capture key of the files, in the order rows first name them; each row
/// is converted (strings as text, other values as compact JSON), not copied.
///
/// Warnings (whole messages, no `orchestrator: warning: ` prefix) gather in warnings():
/// torn rows; empty files; per pair of files, how many tasks Failed in both with different reasons
/// (the later file's reason is kept), with one example.
class ResultMerge {
 public:
  /// `paths` in command-line order: a later file is one further right. A path must name a
  /// regular file (it is read twice); "-" and pipes are refused when read.
  explicit ResultMerge(std::vector<std::string> paths);

  /// Pass 1. Throws InputError for a file that cannot be opened, is not a regular file, or
  /// is not a result CSV.
  void Read();

  /// Checks the merge against the unique task_ids of the input (sorted and unique, as
  /// SortedUniqueIds gives them): a row whose task_id is not among them is an InputError
  /// (FILE:LINE); those no file has are written Failed by Write(). After Read().
  void ExpectTasks(const std::vector<TaskId>& ids, const std::string& tasks_name);

  /// Writes `format` (merge --format) rather than the files' own: JSON Lines files may be
  /// written as a CSV; CSV files cannot be written as JSON Lines (their cells do not say which
  /// values are JSON), an InputError. After Read().
  void SetOutputFormat(ResultFormat format);

  /// Throws InputError when `fd`, where Write() will write, is one of the files (as in
  /// `merge a.csv b.csv > b.csv`): it would change under pass 2. After Read().
  void CheckOutput(int fd) const;

  /// Pass 2: writes the merged CSV to `out` and returns what it wrote, or stops at the
  /// first failed write (out.failed()). Throws InputError when a file changed since
  /// Read() (a shard still writing it): what was written then is incomplete.
  MergeSummary Write(OutputStream& out);

  const std::vector<std::string>& warnings() const { return warnings_; }
  /// The format Write() writes: SetOutputFormat's, else the files' (CSV when every file is
  /// empty). After Read().
  ResultFormat format() const {
    return output_format_.value_or(format_.value_or(ResultFormat::kCsv));
  }

  /// One entry per row read: 16 bytes, so that a merge of many millions of rows fits.
  struct Entry {
    TaskId id = 0;
    std::uint32_t reason_hash = 0;  ///< of the Failed reason (unquoted); 0 when Completed
    std::uint16_t file = 0;         ///< index into the paths
    std::uint8_t flags = 0;         ///< kFailed, kLost
    std::uint8_t unused = 0;
  };
  static constexpr std::uint8_t kFailed = 1;
  static constexpr std::uint8_t kLost = 2;  ///< another file's row for this task won

  /// The most files one merge takes (Entry::file is 16 bits).
  static constexpr std::size_t kMaxFiles = 65535;

 private:
  struct File {
    std::string path;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t rows_begin = 0;  ///< offset of the first row (after the header)
    std::uint64_t rows_end = 0;    ///< offset after the last complete row
    std::size_t rows = 0;
    std::size_t lost = 0;  ///< rows that lost to another file's
    ResultFormat format = ResultFormat::kCsv;
  };

  // The entries, in memory grown with mremap(2): no copy and no second buffer as the
  // array grows, so its peak is its size (a vector's doubling briefly holds both).
  class EntryArray {
   public:
    EntryArray() = default;
    ~EntryArray();
    EntryArray(const EntryArray&) = delete;
    EntryArray& operator=(const EntryArray&) = delete;
    void push_back(const Entry& entry);
    void clear();  ///< and gives the memory back
    Entry* begin() { return data_; }
    Entry* end() { return data_ + size_; }
    const Entry* begin() const { return data_; }
    const Entry* end() const { return data_ + size_; }
    std::size_t size() const { return size_; }

   private:
    Entry* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
  };

  void ReadFile(std::size_t index);
  void Resolve();
  // Throws an InputError on the line of `file` that holds `id` (its second row with it
  // when `second`), found by reading the file again: entries keep no line numbers.
  [[noreturn]] void ThrowRowError(std::size_t file, TaskId id, bool second,
                                  const std::string& message) const;

  std::vector<File> files_;
  std::string header_;           // of the first file with one, line feed included; "" if none
  std::size_t header_file_ = 0;  // that file
  std::optional<ResultFormat> format_;         // of the first file that is not empty
  std::size_t format_file_ = 0;                // that file
  std::optional<ResultFormat> output_format_;  // SetOutputFormat's
  // JSON Lines files: every capture key of their rows, in the order first named.
  std::vector<std::string> jsonl_columns_;
  EntryArray entries_;  // sorted by (id, file) after Read()
  std::vector<TaskId> missing_;
  std::vector<std::string> warnings_;
  MergeSummary summary_;
  bool read_ = false;
};
static_assert(sizeof(ResultMerge::Entry) == 16, "a merge may hold a hundred million rows");

/// The unique task_ids of `tasks`, sorted (8 bytes each), for ResultMerge::ExpectTasks.
std::vector<TaskId> SortedUniqueIds(const TaskList& tasks);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RESULT_MERGE_H_
