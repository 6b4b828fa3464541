#include "support/DepotdProcess.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <QElapsedTimer>
#include <QStringList>

namespace depot::test {

namespace {

const QString kListening = QStringLiteral("depotd listening on ");

}  // namespace

DepotdProcess::DepotdProcess(std::string dataDir, std::vector<std::string> extraArgs, std::string listen)
    : m_dataDir(std::move(dataDir)), m_extraArgs(std::move(extraArgs)), m_listen(std::move(listen)) {}

DepotdProcess::~DepotdProcess() {
    if (running())
        kill(SIGKILL);
}

QString DepotdProcess::executable() {
    const QByteArray override = qgetenv("DEPOTD");
    if (!override.isEmpty())
        return QString::fromLocal8Bit(override);
#ifdef DEPOT_DEPOTD_PATH
    return QStringLiteral(DEPOT_DEPOTD_PATH);
#else
    return QStringLiteral("depotd");
#endif
}

bool DepotdProcess::start(std::chrono::milliseconds timeout) {
    if (running()) {
        m_error = "depotd is already running";
        return false;
    }
    m_output.clear();
    m_error.clear();
    QStringList arguments{"--data", QString::fromStdString(m_dataDir), "--listen",
                          QString::fromStdString(m_endpoint.empty() ? m_listen : m_endpoint)};
    for (const std::string& arg : m_extraArgs)
        arguments << QString::fromStdString(arg);
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->start(executable(), arguments);
    if (!m_process->waitForStarted(int(timeout.count()))) {
        m_error = "cannot start " + executable() + ": " + m_process->errorString();
        return false;
    }
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeout.count()) {
        m_process->waitForReadyRead(100);
        collect();
        const qsizetype at = m_output.indexOf(kListening);
        const qsizetype end = at < 0 ? -1 : m_output.indexOf('\n', at);
        if (end > at) {
            m_endpoint = m_output.mid(at + kListening.size(), end - at - kListening.size()).trimmed().toStdString();
            return true;
        }
        if (m_process->state() == QProcess::NotRunning) {
            m_error =
                "depotd exited before listening (code " + QString::number(m_process->exitCode()) + "): " + m_output;
            return false;
        }
    }
    m_error = "depotd did not report listening within " + QString::number(timeout.count()) + " ms: " + m_output;
    kill(SIGKILL);
    return false;
}

bool DepotdProcess::restart(std::chrono::milliseconds timeout) {
    if (running())
        kill(SIGKILL);
    return start(timeout);
}

void DepotdProcess::kill(int signal) {
    if (!m_process || m_process->state() == QProcess::NotRunning)
        return;
    ::kill(pid_t(m_process->processId()), signal);
    if (signal == SIGKILL)
        waitForExit();
}

namespace {

// Every thread of `pid` is stopped ('T' in /proc/PID/task/TID/stat, after the parenthesised command name).
bool allThreadsStopped(pid_t pid) {
    std::error_code error;
    std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task", error);
    if (error) return false;
    for (const auto& task : tasks) {
        std::ifstream stat(task.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const size_t close = text.rfind(')');
        if (close == std::string::npos || close + 2 >= text.size()) return false;
        const char state = text[close + 2];
        if (state != 'T' && state != 't') return false;
    }
    return true;
}

}  // namespace

bool DepotdProcess::pause(std::chrono::milliseconds timeout) {
    if (!running()) return false;
    kill(SIGSTOP);
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!allThreadsStopped(pid_t(m_process->processId()))) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

std::optional<int> DepotdProcess::waitForExit(std::chrono::milliseconds timeout) {
    if (!m_process)
        return std::nullopt;
    QElapsedTimer clock;
    clock.start();
    while (m_process->state() != QProcess::NotRunning && clock.elapsed() < timeout.count()) {
        m_process->waitForFinished(100);
        collect();
    }
    collect();
    if (m_process->state() != QProcess::NotRunning)
        return std::nullopt;
    return m_process->exitStatus() == QProcess::NormalExit ? m_process->exitCode() : -1;
}

bool DepotdProcess::running() const { return m_process && m_process->state() != QProcess::NotRunning; }

QString DepotdProcess::output() {
    collect();
    return m_output;
}

void DepotdProcess::collect() {
    if (m_process)
        m_output += QString::fromUtf8(m_process->readAll());
}

}  // namespace depot::test
