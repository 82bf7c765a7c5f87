#include "slurm_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace orchestrator::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPrograms[] = {"munged",  "slurmctld", "slurmd", "sbatch",
                                     "scancel", "squeue",    "sinfo"};

std::string ShortHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) throw std::runtime_error("gethostname failed");
  std::string host(name);
  return host.substr(0, host.find('.'));
}

bool TcpPortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// A port that nothing listens on, below the ephemeral range so that no outgoing connection
// takes it between this check and the daemon's bind.
int FreePort(std::mt19937& random, int not_this) {
  std::uniform_int_distribution<int> pick(20000, 31999);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(random);
    if (port != not_this && TcpPortFree(port)) return port;
  }
  throw std::runtime_error("no free TCP port found for Slurm");
}

std::string Tail(const std::string& path, std::size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string tail;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    tail += all[i] + "\n";
  return tail;
}

// Whether `pid`, our child, has exited (and is reaped).
bool Exited(pid_t pid) {
  int status = 0;
  const pid_t done = ::waitpid(pid, &status, WNOHANG);
  return done == pid || (done < 0 && errno == ECHILD);
}

// SIGTERM, then SIGKILL if `pid` (our child) has not exited within `grace`; reaps it.
void StopChild(pid_t& pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!Exited(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  pid = -1;
}

}  // namespace

std::string SlurmCluster::Program(const std::string& name) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::optional<std::string> SlurmCluster::WhyNotRunnable() {
  if (::geteuid() != 0)
    return "needs root: the test starts munged, slurmctld and slurmd itself (SlurmUser=root)";
  std::string missing;
  for (const char* name : kPrograms)
    if (Program(name).empty()) missing += std::string(missing.empty() ? "" : ", ") + name;
  if (!missing.empty())
    return "Slurm is not installed (no " + missing +
           "): scripts/install-deps --test installs slurmctld, slurmd, munge and slurm-client";
  return std::nullopt;
}

SlurmCluster::SlurmCluster() {
  char pattern[] = "/tmp/orchestrator-slurm-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  try {
    Start();
  } catch (...) {
    Stop();
    throw;
  }
}

SlurmCluster::~SlurmCluster() { Stop(); }

pid_t SlurmCluster::Spawn(const std::vector<std::string>& argv, const std::string& log) const {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Default dispositions and no blocked signals, whatever the test runner has.
  posix_spawnattr_t attributes;
  InitDefaultSignals(attributes);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, "SLURM_CONF=", 11) != 0) env.emplace_back(*entry);
  env.push_back(ConfEntry());
  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers, env_pointers;
  for (std::string& a : args) arg_pointers.push_back(a.data());
  arg_pointers.push_back(nullptr);
  for (std::string& e : env) env_pointers.push_back(e.data());
  env_pointers.push_back(nullptr);
  pid_t pid = -1;
  const int failed = ::posix_spawn(&pid, args[0].c_str(), &actions, &attributes,
                                   arg_pointers.data(), env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0)
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(failed));
  return pid;
}

void SlurmCluster::Start() {
  const std::string host = ShortHostName();
  std::mt19937 random(std::random_device{}());
  const int controller_port = FreePort(random, 0);
  const int node_port = FreePort(random, controller_port);
  std::filesystem::create_directories(dir_ + "/state");
  std::filesystem::create_directories(dir_ + "/spool");

  // munge's key: 1 KiB of random bytes, readable by its owner alone.
  const std::string key = dir_ + "/munge.key";
  {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    std::string bytes(1024, '\0');
    urandom.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(key, std::ios::binary) << bytes;
  }
  ::chmod(key.c_str(), 0400);

  std::ofstream conf(dir_ + "/slurm.conf");
  conf << "ClusterName=orchestratortest\n"
       << "SlurmctldHost=" << host << "(127.0.0.1)\n"
       << "SlurmctldPort=" << controller_port << "\n"
       << "SlurmdPort=" << node_port << "\n"
       << "AuthType=auth/munge\nCredType=cred/munge\n"
       << "AuthInfo=socket=" << dir_ << "/munge.sock\n"
       << "StateSaveLocation=" << dir_ << "/state\n"
       << "SlurmdSpoolDir=" << dir_ << "/spool\n"
       << "SlurmctldPidFile=" << dir_ << "/slurmctld.pid\n"
       << "SlurmdPidFile=" << dir_ << "/slurmd.pid\n"
       << "SlurmctldLogFile=" << dir_ << "/slurmctld.log\n"
       << "SlurmdLogFile=" << dir_ << "/slurmd.log\n"
       << "SlurmUser=root\n"
       << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
       << "JobAcctGatherType=jobacct_gather/none\n"
       << "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n"
       << "ReturnToService=2\n"
       << "SlurmdParameters=config_overrides\n"
       << "SchedulerType=sched/builtin\n"
       << "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0\n"
       << "MinJobAge=4\nKillWait=5\n"
       << "NodeName=" << host << " NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN\n"
       << "PartitionName=main Nodes=" << host << " Default=YES State=UP\n";
  conf.close();
  if (!conf) throw std::runtime_error("cannot write " + dir_ + "/slurm.conf");

  // munged in the foreground (-F), so it is our child as the other two are.
  const std::string socket = dir_ + "/munge.sock";
  munged_ = Spawn({Program("munged"), "-F", "--force", "--key-file=" + key, "--socket=" + socket,
                   "--pid-file=" + dir_ + "/munged.pid", "--log-file=" + dir_ + "/munged.log",
                   "--seed-file=" + dir_ + "/munge.seed"},
                  dir_ + "/munged.out");
  const auto munge_deadline = std::chrono::steady_clock::now() + 10s;
  while (!std::filesystem::exists(socket)) {
    if (Exited(munged_) || std::chrono::steady_clock::now() >= munge_deadline) {
      munged_ = -1;
      throw std::runtime_error("munged did not start:\n" + LogTails());
    }
    std::this_thread::sleep_for(20ms);
  }
  slurmctld_ = Spawn({Program("slurmctld"), "-D"}, dir_ + "/slurmctld.out");
  slurmd_ = Spawn({Program("slurmd"), "-D"}, dir_ + "/slurmd.out");

  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    const ProcessResult state = Run({"sinfo", "--noheader", "--format=%t"});
    if (state.exit_status == 0 && state.out == "idle\n") return;
    if (Exited(slurmctld_) || Exited(slurmd_)) {
      slurmctld_ = Exited(slurmctld_) ? -1 : slurmctld_;
      slurmd_ = Exited(slurmd_) ? -1 : slurmd_;
      throw std::runtime_error("a Slurm daemon exited while starting:\n" + LogTails());
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("the node is not idle after 30 s (sinfo: " + state.out + state.err +
                               "):\n" + LogTails());
    std::this_thread::sleep_for(200ms);
  }
}

void SlurmCluster::Stop() {
  // Jobs first, while slurmctld and slurmd can still end them and their steps.
  if (slurmctld_ > 0 && slurmd_ > 0 && munged_ > 0) {
    Run({"scancel", "--user=root"}, [] {
      ProcessOptions options;
      options.timeout = 10s;
      return options;
    }());
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      ProcessOptions options;
      options.timeout = 5s;
      const ProcessResult queue = Run({"squeue", "--noheader"}, options);
      if (queue.exit_status != 0 || queue.out.empty()) break;
      std::this_thread::sleep_for(200ms);
    }
  }
  StopChild(slurmd_, 5s);
  StopChild(slurmctld_, 5s);
  StopChild(munged_, 5s);
  if (!dir_.empty() && std::getenv("ORCHESTRATOR_KEEP_SLURM_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

ProcessResult SlurmCluster::Run(std::vector<std::string> argv, ProcessOptions options) const {
  argv[0] = Program(argv[0]);
  options.env.push_back(ConfEntry());
  return RunProcess(argv, std::move(options));
}

std::string SlurmCluster::LogTails() const {
  std::string text;
  for (const char* name :
       {"munged.log", "slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out", "munged.out"}) {
    const std::string tail = Tail(dir_ + "/" + name, 15);
    if (!tail.empty()) text += std::string("--- ") + name + "\n" + tail;
  }
  return text;
}

}  // namespace orchestrator::testing
