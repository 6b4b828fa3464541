#pragma once
// DeadLetterTableModel: the dead letters of one queue matching a filter, as a lazy table. Rows are fetched from
// the broker a page at a time when the view first shows them (browsing: no side effects), and only the most
// recently used pages are kept, so a dead-letter queue of a million messages costs a few hundred rows of memory.
// Row order is the queue's order; a row not yet loaded shows "…".
#include <QAbstractTableModel>

#include <functional>
#include <list>
#include <map>
#include <set>

#include "depot/broker/Broker.h"

namespace depot::ui {

class DeadLetterTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { Id = 0, SourceQueue, Reason, Attempts, LastError, FirstDeath, LastDeath, Size, Requeued, ColumnCount };
    static constexpr size_t kPageSize = 200;
    static constexpr size_t kPagesKept = 16;

    using PageCallback = std::function<void(Result<broker::BrowsePage>)>;
    // Browses `queue` (bodies not needed) and calls back on the model's thread, later: never from inside the call
    // (data() asks while the view paints).
    using Fetcher = std::function<void(const std::string& queue, const broker::MessageFilter& filter, size_t start,
                                       size_t limit, PageCallback done)>;

    explicit DeadLetterTableModel(Fetcher fetcher, QObject* parent = nullptr);

    // Shows `queue` through `filter` from its first page (an empty queue name shows nothing).
    void setQuery(const std::string& queue, const broker::MessageFilter& filter);
    // Fetches the loaded pages again (after an action changed the queue); rows stay where they are.
    void refresh();

    const std::string& queue() const { return m_queue; }
    const broker::MessageFilter& filter() const { return m_filter; }
    uint64_t matched() const { return m_matched; }
    bool isLoaded(int row) const { return messageAt(row) != nullptr; }
    // The message in `row`, or null when its page is not loaded (data() asks for it).
    const broker::QueuedMessage* messageAt(int row) const;
    size_t pagesInMemory() const { return m_pages.size(); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString formatTime(broker::TimeMs at);  // "2026-12-04 19:21:05", "–" for 0

signals:
    void matchedChanged(quint64 matched);
    void loadFailed(const QString& why);

private:
    void request(size_t page) const;
    void received(uint64_t generation, size_t page, Result<broker::BrowsePage> result);
    void setMatched(uint64_t matched);
    void touch(size_t page) const;
    QVariant display(const broker::QueuedMessage& message, int column) const;

    Fetcher m_fetcher;
    std::string m_queue;
    broker::MessageFilter m_filter;
    uint64_t m_generation = 0;  // answers to an older query are dropped
    uint64_t m_matched = 0;
    // Mutable: data() is const but loads pages on demand.
    mutable std::map<size_t, std::vector<broker::QueuedMessage>> m_pages;
    mutable std::list<size_t> m_recent;  // most recently used first
    mutable std::set<size_t> m_inFlight;
    bool m_refreshWanted = false;  // refresh() asked while pages were in flight
};

}  // namespace depot::ui
