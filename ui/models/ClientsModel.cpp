#include "models/ClientsModel.h"

#include <QDateTime>
#include <QStringList>

#include <algorithm>
#include <utility>

#include "models/QueueTableModel.h"

namespace depot::ui {

namespace {

// Shown where there is no value (never heard from, no consumers).
QString none() { return QStringLiteral("–"); }

QDateTime localTime(broker::TimeMs at) { return QDateTime::fromMSecsSinceEpoch(at).toLocalTime(); }

}  // namespace

ClientsModel::ClientsModel(QObject* parent) : QAbstractTableModel(parent) {}

void ClientsModel::setSnapshot(const SnapshotPtr& snapshot) {
    // A failed poll carries no data: keep showing the last good snapshot rather than blanking the page.
    if (!snapshot || !snapshot->error.empty() || snapshot == m_snapshot)
        return;
    if (m_snapshot && sameSessionsInSameOrder(*snapshot)) {
        m_snapshot = snapshot;
        if (!m_snapshot->sessions.empty())
            emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        return;
    }
    // Clients connected or left. A reset drops the view's selection and scroll position; a diff into
    // insert/remove signals would keep them, but sessions change rarely next to the once-a-second poll, so the
    // reset is the acceptable simple answer for now.
    beginResetModel();
    m_snapshot = snapshot;
    endResetModel();
}

bool ClientsModel::sameSessionsInSameOrder(const Snapshot& next) const {
    const std::vector<client::SessionInfo>& before = m_snapshot->sessions;
    const std::vector<client::SessionInfo>& after = next.sessions;
    return std::equal(
        before.begin(), before.end(), after.begin(), after.end(),
        [](const client::SessionInfo& a, const client::SessionInfo& b) { return a.session == b.session; });
}

uint64_t ClientsModel::sessionId(int row) const {
    if (row < 0 || row >= rowCount())
        return 0;
    return m_snapshot->sessions[size_t(row)].session;
}

int ClientsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !m_snapshot ? 0 : int(m_snapshot->sessions.size());
}

int ClientsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

bool ClientsModel::isNumeric(int column) { return column == LastHeard || column == Unconfirmed; }

int64_t ClientsModel::millisecondsSinceHeard(const client::SessionInfo& session) const {
    if (session.lastHeardAt == 0)
        return -1;
    // Both times are the broker's clock; a frame heard within the snapshot's millisecond is "0.0 s ago".
    return std::max<int64_t>(0, m_snapshot->stats.at - session.lastHeardAt);
}

QVariant ClientsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const client::SessionInfo& session = m_snapshot->sessions[size_t(index.row())];
    switch (role) {
        case Qt::DisplayRole:
            return display(session, index.column());
        case SortRole:
            return sortValue(session, index.column());
        case Qt::ToolTipRole:
            if (index.column() == Connected && session.connectedAt != 0)
                return localTime(session.connectedAt).toString(QStringLiteral("yyyy-MM-dd hh:mm:ss"));
            if (index.column() == Consumers && !session.consumers.empty())
                return consumerDetails(session);
            return {};
        case Qt::TextAlignmentRole: {
            const Qt::Alignment horizontal = isNumeric(index.column()) ? Qt::AlignRight : Qt::AlignLeft;
            // An int, not Qt::Alignment: what Qt 6.4's delegates and older views read back.
            return int(horizontal | Qt::AlignVCenter);
        }
        default:
            return {};
    }
}

QVariant ClientsModel::display(const client::SessionInfo& session, int column) const {
    switch (column) {
        case Client:
            return QString::fromStdString(session.client);
        case Role:
            return QString::fromStdString(session.role);
        case Address:  // ZeroMQ knows no peer address for inproc:// (the console itself, an embedded client)
            return session.address.empty() ? tr("in-process") : QString::fromStdString(session.address);
        case Connected:
            return session.connectedAt == 0 ? none()
                                            : localTime(session.connectedAt).toString(QStringLiteral("hh:mm:ss"));
        case LastHeard: {
            const int64_t ago = millisecondsSinceHeard(session);
            return ago < 0 ? none() : formatAgo(ago);
        }
        case Unconfirmed:
            return QString::number(qulonglong(session.unconfirmed));
        case Consumers:
            return describeConsumers(session);
        default:
            return {};
    }
}

QVariant ClientsModel::sortValue(const client::SessionInfo& session, int column) const {
    switch (column) {
        case Connected:
            return qlonglong(session.connectedAt);
        case LastHeard:
            return qulonglong(std::max<int64_t>(0, millisecondsSinceHeard(session)));
        case Unconfirmed:
            return qulonglong(session.unconfirmed);
        default:
            return display(session, column);
    }
}

QString ClientsModel::describeConsumers(const client::SessionInfo& session) {
    if (session.consumers.empty())
        return none();
    QStringList parts;
    for (const client::SessionConsumerInfo& consumer : session.consumers) {
        const QString queue = QString::fromStdString(consumer.queue);
        if (consumer.autoAck) {
            // Auto-ack deliveries are settled on sending: there is no credit in use and nothing unacked.
            parts << tr("%1 (auto-ack)").arg(queue);
            continue;
        }
        const QString prefetch = consumer.prefetch == 0 ? tr("unlimited") : QString::number(consumer.prefetch);
        parts << tr("%1 (prefetch %2, unacked %3)").arg(queue, prefetch).arg(qulonglong(consumer.unacked));
    }
    return parts.join(QStringLiteral("; "));
}

QString ClientsModel::consumerDetails(const client::SessionInfo& session) {
    QStringList lines;
    for (const client::SessionConsumerInfo& consumer : session.consumers) {
        const QString name = consumer.name.empty() ? tr("unnamed") : QString::fromStdString(consumer.name);
        lines << tr("Consumer %1 (%2) on %3: %4")
                     .arg(qulonglong(consumer.consumer))
                     .arg(name, QString::fromStdString(consumer.queue),
                          consumer.autoAck ? tr("auto-ack") : tr("manual ack"));
    }
    return lines.join(QLatin1Char('\n'));
}

QVariant ClientsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        static const char* const kTitles[ColumnCount] = {"Client",     "Role",        "Address",  "Connected",
                                                         "Last heard", "Unconfirmed", "Consumers"};
        return section >= 0 && section < ColumnCount ? tr(kTitles[section]) : QVariant();
    }
    if (role != Qt::ToolTipRole)
        return {};
    switch (section) {
        case LastHeard:
            return tr("Time since the broker last heard from the client, at the last refresh");
        case Unconfirmed:
            return tr("Messages the client published that the broker has not confirmed yet");
        default:
            return {};
    }
}

QString ClientsModel::formatAgo(int64_t milliseconds) {
    const int64_t ms = std::max<int64_t>(0, milliseconds);
    // Tenths of a second matter for a heartbeat; past a minute only the coarse age does. 59.95 s and above would
    // print as "60.0 s".
    if (ms < 59'950)
        return tr("%1 s ago").arg(double(ms) / 1000.0, 0, 'f', 1);
    return tr("%1 ago").arg(QueueTableModel::formatAge(std::max<int64_t>(ms, 60'000)));
}

}  // namespace depot::ui
