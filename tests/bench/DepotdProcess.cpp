#include "DepotdProcess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

namespace depot::bench {

namespace {

constexpr std::string_view kListening = "depotd listening on ";

// Calls `line` for every line read from `fd` until end of file; closes `fd`.
void forEachLine(int fd, const std::function<void(std::string)>& line) {
    std::string pending;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        pending.append(buffer, size_t(n));
        for (size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
            line(pending.substr(0, newline));
            pending.erase(0, newline + 1);
        }
    }
    if (!pending.empty())
        line(std::move(pending));
    ::close(fd);
}

// In the forked child: only async-signal-safe calls until exec.
[[noreturn]] void execDepotd(const std::string& program, char* const* argv, int out, int err, pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        ::_exit(127);  // the benchmark died before prctl took effect
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::execv(program.c_str(), argv);
    ::_exit(127);
}

}  // namespace

Result<std::unique_ptr<DepotdProcess>> DepotdProcess::start(const std::string& program, const std::string& dataDir,
                                                            std::chrono::milliseconds timeout,
                                                            const std::vector<std::string>& extraArgs) {
    if (::access(program.c_str(), X_OK) != 0)
        return Status::notFound("depotd not found or not executable: " + program);
    // Built before fork: the child may only make async-signal-safe calls.
    std::vector<std::string> args = {program, "--data", dataDir, "--listen", "tcp://127.0.0.1:0"};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        return Status::ioError(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        return Status::ioError(std::string("pipe: ") + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0)
        execDepotd(program, argv.data(), out[1], err[1], parent);
    ::close(out[1]);
    ::close(err[1]);
    if (pid < 0) {
        ::close(out[0]);
        ::close(err[0]);
        return Status::ioError(std::string("fork: ") + std::strerror(errno));
    }
    std::unique_ptr<DepotdProcess> process(new DepotdProcess());
    process->m_pid = pid;
    process->m_stdoutReader = std::thread([p = process.get(), fd = out[0]] { p->readStdout(fd); });
    process->m_stderrReader = std::thread([fd = err[0]] {
        forEachLine(fd, [](const std::string& line) { std::fprintf(stderr, "[depotd] %s\n", line.c_str()); });
    });
    if (!process->waitForEndpoint(timeout)) {
        std::string seen;
        for (const std::string& line : process->output())
            seen += "\n  " + line;
        return Status::unavailable(program + " printed no '" + std::string(kListening) + "' line (it exited, or " +
                                   std::to_string(timeout.count()) + " ms passed); its output:" + seen);
    }
    return process;
}

void DepotdProcess::readStdout(int fd) {
    forEachLine(fd, [this](std::string line) {
        std::lock_guard lock(m_mutex);
        m_lines.push_back(std::move(line));
    });
    std::lock_guard lock(m_mutex);
    m_stdoutClosed = true;
}

bool DepotdProcess::waitForEndpoint(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(m_mutex);
            for (const std::string& line : m_lines) {
                if (line.compare(0, kListening.size(), kListening) == 0) {
                    m_endpoint = line.substr(kListening.size());
                    return true;
                }
            }
            if (m_stdoutClosed)
                return false;  // depotd exited (or closed stdout) without listening
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

std::vector<std::string> DepotdProcess::output() const {
    std::lock_guard lock(m_mutex);
    return m_lines;
}

Result<int> DepotdProcess::stop(std::chrono::milliseconds timeout) {
    if (m_pid < 0)
        return Status::invalidArgument("depotd is not running");
    ::kill(m_pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    bool killed = false;
    for (;;) {
        const pid_t done = ::waitpid(m_pid, &status, WNOHANG);
        if (done == m_pid)
            break;
        if (done < 0 && errno != EINTR)
            return Status::ioError(std::string("waitpid: ") + std::strerror(errno));
        if (!killed && std::chrono::steady_clock::now() >= deadline) {
            ::kill(m_pid, SIGKILL);
            killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    m_pid = -1;
    if (m_stdoutReader.joinable())
        m_stdoutReader.join();
    if (m_stderrReader.joinable())
        m_stderrReader.join();
    if (killed)
        return Status::timedOut("depotd did not stop within " + std::to_string(timeout.count()) +
                                " ms of SIGTERM; killed");
    if (WIFSIGNALED(status))
        return Status::ioError(std::string("depotd was killed by signal ") + ::strsignal(WTERMSIG(status)));
    return WEXITSTATUS(status);
}

DepotdProcess::~DepotdProcess() {
    if (m_pid >= 0)
        (void)stop(std::chrono::seconds(30));
    if (m_stdoutReader.joinable())
        m_stdoutReader.join();
    if (m_stderrReader.joinable())
        m_stderrReader.join();
}

}  // namespace depot::bench
