#pragma once
// BrokerDefaultsBox: the broker-wide durability settings on the Durability page: the flush mode queues get when
// they are declared without one, and the async flush interval (the loss window of every async queue). Shows the
// broker's values from each snapshot until the operator edits them; Apply sends them (audited by the broker).
#include <QGroupBox>

#include "backend/Snapshot.h"

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace depot::ui {

class BrokerLink;

class BrokerDefaultsBox : public QGroupBox {
    Q_OBJECT

public:
    explicit BrokerDefaultsBox(BrokerLink* link, QWidget* parent = nullptr);
    void setSnapshot(const SnapshotPtr& snapshot);

public slots:
    void apply();

signals:
    void message(const QString& text);

private:
    void markEdited();
    void showBrokerValues();
    void updateExplanation();

    BrokerLink* m_link;
    SnapshotPtr m_snapshot;
    bool m_edited = false;   // the operator changed a field: snapshots no longer overwrite it until applied
    bool m_showing = false;  // the fields are being set from a snapshot, not by the operator
    QComboBox* m_flush = nullptr;
    QSpinBox* m_interval = nullptr;
    QComboBox* m_replication = nullptr;
    QLabel* m_explanation = nullptr;
    QPushButton* m_apply = nullptr;
};

}  // namespace depot::ui
