#include "pages/DeadLetterFilterBar.h"

#include <QComboBox>
#include <QDateTimeEdit>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

#include "depot/broker/Validation.h"

namespace depot::ui {
namespace {

constexpr broker::DeathReason kReasons[] = {broker::DeathReason::Rejected, broker::DeathReason::MaxAttempts,
                                            broker::DeathReason::Expired, broker::DeathReason::Overflow,
                                            broker::DeathReason::TxUnresolved};
constexpr qint64 kHour = 3600 * 1000;
constexpr qint64 kBetween = -1;  // the "between…" item: the two date-time fields say

QLineEdit* field(const QString& name, const QString& placeholder) {
    auto* edit = new QLineEdit;
    edit->setObjectName(name);
    edit->setPlaceholderText(placeholder);
    edit->setClearButtonEnabled(true);
    return edit;
}

}  // namespace

DeadLetterFilterBar::DeadLetterFilterBar(QWidget* parent) : QWidget(parent) {
    m_source = new QComboBox;
    m_source->setObjectName("filterSource");
    m_source->setEditable(true);
    m_source->setInsertPolicy(QComboBox::NoInsert);
    m_source->lineEdit()->setPlaceholderText(tr("any source queue"));
    m_source->setMinimumContentsLength(14);
    m_reason = new QComboBox;
    m_reason->setObjectName("filterReason");
    m_reason->addItem(tr("any reason"), -1);
    for (broker::DeathReason reason : kReasons)
        m_reason->addItem(QString::fromUtf8(broker::toString(reason).data()), int(reason));
    m_since = new QComboBox;
    m_since->setObjectName("filterSince");
    m_since->addItem(tr("any time"), 0);
    m_since->addItem(tr("last hour"), kHour);
    m_since->addItem(tr("last 24 hours"), 24 * kHour);
    m_since->addItem(tr("last 7 days"), 7 * 24 * kHour);
    m_since->addItem(tr("between…"), kBetween);
    const QDateTime now = QDateTime::currentDateTime();
    m_from = new QDateTimeEdit(now.addDays(-1));
    m_from->setObjectName("filterFrom");
    m_to = new QDateTimeEdit(now.addSecs(3600));
    m_to->setObjectName("filterTo");
    for (QDateTimeEdit* edit : {m_from, m_to}) {
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd hh:mm:ss"));
        edit->setCalendarPopup(true);
        edit->hide();
    }
    m_text = field("filterText", tr("text in body, headers, id, key or error"));
    m_error = field("filterError", tr("last error contains"));
    m_jsonPath = field("filterJsonPath", tr("JSON path, e.g. $.order.id"));
    m_jsonEquals = field("filterJsonEquals", tr("equals (optional)"));
    m_problem = new QLabel;
    m_problem->setObjectName("filterProblem");
    m_problem->setTextFormat(Qt::PlainText);
    m_apply = new QPushButton(tr("&Apply filter"));
    m_apply->setObjectName("applyFilter");
    auto* reset = new QPushButton(tr("Clear"));

    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->addWidget(m_source, 0, 0);
    grid->addWidget(m_reason, 0, 1);
    grid->addWidget(m_since, 0, 2);
    grid->addWidget(m_text, 0, 3, 1, 2);
    grid->addWidget(m_apply, 0, 5);
    grid->addWidget(m_error, 1, 0, 1, 2);
    grid->addWidget(m_jsonPath, 1, 2, 1, 2);
    grid->addWidget(m_jsonEquals, 1, 4);
    grid->addWidget(reset, 1, 5);
    grid->addWidget(m_from, 2, 0, 1, 2);
    grid->addWidget(m_to, 2, 2);
    grid->addWidget(m_problem, 3, 0, 1, 6);
    grid->setColumnStretch(3, 2);
    grid->setColumnStretch(4, 1);
    m_problem->hide();

    for (QLineEdit* edit : {m_text, m_error, m_jsonPath, m_jsonEquals}) {
        connect(edit, &QLineEdit::returnPressed, m_apply, &QPushButton::click);
        connect(edit, &QLineEdit::textChanged, this, &DeadLetterFilterBar::revalidate);
    }
    connect(m_source->lineEdit(), &QLineEdit::returnPressed, m_apply, &QPushButton::click);
    connect(m_source, &QComboBox::activated, this, &DeadLetterFilterBar::applied);
    connect(m_reason, &QComboBox::activated, this, &DeadLetterFilterBar::applied);
    connect(m_since, &QComboBox::activated, this, [this] {
        const bool between = m_since->currentData().toLongLong() == kBetween;
        m_from->setVisible(between);
        m_to->setVisible(between);
        emit applied();
    });
    for (QDateTimeEdit* edit : {m_from, m_to})
        connect(edit, &QDateTimeEdit::dateTimeChanged, this, &DeadLetterFilterBar::revalidate);
    connect(m_from, &QDateTimeEdit::editingFinished, m_apply, &QPushButton::click);
    connect(m_to, &QDateTimeEdit::editingFinished, m_apply, &QPushButton::click);
    connect(m_apply, &QPushButton::clicked, this, [this] {
        if (isValid())
            emit applied();
    });
    connect(reset, &QPushButton::clicked, this, [this] {
        clear();
        emit applied();
    });
}

bool DeadLetterFilterBar::isValid() const {
    const std::string path = m_jsonPath->text().trimmed().toStdString();
    const bool between = m_since->currentData().toLongLong() == kBetween;
    return (path.empty() || broker::validateJsonPath(path)) && (!path.empty() || m_jsonEquals->text().isEmpty()) &&
           (!between || m_from->dateTime() <= m_to->dateTime());
}

void DeadLetterFilterBar::revalidate() {
    const std::string path = m_jsonPath->text().trimmed().toStdString();
    QString problem;
    if (!path.empty())
        if (Status valid = broker::validateJsonPath(path); !valid)
            problem = QString::fromStdString(valid.message());
    if (problem.isEmpty() && path.empty() && !m_jsonEquals->text().isEmpty())
        problem = tr("a value to compare needs a JSON path");
    if (problem.isEmpty() && m_since->currentData().toLongLong() == kBetween && m_from->dateTime() > m_to->dateTime())
        problem = tr("the time range ends before it starts");
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    m_apply->setEnabled(problem.isEmpty());
}

broker::MessageFilter DeadLetterFilterBar::filter(broker::TimeMs now) const {
    broker::MessageFilter out;
    out.sourceQueue = m_source->currentText().trimmed().toStdString();
    if (const int reason = m_reason->currentData().toInt(); reason >= 0)
        out.reason = broker::DeathReason(reason);
    if (const qint64 span = m_since->currentData().toLongLong(); span == kBetween) {
        out.from = m_from->dateTime().toMSecsSinceEpoch();
        out.to = m_to->dateTime().toMSecsSinceEpoch();
    } else if (span > 0) {
        out.from = now - span;
    }
    out.text = m_text->text().toStdString();
    out.error = m_error->text().toStdString();
    out.jsonPath = m_jsonPath->text().trimmed().toStdString();
    if (!out.jsonPath.empty() && !m_jsonEquals->text().isEmpty())
        out.jsonEquals = m_jsonEquals->text().toStdString();
    return out;
}

void DeadLetterFilterBar::setSourceQueues(const QStringList& queues) {
    const QString current = m_source->currentText();
    QStringList items;
    for (int i = 0; i < m_source->count(); ++i)
        items << m_source->itemText(i);
    if (items == queues)
        return;
    m_source->clear();
    m_source->addItems(queues);
    m_source->setCurrentText(current);
}

void DeadLetterFilterBar::narrowTo(broker::GroupBy by, const QString& key) {
    switch (by) {
        case broker::GroupBy::Reason:
            m_reason->setCurrentIndex(std::max(0, m_reason->findText(key)));
            break;
        case broker::GroupBy::Error:
            m_error->setText(key);
            break;
        case broker::GroupBy::Source:
            m_source->setCurrentText(key);
            break;
    }
    emit applied();
}

void DeadLetterFilterBar::clear() {
    m_source->setCurrentText({});
    m_reason->setCurrentIndex(0);
    m_since->setCurrentIndex(0);
    m_from->hide();
    m_to->hide();
    for (QLineEdit* edit : {m_text, m_error, m_jsonPath, m_jsonEquals})
        edit->clear();
}

}  // namespace depot::ui
