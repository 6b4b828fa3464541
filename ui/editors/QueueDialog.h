#pragma once
// QueueDialog: the visual policy editor, for a new queue or an existing one. Every field is checked as it is
// typed with the broker's own rules (depot/broker/Validation.h); OK is enabled only when the whole definition is
// valid, and a summary says in plain words what the broker will promise.
#include <QDialog>

#include <optional>

#include "depot/Result.h"
#include "depot/broker/Policy.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace depot::ui {

class QueueDialog : public QDialog {
    Q_OBJECT

public:
    // `existing`: edit that queue (its name cannot change); none: a new queue with the broker's defaults.
    explicit QueueDialog(const std::optional<broker::QueueInfo>& existing = std::nullopt, QWidget* parent = nullptr);
    // A new queue whose flush starts at the broker's default (marked as such in the list).
    QueueDialog(broker::FlushMode brokerDefault, QWidget* parent);

    // The definition as entered; an error naming the first invalid field.
    Result<broker::QueueSpec> spec() const;
    // Plain-words summary of a policy ("Durable; confirmed after fdatasync; ...").
    static QString describe(const broker::QueueSpec& spec);
    // "retry 1 at +1s, retry 2 at +6s, ..." for the first `attempts` retries.
    static QString retryTimeline(const std::vector<broker::Millis>& backoff, uint32_t maxAttempts);

private:
    void build(const broker::QueuePolicy& policy, const QString& name, bool editing,
               std::optional<broker::FlushMode> brokerDefault = std::nullopt);
    void revalidate();

    QLineEdit* m_name = nullptr;
    QCheckBox* m_durable = nullptr;
    QComboBox* m_flush = nullptr;
    QComboBox* m_replication = nullptr;
    broker::Millis m_replicaTimeout{5000};
    broker::ReplicaTimeoutAction m_onReplicaTimeout = broker::ReplicaTimeoutAction::Nack;
    QSpinBox* m_maxAttempts = nullptr;
    QLineEdit* m_backoff = nullptr;
    QLabel* m_timeline = nullptr;
    QLineEdit* m_ackTimeout = nullptr;
    QLineEdit* m_ttl = nullptr;
    QSpinBox* m_maxLength = nullptr;
    QComboBox* m_overflow = nullptr;
    QComboBox* m_ordering = nullptr;
    QLineEdit* m_dedupWindow = nullptr;
    QLineEdit* m_deadLetterQueue = nullptr;
    QLabel* m_error = nullptr;
    QLabel* m_summary = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

}  // namespace depot::ui
