// Broker: the thread-safe front door. Every call is carried to the broker thread (BrokerLoop).
#include "depot/broker/Broker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "broker/BrokerLoop.h"
#include "broker/RequeueRunner.h"
#include "replication/PrimaryFencer.h"
#include "replication/ReplicaFollower.h"

namespace depot::broker {

struct Broker::Impl {
    std::unique_ptr<BrokerCore> core;
    std::unique_ptr<BrokerLoop> loop;
    int lockFd = -1;
    storage::RecoveryReport recovery;
    std::vector<std::weak_ptr<RequeueRunner>> jobs;
    std::unique_ptr<replication::ReplicaFollower> follower;  // a replica's; stopped by a promotion
    std::unique_ptr<replication::PrimaryFencer> fencer;      // a promoted replica's, fencing the former primary

    // A primary that was promoted from a replica tells its former primary, again and again, that it is fenced.
    void startFencer() {
        auto status = loop->call([&] { return Result<ReplicationStatus>(core->replicationStatus()); });
        if (!status || status->role != Role::Primary || status->primary.empty()) return;
        const BrokerOptions& options = core->options();
        fencer = std::make_unique<replication::PrimaryFencer>(replication::FencerOptions{
            status->primary, status->epoch, status->logId, "promoted replica " + options.dataDir,
            {options.peerCurveServerKey, options.curvePublicKey, options.curveSecretKey}});
    }

    ~Impl() {
        follower.reset();  // before the loop: it calls into the broker
        fencer.reset();
        loop.reset();
        core.reset();
        if (lockFd >= 0) ::close(lockFd);
    }
};

namespace {

// One broker per data directory: a second one would interleave appends to the same log.
Result<int> lockDataDir(const std::string& dir) {
    std::string path = dir + "/LOCK";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::fromErrno(errno, "open " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return Status::unavailable("data directory " + dir + " is in use by another broker");
    }
    return fd;
}

}  // namespace

Broker::Broker(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Broker::~Broker() { (void)close(); }

Result<std::unique_ptr<Broker>> Broker::open(BrokerOptions options) {
    if (options.dataDir.empty()) return Status::invalidArgument("no data directory given");
    std::error_code error;
    std::filesystem::create_directories(options.dataDir + "/log", error);
    if (error) return Status::ioError("create " + options.dataDir + ": " + error.message());
    auto impl = std::make_unique<Impl>();
    auto lock = lockDataDir(options.dataDir);
    if (!lock) return lock.status();
    impl->lockFd = *lock;
    storage::CommitLogOptions logOptions;
    logOptions.fileSystem = options.fileSystem;
    logOptions.segmentSize = options.segmentSize;
    logOptions.asyncFlushInterval = options.asyncFlushInterval;
    auto log = storage::CommitLog::open(options.dataDir + "/log", logOptions);
    if (!log) return log.status();
    impl->recovery = (*log)->recoveryReport();
    catalog::CatalogOptions catalogOptions;
    catalogOptions.traceRetentionRows = options.traceRetentionRows;
    catalogOptions.historyRetentionMs = options.historyRetention.count();
    auto catalog = catalog::Catalog::open(options.dataDir + "/catalog.db", catalogOptions);
    if (!catalog) return catalog.status();
    const std::string replicaOf = options.replicaOf;
    const std::string replicaName = options.replicaName.empty() ? options.dataDir : options.replicaName;
    const replication::PeerKeys peerKeys{options.peerCurveServerKey, options.curvePublicKey, options.curveSecretKey};
    impl->core = std::make_unique<BrokerCore>(std::move(options), std::move(*log), std::move(*catalog));
    if (!replicaOf.empty()) impl->core->setReplicaOf(replicaOf);
    DEPOT_RETURN_IF_ERROR(impl->core->recover());
    impl->loop = std::make_unique<BrokerLoop>(*impl->core);
    BrokerLoop* loop = impl->loop.get();
    BrokerCore* core = impl->core.get();
    core->log().setDurableListener([loop, core](uint64_t offset, const Status& status) {
        loop->post([core, offset, status] { core->onDurable(offset, status); });
    });
    loop->start();
    std::unique_ptr<Broker> broker(new Broker(std::move(impl)));
    if (!replicaOf.empty())
        broker->m_impl->follower = std::make_unique<replication::ReplicaFollower>(
            *broker, replication::FollowerOptions{.primary = replicaOf, .name = replicaName, .keys = peerKeys});
    else
        broker->m_impl->startFencer();  // a promoted broker fences its former primary after a restart too
    return broker;
}

Status Broker::close() {
    if (!m_impl || !m_impl->loop) return Status::ok();
    for (auto& weak : m_impl->jobs)
        if (auto job = weak.lock()) {
            job->cancel();
            job->wait();
        }
    m_impl->follower.reset();
    m_impl->fencer.reset();
    m_impl->loop->stop();
    m_impl->core->log().setDurableListener(nullptr);
    Status flushed = m_impl->core->catalog().flush();
    m_impl.reset();
    return flushed;
}

#define DEPOT_CALL(expr)                                                            \
    if (!m_impl) return Status::closed("the broker is closed");                     \
    return m_impl->loop->call([&] { return expr; })

// A call that changes what the broker holds: only a primary takes it (a replica or a fenced broker says why).
#define DEPOT_WRITE(what, expr)                                                      \
    if (!m_impl) return Status::closed("the broker is closed");                      \
    return m_impl->loop->call([&]() -> decltype(expr) {                              \
        if (Status writable = m_impl->core->checkWritable(what); !writable) return writable; \
        return expr;                                                                 \
    })

Result<QueueInfo> Broker::declareQueue(const QueueSpec& spec, const Actor& actor) {
    DEPOT_WRITE("declare a queue", m_impl->core->declareQueue(spec, actor));
}
Result<QueueInfo> Broker::updateQueuePolicy(const std::string& name, const QueuePolicy& policy, const Actor& actor) {
    DEPOT_WRITE("change a queue", m_impl->core->updateQueuePolicy(name, policy, actor));
}
Status Broker::deleteQueue(const std::string& name, const Actor& actor) {
    DEPOT_WRITE("delete a queue", m_impl->core->deleteQueue(name, actor));
}
Result<uint64_t> Broker::purgeQueue(const std::string& name, const Actor& actor) {
    DEPOT_WRITE("purge a queue", m_impl->core->purgeQueue(name, actor));
}
Result<std::vector<QueueInfo>> Broker::listQueues() {
    DEPOT_CALL(Result<std::vector<QueueInfo>>(m_impl->core->listQueues()));
}
Status Broker::declareExchange(const ExchangeSpec& spec, const Actor& actor) {
    DEPOT_WRITE("declare an exchange", m_impl->core->declareExchange(spec, actor));
}
Status Broker::deleteExchange(const std::string& name, const Actor& actor) {
    DEPOT_WRITE("delete an exchange", m_impl->core->deleteExchange(name, actor));
}
Result<std::vector<ExchangeSpec>> Broker::listExchanges() {
    DEPOT_CALL(Result<std::vector<ExchangeSpec>>(m_impl->core->listExchanges()));
}
Status Broker::bind(const Binding& binding, const Actor& actor) { DEPOT_WRITE("bind", m_impl->core->bind(binding, actor)); }
Status Broker::unbind(const Binding& binding, const Actor& actor) {
    DEPOT_WRITE("unbind", m_impl->core->unbind(binding, actor));
}
Result<std::vector<Binding>> Broker::listBindings() {
    DEPOT_CALL(Result<std::vector<Binding>>(m_impl->core->listBindings()));
}
Result<BrokerSettings> Broker::settings() {
    DEPOT_CALL(Result<BrokerSettings>(m_impl->core->settings()));
}
Result<AlertRule> Broker::setAlert(const AlertRule& rule, const Actor& actor) {
    DEPOT_WRITE("set an alert", m_impl->core->setAlert(rule, actor));
}
Status Broker::deleteAlert(const std::string& queue, AlertMetric metric, const Actor& actor) {
    DEPOT_WRITE("delete an alert", m_impl->core->deleteAlert(queue, metric, actor));
}
Result<std::vector<AlertState>> Broker::alerts() {
    DEPOT_CALL(Result<std::vector<AlertState>>(m_impl->core->alerts()));
}
Result<BrokerSettings> Broker::configure(const BrokerSettings& settings, const Actor& actor) {
    DEPOT_WRITE("configure the broker", m_impl->core->configure(settings, actor));
}

void Broker::publish(PublishRequest request, ConfirmHandler handler) {
    auto refuse = [](ConfirmHandler& h, const std::string& id) {
        if (h) h({PublishOutcome::Nacked, NackReason::ShuttingDown, "the broker is closed", id, {}});
    };
    if (!m_impl) return refuse(handler, request.message.id);
    BrokerCore* core = m_impl->core.get();
    if (m_impl->loop->onLoopThread()) return core->publish(std::move(request), std::move(handler));
    auto shared = std::make_shared<std::pair<PublishRequest, ConfirmHandler>>(std::move(request), std::move(handler));
    if (!m_impl->loop->post([core, shared] { core->publish(std::move(shared->first), std::move(shared->second)); }))
        refuse(shared->second, shared->first.message.id);
}

namespace {

std::future<PublishResult> futureOf(const std::function<void(ConfirmHandler)>& start) {
    auto promise = std::make_shared<std::promise<PublishResult>>();
    auto future = promise->get_future();
    start([promise](const PublishResult& result) { promise->set_value(result); });
    return future;
}

}  // namespace

std::future<PublishResult> Broker::publish(PublishRequest request) {
    return futureOf([&](ConfirmHandler handler) { publish(std::move(request), std::move(handler)); });
}

std::future<PublishResult> Broker::commitTransaction(const std::string& transaction) {
    return futureOf([&](ConfirmHandler handler) {
        Status posted = m_impl ? m_impl->loop->call([&] {
            m_impl->core->commitTransaction(transaction, handler);
            return Status::ok();
        })
                               : Status::closed("the broker is closed");
        if (!posted) handler({PublishOutcome::Nacked, NackReason::ShuttingDown, posted.message(), "", {}});
    });
}

std::future<PublishResult> Broker::rollbackTransaction(const std::string& transaction) {
    return futureOf([&](ConfirmHandler handler) {
        Status posted = m_impl ? m_impl->loop->call([&] {
            m_impl->core->rollbackTransaction(transaction, handler);
            return Status::ok();
        })
                               : Status::closed("the broker is closed");
        if (!posted) handler({PublishOutcome::Nacked, NackReason::ShuttingDown, posted.message(), "", {}});
    });
}

Status Broker::setTransactionChecker(const std::string& producer, TransactionChecker checker) {
    DEPOT_CALL((m_impl->core->setTransactionChecker(producer, std::move(checker)), Status::ok()));
}

Result<uint64_t> Broker::consume(const ConsumerSpec& spec, DeliveryHandler handler) {
    DEPOT_WRITE("consume", m_impl->core->consume(spec, std::move(handler)));
}
Status Broker::cancel(uint64_t consumer) { DEPOT_CALL(m_impl->core->cancel(consumer)); }
Status Broker::ack(uint64_t consumer, uint64_t tag) { DEPOT_CALL(m_impl->core->ack(consumer, tag)); }
Status Broker::nack(uint64_t consumer, uint64_t tag, const NackOptions& options) {
    DEPOT_CALL(m_impl->core->nack(consumer, tag, options));
}

Result<BrowsePage> Broker::browse(const std::string& queue, const BrowseOptions& options) {
    DEPOT_WRITE("browse messages (a replica keeps no queue contents until it is promoted)", m_impl->core->browse(queue, options));
}
Status Broker::deleteMessage(const std::string& queue, uint64_t sequence, const Actor& actor) {
    DEPOT_WRITE("delete a message", m_impl->core->deleteMessage(queue, sequence, actor));
}
Status Broker::deadLetterMessage(const std::string& queue, uint64_t sequence, const Actor& actor) {
    DEPOT_WRITE("dead-letter a message", m_impl->core->deadLetterMessage(queue, sequence, actor));
}

Result<MessageGroups> Broker::groupMessages(const std::string& queue, GroupBy by, const MessageFilter& filter,
                                            size_t limit) {
    DEPOT_WRITE("group messages (a replica keeps no queue contents until it is promoted)", m_impl->core->groupMessages(queue, by, filter, limit));
}
Result<std::shared_ptr<RequeueJob>> Broker::requeue(RequeueRequest request) {
    if (!m_impl) return Status::closed("the broker is closed");
    DEPOT_RETURN_IF_ERROR(m_impl->loop->call([&] { return m_impl->core->checkWritable("requeue messages"); }));
    auto job = RequeueRunner::start(*m_impl->loop, *m_impl->core, std::move(request));
    if (!job) return job.status();
    std::erase_if(m_impl->jobs, [](const auto& weak) { return weak.expired(); });
    m_impl->jobs.push_back(*job);
    return std::shared_ptr<RequeueJob>(*job);
}

Result<QueueStats> Broker::queueStats(const std::string& queue) {
    DEPOT_CALL(m_impl->core->queueStats(queue));
}

BrokerStats Broker::stats() {
    if (!m_impl) return {};
    Result<BrokerStats> stats = m_impl->loop->call([&] { return Result<BrokerStats>(m_impl->core->stats()); });
    return stats ? *stats : BrokerStats{};
}

namespace {

// The trace events of requests already answered are queued in the catalog writer; events of the broker thread's
// current round (an ADMIN call that deleted a message, say) are handed over here first. Then waits until
// everything queued is committed, so a query sees it.
Status flushHistory(BrokerLoop& loop, BrokerCore& core) {
    DEPOT_RETURN_IF_ERROR(loop.call([&core] {
        core.handOverTrace();
        return Status::ok();
    }));
    return core.catalog().flush();
}

}  // namespace

Result<std::vector<TraceEvent>> Broker::trace(const TraceQuery& query) {
    if (!m_impl) return Status::closed("the broker is closed");
    DEPOT_RETURN_IF_ERROR(flushHistory(*m_impl->loop, *m_impl->core));
    return m_impl->core->catalog().queryTrace(query);
}

Result<std::vector<AuditEntry>> Broker::audit(const AuditQuery& query) {
    if (!m_impl) return Status::closed("the broker is closed");
    DEPOT_RETURN_IF_ERROR(flushHistory(*m_impl->loop, *m_impl->core));
    return m_impl->core->catalog().queryAudit(query);
}

Result<std::vector<MetricsSample>> Broker::history(const std::string& queue, TimeMs from, TimeMs to) {
    if (!m_impl) return Status::closed("the broker is closed");
    DEPOT_RETURN_IF_ERROR(m_impl->core->catalog().flush());
    return m_impl->core->catalog().queryMetrics(queue, from, to);
}

void Broker::runTimers() {
    if (m_impl) m_impl->loop->waitSettled(true);
}

Status Broker::sync() {
    if (!m_impl) return Status::closed("the broker is closed");
    m_impl->loop->waitSettled(false);
    DEPOT_RETURN_IF_ERROR(m_impl->core->log().flush());
    // The flusher's listener may tell the loop about this sync only after flush() returned: tell it now, so the
    // confirms the sync released have gone out and unflushedMessages is 0 when sync() returns.
    BrokerCore* core = m_impl->core.get();
    (void)m_impl->loop->call([core] {
        core->onDurable(core->log().durableOffset(), Status::ok());
        return Status::ok();
    });
    m_impl->loop->waitSettled(false);  // lets the confirms that flush released go out
    return m_impl->core->catalog().flush();
}

const storage::RecoveryReport& Broker::recoveryReport() const {
    static const storage::RecoveryReport kNone;
    return m_impl ? m_impl->recovery : kNone;
}

}  // namespace depot::broker

namespace depot::broker {

void Broker::whenDurable(std::function<void(const Status&)> done) {
    if (!m_impl) return done(Status::closed("the broker is closed"));
    BrokerCore* core = m_impl->core.get();
    if (m_impl->loop->onLoopThread()) return core->whenAllDurable(std::move(done));
    auto shared = std::make_shared<std::function<void(const Status&)>>(std::move(done));
    if (!m_impl->loop->post([core, shared] { core->whenAllDurable(std::move(*shared)); }))
        (*shared)(Status::closed("the broker is closed"));
}

Status Broker::attach(std::shared_ptr<LoopService> service) {
    if (!m_impl) return Status::closed("the broker is closed");
    BrokerLoop* loop = m_impl->loop.get();
    return loop->call([&] {
        loop->attach(service);
        return Status::ok();
    });
}

Status Broker::detach(const std::shared_ptr<LoopService>& service) {
    if (!m_impl) return Status::closed("the broker is closed");
    BrokerLoop* loop = m_impl->loop.get();
    return loop->call([&] {
        return loop->detach(service) ? Status::ok() : Status::notFound("the service is not attached");
    });
}

}  // namespace depot::broker

namespace depot::broker {

void Broker::endTransaction(const std::string& transaction, bool commit, ConfirmHandler handler) {
    if (!m_impl) return handler({PublishOutcome::Nacked, NackReason::ShuttingDown, "the broker is closed", "", {}});
    BrokerCore* core = m_impl->core.get();
    auto run = [core, transaction, commit, handler]() mutable {
        if (commit) core->commitTransaction(transaction, std::move(handler));
        else core->rollbackTransaction(transaction, std::move(handler));
    };
    if (m_impl->loop->onLoopThread()) return run();
    if (!m_impl->loop->post(run))
        handler({PublishOutcome::Nacked, NackReason::ShuttingDown, "the broker is closed", "", {}});
}

// ---- replication ----

Result<ReplicationStatus> Broker::replicationStatus() {
    DEPOT_CALL(Result<ReplicationStatus>(m_impl->core->replicationStatus()));
}
Result<FetchReply> Broker::replicaFetch(const FetchRequest& request) { DEPOT_CALL(m_impl->core->replicaFetch(request)); }
Result<Definitions> Broker::definitions() {
    DEPOT_CALL(Result<Definitions>(Definitions{m_impl->core->definitionsVersion(), m_impl->core->listQueues(),
                                               m_impl->core->listExchanges(), m_impl->core->listBindings()}));
}

Status Broker::promote(const Actor& actor) {
    if (!m_impl) return Status::closed("the broker is closed");
    // The follower stops on its own: every store it makes goes through the broker thread and is refused once the
    // role changed, so no record of the old primary lands after the new epoch.
    if (m_impl->follower) m_impl->follower->requestStop();
    Status promoted = m_impl->loop->call([&] { return m_impl->core->promote(actor); });
    if (!promoted) return promoted;
    m_impl->startFencer();
    return Status::ok();
}

Status Broker::fence(uint64_t epoch, const std::string& by, const std::string& logId, const Actor& actor) {
    DEPOT_CALL(m_impl->core->fence(epoch, by, logId, actor));
}

Status Broker::adoptLogId(const std::string& id) { DEPOT_CALL(m_impl->core->adoptLogId(id)); }

Result<ReplicaPosition> Broker::replicaPosition() {
    DEPOT_CALL(Result<ReplicaPosition>(ReplicaPosition{m_impl->core->logId(), m_impl->core->log().writtenOffset(),
                                                       m_impl->core->log().durableOffset(), m_impl->core->lastEpoch(),
                                                       m_impl->core->appliedDefinitions()}));
}

Status Broker::storeReplicated(uint64_t from, std::string_view bytes) {
    if (!m_impl) return Status::closed("the broker is closed");
    uint64_t end = 0;
    // On the broker thread: a promotion cannot slip between the append and its replay.
    DEPOT_RETURN_IF_ERROR(m_impl->loop->call([&]() -> Status {
        if (m_impl->core->role() != Role::Replica) return Status::closed("no longer a replica");
        auto appended = m_impl->core->log().appendFramed(from, bytes, storage::Durability::Sync);
        if (!appended) return appended.status();
        end = *appended;
        return m_impl->core->applyReplicated(from, end);
    }));
    // Here, not on the broker thread: the next fetch reports the durable end, the acknowledgement.
    return m_impl->core->log().waitDurable(end);
}
Status Broker::truncateReplica(uint64_t offset) { DEPOT_CALL(m_impl->core->truncateReplica(offset)); }
Status Broker::resetReplica(uint64_t offset) { DEPOT_CALL(m_impl->core->resetReplica(offset)); }
Status Broker::replaceDefinitions(Definitions d) {
    DEPOT_CALL(m_impl->core->replaceDefinitions(std::move(d.queues), std::move(d.exchanges), std::move(d.bindings),
                                                d.version));
}
void Broker::noteFollower(bool connected, uint64_t primaryDurable, uint64_t primaryStart, std::string lastError) {
    if (!m_impl) return;
    (void)m_impl->loop->call([&] {
        m_impl->core->noteFollower(connected, primaryDurable, primaryStart, std::move(lastError));
        return Status::ok();
    });
}

}  // namespace depot::broker
