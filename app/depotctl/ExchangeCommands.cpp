// exchange declare|list|delete, bind, unbind
#include <cstdio>
#include <map>

#include "Commands.h"
#include "Context.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::broker::Binding;
using depot::broker::ExchangeSpec;
using depot::client::Admin;

int exchangeDeclare(Context& context, const Arguments& args) {
    ExchangeSpec spec;
    spec.name = args.positionals[0];
    std::optional<std::string> type = args.choice("--type", {"direct", "fanout", "topic"});
    if (!type)
        throw UsageError("exchange declare needs --type direct|fanout|topic");
    spec.type = *depot::broker::exchangeTypeFromString(*type);
    spec.alternateQueue = args.value("--alternate").value_or("");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    if (depot::Status declared = (*admin)->declareExchange(spec); !declared)
        return context.fail(declared);
    if (context.json())
        printJsonLine({{"exchange", {{"name", spec.name}, {"type", *type}, {"alternateQueue", spec.alternateQueue}}}});
    else
        std::printf("exchange '%s' declared (%s%s)\n", spec.name.c_str(), type->c_str(),
                    spec.alternateQueue.empty() ? "" : (", alternate queue " + spec.alternateQueue).c_str());
    return kExitOk;
}

int exchangeListJson(Context& context) {
    Result<Json> exchanges = context.call("exchange.list");
    if (!exchanges)
        return context.fail(exchanges.status());
    Result<Json> bindings = context.call("binding.list");
    if (!bindings)
        return context.fail(bindings.status());
    Json out = *exchanges;
    out["bindings"] = bindings->value("bindings", Json::array());
    printJsonLine(out);
    return kExitOk;
}

int exchangeList(Context& context, const Arguments&) {
    if (context.json())
        return exchangeListJson(context);
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<std::vector<ExchangeSpec>> exchanges = (*admin)->listExchanges();
    if (!exchanges)
        return context.fail(exchanges.status());
    Result<std::vector<Binding>> bindings = (*admin)->listBindings();
    if (!bindings)
        return context.fail(bindings.status());
    std::map<std::string, std::string> bound;  // exchange → "queue (pattern), ..."
    for (const Binding& b : *bindings) {
        std::string& text = bound[b.exchange];
        text += (text.empty() ? "" : ", ") + b.queue + (b.pattern.empty() ? "" : " (" + b.pattern + ")");
    }
    Table table({"NAME", "TYPE", "ALTERNATE", "BINDINGS"});
    for (const ExchangeSpec& e : *exchanges)
        table.addRow({e.name.empty() ? "(default)" : e.name, std::string(toString(e.type)), cellText(e.alternateQueue),
                      cellText(bound[e.name], 200)});
    const std::string text = table.empty() ? "no exchanges\n" : table.render();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
}

int exchangeDelete(Context& context, const Arguments& args) {
    const std::string& name = args.positionals[0];
    if (!args.has("--yes"))
        requireYes("exchange delete", "exchange '" + name + "' and its bindings (queues and messages are kept)");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    if (depot::Status deleted = (*admin)->deleteExchange(name); !deleted)
        return context.fail(deleted);
    if (context.json())
        printJsonLine({{"deleted", name}});
    else
        std::printf("deleted exchange '%s'\n", name.c_str());
    return kExitOk;
}

int changeBinding(Context& context, const Arguments& args, bool add) {
    Binding binding{args.positionals[0], args.positionals[1], args.value("--pattern").value_or("")};
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    depot::Status done = add ? (*admin)->bind(binding) : (*admin)->unbind(binding);
    if (!done)
        return context.fail(done);
    if (context.json()) {
        printJsonLine({{add ? "bound" : "unbound",
                        {{"exchange", binding.exchange}, {"queue", binding.queue}, {"pattern", binding.pattern}}}});
    } else {
        std::printf("%s exchange '%s' %s queue '%s'%s\n", add ? "bound" : "unbound", binding.exchange.c_str(),
                    add ? "to" : "from", binding.queue.c_str(),
                    binding.pattern.empty() ? "" : (" with pattern '" + binding.pattern + "'").c_str());
    }
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> exchangeCommands() {
    const OptionSpec pattern{"--pattern", "P",
                             "direct: the routing key; topic: words separated by '.', '*' one word, '#' any"};
    return {
        {"exchange declare",
         "NAME",
         "create an exchange",
         "Publishing to an exchange routes the message to the queues bound to it. Unroutable messages are\n"
         "nacked (no-route) unless the exchange has an alternate queue.",
         {{"--type", "direct|fanout|topic", "how the exchange routes (required)"},
          {"--alternate", "QUEUE", "where unroutable messages go instead of being nacked"}},
         1,
         1,
         exchangeDeclare},
        {"exchange list", "", "exchanges and their bindings", "", {}, 0, 0, exchangeList},
        {"exchange delete",
         "NAME",
         "delete an exchange and its bindings (needs --yes)",
         "",
         {{"--yes", "", "really do it"}},
         1,
         1,
         exchangeDelete},
        {"bind",
         "EXCHANGE QUEUE",
         "route an exchange's messages to a queue",
         "",
         {pattern},
         2,
         2,
         [](Context& c, const Arguments& a) { return changeBinding(c, a, true); }},
        {"unbind",
         "EXCHANGE QUEUE",
         "remove a binding",
         "",
         {pattern},
         2,
         2,
         [](Context& c, const Arguments& a) { return changeBinding(c, a, false); }},
    };
}

}  // namespace depotctl
