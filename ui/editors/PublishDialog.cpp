#include "editors/PublishDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <map>
#include <mutex>

#include "backend/BrokerLink.h"
#include "depot/broker/Duration.h"
#include "depot/broker/Validation.h"
#include "depot/client/Producer.h"

namespace depot::ui {
namespace {

constexpr broker::Millis kSendTimeout{30000};

Result<std::optional<broker::Millis>> optionalDuration(const QLineEdit* field, const char* name) {
    const std::string text = field->text().trimmed().toStdString();
    if (text.empty())
        return std::optional<broker::Millis>();
    auto parsed = broker::parseDuration(text);
    if (!parsed)
        return Status::invalidArgument(std::string(name) + ": " + parsed.status().message());
    return std::optional<broker::Millis>(*parsed);
}

// "k=v" per line; blank lines are skipped.
Result<broker::Headers> parseHeaders(const QString& text) {
    broker::Headers headers;
    for (const QString& line : text.split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        const qsizetype equals = line.indexOf('=');
        if (equals <= 0)
            return Status::invalidArgument("header \"" + line.toStdString() + "\" is not name=value");
        headers.emplace_back(line.left(equals).trimmed().toStdString(), line.mid(equals + 1).toStdString());
    }
    if (Status valid = broker::validateHeaders(headers); !valid)
        return valid;
    return headers;
}

// What the broker answered for a batch, counted on the link's thread and read on the GUI thread afterwards.
struct Tally {
    std::mutex mutex;
    uint64_t confirmed = 0, duplicate = 0, nacked = 0, unconfirmed = 0;
    std::map<std::string, uint64_t> reasons;  // nack reason or error → count

    void add(const client::SendResult& result) {
        std::lock_guard lock(mutex);
        if (result.unconfirmed()) {
            ++unconfirmed;
            ++reasons[result.status.message()];
        } else if (result.nacked()) {
            ++nacked;
            ++reasons[std::string(broker::toString(result.result.reason)) + ": " + result.result.error];
        } else if (result.result.outcome == broker::PublishOutcome::Duplicate) {
            ++duplicate;
        } else {
            ++confirmed;
        }
    }

    QString text() {
        std::lock_guard lock(mutex);
        QString line = QObject::tr("%1 confirmed, %2 duplicate, %3 nacked").arg(confirmed).arg(duplicate).arg(nacked);
        if (unconfirmed)
            line += QObject::tr(", %1 unconfirmed").arg(unconfirmed);
        for (const auto& [reason, count] : reasons)
            line += "\n" + QString::fromStdString(reason) + QObject::tr(" (%1×)").arg(count);
        return line;
    }
};

}  // namespace

PublishDialog::PublishDialog(BrokerLink* link, const QString& queue, QWidget* parent)
    : QDialog(parent), m_link(link), m_queue(queue) {
    setWindowTitle(tr("Publish to %1").arg(queue));
    setMinimumWidth(520);
    m_body = new QPlainTextEdit;
    m_body->setObjectName("body");
    m_body->setPlaceholderText(tr("Message body (plain text)"));
    m_headers = new QPlainTextEdit;
    m_headers->setPlaceholderText(tr("name=value, one per line"));
    m_headers->setMaximumHeight(m_headers->fontMetrics().height() * 4);
    m_key = new QLineEdit;
    m_key->setPlaceholderText(tr("ordering key (optional)"));
    m_id = new QLineEdit;
    m_id->setPlaceholderText(tr("message id (empty: the broker assigns one)"));
    m_ttl = new QLineEdit;
    m_ttl->setPlaceholderText(tr("e.g. 30s (empty: none)"));
    m_delay = new QLineEdit;
    m_delay->setPlaceholderText(tr("e.g. 10s (empty: none)"));
    m_repeat = new QSpinBox;
    m_repeat->setObjectName("repeat");
    m_repeat->setRange(1, 100000);
    m_persistent = new QCheckBox(tr("Persistent (written to disk on a durable queue)"));
    m_persistent->setChecked(true);
    m_outcome = new QLabel;
    m_outcome->setObjectName("outcome");
    m_outcome->setWordWrap(true);
    m_outcome->setTextFormat(Qt::PlainText);

    auto* form = new QFormLayout;
    form->addRow(tr("&Body"), m_body);
    form->addRow(tr("&Headers"), m_headers);
    form->addRow(tr("&Key"), m_key);
    form->addRow(tr("Message &id"), m_id);
    form->addRow(tr("&TTL"), m_ttl);
    form->addRow(tr("&Delay"), m_delay);
    form->addRow(tr("&Repeat"), m_repeat);
    form->addRow(QString(), m_persistent);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    m_send = buttons->addButton(tr("&Send"), QDialogButtonBox::ActionRole);
    m_send->setObjectName("send");
    connect(m_send, &QPushButton::clicked, this, &PublishDialog::send);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_outcome);
    layout->addWidget(buttons);
}

Result<broker::PublishRequest> PublishDialog::request() const {
    broker::PublishRequest request;
    request.routingKey = m_queue.toStdString();
    broker::Message& message = request.message;
    message.body = m_body->toPlainText().toStdString();
    message.key = m_key->text().toStdString();
    message.id = m_id->text().trimmed().toStdString();
    message.persistent = m_persistent->isChecked();
    auto headers = parseHeaders(m_headers->toPlainText());
    auto ttl = optionalDuration(m_ttl, "ttl");
    auto delay = optionalDuration(m_delay, "delay");
    for (const Status& status : {headers.status(), ttl.status(), delay.status()})
        if (!status)
            return status;
    message.headers = *headers;
    message.ttl = *ttl;
    message.delay = *delay;
    return request;
}

int PublishDialog::repeat() const { return m_repeat->value(); }

QString PublishDialog::outcome() const { return m_outcome->text(); }

void PublishDialog::send() {
    Result<broker::PublishRequest> request = this->request();
    if (!request) {
        m_outcome->setText(QString::fromStdString(request.status().message()));
        return;
    }
    m_send->setEnabled(false);
    m_outcome->setText(tr("Sending %1…").arg(repeat()));
    auto tally = std::make_shared<Tally>();
    const int count = repeat();
    m_link->submitOnConnection(
        [request = *request, count, tally](const std::shared_ptr<client::Connection>& connection) {
            client::Producer producer(connection);
            for (int i = 1; i <= count; ++i) {
                broker::PublishRequest copy = request;
                if (count > 1 && !copy.message.id.empty())
                    copy.message.id += "-" + std::to_string(i);
                producer.sendAsync(std::move(copy), [tally](const client::SendResult& r) { tally->add(r); },
                                   {.timeout = kSendTimeout});
            }
            return producer.flush(kSendTimeout + broker::Millis(5000));
        },
        this,
        [this, tally](const Status& status) {
            QString text = tally->text();
            if (!status)
                text += "\n" + QString::fromStdString(status.message());
            m_outcome->setText(text);
            m_send->setEnabled(true);
            emit sent(text);
        });
}

}  // namespace depot::ui
