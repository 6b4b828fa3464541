#include "backend/Text.h"
#include "pages/TracePage.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <memory>

#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"
#include "models/DeadLetterTableModel.h"
#include "pages/ReadOnlyTable.h"

namespace depot::ui {
namespace {

// "+0 ms", "+1.250 s", "+3 min 5 s": how long after the first event.
QString offset(broker::TimeMs since) {
    if (since < 1000)
        return QStringLiteral("+%1 ms").arg(since);
    if (since < 60'000)
        return QStringLiteral("+%1 s").arg(double(since) / 1000.0, 0, 'f', 3);
    return QStringLiteral("+%1 min %2 s").arg(since / 60'000).arg((since % 60'000) / 1000);
}

}  // namespace

TracePage::TracePage(BrokerLink* link, QWidget* parent) : QWidget(parent), m_link(link) {
    m_query = new QLineEdit;
    m_query->setObjectName("traceQuery");
    m_query->setPlaceholderText(tr("message id (or key)"));
    m_query->setClearButtonEnabled(true);
    m_byId = new QRadioButton(tr("Message &id"));
    m_byId->setChecked(true);
    m_byKey = new QRadioButton(tr("Ordering &key"));
    auto* search = new QPushButton(tr("&Search"));
    search->setObjectName("traceSearch");
    m_summary = new QLabel(tr("Type a message id to see everything that happened to it."));
    m_summary->setObjectName("traceSummary");
    m_summary->setTextFormat(Qt::PlainText);
    m_timeline = readOnlyTable({tr("Time"), tr("After"), tr("Event"), tr("Queue"), tr("Message id"), tr("Detail")},
                               "traceTimeline");
    m_timeline->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_timeline->horizontalHeader()->setStretchLastSection(true);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_query, 1);
    bar->addWidget(m_byId);
    bar->addWidget(m_byKey);
    bar->addWidget(search);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_timeline, 1);
    connect(search, &QPushButton::clicked, this, &TracePage::search);
    connect(m_query, &QLineEdit::returnPressed, this, &TracePage::search);
}

QString TracePage::summary() const { return m_summary->text(); }

void TracePage::traceMessage(const QString& messageId) {
    m_byId->setChecked(true);
    m_query->setText(messageId);
    search();
}

void TracePage::traceKey(const QString& key) {
    m_byKey->setChecked(true);
    m_query->setText(key);
    search();
}

void TracePage::search() {
    const QString query = m_query->text().trimmed();
    if (query.isEmpty())
        return;
    broker::TraceQuery trace;
    (m_byId->isChecked() ? trace.messageId : trace.key) = query.toStdString();
    const quint64 request = ++m_request;
    m_summary->setText(tr("Searching…"));
    m_link->fetch<std::vector<broker::TraceEvent>>(
        [trace](client::Admin& admin) { return admin.trace(trace); }, this,
        [this, request, query, byId = m_byId->isChecked()](Result<std::vector<broker::TraceEvent>> events) {
            if (request != m_request)
                return;
            m_timeline->setRowCount(0);
            if (!events) {
                m_summary->setText(tr("The broker could not search: %1").arg(text(events.status().message())));
                return;
            }
            if (events->empty()) {
                m_summary->setText(tr("No events for '%1'. Tracing may be off (depotd --no-trace), or the events "
                                      "are older than the broker keeps.")
                                       .arg(query));
                return;
            }
            const broker::TimeMs first = events->front().at;
            m_summary->setText(tr("%n event(s) for '%1', over %2.", "", int(events->size()))
                                   .arg(query, offset(events->back().at - first).mid(1)));
            m_timeline->setRowCount(int(events->size()));
            for (int row = 0; row < int(events->size()); ++row) {
                const broker::TraceEvent& e = (*events)[size_t(row)];
                // Some events are recorded by queue and sequence only; the broker links them to this message.
                const QString id = e.messageId.empty() && byId ? tr("(same message)") : text(e.messageId);
                const QStringList cells = {DeadLetterTableModel::formatTime(e.at), offset(e.at - first),
                                           text(broker::toString(e.kind)), text(e.queue), id, text(e.detail)};
                setRowText(m_timeline, row, cells);
            }
        });
}

}  // namespace depot::ui
