// The process's exit statuses, as docs/manual.md documents them ("Exit status").
#ifndef ORCHESTRATOR_EXIT_STATUS_H_
#define ORCHESTRATOR_EXIT_STATUS_H_

namespace orchestrator {

enum ExitStatus : int {
  kExitCompleted = 0,     ///< every task Completed
  kExitSomeFailed = 1,    ///< at least one task Failed
  kExitUsage = 2,         ///< usage or input error: nothing ran
  kExitOutputError = 3,   ///< the results could not be written
  kExitInternal = 70,     ///< a bug (EX_SOFTWARE)
  kExitEnvironment = 71,  ///< the system gives too little to run (EX_OSERR): a low ulimit -n
  kExitSignalBase = 128,  ///< plus the signal's number: stopped by SIGINT (130), SIGTERM (143)
  kExitReaderGone = 141,  ///< stdout's reader went away (as if killed by SIGPIPE)
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_EXIT_STATUS_H_
