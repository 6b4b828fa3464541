// DeadLettersPage: Export and Import (JSON Lines), run on the link's thread.
#include <QFileDialog>
#include <QInputDialog>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <memory>

#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"
#include "depot/client/MessageFile.h"
#include "depot/client/Producer.h"
#include "models/DeadLetterTableModel.h"
#include "pages/DeadLettersPage.h"

namespace depot::ui {
namespace {

constexpr size_t kExportPage = 500;

// Every matching message of `queue` into `path`, written beside it and renamed into place: a failed export never
// leaves a partial file under the name asked for.
Result<uint64_t> writeExport(client::Admin& admin, const std::string& queue, const broker::MessageFilter& filter,
                             const std::string& path) {
    const std::string partial = path + ".partial";
    std::FILE* file = std::fopen(partial.c_str(), "wb");
    if (!file)
        return Status::ioError("cannot create " + partial + ": " + std::strerror(errno));
    uint64_t written = 0;
    Status status;
    broker::BrowseOptions options;
    options.filter = filter;
    options.limit = kExportPage;
    for (;;) {
        auto page = admin.browse(queue, options);
        if (!page) {
            status = page.status();
            break;
        }
        for (const broker::QueuedMessage& message : page->messages) {
            const std::string line = client::exportLine(message);
            if (std::fwrite(line.data(), 1, line.size(), file) != line.size()) {
                status = Status::ioError("cannot write " + partial + ": " + std::strerror(errno));
                break;
            }
            ++written;
        }
        options.start += page->messages.size();
        if (!status || page->messages.size() < kExportPage || options.start >= page->matched)
            break;
    }
    if (std::fclose(file) != 0 && status)
        status = Status::ioError("cannot write " + partial + ": " + std::strerror(errno));
    if (status && std::rename(partial.c_str(), path.c_str()) != 0)
        status = Status::ioError("cannot rename " + partial + " to " + path + ": " + std::strerror(errno));
    if (!status) {
        std::remove(partial.c_str());
        return status;
    }
    return written;
}

Result<std::vector<broker::PublishRequest>> readImport(const std::string& path, const std::string& target) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Status::ioError("cannot open " + path + ": " + std::strerror(errno));
    std::vector<broker::PublishRequest> requests;
    std::string line;
    for (uint64_t number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        auto request = client::importLine(line, target);
        if (!request)
            return Status::invalidArgument("line " + std::to_string(number) + ": " + request.status().message() +
                                           "; nothing was imported");
        requests.push_back(std::move(request).value());
    }
    if (in.bad())
        return Status::ioError("cannot read " + path);
    return requests;
}

}  // namespace

void DeadLettersPage::chooseExportFile() {
    const QString suggested = QString::fromStdString(model()->queue()) + QStringLiteral(".jsonl");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export dead letters"), suggested,
                                                      tr("JSON Lines (*.jsonl);;All files (*)"));
    if (!path.isEmpty())
        exportTo(path);
}

void DeadLettersPage::chooseImportFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import messages"), {},
                                                      tr("JSON Lines (*.jsonl);;All files (*)"));
    if (path.isEmpty())
        return;
    const QString eachOwn = tr("(the queue each line names)");
    bool ok = false;
    const QString target = QInputDialog::getItem(this, tr("Import into"), tr("Publish the messages to:"),
                                                 QStringList{eachOwn} + normalQueues(), 0, false, &ok);
    if (ok)
        importFrom(path, target == eachOwn ? QString() : target);
}

void DeadLettersPage::exportTo(const QString& path) {
    broker::RequeueRequest scoped;
    uint64_t count = 0;
    if (!scope(scoped, count))
        return;
    m_link->fetch<uint64_t>(
        [queue = scoped.queue, filter = scoped.filter, path = path.toStdString()](client::Admin& admin) {
            return writeExport(admin, queue, filter, path);
        },
        this, [this, path](Result<uint64_t> written) {
            const QString error = written ? QString() : QString::fromStdString(written.status().message());
            emit message(written ? tr("exported %1 messages to %2").arg(*written).arg(path)
                                 : tr("export failed: %1").arg(error));
            emit exported(written ? *written : 0, error);
        });
}

void DeadLettersPage::importFrom(const QString& path, const QString& target) {
    auto outcome = std::make_shared<std::pair<uint64_t, uint64_t>>(0, 0);  // confirmed (or duplicate), refused
    m_link->submitOnConnection(
        [outcome, path = path.toStdString(), target = target.toStdString()](
            const std::shared_ptr<client::Connection>& connection) -> Status {
            auto requests = readImport(path, target);
            if (!requests)
                return requests.status();
            client::Producer producer(connection);
            std::mutex mutex;
            for (broker::PublishRequest& request : *requests)
                producer.sendAsync(std::move(request), [&](const client::SendResult& result) {
                    std::lock_guard lock(mutex);
                    (result.ok() ? outcome->first : outcome->second) += 1;
                });
            return producer.flush(broker::Millis(120000));
        },
        this, [this, outcome, path](const Status& status) {
            const QString error = status ? QString() : QString::fromStdString(status.message());
            emit message(status ? tr("imported %1 messages from %2, %3 refused")
                                      .arg(outcome->first)
                                      .arg(path)
                                      .arg(outcome->second)
                                : tr("import failed: %1").arg(error));
            emit imported(outcome->first, outcome->second, error);
        });
}

}  // namespace depot::ui
