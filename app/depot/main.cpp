// depot: the console. Hosts the broker in this process (or connects to a remote depotd with --connect) and shows
// what it does with every message. Without a display it says so and runs the headless broker, depotd, instead.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QSocketNotifier>
#include <QStandardPaths>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <cstdio>
#include <memory>

#include "MainWindow.h"
#include "backend/EmbeddedBroker.h"
#include "depot/BuildInfo.h"

namespace {

const QString kDefaultListen = QStringLiteral("tcp://127.0.0.1:7420");

bool haveDisplay() {
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY") ||
           qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
}

// No display: become depotd on the same data directory and endpoint (execv, so signals and the exit code are
// depotd's).
int runHeadless(const char* self, const QString& dataDir, const QString& listen) {
    const QString depotd = QFileInfo(QString::fromLocal8Bit(self)).absoluteDir().filePath("depotd");
    std::fprintf(stderr, "depot: no display (DISPLAY and WAYLAND_DISPLAY are unset): starting the headless broker "
                         "%s instead\n", qPrintable(depotd));
    const QByteArray program = depotd.toLocal8Bit(), data = dataDir.toLocal8Bit(), endpoint = listen.toLocal8Bit();
    char* argv[] = {const_cast<char*>(program.constData()), const_cast<char*>("--data"),
                    const_cast<char*>(data.constData()), const_cast<char*>("--listen"),
                    const_cast<char*>(endpoint.constData()), nullptr};
    execv(argv[0], argv);
    std::perror("depot: cannot start depotd");
    return 1;
}

// SIGTERM/SIGINT end the event loop like File → Quit, so the embedded broker closes cleanly (a self-pipe: the
// handler may only write(2)).
int g_signalPipe[2] = {-1, -1};

void onStopSignal(int) {
    const char byte = 1;
    [[maybe_unused]] ssize_t written = ::write(g_signalPipe[1], &byte, 1);
}

void quitOnStopSignals(QApplication& app) {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalPipe) != 0)
        return;
    auto* notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [] { QApplication::quit(); });
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

QString defaultDataDir() {
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return dir.isEmpty() ? QDir::home().filePath(".local/share/depot") : dir;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication::setOrganizationName("Depot");
    QCoreApplication::setApplicationName("depot");
    QCoreApplication::setApplicationVersion(QString::fromStdString(depot::buildInfo().depotVersion));
    if (!haveDisplay()) {
        QString dataDir = defaultDataDir(), listen = kDefaultListen;
        for (int i = 1; i + 1 < argc; ++i) {
            if (QByteArray(argv[i]) == "--data")
                dataDir = QString::fromLocal8Bit(argv[i + 1]);
            else if (QByteArray(argv[i]) == "--listen")
                listen = QString::fromLocal8Bit(argv[i + 1]);
        }
        return runHeadless(argv[0], dataDir, listen);
    }
    QApplication app(argc, argv);
    quitOnStopSignals(app);
    QCommandLineParser parser;
    parser.setApplicationDescription("Depot: a local message broker and its console.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({"data", "Where the embedded broker keeps its data.", "DIR", defaultDataDir()});
    parser.addOption(
        {"listen", "TCP endpoint of the embedded broker for applications.", "ENDPOINT", kDefaultListen});
    parser.addOption({"connect", "Manage a remote depotd instead of hosting the broker.", "ENDPOINT"});
    parser.process(app);

    depot::ui::ConsoleTarget target;
    target.link.client = "depot console";
    std::unique_ptr<depot::ui::EmbeddedBroker> embedded;
    if (parser.isSet("connect")) {
        target.embedded = false;
        target.shownEndpoint = parser.value("connect");
        target.link.endpoint = target.shownEndpoint.toStdString();
    } else {
        target.dataDir = parser.value("data");
        QDir().mkpath(target.dataDir);
        depot::ui::EmbeddedBrokerOptions options{target.dataDir.toStdString(), parser.value("listen").toStdString()};
        auto opened = depot::ui::EmbeddedBroker::open(options);
        if (!opened && !parser.isSet("listen")) {  // 7420 taken (a depotd running?): any free port will do
            options.tcpEndpoint = "tcp://127.0.0.1:0";
            opened = depot::ui::EmbeddedBroker::open(options);
        }
        if (!opened) {
            QMessageBox::critical(nullptr, "Depot",
                                  QString("Cannot open the broker in %1:\n%2")
                                      .arg(target.dataDir, QString::fromStdString(opened.status().message())));
            return 1;
        }
        embedded = std::move(opened).value();
        target.shownEndpoint = QString::fromStdString(embedded->tcpEndpoint());
        target.link.endpoint = embedded->inprocEndpoint();
        target.link.zmqContext = embedded->zmqContext();
    }
    int code = 0;
    {
        depot::ui::MainWindow window(target);
        window.show();
        code = app.exec();
        window.shutdownLink();  // the link's connection uses the embedded broker's context: close it first
    }
    if (embedded) {
        std::fprintf(stderr, "depot: closing the broker\n");
        const depot::Status closed = embedded->close();
        if (!closed) {
            std::fprintf(stderr, "depot: the broker's final flush failed: %s\n", closed.toString().c_str());
            return 1;
        }
        std::fprintf(stderr, "depot: broker closed cleanly\n");
    }
    return code;
}
