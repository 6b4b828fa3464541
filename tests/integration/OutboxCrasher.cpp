// depot-outbox-crasher ENDPOINT DATABASE ROWS: relays the outbox in DATABASE once and dies (std::_Exit: no
// cleanup, exit code 42) the moment all ROWS rows' publishes are confirmed, before the relay records that: the
// crash window of the outbox pattern, in a real process. Exit 1 if a row was not confirmed or fewer rows were
// due, 2 on usage or setup errors.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "depot/client/Connection.h"
#include "depot/client/Outbox.h"

using namespace depot;
using namespace depot::client;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: depot-outbox-crasher ENDPOINT DATABASE ROWS\n");
        return 2;
    }
    const long rows = std::strtol(argv[3], nullptr, 10);
    ClientOptions clientOptions;
    clientOptions.endpoint = argv[1];
    clientOptions.client = "outbox-crasher";
    Result<std::shared_ptr<Connection>> connection = Connection::connect(clientOptions);
    if (!connection) {
        std::fprintf(stderr, "depot-outbox-crasher: %s\n", connection.status().toString().c_str());
        return 2;
    }
    OutboxOptions options;
    options.database = argv[2];
    long confirmed = 0;
    // Runs for each row, in order, after the broker answered and before anything is written to the database.
    options.afterPublish = [&](const OutboxEntry& row, const SendResult& result) -> Status {
        if (!result.ok()) {
            std::fprintf(stderr, "depot-outbox-crasher: row %lld: %s\n", static_cast<long long>(row.row),
                         std::string(outcomeName(result)).c_str());
            std::_Exit(1);
        }
        if (++confirmed == rows)
            std::_Exit(42);
        return Status::ok();
    };
    Result<std::unique_ptr<Outbox>> outbox = Outbox::open(*connection, options);
    if (!outbox) {
        std::fprintf(stderr, "depot-outbox-crasher: %s\n", outbox.status().toString().c_str());
        return 2;
    }
    Result<RelayReport> report = (*outbox)->relayOnce();
    std::fprintf(stderr, "depot-outbox-crasher: the round ended before %ld rows were confirmed: %s\n", rows,
                 report ? "fewer rows were due" : report.status().toString().c_str());
    return 1;
}
