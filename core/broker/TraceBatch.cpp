#include "broker/TraceBatch.h"

#include <algorithm>
#include <cstring>

namespace depot::broker {
namespace {

// An event's fixed part, followed by the queue, message id, key and detail bytes.
struct Header {
    int64_t at;
    uint64_t sequence;
    uint16_t queueSize;
    uint16_t idSize;
    uint16_t keySize;
    uint16_t detailSize;
    uint8_t kind;
};

uint16_t clipped(std::string_view text) { return uint16_t(std::min<size_t>(text.size(), UINT16_MAX)); }

}  // namespace

TraceEvent TraceEventView::toEvent() const {
    return TraceEvent{
        at, kind, std::string(queue), sequence, std::string(messageId), std::string(key), std::string(detail)};
}

void TraceBatch::add(const TraceEventView& event) {
    Header header{};  // value-initialized: the padding bytes copied into the buffer are zeros too
    header.at = event.at;
    header.sequence = event.sequence;
    header.queueSize = clipped(event.queue);
    header.idSize = clipped(event.messageId);
    header.keySize = clipped(event.key);
    header.detailSize = clipped(event.detail);
    header.kind = uint8_t(event.kind);
    m_buffer.append(reinterpret_cast<const char*>(&header), sizeof header);
    m_buffer.append(event.queue.data(), header.queueSize);
    m_buffer.append(event.messageId.data(), header.idSize);
    m_buffer.append(event.key.data(), header.keySize);
    m_buffer.append(event.detail.data(), header.detailSize);
    ++m_count;
}

void TraceBatch::add(const TraceEvent& event) {
    add(TraceEventView{event.at, event.kind, event.queue, event.sequence, event.messageId, event.key, event.detail});
}

TraceBatch TraceBatch::of(const std::vector<TraceEvent>& events) {
    TraceBatch batch;
    for (const TraceEvent& event : events)
        batch.add(event);
    return batch;
}

void TraceBatch::truncate(size_t count) {
    if (count >= m_count)
        return;
    Iterator it = begin();
    for (size_t i = 0; i < count; ++i)
        ++it;
    m_buffer.resize(it.m_offset);
    m_count = count;
}

std::vector<TraceEvent> TraceBatch::events() const {
    std::vector<TraceEvent> events;
    events.reserve(m_count);
    for (const TraceEventView& event : *this)
        events.push_back(event.toEvent());
    return events;
}

TraceBatch::Iterator::Iterator(const std::string& buffer, size_t offset) : m_buffer(&buffer), m_offset(offset) {
    read();
}

TraceBatch::Iterator& TraceBatch::Iterator::operator++() {
    m_offset = m_next;
    read();
    return *this;
}

void TraceBatch::Iterator::read() {
    if (m_offset >= m_buffer->size())
        return;
    Header header;
    std::memcpy(&header, m_buffer->data() + m_offset, sizeof header);
    const char* text = m_buffer->data() + m_offset + sizeof header;
    auto take = [&text](uint16_t size) {
        std::string_view view(text, size);
        text += size;
        return view;
    };
    m_view.at = header.at;
    m_view.kind = TraceKind(header.kind);
    m_view.sequence = header.sequence;
    m_view.queue = take(header.queueSize);
    m_view.messageId = take(header.idSize);
    m_view.key = take(header.keySize);
    m_view.detail = take(header.detailSize);
    m_next = size_t(text - m_buffer->data());
}

}  // namespace depot::broker
