#include "editors/QueueDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "depot/broker/Duration.h"
#include "depot/broker/Validation.h"

namespace depot::ui {
namespace {

using broker::Millis;

QString text(Millis duration) { return QString::fromStdString(broker::formatDuration(duration)); }

// An empty field is "not set"; anything else must parse.
Result<std::optional<Millis>> optionalDuration(const QLineEdit* field, const char* name) {
    const std::string value = field->text().trimmed().toStdString();
    if (value.empty())
        return std::optional<Millis>();
    Result<Millis> parsed = broker::parseDuration(value);
    if (!parsed)
        return Status::invalidArgument(std::string(name) + ": " + parsed.status().message());
    return std::optional<Millis>(*parsed);
}

Result<Millis> requiredDuration(const QLineEdit* field, const char* name) {
    Result<std::optional<Millis>> parsed = optionalDuration(field, name);
    if (!parsed)
        return parsed.status();
    if (!*parsed)
        return Status::invalidArgument(std::string(name) + " is required (0 turns it off)");
    return **parsed;
}

}  // namespace

QueueDialog::QueueDialog(const std::optional<broker::QueueInfo>& existing, QWidget* parent) : QDialog(parent) {
    setWindowTitle(existing ? tr("Edit queue %1").arg(QString::fromStdString(existing->name)) : tr("New queue"));
    build(existing ? existing->policy : broker::QueuePolicy{},
          existing ? QString::fromStdString(existing->name) : QString(), existing.has_value());
    revalidate();
}

QueueDialog::QueueDialog(broker::FlushMode brokerDefault, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("New queue"));
    broker::QueuePolicy policy;
    policy.flush = brokerDefault;
    build(policy, QString(), false, brokerDefault);
    revalidate();
}

void QueueDialog::build(const broker::QueuePolicy& policy, const QString& name, bool editing,
                        std::optional<broker::FlushMode> brokerDefault) {
    auto* form = new QFormLayout;
    m_name = new QLineEdit(name);
    m_name->setObjectName("name");
    m_name->setReadOnly(editing);
    m_name->setPlaceholderText(tr("orders"));
    form->addRow(tr("&Name"), m_name);
    m_durable = new QCheckBox(tr("Messages survive a restart (kept on disk)"));
    m_durable->setChecked(policy.durable);
    form->addRow(tr("&Durability"), m_durable);
    m_flush = new QComboBox;
    m_flush->addItem(tr("sync: confirm after fdatasync"), int(broker::FlushMode::Sync));
    m_flush->addItem(tr("async: confirm when written, fdatasync soon after"), int(broker::FlushMode::Async));
    if (brokerDefault) {
        const int index = *brokerDefault == broker::FlushMode::Sync ? 0 : 1;
        m_flush->setItemText(index, m_flush->itemText(index) + tr(" (broker default)"));
    }
    m_flush->setObjectName("flush");
    m_flush->setCurrentIndex(policy.flush == broker::FlushMode::Sync ? 0 : 1);
    form->addRow(tr("&Flush"), m_flush);
    m_replication = new QComboBox;
    m_replication->setObjectName("replication");
    m_replication->addItem(tr("none: on this broker only"), int(broker::Replication::None));
    m_replication->addItem(tr("async: confirm at once, a replica copies it soon after"), int(broker::Replication::Async));
    m_replication->addItem(tr("sync: confirm once a replica has it on disk"), int(broker::Replication::Sync));
    m_replication->setCurrentIndex(m_replication->findData(int(policy.replication)));
    form->addRow(tr("&Replication"), m_replication);
    // Not edited here (depotctl queue update --replica-timeout ...), but kept: the dialog must not reset them.
    m_replicaTimeout = policy.replicaTimeout;
    m_onReplicaTimeout = policy.onReplicaTimeout;
    m_maxAttempts = new QSpinBox;
    m_maxAttempts->setObjectName("maxAttempts");
    m_maxAttempts->setRange(0, int(broker::kMaxMaxAttempts));
    m_maxAttempts->setSpecialValueText(tr("unlimited"));
    m_maxAttempts->setValue(int(policy.maxAttempts));
    form->addRow(tr("Max &attempts"), m_maxAttempts);
    m_backoff = new QLineEdit(QString::fromStdString(broker::formatDurationList(policy.backoff)));
    m_backoff->setObjectName("backoff");
    form->addRow(tr("&Backoff"), m_backoff);
    m_timeline = new QLabel;
    m_timeline->setWordWrap(true);
    form->addRow(QString(), m_timeline);
    m_ackTimeout = new QLineEdit(text(policy.ackTimeout));
    form->addRow(tr("Ack &timeout"), m_ackTimeout);
    m_ttl = new QLineEdit(policy.ttl ? text(*policy.ttl) : QString());
    m_ttl->setPlaceholderText(tr("none"));
    form->addRow(tr("Message TT&L"), m_ttl);
    m_maxLength = new QSpinBox;
    m_maxLength->setRange(0, 1'000'000'000);
    m_maxLength->setSpecialValueText(tr("unlimited"));
    m_maxLength->setValue(policy.maxLength ? int(*policy.maxLength) : 0);
    m_overflow = new QComboBox;
    m_overflow->addItem(tr("reject new publishes (nack overflow)"), int(broker::Overflow::RejectPublish));
    m_overflow->addItem(tr("dead-letter the oldest"), int(broker::Overflow::DeadLetterOldest));
    m_overflow->setCurrentIndex(policy.overflow == broker::Overflow::RejectPublish ? 0 : 1);
    auto* lengthRow = new QHBoxLayout;
    lengthRow->addWidget(m_maxLength);
    lengthRow->addWidget(m_overflow, 1);
    auto* lengthLabel = new QLabel(tr("Max &length"));
    lengthLabel->setBuddy(m_maxLength);
    form->addRow(lengthLabel, lengthRow);
    m_ordering = new QComboBox;
    m_ordering->addItem(tr("none: any consumer, any order"), int(broker::Ordering::None));
    m_ordering->addItem(tr("per key: one message per key in flight"), int(broker::Ordering::PerKey));
    m_ordering->setCurrentIndex(policy.ordering == broker::Ordering::None ? 0 : 1);
    form->addRow(tr("&Ordering"), m_ordering);
    m_dedupWindow = new QLineEdit(text(policy.dedupWindow));
    form->addRow(tr("D&edup window"), m_dedupWindow);
    m_deadLetterQueue = new QLineEdit(QString::fromStdString(policy.deadLetterQueue));
    m_deadLetterQueue->setPlaceholderText(tr("<name>.dlq, created with the queue"));
    form->addRow(tr("Dead-letter &queue"), m_deadLetterQueue);

    m_error = new QLabel;
    m_error->setObjectName("validationError");
    m_error->setWordWrap(true);
    QPalette warning = m_error->palette();
    // A red that reads on the palette in use: dark on a light window, light on a dark one.
    const bool darkWindow = warning.color(QPalette::Window).lightnessF() < 0.5;
    warning.setColor(QPalette::WindowText, darkWindow ? QColor(0xff, 0x7a, 0x7a) : QColor(0xb0, 0x20, 0x20));
    m_error->setPalette(warning);
    m_summary = new QLabel;
    m_summary->setObjectName("summary");
    m_summary->setWordWrap(true);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText(editing ? tr("Apply") : tr("Create"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    setMinimumWidth(560);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_summary);
    layout->addWidget(m_buttons);

    for (QLineEdit* edit : {m_name, m_backoff, m_ackTimeout, m_ttl, m_dedupWindow, m_deadLetterQueue})
        connect(edit, &QLineEdit::textChanged, this, &QueueDialog::revalidate);
    for (QComboBox* combo : {m_flush, m_replication, m_overflow, m_ordering})
        connect(combo, &QComboBox::currentIndexChanged, this, &QueueDialog::revalidate);
    for (QSpinBox* spin : {m_maxAttempts, m_maxLength})
        connect(spin, &QSpinBox::valueChanged, this, &QueueDialog::revalidate);
    connect(m_durable, &QCheckBox::toggled, this, &QueueDialog::revalidate);
}

Result<broker::QueueSpec> QueueDialog::spec() const {
    broker::QueueSpec spec;
    spec.name = m_name->text().toStdString();
    if (Status name = broker::validateName("queue", spec.name); !name)
        return name;
    broker::QueuePolicy& policy = spec.policy;
    policy.durable = m_durable->isChecked();
    policy.flush = broker::FlushMode(m_flush->currentData().toInt());
    policy.replication = broker::Replication(m_replication->currentData().toInt());
    policy.replicaTimeout = m_replicaTimeout;
    policy.onReplicaTimeout = m_onReplicaTimeout;
    policy.maxAttempts = uint32_t(m_maxAttempts->value());
    auto backoff = broker::parseDurationList(m_backoff->text().trimmed().toStdString());
    if (!backoff)
        return Status::invalidArgument("backoff: " + backoff.status().message());
    policy.backoff = *backoff;
    auto ackTimeout = requiredDuration(m_ackTimeout, "ack timeout");
    auto ttl = optionalDuration(m_ttl, "ttl");
    auto dedup = requiredDuration(m_dedupWindow, "dedup window");
    for (const Status& status : {ackTimeout.status(), ttl.status(), dedup.status()})
        if (!status)
            return status;
    policy.ackTimeout = *ackTimeout;
    policy.ttl = *ttl;
    policy.dedupWindow = *dedup;
    if (m_maxLength->value() > 0)
        policy.maxLength = uint64_t(m_maxLength->value());
    policy.overflow = broker::Overflow(m_overflow->currentData().toInt());
    policy.ordering = broker::Ordering(m_ordering->currentData().toInt());
    policy.deadLetterQueue = m_deadLetterQueue->text().trimmed().toStdString();
    if (Status valid = broker::validatePolicy(policy); !valid)
        return valid;
    return spec;
}

void QueueDialog::revalidate() {
    Result<broker::QueueSpec> current = spec();
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(current.isOk());
    m_error->setText(current ? QString() : QString::fromStdString(current.status().message()));
    m_summary->setText(current ? describe(*current) : QString());
    auto backoff = broker::parseDurationList(m_backoff->text().trimmed().toStdString());
    m_timeline->setText(backoff ? retryTimeline(*backoff, uint32_t(m_maxAttempts->value())) : QString());
}

QString QueueDialog::describe(const broker::QueueSpec& spec) {
    const broker::QueuePolicy& p = spec.policy;
    QStringList parts;
    if (!p.durable)
        parts << tr("Transient: messages live in memory and are lost on a restart");
    else if (p.flush == broker::FlushMode::Sync)
        parts << tr("Durable: a publish is confirmed only after fdatasync, so a confirmed message survives power loss");
    else
        parts << tr("Durable, async flush: confirmed when written; the last moments before a power loss can be lost");
    parts << (p.maxAttempts ? tr("a message that fails %1 times goes to the dead-letter queue").arg(p.maxAttempts)
                            : tr("failed messages are retried forever"));
    parts << (p.ackTimeout.count() ? tr("an unacked delivery is redelivered after %1").arg(text(p.ackTimeout))
                                   : tr("unacked deliveries wait for their consumer forever"));
    if (p.ttl)
        parts << tr("messages expire after %1").arg(text(*p.ttl));
    if (p.maxLength)
        parts << (p.overflow == broker::Overflow::RejectPublish
                      ? tr("at most %1 messages: further publishes are nacked").arg(*p.maxLength)
                      : tr("at most %1 messages: the oldest is dead-lettered").arg(*p.maxLength));
    if (p.ordering == broker::Ordering::PerKey)
        parts << tr("messages with the same key are delivered one at a time, in order");
    parts << (p.dedupWindow.count() ? tr("a message id seen in the last %1 is stored once").arg(text(p.dedupWindow))
                                    : tr("no deduplication"));
    const QString dlq = p.deadLetterQueue.empty() ? QString::fromStdString(spec.name) + ".dlq"
                                                  : QString::fromStdString(p.deadLetterQueue);
    parts << tr("dead letters go to %1").arg(dlq);
    return parts.join("; ") + ".";
}

QString QueueDialog::retryTimeline(const std::vector<Millis>& backoff, uint32_t maxAttempts) {
    if (backoff.empty())
        return {};
    const uint32_t retries = maxAttempts ? std::min<uint32_t>(maxAttempts - 1, 6) : 6;
    QStringList steps;
    Millis at{0};
    for (uint32_t retry = 1; retry <= retries; ++retry) {
        at += backoff[std::min<size_t>(retry - 1, backoff.size() - 1)];
        steps << tr("retry %1 at +%2").arg(retry).arg(text(at));
    }
    if (steps.isEmpty())
        return tr("no retries: the first failure dead-letters the message");
    QString line = steps.join(", ");
    if (!maxAttempts || maxAttempts - 1 > retries)
        line += ", …";
    return line;
}

}  // namespace depot::ui
