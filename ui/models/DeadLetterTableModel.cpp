#include "backend/Text.h"
#include "models/DeadLetterTableModel.h"

#include <QDateTime>
#include <QPointer>

#include <algorithm>

namespace depot::ui {
namespace {

QString none() { return QStringLiteral("–"); }

// One line, at most 200 characters: an error text may hold a stack trace.
QString firstLine(const std::string& value) {
    QString line = text(value).section(QLatin1Char('\n'), 0, 0);
    return line.size() > 200 ? line.left(199) + QStringLiteral("…") : line;
}

}  // namespace

DeadLetterTableModel::DeadLetterTableModel(Fetcher fetcher, QObject* parent)
    : QAbstractTableModel(parent), m_fetcher(std::move(fetcher)) {}

void DeadLetterTableModel::setQuery(const std::string& queue, const broker::MessageFilter& filter) {
    beginResetModel();
    ++m_generation;
    m_queue = queue;
    m_filter = filter;
    m_matched = 0;
    m_pages.clear();
    m_recent.clear();
    m_inFlight.clear();
    m_refreshWanted = false;
    endResetModel();
    emit matchedChanged(0);
    if (!m_queue.empty())
        request(0);  // learns how many match
}

void DeadLetterTableModel::refresh() {
    if (m_queue.empty())
        return;
    // Pages still on their way are waited for: a filtered page of a huge queue can take the broker seconds, and
    // refreshes piling up behind it would only delay the pages the operator scrolls to.
    if (!m_inFlight.empty()) {
        m_refreshWanted = true;
        return;
    }
    ++m_generation;  // answers to the old requests would overwrite fresher pages
    m_inFlight.clear();
    std::vector<size_t> loaded;
    for (const auto& [page, rows] : m_pages)
        loaded.push_back(page);
    if (loaded.empty())
        loaded.push_back(0);
    for (size_t page : loaded)
        request(page);
}

const broker::QueuedMessage* DeadLetterTableModel::messageAt(int row) const {
    if (row < 0)
        return nullptr;
    auto it = m_pages.find(size_t(row) / kPageSize);
    if (it == m_pages.end() || size_t(row) % kPageSize >= it->second.size())
        return nullptr;
    return &it->second[size_t(row) % kPageSize];
}

void DeadLetterTableModel::request(size_t page) const {
    if (!m_fetcher || m_queue.empty() || !m_inFlight.insert(page).second)
        return;
    auto* self = const_cast<DeadLetterTableModel*>(this);
    m_fetcher(m_queue, m_filter, page * kPageSize, kPageSize,
              [model = QPointer<DeadLetterTableModel>(self), generation = m_generation, page](
                  Result<broker::BrowsePage> result) {
                  if (model)
                      model->received(generation, page, std::move(result));
              });
}

void DeadLetterTableModel::received(uint64_t generation, size_t page, Result<broker::BrowsePage> result) {
    if (generation != m_generation)
        return;
    m_inFlight.erase(page);
    if (m_inFlight.empty() && m_refreshWanted) {
        m_refreshWanted = false;
        QMetaObject::invokeMethod(this, &DeadLetterTableModel::refresh, Qt::QueuedConnection);
    }
    if (!result) {
        emit loadFailed(QString::fromStdString(result.status().message()));
        return;
    }
    m_pages[page] = std::move(result->messages);
    touch(page);
    while (m_pages.size() > kPagesKept) {
        m_pages.erase(m_recent.back());
        m_recent.pop_back();
    }
    setMatched(result->matched);
    const int first = int(page * kPageSize);
    const int last = std::min(rowCount() - 1, first + int(kPageSize) - 1);
    if (first <= last)
        emit dataChanged(index(first, 0), index(last, ColumnCount - 1));
}

void DeadLetterTableModel::touch(size_t page) const {
    m_recent.remove(page);
    m_recent.push_front(page);
}

void DeadLetterTableModel::setMatched(uint64_t matched) {
    // The view's rows follow the broker's count; a row beyond INT_MAX is not shown (a view counts in int).
    const int rows = int(std::min<uint64_t>(matched, uint64_t(std::numeric_limits<int>::max())));
    const int before = rowCount();
    if (rows > before) {
        beginInsertRows({}, before, rows - 1);
        m_matched = matched;
        endInsertRows();
    } else if (rows < before) {
        beginRemoveRows({}, rows, before - 1);
        m_matched = matched;
        endRemoveRows();
    } else {
        m_matched = matched;
    }
    if (rows != before)
        emit matchedChanged(matched);
}

int DeadLetterTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(std::min<uint64_t>(m_matched, uint64_t(std::numeric_limits<int>::max())));
}

int DeadLetterTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DeadLetterTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const broker::QueuedMessage* message = messageAt(index.row());
    if (role == Qt::TextAlignmentRole) {
        const bool numeric = index.column() == Attempts || index.column() == Size || index.column() == Requeued;
        return int((numeric ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    if (!message) {
        request(size_t(index.row()) / kPageSize);
        return index.column() == Id && role == Qt::DisplayRole ? QStringLiteral("…") : QVariant();
    }
    touch(size_t(index.row()) / kPageSize);
    if (role == Qt::ToolTipRole)
        return index.column() == LastError && message->death ? text(message->death->lastError) : QVariant();
    return display(*message, index.column());
}

QVariant DeadLetterTableModel::display(const broker::QueuedMessage& message, int column) const {
    const broker::DeathRecord* death = message.death ? &*message.death : nullptr;
    switch (column) {
        case Id:
            return message.messageId.empty() ? QStringLiteral("#%1").arg(message.sequence) : text(message.messageId);
        case SourceQueue:
            return death ? text(death->sourceQueue) : none();
        case Reason:
            return death ? text(broker::toString(death->reason)) : none();
        case Attempts:
            return death ? death->attempts : message.attempts;
        case LastError:
            return death && !death->lastError.empty() ? firstLine(death->lastError) : none();
        case FirstDeath:
            return formatTime(death ? death->firstDeathAt : 0);
        case LastDeath:
            return formatTime(death ? death->lastDeathAt : 0);
        case Size:
            return qulonglong(message.size);
        case Requeued:
            return death ? qulonglong(death->requeues.size()) : 0;
        default:
            return {};
    }
}

QVariant DeadLetterTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char* const kTitles[ColumnCount] = {"Message id", "Source queue", "Reason",  "Attempts", "Last error",
                                                     "First death", "Last death", "Size (B)", "Requeued"};
    return section >= 0 && section < ColumnCount ? tr(kTitles[section]) : QVariant();
}

QString DeadLetterTableModel::formatTime(broker::TimeMs at) {
    if (at <= 0)
        return none();
    return QDateTime::fromMSecsSinceEpoch(at).toString(QStringLiteral("yyyy-MM-dd hh:mm:ss"));
}

}  // namespace depot::ui
