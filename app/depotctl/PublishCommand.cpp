// publish TARGET ... : messages with publisher confirms (sync, async) or without (oneway).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "Commands.h"
#include "Context.h"
#include "Publisher.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::broker::PublishRequest;

// Where the message goes: `publish QUEUE`, `publish EXCHANGE --routing-key K`, `publish --exchange E [...]`.
void setTarget(const Arguments& args, PublishRequest& request) {
    const std::optional<std::string> exchange = args.value("--exchange");
    const std::optional<std::string> routingKey = args.value("--routing-key");
    const bool hasTarget = !args.positionals.empty();
    if (exchange && hasTarget)
        throw UsageError("give either TARGET or --exchange, not both");
    if (!exchange && !hasTarget)
        throw UsageError("publish needs a TARGET queue (or --exchange E --routing-key K)");
    if (exchange) {
        request.exchange = *exchange;
        request.routingKey = routingKey.value_or("");
    } else if (routingKey) {
        request.exchange = args.positionals[0];
        request.routingKey = *routingKey;
    } else {
        request.routingKey = args.positionals[0];  // the default exchange routes to the queue of that name
    }
}

PublishRequest baseRequest(const Arguments& args) {
    PublishRequest request;
    setTarget(args, request);
    auto& message = request.message;
    message.key = args.value("--key").value_or("");
    for (const std::string& header : args.values("--header")) {
        const size_t equals = header.find('=');
        if (equals == std::string::npos || equals == 0)
            throw UsageError("--header: '" + header + "' is not NAME=VALUE");
        message.headers.emplace_back(header.substr(0, equals), header.substr(equals + 1));
    }
    message.ttl = args.duration("--ttl");
    message.delay = args.duration("--delay");
    message.persistent = !args.has("--transient");
    return request;
}

PublishMode modeFrom(const Arguments& args) {
    const std::string mode = args.choice("--mode", {"sync", "async", "oneway"}).value_or("async");
    return mode == "sync" ? PublishMode::Sync : mode == "oneway" ? PublishMode::Oneway : PublishMode::Async;
}

// The whole file ("-": stdin), byte for byte.
Result<std::string> readFile(const std::string& path) {
    FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (!file)
        return depot::Status::ioError("cannot open " + path + ": " + std::strerror(errno));
    std::string content;
    char buffer[65536];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
        content.append(buffer, n);
    const bool failed = std::ferror(file);
    if (file != stdin)
        std::fclose(file);
    if (failed)
        return depot::Status::ioError("cannot read " + path);
    return content;
}

std::string idFor(const std::string& base, uint64_t index, bool numbered) {
    if (base.empty() || !numbered)
        return base;
    return base + "-" + std::to_string(index);
}

// One message per line of stdin (without its '\n'), sent as it is read.
void publishLines(Publisher& publisher, const PublishRequest& base) {
    char* line = nullptr;
    size_t capacity = 0;
    ssize_t length = 0;
    uint64_t index = 0;
    while ((length = ::getline(&line, &capacity, stdin)) >= 0) {
        std::string body(line, static_cast<size_t>(length));
        if (!body.empty() && body.back() == '\n')
            body.pop_back();
        PublishRequest request = base;
        request.message.id = idFor(base.message.id, ++index, true);
        request.message.body = body;
        if (!publisher.send(std::move(request), std::move(body)))
            break;
    }
    std::free(line);
}

int publish(Context& context, const Arguments& args) {
    args.exclusive({"--body", "--file", "--lines"});
    if (!args.has("--body") && !args.has("--file") && !args.has("--lines"))
        throw UsageError("publish needs --body TEXT, --file PATH or --lines");
    if (args.has("--lines") && args.has("--count"))
        throw UsageError("--count repeats one message; it cannot be combined with --lines");
    const uint64_t count = args.number("--count").value_or(1);
    if (count == 0)
        throw UsageError("--count must be at least 1");
    PublishRequest base = baseRequest(args);
    base.message.id = args.value("--id").value_or("");
    const PublishMode mode = modeFrom(args);
    if (auto file = args.value("--file")) {
        Result<std::string> content = readFile(*file);
        if (!content)
            return context.fail(content.status());
        base.message.body = std::move(content).value();
    } else {
        base.message.body = args.value("--body").value_or("");
    }
    Result<depot::client::Producer*> producer = context.producer();
    if (!producer)
        return context.fail(producer.status());
    Publisher publisher(context, **producer, mode, "published");
    if (args.has("--lines")) {
        publishLines(publisher, base);
    } else {
        for (uint64_t i = 1; i <= count; ++i) {
            PublishRequest request = base;
            request.message.id = idFor(base.message.id, i, count > 1);
            if (!publisher.send(std::move(request)))
                break;
        }
    }
    return publisher.finish();
}

}  // namespace

std::vector<CommandSpec> publishCommands() {
    return {{"publish",
             "[TARGET]",
             "publish messages and report which ones the broker took responsibility for",
             "TARGET is a queue (the default exchange), or an exchange when --routing-key is given; or use\n"
             "--exchange E. Modes: sync waits for each confirm; async (default) keeps many in flight and reports\n"
             "each outcome as it arrives; oneway sends without confirms (LOSSY: for demonstrations).\n"
             "Outcomes: confirmed or duplicate (the broker has the message), nacked (it does not: reason),\n"
             "unconfirmed (no answer in time: it may or may not have it; publish it again with the same --id).\n"
             "Exit 1 when any message was nacked or unconfirmed (oneway: only when it could not be sent).",
             {{"--exchange", "E", "publish to this exchange"},
              {"--routing-key", "K", "the routing key (with an exchange)"},
              {"--id", "ID", "message id (deduplication, trace); with several messages: ID-1, ID-2, ..."},
              {"--key", "K", "ordering key"},
              {"--header", "NAME=VALUE", "a header", true},
              {"--ttl", "D", "time-to-live (then dead-lettered, expired)"},
              {"--delay", "D", "deliver no sooner than this"},
              {"--transient", "", "never written to disk, even on a durable queue"},
              {"--body", "TEXT", "the body"},
              {"--file", "PATH", "the body is this file's bytes ('-': stdin)"},
              {"--lines", "", "one message per line of stdin"},
              {"--count", "N", "publish the message N times"},
              {"--mode", "sync|async|oneway", "how to publish (default async)"}},
             0,
             1,
             publish}};
}

}  // namespace depotctl
