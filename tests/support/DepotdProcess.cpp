#include "support/DepotdProcess.h"

#include <signal.h>

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
