// A one-node Slurm cluster (munged, slurmctld, slurmd) in a temporary directory, for the tests
// of deploy/slurm. Needs root and Debian's slurmctld, slurmd, munge and slurm-client.
#ifndef ORCHESTRATOR_TESTS_SLURM_CLUSTER_H_
#define ORCHESTRATOR_TESTS_SLURM_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "subprocess.h"

namespace orchestrator::testing {

/// Starts the daemons when constructed, with all their state, sockets, pid files and logs under
/// their own temporary directory and ports no one listens on, and returns once `sinfo` shows the
/// node idle (throws std::runtime_error, with the logs' tails, when it does not come up). The
/// destructor cancels every job of the cluster, stops slurmd, slurmctld and munged (SIGTERM,
/// then SIGKILL after a few seconds) and removes the directory, so a failed assertion still
/// leaves nothing running.
///
/// The node claims 8 CPUs whatever the machine has (SlurmdParameters=config_overrides), so a
/// 4-element array of 2-CPU jobs runs at once on a small machine. Finished jobs are forgotten
/// after 4 s (MinJobAge), which keeps `sbatch --wait` polling every 2 s rather than backing
/// off to 32 s; cancelled jobs get SIGKILL 5 s after SIGTERM (KillWait).
class SlurmCluster {
 public:
  /// Why a cluster cannot run here (not root, a program missing), or nullopt when it can.
  static std::optional<std::string> WhyNotRunnable();

  SlurmCluster();
  ~SlurmCluster();
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  /// `SLURM_CONF=...`: add it to the environment of sbatch, scancel and the rest.
  std::string ConfEntry() const { return "SLURM_CONF=" + dir_ + "/slurm.conf"; }
  /// The full path of a Slurm client (sbatch, scancel, squeue, sinfo).
  static std::string Program(const std::string& name);
  /// Runs a Slurm client (Program(argv[0])) against this cluster.
  ProcessResult Run(std::vector<std::string> argv, ProcessOptions options = {}) const;
  /// The last lines of the daemons' logs, for a failure message.
  std::string LogTails() const;
  const std::string& dir() const { return dir_; }

 private:
  void Start();
  void Stop();
  pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) const;

  std::string dir_;
  // The daemons run in the foreground as our children, so they are stopped and reaped by pid
  // (what their pid files hold) and cannot be mistaken for a reused pid.
  pid_t munged_ = -1;
  pid_t slurmctld_ = -1;
  pid_t slurmd_ = -1;
};

}  // namespace orchestrator::testing

#endif  // ORCHESTRATOR_TESTS_SLURM_CLUSTER_H_
