#include "backend/Text.h"
#include "models/QueueTableModel.h"

#include <QByteArrayView>
#include <QHash>
#include <QStringList>

#include <algorithm>
#include <numeric>
#include <string_view>
#include <utility>

namespace depot::ui {

namespace {

// Shown where there is no value (no rate yet, empty queue, no dead-letter queue).
QString none() { return QStringLiteral("–"); }

QByteArrayView keyOf(const std::string& name) { return QByteArrayView(name.data(), qsizetype(name.size())); }

// The count a numeric column shows; 0 for the columns that are not plain counts.
uint64_t countOf(const client::QueueDetails& queue, int column) {
    const broker::QueueStats& stats = queue.stats;
    switch (column) {
        case QueueTableModel::Ready:
            return stats.ready;
        case QueueTableModel::Unacked:
            return stats.unacked;
        case QueueTableModel::Delayed:
            return stats.delayed;
        case QueueTableModel::Consumers:
            return stats.consumers;
        case QueueTableModel::DeadLetterDepth:
            return stats.deadLetterDepth;
        default:
            return 0;
    }
}

// Milliseconds the oldest message has waited at the snapshot's time; negative when the queue holds none.
int64_t oldestAgeOf(const client::QueueDetails& queue, broker::TimeMs at) {
    if (queue.stats.oldestPublishedAt == 0)
        return -1;
    // The broker stamps both values with its own clock, but a message published within the snapshot's
    // millisecond must not show as being from the future.
    return std::max<int64_t>(0, at - queue.stats.oldestPublishedAt);
}

QString deadLetterQueueOf(const client::QueueDetails& queue) {
    const std::string& name =
        queue.info.deadLetterQueue.empty() ? queue.stats.deadLetterQueue : queue.info.deadLetterQueue;
    return name.empty() ? none() : QString::fromStdString(name);
}

}  // namespace

QueueTableModel::QueueTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void QueueTableModel::setSnapshot(const SnapshotPtr& snapshot) {
    // A failed poll carries no data: keep showing the last good snapshot rather than blanking the page. The same
    // snapshot twice would make every rate unknown (no time passed), so it changes nothing either.
    if (!snapshot || !snapshot->error.empty() || snapshot == m_snapshot)
        return;
    if (m_snapshot && sameNamesInSameOrder(*snapshot)) {
        m_previous = std::exchange(m_snapshot, snapshot);
        mapPreviousRows(true);
        if (!m_snapshot->queues.empty())
            emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        return;
    }
    // Queues were declared, deleted or reordered. A reset drops the view's selection and scroll position; a diff
    // into insert/remove/move signals would keep them, but names change rarely next to the once-a-second poll,
    // so the reset is the acceptable simple answer for now.
    beginResetModel();
    m_previous = std::exchange(m_snapshot, snapshot);
    mapPreviousRows(false);
    endResetModel();
}

bool QueueTableModel::sameNamesInSameOrder(const Snapshot& next) const {
    const std::vector<client::QueueDetails>& before = m_snapshot->queues;
    const std::vector<client::QueueDetails>& after = next.queues;
    if (before.size() != after.size())
        return false;
    for (size_t row = 0; row < before.size(); ++row) {
        if (before[row].info.name != after[row].info.name)
            return false;
    }
    return true;
}

void QueueTableModel::mapPreviousRows(bool sameNames) {
    m_previousRow.resize(m_snapshot->queues.size());
    if (!m_previous) {
        std::fill(m_previousRow.begin(), m_previousRow.end(), -1);
        return;
    }
    if (sameNames) {
        std::iota(m_previousRow.begin(), m_previousRow.end(), 0);
        return;
    }
    // Keys view the previous snapshot's names, which m_previous keeps alive while the map exists.
    QHash<QByteArrayView, int> rowByName;
    rowByName.reserve(qsizetype(m_previous->queues.size()));
    for (size_t row = 0; row < m_previous->queues.size(); ++row)
        rowByName.insert(keyOf(m_previous->queues[row].info.name), int(row));
    for (size_t row = 0; row < m_snapshot->queues.size(); ++row)
        m_previousRow[row] = rowByName.value(keyOf(m_snapshot->queues[row].info.name), -1);
}

double QueueTableModel::rate(int row, uint64_t broker::Counters::*counter) const {
    if (!m_previous || m_previousRow[size_t(row)] < 0)
        return -1.0;
    const int64_t elapsedMs = m_snapshot->stats.at - m_previous->stats.at;
    if (elapsedMs <= 0)
        return -1.0;
    const uint64_t now = m_snapshot->queues[size_t(row)].stats.counters.*counter;
    const uint64_t then = m_previous->queues[size_t(m_previousRow[size_t(row)])].stats.counters.*counter;
    // Counters restart from zero with the broker: a drop is not a negative rate.
    if (now < then)
        return -1.0;
    return double(now - then) * 1000.0 / double(elapsedMs);
}

QString QueueTableModel::queueName(int row) const {
    if (row < 0 || row >= rowCount())
        return {};
    return QString::fromStdString(m_snapshot->queues[size_t(row)].info.name);
}

int QueueTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !m_snapshot ? 0 : int(m_snapshot->queues.size());
}

int QueueTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

bool QueueTableModel::isNumeric(int column) {
    switch (column) {
        case Ready:
        case Unacked:
        case Delayed:
        case Consumers:
        case InRate:
        case OutRate:
        case OldestAge:
        case DeadLetterDepth:
            return true;
        default:
            return false;
    }
}

QVariant QueueTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const client::QueueDetails& queue = m_snapshot->queues[size_t(index.row())];
    switch (role) {
        case Qt::DisplayRole:
            return display(queue, index.row(), index.column());
        case SortRole:
            return sortValue(queue, index.row(), index.column());
        case Qt::ToolTipRole:
            return index.column() == Name ? QVariant(describePolicy(queue.info)) : QVariant();
        case Qt::TextAlignmentRole: {
            const Qt::Alignment horizontal = isNumeric(index.column()) ? Qt::AlignRight : Qt::AlignLeft;
            // An int, not Qt::Alignment: what Qt 6.4's delegates and older views read back.
            return int(horizontal | Qt::AlignVCenter);
        }
        default:
            return {};
    }
}

QVariant QueueTableModel::display(const client::QueueDetails& queue, int row, int column) const {
    switch (column) {
        case Name:
            return QString::fromStdString(queue.info.name);
        case Kind:
            return text(broker::toString(queue.info.kind));
        case InRate:
        case OutRate: {
            const double perSecond =
                rate(row, column == InRate ? &broker::Counters::published : &broker::Counters::acked);
            return perSecond < 0 ? none() : QString::number(perSecond, 'f', 1);
        }
        case OldestAge: {
            const int64_t age = oldestAgeOf(queue, m_snapshot->stats.at);
            return age < 0 ? none() : formatAge(age);
        }
        case DeadLetterQueue:
            return deadLetterQueueOf(queue);
        case Flush:
            return queue.info.policy.durable ? text(broker::toString(queue.info.policy.flush)) : tr("memory");
        case Replication:
            return queue.info.policy.durable ? text(broker::toString(queue.info.policy.replication)) : none();
        default:
            return QString::number(qulonglong(countOf(queue, column)));
    }
}

QVariant QueueTableModel::sortValue(const client::QueueDetails& queue, int row, int column) const {
    switch (column) {
        case Ready:
        case Unacked:
        case Delayed:
        case Consumers:
        case DeadLetterDepth:
            return qulonglong(countOf(queue, column));
        case InRate:
        case OutRate:
            return std::max(0.0, rate(row, column == InRate ? &broker::Counters::published : &broker::Counters::acked));
        case OldestAge:
            return qulonglong(std::max<int64_t>(0, oldestAgeOf(queue, m_snapshot->stats.at)));
        default:
            return display(queue, row, column);
    }
}

QVariant QueueTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        static const char* const kTitles[ColumnCount] = {"Name",      "Kind", "Ready", "Unacked", "Delayed",
                                                         "Consumers", "In/s", "Out/s", "Oldest",  "Dead-letter queue",
                                                         "DLQ depth", "Flush",   "Replication"};
        return section >= 0 && section < ColumnCount ? tr(kTitles[section]) : QVariant();
    }
    if (role != Qt::ToolTipRole)
        return {};
    switch (section) {
        case Delayed:
            return tr("Messages waiting for a delay or a retry's backoff");
        case InRate:
            return tr("Messages published into the queue per second, since the previous refresh");
        case OutRate:
            return tr("Messages acknowledged from the queue per second, since the previous refresh");
        case OldestAge:
            return tr("How long the oldest message in the queue has waited");
        case DeadLetterDepth:
            return tr("Messages in this queue's dead-letter queue");
        case Replication:
            return tr("Copies on a replica broker. sync: confirmed once a replica has it on disk; async: confirmed "
                      "at once, copied shortly after; none: a lost disk loses the queue's messages");
        default:
            return {};
    }
}

QString QueueTableModel::formatAge(int64_t milliseconds) {
    const int64_t seconds = std::max<int64_t>(0, milliseconds) / 1000;
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds);
    const int64_t minutes = seconds / 60;
    if (minutes < 60)
        return QStringLiteral("%1 min").arg(minutes);
    const int64_t hours = minutes / 60;
    if (hours < 24)
        return minutes % 60 ? QStringLiteral("%1 h %2 min").arg(hours).arg(minutes % 60)
                            : QStringLiteral("%1 h").arg(hours);
    const int64_t days = hours / 24;
    return hours % 24 ? QStringLiteral("%1 d %2 h").arg(days).arg(hours % 24) : QStringLiteral("%1 d").arg(days);
}

QString QueueTableModel::formatPolicyDuration(int64_t milliseconds) {
    if (milliseconds < 1000)
        return QStringLiteral("%1 ms").arg(std::max<int64_t>(0, milliseconds));
    if (milliseconds < 60'000)
        return QStringLiteral("%1 s").arg(QString::number(double(milliseconds) / 1000.0, 'g', 4));
    // Unlike an age, a setting is shown exactly (to the second): "1 min 30 s", not "1 min".
    const int64_t seconds = milliseconds / 1000;
    const int64_t parts[] = {seconds / 86'400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60};
    static const char* const kUnits[] = {"d", "h", "min", "s"};
    QStringList words;
    for (size_t i = 0; i < std::size(parts); ++i) {
        if (parts[i] != 0)
            words << QStringLiteral("%1 %2").arg(parts[i]).arg(QLatin1String(kUnits[i]));
    }
    return words.join(QLatin1Char(' '));
}

QString QueueTableModel::describePolicy(const broker::QueueInfo& info) {
    const broker::QueuePolicy& policy = info.policy;
    QStringList lines;
    lines << (policy.durable ? tr("Durable: messages are kept on disk")
                             : tr("Transient: messages live in memory only"));
    lines << (policy.flush == broker::FlushMode::Sync
                  ? tr("Flush: sync (confirmed once on disk)")
                  : tr("Flush: async (confirmed once written, before the fdatasync; a power loss can lose the "
                       "latest)"));
    lines << (policy.maxAttempts == 0 ? tr("Max attempts: unlimited")
                                      : tr("Max attempts: %1, then dead-lettered").arg(policy.maxAttempts));
    QStringList backoff;
    for (const broker::Millis& step : policy.backoff)
        backoff << formatPolicyDuration(step.count());
    lines << (backoff.isEmpty() ? tr("Retry backoff: none")
                                : tr("Retry backoff: %1 (the last repeats)").arg(backoff.join(QStringLiteral(", "))));
    lines << (policy.ackTimeout.count() == 0
                  ? tr("Ack timeout: never")
                  : tr("Ack timeout: %1, then redelivered").arg(formatPolicyDuration(policy.ackTimeout.count())));
    lines << (policy.ttl ? tr("Time to live: %1, then dead-lettered").arg(formatPolicyDuration(policy.ttl->count()))
                         : tr("Time to live: unlimited"));
    const QString overflow = policy.overflow == broker::Overflow::RejectPublish ? tr("publishes are refused")
                                                                                : tr("the oldest is dead-lettered");
    lines << (policy.maxLength ? tr("Max length: %1 messages, then %2").arg(qulonglong(*policy.maxLength)).arg(overflow)
                               : tr("Max length: unlimited"));
    lines << (policy.ordering == broker::Ordering::PerKey ? tr("Ordering: per key (one message in flight per key)")
                                                          : tr("Ordering: none"));
    lines << (policy.dedupWindow.count() == 0
                  ? tr("Deduplication: off")
                  : tr("Deduplication window: %1").arg(formatPolicyDuration(policy.dedupWindow.count())));
    return lines.join(QLatin1Char('\n'));
}

}  // namespace depot::ui
