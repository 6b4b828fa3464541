#include "catalog/Catalog.h"

#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "catalog/CatalogImpl.h"
#include "catalog/CatalogSchema.h"
#include "catalog/PolicyJson.h"

namespace depot::catalog {

using broker::Binding;
using broker::ExchangeSpec;
using broker::QueueInfo;

namespace {

// Runs one statement that returns no rows. Definitions are rare, so statements are not kept between calls.
template <typename... Values>
Status runOnce(SqliteDb& db, std::string_view sql, std::string what, const Values&... values) {
    Result<SqliteStatement> statement = db.prepare(sql, std::move(what));
    if (!statement)
        return statement.status();
    DEPOT_RETURN_IF_ERROR(statement->bindAll(values...));
    return statement->run();
}

std::string bindingText(const Binding& b) {
    return "binding '" + b.exchange + "' -> '" + b.queue + "' pattern '" + b.pattern + "'";
}

Result<QueueInfo> queueFromRow(const SqliteStatement& row) {
    QueueInfo queue;
    queue.id = uint32_t(row.int64At(0));
    queue.name = row.textAt(1);
    std::string kind = row.textAt(2);
    std::optional<broker::QueueKind> parsedKind = broker::queueKindFromString(kind);
    if (!parsedKind)
        return Status::corruption("queue '" + queue.name + "' in catalog has unknown kind '" + kind + "'");
    queue.kind = *parsedKind;
    Result<broker::QueuePolicy> policy = policyFromJson(row.textAt(3));
    if (!policy)
        return Status::corruption("queue '" + queue.name + "': " + policy.status().message());
    queue.policy = std::move(*policy);
    queue.deadLetterQueue = row.textAt(4);
    queue.createdAt = row.int64At(5);
    return queue;
}

std::string besideCatalog(const std::string& catalogPath) {
    size_t slash = catalogPath.find_last_of('/');
    return (slash == std::string::npos ? std::string() : catalogPath.substr(0, slash + 1)) + "history.db";
}

Result<SqliteDb> openHistoryFile(const std::string& path) {
    Result<SqliteDb> db = SqliteDb::open(path, SqliteDb::Mode::ReadWriteCreate);
    if (!db)
        return db.status();
    DEPOT_RETURN_IF_ERROR(prepareHistorySchema(*db, path));
    return db;
}

// History is not a promise, and never synced, so a power cut may damage it. A file SQLite calls corrupt, or
// that is not a Depot history file, or is from a newer build, is set aside as `<path>.damaged` (replacing an
// earlier one) and a new file begun: losing history must not keep the broker from starting.
Result<SqliteDb> openHistory(const std::string& path) {
    Result<SqliteDb> db = openHistoryFile(path);
    if (db || db.status().code() != StatusCode::Corruption)
        return db;
    std::error_code error;
    std::filesystem::rename(path, path + ".damaged", error);
    if (error)
        return Status::ioError("set aside damaged " + path + " (" + db.status().message() + "): " + error.message());
    for (const char* suffix : {"-wal", "-shm"})
        std::filesystem::remove(path + suffix, error);  // belonged to the damaged file; a leftover is SQLite's to judge
    return openHistoryFile(path);
}

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& path, CatalogOptions options) {
    const std::string historyPath = options.historyPath.empty() ? besideCatalog(path) : options.historyPath;
    Result<SqliteDb> history = openHistory(historyPath);
    if (!history)
        return history.status();
    Result<SqliteDb> db = SqliteDb::open(path, SqliteDb::Mode::ReadWriteCreate);
    if (!db)
        return db.status();
    DEPOT_RETURN_IF_ERROR(prepareCatalogSchema(*db, path, historyPath));
    auto impl = std::make_unique<Impl>(options, path, std::move(*db), historyPath, std::move(*history));
    impl->auditWriter =
        std::make_unique<CatalogWriter>(CatalogWriter::Kind::Audit, impl->catalog.db, impl->catalog.dbMutex, options);
    impl->historyWriter =
        std::make_unique<CatalogWriter>(CatalogWriter::Kind::History, impl->history.db, impl->history.dbMutex, options);
    DEPOT_RETURN_IF_ERROR(impl->auditWriter->start());
    DEPOT_RETURN_IF_ERROR(impl->historyWriter->start());
    return std::unique_ptr<Catalog>(new Catalog(std::move(impl)));
}

Catalog::Catalog(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Catalog::~Catalog() = default;

Result<std::vector<QueueInfo>> Catalog::loadQueues() {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    Result<SqliteStatement> statement = m_impl->catalog.db.prepare(
        "SELECT id, name, kind, policy, dead_letter_queue, created_at FROM queues ORDER BY id", "load queues");
    if (!statement)
        return statement.status();
    std::vector<QueueInfo> queues;
    for (;;) {
        Result<bool> row = statement->step();
        if (!row)
            return row.status();
        if (!*row)
            return queues;
        Result<QueueInfo> queue = queueFromRow(*statement);
        if (!queue)
            return queue.status();
        queues.push_back(std::move(*queue));
    }
}

Result<std::vector<ExchangeSpec>> Catalog::loadExchanges() {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    Result<SqliteStatement> statement =
        m_impl->catalog.db.prepare("SELECT name, type, alternate_queue FROM exchanges ORDER BY name", "load exchanges");
    if (!statement)
        return statement.status();
    std::vector<ExchangeSpec> exchanges;
    for (;;) {
        Result<bool> row = statement->step();
        if (!row)
            return row.status();
        if (!*row)
            return exchanges;
        ExchangeSpec exchange{statement->textAt(0), broker::ExchangeType::Direct, statement->textAt(2)};
        std::string type = statement->textAt(1);
        std::optional<broker::ExchangeType> parsed = broker::exchangeTypeFromString(type);
        if (!parsed)
            return Status::corruption("exchange '" + exchange.name + "' in catalog has unknown type '" + type + "'");
        exchange.type = *parsed;
        exchanges.push_back(std::move(exchange));
    }
}

Result<std::vector<Binding>> Catalog::loadBindings() {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    Result<SqliteStatement> statement =
        m_impl->catalog.db.prepare("SELECT exchange, queue, pattern FROM bindings ORDER BY id", "load bindings");
    if (!statement)
        return statement.status();
    std::vector<Binding> bindings;
    for (;;) {
        Result<bool> row = statement->step();
        if (!row)
            return row.status();
        if (!*row)
            return bindings;
        bindings.push_back(Binding{statement->textAt(0), statement->textAt(1), statement->textAt(2)});
    }
}

Result<uint32_t> Catalog::insertQueue(const QueueInfo& queue) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    std::string what = "insert queue '" + queue.name + "' into the catalog";
    Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
    if (!transaction)
        return transaction.status();
    DEPOT_RETURN_IF_ERROR(runOnce(
        db, "INSERT INTO queues (name, kind, policy, dead_letter_queue, created_at) VALUES (?, ?, ?, ?, ?)", what,
        queue.name, broker::toString(queue.kind), policyToJson(queue.policy), queue.deadLetterQueue, queue.createdAt));
    int64_t id = db.lastInsertRowid();
    if (id <= 0 || id > int64_t(std::numeric_limits<uint32_t>::max()))
        return Status::invalidArgument(what + ": queue ids are exhausted");  // rolled back by the destructor
    DEPOT_RETURN_IF_ERROR(transaction->commit());
    return uint32_t(id);
}

Status Catalog::updateQueue(const QueueInfo& queue) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    std::string what = "update queue '" + queue.name + "' (id " + std::to_string(queue.id) + ") in the catalog";
    DEPOT_RETURN_IF_ERROR(runOnce(db, "UPDATE queues SET kind = ?, policy = ?, dead_letter_queue = ? WHERE id = ?",
                                  what, broker::toString(queue.kind), policyToJson(queue.policy), queue.deadLetterQueue,
                                  queue.id));
    if (db.changes() == 0)
        return Status::notFound(what + ": no queue with that id");
    return Status::ok();
}

Status Catalog::deleteQueue(uint32_t id) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    std::string what = "delete queue id " + std::to_string(id) + " from the catalog";
    Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
    if (!transaction)
        return transaction.status();
    Result<SqliteStatement> select = db.prepare("SELECT name FROM queues WHERE id = ?", what);
    if (!select)
        return select.status();
    DEPOT_RETURN_IF_ERROR(select->bindAll(id));
    Result<bool> row = select->step();
    if (!row)
        return row.status();
    if (!*row)
        return Status::notFound(what + ": no queue with that id");
    std::string name = select->textAt(0);
    select->reset();
    DEPOT_RETURN_IF_ERROR(runOnce(db, "DELETE FROM bindings WHERE queue = ?", what, name));
    DEPOT_RETURN_IF_ERROR(runOnce(db, "DELETE FROM queues WHERE id = ?", what, id));
    return transaction->commit();
}

Status Catalog::upsertExchange(const ExchangeSpec& exchange) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    return runOnce(m_impl->catalog.db,
                   "INSERT INTO exchanges (name, type, alternate_queue) VALUES (?, ?, ?) ON CONFLICT (name) DO "
                   "UPDATE SET type = excluded.type, alternate_queue = excluded.alternate_queue",
                   "store exchange '" + exchange.name + "' in the catalog", exchange.name,
                   broker::toString(exchange.type), exchange.alternateQueue);
}

Result<std::map<std::string, std::string>> Catalog::loadSettings() {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    Result<SqliteStatement> statement = m_impl->catalog.db.prepare("SELECT key, value FROM settings", "load settings");
    if (!statement)
        return statement.status();
    std::map<std::string, std::string> settings;
    for (;;) {
        Result<bool> row = statement->step();
        if (!row)
            return row.status();
        if (!*row)
            return settings;
        settings[statement->textAt(0)] = statement->textAt(1);
    }
}

Status Catalog::putSettings(const std::map<std::string, std::string>& settings) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    const std::string what = "store broker settings in the catalog";
    Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
    if (!transaction)
        return transaction.status();
    for (const auto& [key, value] : settings)
        DEPOT_RETURN_IF_ERROR(runOnce(db,
                                      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                                      "SET value = excluded.value",
                                      what, key, value));
    return transaction->commit();
}

Status Catalog::deleteSetting(const std::string& key) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    return runOnce(m_impl->catalog.db, "DELETE FROM settings WHERE key = ?",
                   "delete setting " + key + " from the catalog", key);
}

Status Catalog::deleteExchange(const std::string& name) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    std::string what = "delete exchange '" + name + "' from the catalog";
    Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
    if (!transaction)
        return transaction.status();
    DEPOT_RETURN_IF_ERROR(runOnce(db, "DELETE FROM exchanges WHERE name = ?", what, name));
    if (db.changes() == 0)
        return Status::notFound(what + ": no such exchange");
    DEPOT_RETURN_IF_ERROR(runOnce(db, "DELETE FROM bindings WHERE exchange = ?", what, name));
    return transaction->commit();
}

Status Catalog::replaceDefinitions(const std::vector<QueueInfo>& queues, const std::vector<ExchangeSpec>& exchanges,
                                   const std::vector<Binding>& bindings) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    const std::string what = "replace the definitions with the primary's";
    Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
    if (!transaction)
        return transaction.status();
    for (const char* table : {"bindings", "exchanges", "queues"})
        DEPOT_RETURN_IF_ERROR(runOnce(db, std::string("DELETE FROM ") + table, what));
    for (const QueueInfo& queue : queues)
        DEPOT_RETURN_IF_ERROR(runOnce(
            db, "INSERT INTO queues (id, name, kind, policy, dead_letter_queue, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            what, int64_t(queue.id), queue.name, broker::toString(queue.kind), policyToJson(queue.policy),
            queue.deadLetterQueue, queue.createdAt));
    for (const ExchangeSpec& exchange : exchanges)
        DEPOT_RETURN_IF_ERROR(runOnce(db, "INSERT INTO exchanges (name, type, alternate_queue) VALUES (?, ?, ?)", what,
                                      exchange.name, broker::toString(exchange.type), exchange.alternateQueue));
    for (const Binding& binding : bindings)
        DEPOT_RETURN_IF_ERROR(runOnce(db, "INSERT INTO bindings (exchange, queue, pattern) VALUES (?, ?, ?)", what,
                                      binding.exchange, binding.queue, binding.pattern));
    return transaction->commit();
}

Status Catalog::insertBinding(const Binding& binding) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    return runOnce(
        m_impl->catalog.db, "INSERT INTO bindings (exchange, queue, pattern) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        "store " + bindingText(binding) + " in the catalog", binding.exchange, binding.queue, binding.pattern);
}

Status Catalog::deleteBinding(const Binding& binding) {
    std::lock_guard lock(m_impl->catalog.dbMutex);
    SqliteDb& db = m_impl->catalog.db;
    std::string what = "delete " + bindingText(binding) + " from the catalog";
    DEPOT_RETURN_IF_ERROR(runOnce(db, "DELETE FROM bindings WHERE exchange = ? AND queue = ? AND pattern = ?", what,
                                  binding.exchange, binding.queue, binding.pattern));
    if (db.changes() == 0)
        return Status::notFound(what + ": no such binding");
    return Status::ok();
}

bool Catalog::appendTrace(const broker::TraceEvent& event) { return m_impl->historyWriter->appendTrace(event); }

broker::TraceBatch Catalog::appendTrace(broker::TraceBatch events) {
    return m_impl->historyWriter->appendTrace(std::move(events));
}

void Catalog::appendAudit(broker::AuditEntry entry) { m_impl->auditWriter->appendAudit(std::move(entry)); }

void Catalog::appendMetrics(std::vector<broker::MetricsSample> samples) {
    m_impl->historyWriter->appendMetrics(std::move(samples));
}

Status Catalog::flush() {
    Status audit = m_impl->auditWriter->flush();
    Status history = m_impl->historyWriter->flush();
    return audit.isOk() ? history : audit;
}

void Catalog::prune(broker::TimeMs now) { m_impl->historyWriter->prune(now); }

uint64_t Catalog::droppedTrace() const { return m_impl->historyWriter->droppedTrace(); }

}  // namespace depot::catalog
