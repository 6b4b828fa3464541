#pragma once
// A QTableWidget for showing rows, never editing them: whole-row selection, no row numbers, no wrapping, the
// last column taking the rest of the width. Items render plain text (never rich text).
#include <QHeaderView>
#include <QStringList>
#include <QTableWidget>

namespace depot::ui {

inline QTableWidget* readOnlyTable(const QStringList& titles, const char* objectName = nullptr) {
    auto* table = new QTableWidget(0, int(titles.size()));
    if (objectName)
        table->setObjectName(objectName);
    table->setHorizontalHeaderLabels(titles);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setStretchLastSection(true);
    table->setWordWrap(false);
    return table;
}

// Fills `row` with `cells`, one plain-text item each.
inline void setRowText(QTableWidget* table, int row, const QStringList& cells) {
    for (int column = 0; column < cells.size(); ++column)
        table->setItem(row, column, new QTableWidgetItem(cells[column]));
}

}  // namespace depot::ui
