#include "orchestrator/result_merge.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csv_source.h"
#include "orchestrator/compact_json.h"
#include "orchestrator/input_error.h"
#include "orchestrator/input_file.h"
#include "orchestrator/result_csv.h"
#include "orchestrator/result_jsonl.h"
#include "orchestrator/task_reader.h"

namespace orchestrator {
namespace {

// Reads: 256 KiB at a time, into a buffer that also holds the longest row allowed.
constexpr std::size_t kReadSize = std::size_t{256} << 10;
constexpr std::size_t kBufferSize = kMaxLineLength + 2 * kReadSize;
// Pass 2 copies a file with no lost row in pieces of this size.
constexpr std::size_t kCopySize = std::size_t{1} << 20;

std::int64_t MtimeNs(const struct stat& info) {
  return static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

// One result row as the scanner found it.
struct Row {
  TaskId id = 0;
  bool failed = false;
  std::uint32_t reason_hash = 0;  // FNV-1a of error_info, unquoted
  std::size_t line = 0;           // physical line where the row starts
  std::string_view raw;           // the row's bytes, line feed included; valid until Next()
};

// Reads the rows of a result file from a descriptor, checking each as ResultMerge documents.
// CSV rows may hold line breaks inside quotes, so it splits records itself rather than lines;
// a JSON Lines row is a line.
class RowScanner {
 public:
  RowScanner(int fd, std::string name, ResultFormat format)
      : fd_(fd), name_(std::move(name)), format_(format), buffer_(kBufferSize) {}

  // Reads the header: task_id,final_status,error_info, then capture columns (,NAME each).
  // False for a file without one (empty, or torn within the header). JSON Lines have none:
  // true, with an empty header().
  bool ReadHeader() {
    if (format_ == ResultFormat::kJsonl) return true;
    // task_id,final_status,error_info and the byte after it: a line feed or a comma.
    const std::string_view fixed = kResultHeader.substr(0, kResultHeader.size() - 1);
    while (end_ - pos_ <= fixed.size() && !eof_) Fill();
    const std::string_view start(buffer_.data() + pos_, std::min(end_ - pos_, fixed.size() + 1));
    if (start.size() == fixed.size() + 1 && start.starts_with(fixed) &&
        (start.back() == '\n' || start.back() == ',')) {
      // The whole line: capture names are short, but a line is allowed kMaxLineLength.
      std::size_t newline = fixed.size();
      while (true) {
        const std::string_view text(buffer_.data() + pos_, end_ - pos_);
        newline = text.find('\n', newline);
        if (newline != std::string_view::npos || eof_) break;
        if (text.size() > kMaxLineLength) {
          throw InputError(name_, 1, fmt::format("header longer than {} bytes", kMaxLineLength));
        }
        newline = text.size();
        Fill();
      }
      if (newline == std::string_view::npos) {
        // Torn within the capture names (or just after them): a shard killed while writing
        // its header; anything else there is malformed.
        CheckCaptureNames(std::string_view(buffer_.data() + pos_, end_ - pos_), true);
        torn_line_ = 1;
        return false;
      }
      header_.assign(buffer_.data() + pos_, newline + 1);
      captures_ = CheckCaptureNames(std::string_view(header_).substr(0, newline), false);
      pos_ += header_.size();
      line_ = 2;
      return true;
    }
    if (start.empty()) return false;
    if (eof_ && kResultHeader.starts_with(start) && start.find('\n') == std::string_view::npos) {
      torn_line_ = 1;
      return false;
    }
    // Its first line, to show what it is (a tasks CSV, say).
    constexpr std::size_t kShown = 200;
    while (!eof_ && end_ - pos_ < kShown &&
           std::string_view(buffer_.data() + pos_, end_ - pos_).find('\n') ==
               std::string_view::npos) {
      Fill();
    }
    std::string_view first(buffer_.data() + pos_, std::min(end_ - pos_, kShown));
    const bool cut = first.find('\n') == std::string_view::npos && end_ - pos_ > kShown;
    first = first.substr(0, first.find('\n'));
    if (first.ends_with('\r')) first.remove_suffix(1);
    throw InputError(name_, 1, 1, NotAResultCsvMessage(first, cut));
  }

  // The header line, line feed included (after ReadHeader() returned true).
  const std::string& header() const { return header_; }

  // Adds each capture key of the JSON Lines rows read from now on to `names`, once.
  void CollectCaptureNames(std::vector<std::string>& names) { capture_names_ = &names; }

  // The next row; false at the end of the file (torn_line() says if a torn row was left).
  bool Next(Row& row) {
    while (true) {
      if (pos_ == end_ && eof_) return false;
      if (pos_ < end_ && Parse(row)) return true;
      if (eof_) {
        torn_line_ = line_;
        return false;
      }
      if (end_ - pos_ > kMaxLineLength) {
        throw InputError(name_, line_, fmt::format("row longer than {} bytes", kMaxLineLength));
      }
      Fill();
    }
  }

  // The file offset of the next row (after the header, after the last row read).
  std::uint64_t offset() const { return base_ + pos_; }
  std::optional<std::size_t> torn_line() const { return torn_line_; }

 private:
  // Checks the capture columns of `line`, a header line without its line feed that starts
  // task_id,final_status,error_info: each `,NAME`, NAME an identifier that names no other
  // column. Returns how many there are. `torn`: the line was cut short, so its last name
  // may be a part of one (and may be empty).
  std::size_t CheckCaptureNames(std::string_view line, bool torn) const {
    const std::string_view fixed = kResultHeader.substr(0, kResultHeader.size() - 1);
    std::vector<std::string_view> names{"task_id", "final_status", "error_info"};
    std::size_t at = fixed.size();
    while (at < line.size()) {
      // line[at] is the comma before a name.
      const std::size_t name_start = at + 1;
      std::size_t name_end = name_start;
      while (name_end < line.size() && line[name_end] != ',') ++name_end;
      const std::string_view name = line.substr(name_start, name_end - name_start);
      const bool last_of_torn = torn && name_end == line.size();
      const auto fail = [&](std::size_t index, std::string message) {
        throw InputError(name_, 1, index + 1, std::move(message));
      };
      if (name.empty() && !last_of_torn) {
        fail(name_start, "empty column name in the header (a capture column has a name)");
      }
      for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
          fail(name_start + i,
               fmt::format("capture column name {} is not a name (letters, digits and _, not "
                           "starting with a digit)",
                           QuoteForMessage(name)));
        }
      }
      if (!last_of_torn) {
        if (std::find(names.begin(), names.end(), name) != names.end()) {
          fail(name_start,
               fmt::format("column {} appears twice in the header", QuoteForMessage(name)));
        }
        names.push_back(name);
      }
      at = name_end;
    }
    return names.size() - 3;
  }

  [[noreturn]] void Fail(std::size_t line, const char* line_start, const char* at,
                         std::string message) const {
    throw InputError(name_, line, static_cast<std::size_t>(at - line_start) + 1,
                     std::move(message));
  }

  // Moves what is left to the front and reads more after it.
  void Fill() {
    if (pos_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
      base_ += pos_;
      end_ -= pos_;
      pos_ = 0;
    }
    while (end_ < buffer_.size()) {
      const ssize_t n =
          ::read(fd_, buffer_.data() + end_, std::min(kReadSize, buffer_.size() - end_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        throw InputError(name_, line_, std::string("read error: ") + std::strerror(errno));
      }
      if (n == 0) eof_ = true;
      end_ += static_cast<std::size_t>(n);
      return;
    }
  }

  // Parses the row at pos_: true when whole (and advances), false when the buffer ends
  // first. Throws on a malformed row.
  bool Parse(Row& row) {
    if (format_ == ResultFormat::kJsonl) return ParseJsonl(row);
    const char* const begin = buffer_.data() + pos_;
    const char* const end = buffer_.data() + end_;
    const char* line_start = begin;
    std::size_t line = line_;

    // task_id
    const char* p = begin;
    while (p < end && *p != ',' && *p != '\n') ++p;
    if (p == end) return false;
    if (*p == '\n') {
      Fail(line, line_start, begin,
           p == begin ? "blank line (a result CSV has none)" : "fewer fields than the header has");
    }
    const std::string_view id_text(begin, static_cast<std::size_t>(p - begin));
    const std::optional<TaskId> id = ParseTaskId(id_text);
    if (!id) Fail(line, line_start, begin, DescribeBadTaskId(id_text));

    // final_status
    const char* const status = ++p;
    while (p < end && *p != ',' && *p != '\n') ++p;
    if (p == end) return false;
    if (*p == '\n') Fail(line, line_start, p, "fewer fields than the header has");
    const std::string_view status_text(status, static_cast<std::size_t>(p - status));
    bool failed = false;
    if (status_text == "Failed") {
      failed = true;
    } else if (status_text != "Completed") {
      Fail(line, line_start, status,
           fmt::format("final_status {} is neither Completed nor Failed",
                       QuoteForMessage(status_text)));
    }

    // error_info, then the capture fields: each plain, or quoted with "" for a quote; then
    // the line feed. Only error_info is hashed.
    std::uint32_t hash = 2166136261u;
    ++p;
    if (!ParseField<true>(p, end, line, line_start, hash, captures_ == 0)) return false;
    for (std::size_t field = 0; field < captures_; ++field) {
      ++p;  // the comma
      if (!ParseField<false>(p, end, line, line_start, hash, field + 1 == captures_)) {
        return false;
      }
    }
    ++p;  // the line feed
    if (static_cast<std::size_t>(p - begin) > kMaxLineLength) {
      Fail(line_, begin, begin, fmt::format("row longer than {} bytes", kMaxLineLength));
    }
    row.id = *id;
    row.failed = failed;
    row.reason_hash = failed ? hash : 0;
    row.line = line_;
    row.raw = std::string_view(begin, static_cast<std::size_t>(p - begin));
    pos_ += row.raw.size();
    line_ = line + 1;
    return true;
  }

  // Parses the JSON Lines row at pos_, as Parse.
  bool ParseJsonl(Row& row) {
    const std::string_view rest(buffer_.data() + pos_, end_ - pos_);
    const std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) return false;
    if (newline > kMaxLineLength) {
      throw InputError(name_, line_, fmt::format("row longer than {} bytes", kMaxLineLength));
    }
    const JsonlResultRow parsed = ReadJsonlResultRow(rest.substr(0, newline), name_, line_);
    if (capture_names_ != nullptr) {
      parsed.ForEachCapture([this](std::string_view name, const boost::json::value&) {
        if (std::find(capture_names_->begin(), capture_names_->end(), name) ==
            capture_names_->end()) {
          capture_names_->emplace_back(name);
        }
      });
    }
    row.id = parsed.id;
    row.failed = parsed.status == FinalStatus::kFailed;
    std::uint32_t hash = 2166136261u;
    for (const char c : parsed.error_info())
      hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    row.reason_hash = row.failed ? hash : 0;
    row.line = line_;
    row.raw = rest.substr(0, newline + 1);
    pos_ += row.raw.size();
    ++line_;
    return true;
  }

  // Parses the field at p, leaving p on the comma or line feed after it: true then, false
  // when the buffer ends first. The last field of a row ends at its line feed, any other at
  // its comma. kHash: adds the field's bytes (unquoted) to `hash`.
  template <bool kHash>
  bool ParseField(const char*& p, const char* end, std::size_t& line, const char*& line_start,
                  std::uint32_t& hash, bool last) const {
    const auto add = [&hash](char c) {
      if constexpr (kHash) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
    };
    if (p < end && *p == '"') {
      ++p;
      while (true) {
        if (p == end) return false;
        const char c = *p;
        if (c == '"') {
          if (p + 1 == end) return false;
          if (p[1] == '"') {
            add('"');
            p += 2;
            continue;
          }
          ++p;
          if (*p == (last ? '\n' : ',')) return true;
          if (*p == ',') Fail(line, line_start, p, "more fields than the header has");
          if (*p == '\n') Fail(line, line_start, p, "fewer fields than the header has");
          Fail(line, line_start, p, "text after a quoted field's closing quote");
        }
        if (c == '\0') Fail(line, line_start, p, "NUL byte in the input (is this a text file?)");
        if (c == '\n') {
          ++line;
          line_start = p + 1;
        }
        add(c);
        ++p;
      }
    }
    while (true) {
      if (p == end) return false;
      const char c = *p;
      if (c == '\n') {
        if (!last) Fail(line, line_start, p, "fewer fields than the header has");
        return true;
      }
      if (c == ',') {
        if (last) Fail(line, line_start, p, "more fields than the header has");
        return true;
      }
      if (c == '"') Fail(line, line_start, p, "quote inside an unquoted field");
      if (c == '\r') {
        Fail(line, line_start, p, "carriage return outside quotes (result CSVs have LF line ends)");
      }
      if (c == '\0') Fail(line, line_start, p, "NUL byte in the input (is this a text file?)");
      add(c);
      ++p;
    }
  }

  int fd_;
  std::string name_;
  ResultFormat format_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0;     // next unread byte in buffer_
  std::size_t end_ = 0;     // end of the bytes read into buffer_
  std::uint64_t base_ = 0;  // file offset of buffer_[0]
  bool eof_ = false;
  std::size_t line_ = 1;  // physical line at pos_
  std::optional<std::size_t> torn_line_;
  std::string header_;                                 // the header line, line feed included
  std::size_t captures_ = 0;                           // capture columns after error_info
  std::vector<std::string>* capture_names_ = nullptr;  // CollectCaptureNames's
};

// Appends the JSON Lines row `line` (line feed included) as a CSV row with a cell per
// `columns`: a string value as its text, another as compact JSON, a key it lacks empty.
void AppendJsonlRowAsCsv(std::string& out, std::string_view line, const std::string& file,
                         std::size_t line_number, std::span<const std::string> columns) {
  const JsonlResultRow row = ReadJsonlResultRow(line.substr(0, line.size() - 1), file, line_number);
  Outcome outcome;
  outcome.cause =
      row.status == FinalStatus::kFailed ? OutcomeCause::kFailed : OutcomeCause::kCompleted;
  outcome.error_info = row.error_info();
  std::string json;
  row.ForEachCapture([&](std::string_view name, const boost::json::value& value) {
    const auto column =
        static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin());
    if (const boost::json::string* text = value.if_string()) {
      outcome.captured.Set(column, *text);
      return;
    }
    json.clear();
    AppendCompactJson(json, value);
    outcome.captured.Set(column, json, CapturedAs::kJson);
  });
  AppendResultRow(out, row.id, outcome, columns.size());
}

// Opens `path` for one of the passes: a regular file only, since it is read twice.
InputFile OpenRegular(const std::string& path, struct stat& info) {
  if (path == "-") {
    throw InputError(path, 0, "merge reads each file twice, which standard input cannot be");
  }
  InputFile file = InputFile::Open(path);
  if (::fstat(file.fd(), &info) != 0) {
    throw InputError(path, 0, std::string("cannot stat: ") + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    throw InputError(path, 0,
                     "not a regular file: merge reads each file twice, which a pipe cannot be "
                     "(save it to a file first)");
  }
  return file;
}

// The format of an open result file, by its first byte; none when it is empty.
std::optional<ResultFormat> FormatOf(const InputFile& file) {
  char first = 0;
  ssize_t n = 0;
  do {
    n = ::pread(file.fd(), &first, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw InputError(file.name(), 0, std::string("read error: ") + std::strerror(errno));
  if (n == 0) return std::nullopt;
  return ResultFormatOfFirstByte(first);
}

std::string Plural(std::size_t count, std::string_view word) {
  return fmt::format("{} {}{}", count, word, count == 1 ? "" : "s");
}

bool EntryBefore(const ResultMerge::Entry& a, const ResultMerge::Entry& b) {
  return a.id != b.id ? a.id < b.id : a.file < b.file;
}

// Sorts by (id, file) in place: a most-significant-byte-first radix sort on the id (an
// American flag sort) from the highest byte in which the ids differ, std::sort for small
// buckets and for ties. No buffer, so a sort of 10 million entries costs no memory, and
// less than half of std::sort's time.
void SortEntries(ResultMerge::Entry* first, ResultMerge::Entry* last) {
  const auto n = static_cast<std::size_t>(last - first);
  TaskId differ = 0;  // the bits in which some id differs from the first
  if (n >= 256) {
    for (const ResultMerge::Entry* e = first; e != last; ++e) differ |= e->id ^ first->id;
  }
  if (differ == 0) {
    std::sort(first, last, EntryBefore);
    return;
  }
  const int shift = (63 - std::countl_zero(differ)) / 8 * 8;
  const auto digit = [shift](const ResultMerge::Entry& e) {
    return static_cast<std::size_t>((e.id >> shift) & 0xff);
  };
  std::array<std::size_t, 256> count{};
  for (const ResultMerge::Entry* e = first; e != last; ++e) ++count[digit(*e)];
  std::array<std::size_t, 256> next{};
  std::array<std::size_t, 256> end{};
  for (std::size_t b = 0, sum = 0; b < 256; ++b) {
    next[b] = sum;
    sum += count[b];
    end[b] = sum;
  }
  for (std::size_t b = 0; b < 256; ++b) {
    while (next[b] < end[b]) {
      ResultMerge::Entry entry = first[next[b]];
      for (std::size_t d = digit(entry); d != b; d = digit(entry)) {
        std::swap(entry, first[next[d]++]);
      }
      first[next[b]++] = entry;
    }
  }
  for (std::size_t b = 0, start = 0; b < 256; start = end[b++]) {
    if (count[b] > 1) SortEntries(first + start, first + end[b]);
  }
}

std::string FormatWords(ResultFormat format) {
  return format == ResultFormat::kJsonl ? "JSON Lines (it starts with {)" : "a result CSV";
}

}  // namespace

ResultMerge::EntryArray::~EntryArray() { clear(); }

void ResultMerge::EntryArray::clear() {
  if (data_ != nullptr) ::munmap(data_, capacity_ * sizeof(Entry));
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void ResultMerge::EntryArray::push_back(const Entry& entry) {
  if (size_ == capacity_) {
    const std::size_t capacity = capacity_ == 0 ? (std::size_t{1} << 16) : capacity_ * 2;
    void* memory =
        data_ == nullptr
            ? ::mmap(nullptr, capacity * sizeof(Entry), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            : ::mremap(data_, capacity_ * sizeof(Entry), capacity * sizeof(Entry), MREMAP_MAYMOVE);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<Entry*>(memory);
    capacity_ = capacity;
  }
  data_[size_++] = entry;
}

ResultMerge::ResultMerge(std::vector<std::string> paths) {
  if (paths.size() > kMaxFiles) {
    throw InputError("merge", 0, fmt::format("more than {} files", kMaxFiles));
  }
  for (std::string& path : paths) files_.push_back(File{.path = std::move(path)});
  summary_.files = files_.size();
}

void ResultMerge::Read() {
  for (std::size_t k = 0; k < files_.size(); ++k) ReadFile(k);
  Resolve();
  read_ = true;
}

void ResultMerge::ReadFile(std::size_t index) {
  File& file = files_[index];
  struct stat info {};
  const InputFile input = OpenRegular(file.path, info);
  file.device = info.st_dev;
  file.inode = info.st_ino;
  file.size = info.st_size;
  file.mtime_ns = MtimeNs(info);
  if (const std::optional<ResultFormat> format = FormatOf(input)) {
    file.format = *format;
    // One run's files are in one format: a CSV's cells do not say which are JSON values.
    if (!format_) {
      format_ = *format;
      format_file_ = index;
    } else if (*format != *format_) {
      throw InputError(
          file.path, 1,
          fmt::format("it is {}, {} is {}: merge files of one format", FormatWords(*format),
                      files_[format_file_].path, FormatWords(*format_)));
    }
  }

  RowScanner rows(input.fd(), file.path, file.format);
  rows.CollectCaptureNames(jsonl_columns_);  // (JSON Lines rows only)
  if (rows.ReadHeader()) {
    // One run's files have one header: capture columns differ between blueprints.
    if (header_.empty()) {
      header_ = rows.header();
      header_file_ = index;
    } else if (file.format == ResultFormat::kCsv && rows.header() != header_) {
      const auto columns = [](const std::string& header) {
        return std::string_view(header).substr(0, header.size() - 1);
      };
      throw InputError(
          file.path, 1,
          fmt::format("its columns are {}; {}'s are {}: merge files of one run",
                      columns(rows.header()), files_[header_file_].path, columns(header_)));
    }
    file.rows_begin = rows.offset();
    Row row;
    while (rows.Next(row)) {
      entries_.push_back(Entry{.id = row.id,
                               .reason_hash = row.reason_hash,
                               .file = static_cast<std::uint16_t>(index),
                               .flags = static_cast<std::uint8_t>(row.failed ? kFailed : 0)});
      ++file.rows;
    }
  } else if (!rows.torn_line()) {
    warnings_.push_back(fmt::format("{}: empty (not even a header): no rows from it", file.path));
  }
  file.rows_end = rows.offset();
  if (rows.torn_line()) {
    warnings_.push_back(
        fmt::format("{}:{}: ignoring a torn last row (a shard was cut short while writing it)",
                    file.path, *rows.torn_line()));
    ++summary_.torn;
  }
  summary_.rows_read += file.rows;
  if (::fstat(input.fd(), &info) != 0 || info.st_size != file.size ||
      MtimeNs(info) != file.mtime_ns) {
    throw InputError(file.path, 0, "changed while it was read (is a shard still writing it?)");
  }
}

void ResultMerge::Resolve() {
  SortEntries(entries_.begin(), entries_.end());
  // Per pair of files (earlier, later): tasks Failed in both with different reasons, and
  // one of them.
  std::map<std::pair<std::uint16_t, std::uint16_t>, std::pair<std::size_t, TaskId>> differing;
  Entry* const end = entries_.end();
  for (Entry* group = entries_.begin(); group != end;) {
    Entry* group_end = group + 1;
    while (group_end != end && group_end->id == group->id) {
      if (group_end->file == group_end[-1].file) {
        ThrowRowError(group_end->file, group->id, true,
                      fmt::format("task_id {} is on an earlier row of this file too (a result "
                                  "CSV has each task once)",
                                  group->id));
      }
      ++group_end;
    }
    // The last Completed row, else the last Failed one.
    Entry* winner = group_end - 1;
    for (Entry* e = group_end - 1; e >= group; --e) {
      if ((e->flags & kFailed) == 0) {
        winner = e;
        break;
      }
    }
    for (Entry* e = group; e != group_end; ++e) {
      if (e == winner) continue;
      e->flags |= kLost;
      ++files_[e->file].lost;
      ++summary_.duplicates;
      if ((winner->flags & kFailed) != 0 && e->reason_hash != winner->reason_hash) {
        auto& [count, example] = differing[{e->file, winner->file}];
        if (count++ == 0) example = e->id;
      }
    }
    ++((winner->flags & kFailed) != 0 ? summary_.failed : summary_.completed);
    group = group_end;
  }
  for (const auto& [files, counted] : differing) {
    const auto& [count, example] = counted;
    warnings_.push_back(fmt::format(
        "{} Failed in both {} and {} with different reasons (task {}{}): {}'s kept, the later "
        "file",
        Plural(count, "task"), files_[files.first].path, files_[files.second].path, example,
        count > 1 ? " and more" : "", files_[files.second].path));
  }
}

void ResultMerge::ExpectTasks(const std::vector<TaskId>& ids, const std::string& tasks_name) {
  auto expected = ids.begin();
  for (const Entry& entry : entries_) {
    if ((entry.flags & kLost) != 0) continue;
    while (expected != ids.end() && *expected < entry.id) missing_.push_back(*expected++);
    if (expected == ids.end() || *expected != entry.id) {
      ThrowRowError(entry.file, entry.id, false,
                    fmt::format("task_id {} is not a task of {} (--tasks)", entry.id, tasks_name));
    }
    ++expected;
  }
  missing_.insert(missing_.end(), expected, ids.end());
  summary_.missing = missing_.size();
  summary_.failed += missing_.size();
  if (!missing_.empty()) {
    warnings_.push_back(fmt::format("{} of {} in no file (written Failed, {}), e.g. task {}",
                                    Plural(missing_.size(), "task"), tasks_name,
                                    Outcome::NotRun().error_info, missing_.front()));
  }
}

void ResultMerge::SetOutputFormat(ResultFormat format) {
  if (format_ == ResultFormat::kCsv && format == ResultFormat::kJsonl) {
    throw InputError(files_[format_file_].path, 0,
                     fmt::format("it is {}, which cannot be written as JSON Lines (--format "
                                 "jsonl): its cells do not say which values are JSON",
                                 FormatWords(*format_)));
  }
  output_format_ = format;
}

void ResultMerge::CheckOutput(int fd) const {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) return;
  for (const File& file : files_) {
    if (file.device == info.st_dev && file.inode == info.st_ino) {
      throw InputError(file.path, 0, "is also the output: merge into another file");
    }
  }
}

MergeSummary ResultMerge::Write(OutputStream& out) {
  // Each file as pass 1 read it, or nothing is written.
  for (const File& file : files_) {
    struct stat info {};
    if (::stat(file.path.c_str(), &info) != 0 || info.st_dev != file.device ||
        info.st_ino != file.inode || info.st_size != file.size || MtimeNs(info) != file.mtime_ns) {
      throw InputError(file.path, 0,
                       "changed since it was first read (is a shard still writing it?); nothing "
                       "was written");
    }
  }
  // The rows that lost, by file and task_id; the rest of the entries are no longer needed.
  std::vector<Entry> lost;
  lost.reserve(summary_.duplicates);
  for (const Entry& entry : entries_) {
    if ((entry.flags & kLost) != 0) lost.push_back(entry);
  }
  entries_.clear();
  std::sort(lost.begin(), lost.end(), [](const Entry& a, const Entry& b) {
    return a.file != b.file ? a.file < b.file : a.id < b.id;
  });

  // JSON Lines written as a CSV: a column per capture key of the files.
  const bool convert = format_ == ResultFormat::kJsonl && format() == ResultFormat::kCsv;
  if (convert) {
    out.Write(ResultHeader(jsonl_columns_));
  } else if (format() == ResultFormat::kCsv) {
    out.Write(header_.empty() ? kResultHeader : std::string_view(header_));
  }
  std::vector<char> chunk;
  std::string text;
  auto lost_begin = lost.begin();
  for (std::size_t k = 0; k < files_.size() && !out.failed(); ++k) {
    const File& file = files_[k];
    const auto lost_end =
        std::find_if(lost_begin, lost.end(), [k](const Entry& e) { return e.file != k; });
    struct stat info {};
    const InputFile input = OpenRegular(file.path, info);
    if (info.st_ino != file.inode || info.st_size != file.size || MtimeNs(info) != file.mtime_ns) {
      throw InputError(file.path, 0,
                       "changed since it was first read (is a shard still writing it?); the "
                       "output is incomplete");
    }
    if (lost_begin == lost_end && !convert) {
      // Nothing to leave out: the rows as they are, in bulk.
      chunk.resize(kCopySize);
      for (std::uint64_t at = file.rows_begin; at < file.rows_end && !out.failed();) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(kCopySize, file.rows_end - at));
        const ssize_t n = ::pread(input.fd(), chunk.data(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          throw InputError(file.path, 0,
                           n < 0 ? std::string("read error: ") + std::strerror(errno)
                                 : std::string("shorter than when first read"));
        }
        out.Write(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
        at += static_cast<std::uint64_t>(n);
      }
    } else {
      RowScanner rows(input.fd(), file.path, file.format);
      rows.ReadHeader();
      Row row;
      while (rows.offset() < file.rows_end && rows.Next(row) && !out.failed()) {
        const auto found = std::lower_bound(lost_begin, lost_end, row.id,
                                            [](const Entry& e, TaskId id) { return e.id < id; });
        const bool skip = found != lost_end && found->id == row.id;
        if (skip) continue;
        if (convert) {
          text.clear();
          AppendJsonlRowAsCsv(text, row.raw, file.path, row.line, jsonl_columns_);
          out.Write(text);
        } else {
          out.Write(row.raw);
        }
      }
    }
    lost_begin = lost_end;
  }
  const std::size_t captures =
      convert ? jsonl_columns_.size()
      : header_.empty()
          ? 0
          : static_cast<std::size_t>(std::count(header_.begin(), header_.end(), ',')) - 2;
  for (const TaskId id : missing_) {
    if (out.failed()) break;
    text.clear();
    if (format() == ResultFormat::kJsonl) {
      AppendJsonlRow(text, id, Outcome::NotRun(), {});  // no captures
    } else {
      AppendResultRow(text, id, Outcome::NotRun(), captures);  // its capture cells empty
    }
    out.Write(text);
  }
  out.Flush();
  return summary_;
}

void ResultMerge::ThrowRowError(std::size_t index, TaskId id, bool second,
                                const std::string& message) const {
  const File& file = files_[index];
  std::size_t line = 0;
  try {
    struct stat info {};
    const InputFile input = OpenRegular(file.path, info);
    RowScanner rows(input.fd(), file.path, file.format);
    if (rows.ReadHeader()) {
      Row row;
      bool seen = false;
      while (rows.Next(row)) {
        if (row.id != id) continue;
        if (!second || seen) {
          line = row.line;
          break;
        }
        seen = true;
      }
    }
  } catch (const InputError&) {
    // Changed since: the message stands without its line.
  }
  throw InputError(file.path, line, message);
}

std::vector<TaskId> SortedUniqueIds(const TaskList& tasks) {
  std::vector<TaskId> ids;
  ids.reserve(tasks.tasks.size());
  for (const Task& task : tasks.tasks) ids.push_back(task.id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace orchestrator
