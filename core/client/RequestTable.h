#pragma once
// RequestTable: the requests of a session that wait for their answer, by request id. I/O thread only.
//
// Answers take entries out: one by its id (REPLY, ERROR, a CONFIRM that is not cumulative), every entry up to an
// id (a cumulative CONFIRM: "every unanswered publish with a request id ≤ N"), every entry from an id on (the
// broker answered `no-session` to that request, so it executed none of the later ones either), or all (the
// session is gone). Each entry leaves exactly once.
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace depot::client {

template <typename T>
class RequestTable {
public:
    // Request ids come from one increasing counter; an id already present replaces nothing (false).
    bool add(uint64_t id, T value) { return m_entries.emplace(id, std::move(value)).second; }

    std::optional<T> take(uint64_t id) {
        auto it = m_entries.find(id);
        if (it == m_entries.end())
            return std::nullopt;
        T value = std::move(it->second);
        m_entries.erase(it);
        return value;
    }

    // Every entry with an id ≤ `id`, in id order.
    std::vector<std::pair<uint64_t, T>> takeUpTo(uint64_t id) {
        return moveOut(m_entries.begin(), m_entries.upper_bound(id));
    }
    // Every entry with an id ≥ `id`, in id order.
    std::vector<std::pair<uint64_t, T>> takeFrom(uint64_t id) {
        return moveOut(m_entries.lower_bound(id), m_entries.end());
    }
    std::vector<std::pair<uint64_t, T>> takeAll() { return moveOut(m_entries.begin(), m_entries.end()); }

    T* find(uint64_t id) {
        auto it = m_entries.find(id);
        return it == m_entries.end() ? nullptr : &it->second;
    }
    bool contains(uint64_t id) const { return m_entries.count(id) != 0; }
    size_t size() const { return m_entries.size(); }
    bool empty() const { return m_entries.empty(); }

private:
    using Map = std::map<uint64_t, T>;

    std::vector<std::pair<uint64_t, T>> moveOut(typename Map::iterator first, typename Map::iterator last) {
        std::vector<std::pair<uint64_t, T>> out;
        for (auto it = first; it != last; ++it)
            out.emplace_back(it->first, std::move(it->second));
        m_entries.erase(first, last);
        return out;
    }

    Map m_entries;
};

}  // namespace depot::client
