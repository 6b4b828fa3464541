#include "pages/ClientsPage.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "models/ClientsModel.h"

namespace depot::ui {

ClientsPage::ClientsPage(QWidget* parent) : QWidget(parent), m_model(new ClientsModel(this)) {
    auto* proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_model);
    proxy->setSortRole(ClientsModel::SortRole);
    m_view = new QTableView;
    m_view->setObjectName("clientsTable");
    m_view->setModel(proxy);
    m_view->setSortingEnabled(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->setWordWrap(false);
    m_view->horizontalHeader()->setStretchLastSection(true);
    connect(m_model, &QAbstractItemModel::modelReset, m_view, &QTableView::resizeColumnsToContents);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_view);
}

void ClientsPage::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    m_model->setSnapshot(snapshot);
}

}  // namespace depot::ui
