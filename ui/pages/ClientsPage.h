#pragma once
// ClientsPage: the connected clients (sessions) with their role, address, unconfirmed publishes and consumers.
#include <QWidget>

#include "backend/Snapshot.h"

class QTableView;

namespace depot::ui {

class ClientsModel;

class ClientsPage : public QWidget {
    Q_OBJECT

public:
    explicit ClientsPage(QWidget* parent = nullptr);
    void setSnapshot(const SnapshotPtr& snapshot);
    QTableView* view() const { return m_view; }

private:
    ClientsModel* m_model;
    QTableView* m_view;
};

}  // namespace depot::ui
