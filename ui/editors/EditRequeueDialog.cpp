#include "backend/Text.h"
#include "editors/EditRequeueDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "depot/broker/Validation.h"

namespace depot::ui {
namespace {

bool isJson(const QByteArray& bytes) {
    QJsonParseError error;
    QJsonDocument::fromJson(bytes, &error);
    return error.error == QJsonParseError::NoError;
}

}  // namespace

EditRequeueDialog::EditRequeueDialog(const broker::QueuedMessage& message, const QStringList& queues, QWidget* parent)
    : QDialog(parent), m_message(message) {
    setWindowTitle(tr("Edit and requeue %1").arg(text(message.messageId)));
    m_body = new QPlainTextEdit(text(message.body));
    m_body->setObjectName("editBody");
    m_json = new QCheckBox(tr("Body must be valid JSON"));
    m_json->setObjectName("editBodyIsJson");
    m_json->setChecked(isJson(QByteArray::fromStdString(message.body)));
    m_headers = new QTableWidget(int(message.headers.size()), 2);
    m_headers->setObjectName("editHeaders");
    m_headers->setHorizontalHeaderLabels({tr("Header"), tr("Value")});
    m_headers->horizontalHeader()->setStretchLastSection(true);
    m_headers->verticalHeader()->hide();
    for (int row = 0; row < int(message.headers.size()); ++row) {
        m_headers->setItem(row, 0, new QTableWidgetItem(text(message.headers[size_t(row)].first)));
        m_headers->setItem(row, 1, new QTableWidgetItem(text(message.headers[size_t(row)].second)));
    }
    auto* addHeader = new QPushButton(tr("Add header"));
    auto* removeHeader = new QPushButton(tr("Remove header"));
    m_target = new QComboBox;
    m_target->setObjectName("editTarget");
    const QString origin = message.death ? text(message.death->sourceQueue) : QString();
    m_target->addItem(origin.isEmpty() ? tr("(no source queue recorded: choose one)") : tr("%1 (origin)").arg(origin),
                      QString());
    for (const QString& queue : queues)
        m_target->addItem(queue, queue);
    m_problem = new QLabel;
    m_problem->setObjectName("editProblem");
    m_problem->setTextFormat(Qt::PlainText);
    m_problem->setWordWrap(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(tr("&Requeue…"));

    auto* headerButtons = new QHBoxLayout;
    headerButtons->addWidget(addHeader);
    headerButtons->addWidget(removeHeader);
    headerButtons->addStretch(1);
    auto* form = new QFormLayout;
    form->addRow(tr("Send to"), m_target);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Body")));
    layout->addWidget(m_body, 3);
    layout->addWidget(m_json);
    layout->addWidget(new QLabel(tr("Headers")));
    layout->addWidget(m_headers, 1);
    layout->addLayout(headerButtons);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);
    resize(640, 560);

    connect(addHeader, &QPushButton::clicked, this, [this] {
        m_headers->insertRow(m_headers->rowCount());
        m_headers->setItem(m_headers->rowCount() - 1, 0, new QTableWidgetItem);
        m_headers->setItem(m_headers->rowCount() - 1, 1, new QTableWidgetItem);
        m_headers->editItem(m_headers->item(m_headers->rowCount() - 1, 0));
    });
    connect(removeHeader, &QPushButton::clicked, this, [this] {
        if (m_headers->currentRow() >= 0)
            m_headers->removeRow(m_headers->currentRow());
        revalidate();
    });
    connect(m_body, &QPlainTextEdit::textChanged, this, &EditRequeueDialog::revalidate);
    connect(m_json, &QCheckBox::toggled, this, &EditRequeueDialog::revalidate);
    connect(m_headers, &QTableWidget::itemChanged, this, &EditRequeueDialog::revalidate);
    connect(m_target, &QComboBox::currentIndexChanged, this, &EditRequeueDialog::revalidate);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    revalidate();
}

Result<broker::RequeueRequest> EditRequeueDialog::request() const {
    broker::RequeueRequest request;
    request.queue = m_message.queue;
    request.filter.sequences = {m_message.sequence};
    request.target = m_target->currentData().toString().toStdString();
    if (request.target.empty() && (!m_message.death || m_message.death->sourceQueue.empty()))
        return Status::invalidArgument("this message has no source queue on record: choose where to send it");
    const QByteArray body = m_body->toPlainText().toUtf8();
    if (m_json->isChecked()) {
        QJsonParseError error;
        QJsonDocument::fromJson(body, &error);
        if (error.error != QJsonParseError::NoError)
            return Status::invalidArgument("the body is not valid JSON: " + error.errorString().toStdString() +
                                           " at byte " + std::to_string(error.offset));
    }
    // Unchanged parts are not sent: a body that is not UTF-8 stays byte for byte what it was.
    if (m_body->toPlainText() != text(m_message.body))
        request.body = body.toStdString();
    broker::Headers headers;
    for (int row = 0; row < m_headers->rowCount(); ++row) {
        const QTableWidgetItem* name = m_headers->item(row, 0);
        const QTableWidgetItem* value = m_headers->item(row, 1);
        if (!name || name->text().isEmpty())
            continue;  // an empty row is one the operator added and left
        headers.emplace_back(name->text().toStdString(), value ? value->text().toStdString() : std::string());
    }
    DEPOT_RETURN_IF_ERROR(broker::validateHeaders(headers));
    if (headers != m_message.headers)
        request.headers = std::move(headers);
    return request;
}

void EditRequeueDialog::revalidate() {
    const Result<broker::RequeueRequest> edited = request();
    m_problem->setText(edited ? QString() : QString::fromStdString(edited.status().message()));
    m_ok->setEnabled(edited.isOk());
}

}  // namespace depot::ui
