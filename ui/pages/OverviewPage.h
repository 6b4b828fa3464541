#pragma once
// OverviewPage: the broker at a glance — tiles with the current totals and what is at risk right now.
#include <QWidget>

#include <map>

#include "backend/Snapshot.h"

class QGridLayout;
class QLabel;

namespace depot::ui {

class OverviewPage : public QWidget {
    Q_OBJECT

public:
    explicit OverviewPage(QWidget* parent = nullptr);
    void setSnapshot(const SnapshotPtr& snapshot);
    // The value shown on a tile ("Queues", "Ready", ...), for tests.
    QString tileValue(const QString& title) const;

private:
    void addTile(const QString& title, const QString& help);
    void setTile(const QString& title, const QString& value);

    std::map<QString, QLabel*> m_tiles;
    QGridLayout* m_grid;
};

}  // namespace depot::ui
