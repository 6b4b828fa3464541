#pragma once
// DepotctlRunner: runs the depotctl built with the tests (DEPOTCTL_PATH) as a process and keeps what it did: exit
// code, stdout, stderr. $DEPOT_ENDPOINT is removed from its environment unless a test sets it.
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>

namespace depot::test {

struct DepotctlRun {
    int exitCode = -1;  // -1: it did not start, crashed or hung
    QByteArray out;
    QByteArray err;

    QList<QJsonObject> jsonLines() const {
        QList<QJsonObject> lines;
        for (const QByteArray& line : out.split('\n'))
            if (!line.trimmed().isEmpty())
                lines << QJsonDocument::fromJson(line).object();
        return lines;
    }
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
    // An error report is exactly one line starting "depotctl: ".
    bool oneErrorLine() const { return err.startsWith("depotctl: ") && err.count('\n') == 1 && err.endsWith('\n'); }
    QString describe() const {
        return QString("exit %1\nstdout: %2\nstderr: %3")
            .arg(exitCode)
            .arg(QString::fromUtf8(out), QString::fromUtf8(err));
    }
};

// `input` is written to its stdin, which is then closed. `timeoutMs` is a hang guard.
inline DepotctlRun runDepotctl(const QStringList& args, const QByteArray& input = {},
                               const QString& environmentEndpoint = {}, int timeoutMs = 30000) {
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove("DEPOT_ENDPOINT");
    if (!environmentEndpoint.isEmpty())
        environment.insert("DEPOT_ENDPOINT", environmentEndpoint);
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(DEPOTCTL_PATH), args);
    DepotctlRun run;
    if (!process.waitForStarted(timeoutMs))
        return run;
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

}  // namespace depot::test
