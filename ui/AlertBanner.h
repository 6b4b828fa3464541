#pragma once
// AlertBanner: the strip above the pages that says which alerts fire right now ("orders: 12 dead letters
// waiting (alert at 10)"); hidden when none does. Reports each alert that starts firing, so the window can raise
// a desktop notification for it.
#include <QFrame>

#include <set>
#include <string>

#include "backend/Snapshot.h"

class QLabel;

namespace depot::ui {

class AlertBanner : public QFrame {
    Q_OBJECT

public:
    explicit AlertBanner(QWidget* parent = nullptr);
    void setSnapshot(const SnapshotPtr& snapshot);
    QString text() const;

    // "orders: 12 dead letters waiting (alert at 10)".
    static QString describe(const broker::AlertState& state);

signals:
    void raised(const QString& what);  // an alert that was not firing at the previous snapshot

private:
    QLabel* m_label;
    std::set<std::pair<std::string, int>> m_firing;  // (queue, metric)
    bool m_first = true;                              // alerts firing at the first snapshot are not "new"
};

}  // namespace depot::ui
