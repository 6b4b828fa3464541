#pragma once
// What the console's model tests share: a poll that failed, a cell's text, a sorted view.
#include <QAbstractItemModel>
#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>

#include <memory>

#include "backend/Snapshot.h"

namespace depot::test {

inline constexpr auto kReport = QAbstractItemModelTester::FailureReportingMode::QtTest;

// A snapshot of a poll that did not reach the broker: models must leave what they show as it was.
inline ui::SnapshotPtr failedPoll() {
    auto snapshot = std::make_shared<ui::Snapshot>();
    snapshot->error = "unavailable: broker did not answer";
    return snapshot;
}

inline QString cell(const QAbstractItemModel& model, int row, int column) {
    return model.index(row, column).data().toString();
}

// `model` through a QSortFilterProxyModel sorting by `sortRole`, as the pages show it, checked by a model tester.
struct SortedView {
    SortedView(QAbstractItemModel* model, int sortRole) {
        proxy.setSourceModel(model);
        proxy.setSortRole(sortRole);
    }
    QSortFilterProxyModel proxy;
    QAbstractItemModelTester tester{&proxy, kReport};
};

}  // namespace depot::test
