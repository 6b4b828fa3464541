#pragma once
// Text from the broker (names, ids, errors: UTF-8 bytes) for Qt widgets.
#include <QString>

#include <string_view>

namespace depot::ui {

inline QString text(std::string_view value) { return QString::fromUtf8(value.data(), qsizetype(value.size())); }

}  // namespace depot::ui
