#pragma once
// DepotdProcess: a real depotd child process for `depot-bench wire`. start() runs `depotd --data DIR --listen
// tcp://127.0.0.1:0` and waits for its "depotd listening on ENDPOINT" line; stop() sends SIGTERM and reports how it
// exited. depotd's stderr is passed on to ours, each line prefixed with "[depotd] "; its stdout is kept.
//
// The child gets PR_SET_PDEATHSIG(SIGKILL): if the benchmark dies, depotd does not outlive it.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "depot/Result.h"

namespace depot::bench {

class DepotdProcess {
public:
    // Starts `program` on `dataDir` (created by depotd if missing) and waits up to `timeout` for its endpoint.
    // Call it before the benchmark starts threads of its own: it forks.
    static Result<std::unique_ptr<DepotdProcess>> start(const std::string& program, const std::string& dataDir,
                                                        std::chrono::milliseconds timeout,
                                                        const std::vector<std::string>& extraArgs = {});
    ~DepotdProcess();  // stop() if still running; SIGKILL if it does not stop in time
    DepotdProcess(const DepotdProcess&) = delete;
    DepotdProcess& operator=(const DepotdProcess&) = delete;

    const std::string& endpoint() const { return m_endpoint; }
    pid_t pid() const { return m_pid; }

    // SIGTERM, then waits up to `timeout` (SIGKILL after it). Returns the exit code; an error when it was killed by
    // a signal or had to be killed.
    Result<int> stop(std::chrono::milliseconds timeout);
    // Every line depotd printed on stdout so far.
    std::vector<std::string> output() const;

private:
    DepotdProcess() = default;
    void readStdout(int fd);
    void readStderr(int fd);
    bool waitForEndpoint(std::chrono::milliseconds timeout);

    pid_t m_pid = -1;
    std::string m_endpoint;
    std::thread m_stdoutReader;
    std::thread m_stderrReader;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_lines;  // under m_mutex
    bool m_stdoutClosed = false;       // under m_mutex
};

}  // namespace depot::bench
