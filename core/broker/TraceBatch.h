#pragma once
// TraceBatch: a broker round's trace events, packed one after the other into one byte buffer. Recording an event
// copies its fields into the buffer (no allocation once the buffer has grown to a round's size), and the batch
// moves to the history writer whole, which reads the events in place: one buffer per round changes threads,
// instead of four strings per event allocated on the broker thread and freed on the writer's.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "depot/broker/Observability.h"

namespace depot::broker {

// One event as stored in a batch; the views point into the batch.
struct TraceEventView {
    TimeMs at = 0;
    TraceKind kind = TraceKind::Published;
    std::string_view queue;
    uint64_t sequence = 0;
    std::string_view messageId;
    std::string_view key;
    std::string_view detail;

    TraceEvent toEvent() const;
};

class TraceBatch {
public:
    // Appends an event. Fields longer than 65,535 bytes (only the detail can be: names, ids and keys are
    // limited far below) are cut there.
    void add(const TraceEventView& event);
    void add(const TraceEvent& event);
    static TraceBatch of(const std::vector<TraceEvent>& events);

    size_t size() const { return m_count; }
    bool empty() const { return m_count == 0; }
    size_t bytes() const { return m_buffer.size(); }
    void reserve(size_t bytes) { m_buffer.reserve(bytes); }
    size_t capacity() const { return m_buffer.capacity(); }
    // Drops every event, keeping the buffer for the next ones.
    void clear() {
        m_buffer.clear();
        m_count = 0;
    }
    // Drops the events after the first `count`.
    void truncate(size_t count);

    class Iterator {
    public:
        const TraceEventView& operator*() const { return m_view; }
        const TraceEventView* operator->() const { return &m_view; }
        Iterator& operator++();
        bool operator==(const Iterator& other) const { return m_offset == other.m_offset; }

    private:
        friend class TraceBatch;
        Iterator(const std::string& buffer, size_t offset);
        void read();

        const std::string* m_buffer;
        size_t m_offset;
        size_t m_next = 0;
        TraceEventView m_view;
    };
    Iterator begin() const { return Iterator(m_buffer, 0); }
    Iterator end() const { return Iterator(m_buffer, m_buffer.size()); }

    std::vector<TraceEvent> events() const;

private:
    std::string m_buffer;
    size_t m_count = 0;
};

}  // namespace depot::broker
