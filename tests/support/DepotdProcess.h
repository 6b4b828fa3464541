#pragma once
// DepotdProcess: a real depotd for integration tests. Starts `depotd --data DIR --listen ENDPOINT [extra args]`,
// waits for its `depotd listening on ENDPOINT` line and remembers that endpoint, so a restart (after kill(), say)
// listens on the same port and clients reconnect to it.
//
// The executable is the depotd built with the tests (DEPOT_DEPOTD_PATH), or $DEPOTD when set. A test using this
// should `add_dependencies(<test> depotd)` so it is built. Every wait has a deadline; failures say why in error()
// with depotd's output. Not thread-safe: use it from the test's thread.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QProcess>
#include <QString>

namespace depot::test {

class DepotdProcess {
public:
    // `listen`: the first start's endpoint; port 0 picks a free one, kept for restarts.
    explicit DepotdProcess(std::string dataDir, std::vector<std::string> extraArgs = {},
                           std::string listen = "tcp://127.0.0.1:0");
    ~DepotdProcess();  // SIGKILL if still running
    DepotdProcess(const DepotdProcess&) = delete;
    DepotdProcess& operator=(const DepotdProcess&) = delete;

    // Starts depotd and waits for it to listen. False (see error()) if it exited or did not listen in time.
    bool start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // kill(SIGKILL) if running, then start() on the same endpoint and data directory.
    bool restart(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Sends a signal (SIGKILL: a crash; SIGTERM: a graceful stop). After SIGKILL it also reaps the process.
    void kill(int signal = 9);
    // SIGSTOP, then wait until every thread of depotd has stopped (false: not within `timeout`). kill() returns
    // before the group stop reaches each thread: on a busy machine a thread can go on for milliseconds (long
    // enough to fetch, store and acknowledge a record published "after" the stop).
    bool pause(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // The exit code once depotd exits (-1 after a signal), nullopt if it still runs after `timeout`.
    std::optional<int> waitForExit(std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // The extra arguments of the next start() or restart() (a former primary rejoining with --replica-of).
    void setExtraArgs(std::vector<std::string> args) { m_extraArgs = std::move(args); }
    bool running() const;
    // The endpoint as depotd reported it ("tcp://127.0.0.1:43122"); empty before the first start.
    const std::string& endpoint() const { return m_endpoint; }
    const std::string& dataDir() const { return m_dataDir; }
    // Everything depotd wrote (stdout and stderr) since the last start.
    QString output();
    QString error() const { return m_error; }
    static QString executable();

private:
    void collect();

    std::string m_dataDir;
    std::vector<std::string> m_extraArgs;
    std::string m_listen;
    std::string m_endpoint;
    std::unique_ptr<QProcess> m_process;
    QString m_output;
    QString m_error;
};

}  // namespace depot::test
