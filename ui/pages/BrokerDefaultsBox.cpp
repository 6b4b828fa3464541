#include "pages/BrokerDefaultsBox.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"

namespace depot::ui {

BrokerDefaultsBox::BrokerDefaultsBox(BrokerLink* link, QWidget* parent)
    : QGroupBox(tr("Broker defaults"), parent), m_link(link) {
    m_flush = new QComboBox;
    m_flush->setObjectName("defaultFlush");
    m_flush->addItem(tr("sync"), int(broker::FlushMode::Sync));
    m_flush->addItem(tr("async"), int(broker::FlushMode::Async));
    m_interval = new QSpinBox;
    m_interval->setObjectName("asyncFlushInterval");
    m_interval->setRange(1, int(broker::kMaxAsyncFlushInterval.count()));
    m_interval->setSuffix(tr(" ms"));
    m_interval->setAccelerated(true);
    m_replication = new QComboBox;
    m_replication->addItem(tr("none"));
    m_replication->setEnabled(false);
    m_replication->setToolTip(tr("Replication is chosen per queue: above for the selected queue, in the New queue "
                                 "dialog, or with depotctl queue declare --replication."));
    m_explanation = new QLabel;
    m_explanation->setWordWrap(true);
    m_apply = new QPushButton(tr("Apply &defaults"));
    m_apply->setObjectName("applyDefaults");
    m_apply->setEnabled(false);

    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    form->addRow(tr("Flush of new queues"), m_flush);
    form->addRow(tr("Async flush interval"), m_interval);
    form->addRow(tr("Replication of new queues"), m_replication);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_explanation);
    layout->addWidget(m_apply, 0, Qt::AlignRight);

    connect(m_flush, &QComboBox::currentIndexChanged, this, &BrokerDefaultsBox::markEdited);
    connect(m_interval, &QSpinBox::valueChanged, this, &BrokerDefaultsBox::markEdited);
    connect(m_apply, &QPushButton::clicked, this, &BrokerDefaultsBox::apply);
}

void BrokerDefaultsBox::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    m_snapshot = snapshot;
    if (!m_edited)
        showBrokerValues();
    updateExplanation();
}

void BrokerDefaultsBox::showBrokerValues() {
    m_showing = true;
    const broker::BrokerStats& stats = m_snapshot->stats;
    m_flush->setCurrentIndex(stats.defaultFlush == broker::FlushMode::Sync ? 0 : 1);
    m_interval->setValue(int(stats.asyncFlushIntervalMs));
    m_showing = false;
    m_apply->setEnabled(false);
}

void BrokerDefaultsBox::markEdited() {
    if (m_showing)
        return;
    m_edited = true;
    m_apply->setEnabled(true);
    updateExplanation();
}

void BrokerDefaultsBox::updateExplanation() {
    const bool async = m_flush->currentIndex() == 1;
    const QString interval = tr("%1 ms").arg(m_interval->value());
    QString text = async ? tr("Queues declared without a flush mode confirm before the fdatasync: faster, but a "
                              "power loss can take their last %1 of confirmed messages.")
                                 .arg(interval)
                         : tr("Queues declared without a flush mode confirm only after the fdatasync: a confirmed "
                              "message survives a power loss.");
    text += tr(" Existing queues keep theirs. Every async queue is flushed at least every %1: a shorter interval "
               "shrinks the loss window at the price of more fdatasyncs.")
                .arg(interval);
    m_explanation->setText(text);
}

void BrokerDefaultsBox::apply() {
    broker::BrokerSettings settings;
    settings.defaultFlush = broker::FlushMode(m_flush->currentData().toInt());
    settings.asyncFlushInterval = broker::Millis(m_interval->value());
    const QString text = tr("broker defaults set: new queues %1, async flush every %2 ms")
                             .arg(m_flush->currentText())
                             .arg(m_interval->value());
    m_apply->setEnabled(false);
    m_link->submit([settings](client::Admin& admin) { return admin.configure(settings).status(); }, this,
                   [this, text](const Status& status) {
                       if (status)
                           m_edited = false;  // the next snapshot shows what the broker now has
                       else
                           m_apply->setEnabled(true);
                       emit message(status ? text
                                           : tr("Changing the broker defaults failed: %1")
                                                 .arg(QString::fromStdString(status.message())));
                   });
}

}  // namespace depot::ui
