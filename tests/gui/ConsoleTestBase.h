#pragma once
// ConsoleTestBase: what the console's GUI tests share — the real MainWindow on a real embedded broker in a temp
// dir, an application connected over TCP as a user's program would be, and a way to act on modal dialogs.
#include <QtTest>

#include <QApplication>
#include <QDialogButtonBox>
#include <QPushButton>
#include <QTimer>

#include <functional>
#include <memory>

#include "MainWindow.h"
#include "backend/EmbeddedBroker.h"
#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "support/TempDir.h"

namespace depot::ui::test {

inline constexpr int kWaitMs = 15000;  // the machine is shared: a hang guard, not a timing assertion

// Runs `act` on the next modal dialog (QDialog::exec blocks the test until the dialog closes).
inline void onNextModal(std::function<void(QWidget*)> act) {
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [act, poll] {
        if (QWidget* modal = QApplication::activeModalWidget())
            act(modal);
        else
            QTimer::singleShot(20, *poll);
    };
    QTimer::singleShot(0, *poll);
}

inline void clickButton(QWidget* dialog, QDialogButtonBox::StandardButton which) {
    if (auto* box = dialog->findChild<QDialogButtonBox*>())
        box->button(which)->click();
}

class ConsoleTestBase : public QObject {
protected:
    std::unique_ptr<depot::test::TempDir> m_dir;
    std::unique_ptr<EmbeddedBroker> m_broker;
    std::unique_ptr<MainWindow> m_window;
    std::shared_ptr<client::Connection> m_app;  // an application on the embedded broker's TCP endpoint

    client::Admin admin() { return client::Admin(m_app); }

    // Opens the broker, the window (shown, at `size`) and the application's connection.
    void startConsole(QSize size) {
        QCoreApplication::setOrganizationName("DepotTest");
        m_dir = std::make_unique<depot::test::TempDir>();
        auto opened = EmbeddedBroker::open({m_dir->file("data"), "tcp://127.0.0.1:0"});
        QVERIFY2(opened.isOk(), opened.status().toString().c_str());
        m_broker = std::move(opened).value();
        ConsoleTarget target;
        target.dataDir = QString::fromStdString(m_broker->dataDir());
        target.shownEndpoint = QString::fromStdString(m_broker->tcpEndpoint());
        target.link.endpoint = m_broker->inprocEndpoint();
        target.link.zmqContext = m_broker->zmqContext();
        target.link.client = "depot console";
        m_window = std::make_unique<MainWindow>(target);
        m_window->resize(size);
        m_window->show();
        client::ClientOptions app;
        app.endpoint = m_broker->tcpEndpoint();
        app.client = "test application";
        auto connected = client::Connection::connect(app);
        QVERIFY2(connected.isOk(), connected.status().toString().c_str());
        m_app = std::move(connected).value();
    }

    void stopConsole() {
        if (m_app)
            m_app->close();
        m_window.reset();
        if (m_broker)
            QVERIFY(m_broker->close().isOk());
    }
};

}  // namespace depot::ui::test
