#pragma once
// DeadLetterFilterBar: what the operator narrows dead letters by — source queue, reason, time of the last death,
// text anywhere (body, headers, id, key, error), the last error, and a JSON path in the body with an optional
// value. The JSON path is checked as it is typed with the broker's own rule; Enter or Apply publishes the filter.
#include <QWidget>

#include "depot/broker/Broker.h"

class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPushButton;

namespace depot::ui {

class DeadLetterFilterBar : public QWidget {
    Q_OBJECT

public:
    explicit DeadLetterFilterBar(QWidget* parent = nullptr);

    // The filter as entered; "last hour" and the like are taken relative to `now` (the broker's clock), "between…"
    // as the two times entered (last death of a dead letter, publish time of others).
    broker::MessageFilter filter(broker::TimeMs now) const;
    bool isValid() const;
    void setSourceQueues(const QStringList& queues);  // offered in the source combo (free text allowed too)
    // Narrows to one failure group (what a click on a group does) and applies.
    void narrowTo(broker::GroupBy by, const QString& key);

public slots:
    void clear();

signals:
    void applied();

private:
    void revalidate();

    QComboBox* m_source;
    QComboBox* m_reason;
    QComboBox* m_since;
    QDateTimeEdit* m_from;  // shown for "between…"
    QDateTimeEdit* m_to;
    QLineEdit* m_text;
    QLineEdit* m_error;
    QLineEdit* m_jsonPath;
    QLineEdit* m_jsonEquals;
    QLabel* m_problem;
    QPushButton* m_apply;
};

}  // namespace depot::ui
