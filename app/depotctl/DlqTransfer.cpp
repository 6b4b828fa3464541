// dlq export|import: dead letters to and from JSON Lines files, one Message object (docs/protocol.md) per line.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "Commands.h"
#include "Context.h"
#include "DlqSupport.h"
#include "Encoding.h"
#include "Publisher.h"
#include "depot/client/MessageFile.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::Status;
using depot::broker::PublishRequest;

// Writes every message of `queue` to `file`, one JSON object per line. Returns how many.
Result<uint64_t> writeMessages(Context& context, const std::string& queue, FILE* file) {
    uint64_t written = 0;
    bool writeFailed = false;
    Status browsed = browseAll(context, queue, Json::object(), true, [&](const Json& message) {
        const std::string line = dumpJson(message) + "\n";
        writeFailed = std::fwrite(line.data(), 1, line.size(), file) != line.size();
        written += writeFailed ? 0 : 1;
        return !writeFailed;
    });
    if (!browsed)
        return browsed;
    if (writeFailed || std::fflush(file) != 0)
        return Status::ioError(std::string("write failed: ") + std::strerror(errno));
    return written;
}

// To a file: written beside it and renamed into place, so a failed export never leaves a partial FILE.
Result<uint64_t> exportToFile(Context& context, const std::string& queue, const std::string& path) {
    const std::string partial = path + ".partial";
    FILE* file = std::fopen(partial.c_str(), "wb");
    if (!file)
        return Status::ioError("cannot create " + partial + ": " + std::strerror(errno));
    Result<uint64_t> written = writeMessages(context, queue, file);
    const bool closed = std::fclose(file) == 0;
    if (written && !closed)
        written = Status::ioError("cannot write " + partial + ": " + std::strerror(errno));
    if (written && std::rename(partial.c_str(), path.c_str()) != 0)
        written = Status::ioError("cannot rename " + partial + " to " + path + ": " + std::strerror(errno));
    if (!written)
        std::remove(partial.c_str());
    return written;
}

int dlqExport(Context& context, const Arguments& args) {
    const std::string out = args.value("--out").value_or("-");
    Result<std::string> dlq = resolveDeadLetterQueue(context, args.positionals[0]);
    if (!dlq)
        return context.fail(dlq.status());
    Result<uint64_t> written = out == "-" ? writeMessages(context, *dlq, stdout) : exportToFile(context, *dlq, out);
    if (!written)
        return context.fail("export of " + *dlq + " failed: " + written.status().message());
    if (out == "-")
        std::fprintf(stderr, "exported %llu messages from %s\n", static_cast<unsigned long long>(*written),
                     dlq->c_str());
    else if (context.json())
        printJsonLine({{"queue", *dlq}, {"exported", *written}, {"file", out}});
    else
        std::printf("exported %llu messages from %s to %s\n", static_cast<unsigned long long>(*written), dlq->c_str(),
                    out.c_str());
    return kExitOk;
}

// Every line is read and checked before anything is published: a bad file publishes nothing.
Result<std::vector<PublishRequest>> readImport(const std::string& path, const std::optional<std::string>& to) {
    std::ifstream file;
    if (path != "-") {
        file.open(path, std::ios::binary);
        if (!file)
            return Status::ioError("cannot open " + path + ": " + std::strerror(errno));
    }
    std::istream& in = path == "-" ? std::cin : file;
    std::vector<PublishRequest> requests;
    std::string line;
    for (uint64_t number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        Result<PublishRequest> request = depot::client::importLine(line, to.value_or(""));
        if (!request) {
            const std::string& why = request.status().message();
            const char* hint = why.rfind("no \"queue\"", 0) == 0 ? " (use --to QUEUE)" : "";
            return Status::invalidArgument(path + ":" + std::to_string(number) + ": " + why + hint +
                                           "; nothing was imported");
        }
        requests.push_back(std::move(request).value());
    }
    if (in.bad())
        return Status::ioError("cannot read " + path);
    return requests;
}

int dlqImport(Context& context, const Arguments& args) {
    Result<std::vector<PublishRequest>> requests = readImport(args.positionals[0], args.value("--to"));
    if (!requests)
        return context.fail(requests.status());
    Result<depot::client::Producer*> producer = context.producer();
    if (!producer)
        return context.fail(producer.status());
    Publisher publisher(context, **producer, PublishMode::Async, "imported");
    for (PublishRequest& request : *requests)
        publisher.send(std::move(request));
    return publisher.finish();
}

}  // namespace

std::vector<CommandSpec> dlqTransferCommands() {
    return {
        {"dlq export",
         "NAME",
         "write every message of a dead-letter queue to a JSON Lines file",
         "One Message object per line, as the broker's message.browse gives it (death record included, bodies\n"
         "that are not UTF-8 as bodyBase64). NAME is a dead-letter queue or a queue whose DLQ to export.\n"
         "Exporting changes nothing in the broker.",
         {{"--out", "FILE", "the file to write ('-' or absent: stdout)"}},
         1,
         1,
         dlqExport},
        {"dlq import",
         "FILE",
         "publish the messages of an exported file again, with confirms",
         "Each line is published with the same id, key, headers and byte-identical body to --to QUEUE, or to the\n"
         "queue the line names. The file is checked completely before anything is published ('-': stdin).\n"
         "A message whose id the target queue saw within its dedup window is reported duplicate (not stored\n"
         "again). Exit 1 when a message was nacked or unconfirmed.",
         {{"--to", "QUEUE", "publish every message to this queue"}},
         1,
         1,
         dlqImport},
    };
}

}  // namespace depotctl
