#pragma once
// TracePage: a message's life as a timeline — published, flushed, confirmed, delivered #n to which consumer,
// nacked with its error, retry scheduled, dead-lettered, requeued by whom, acked — found by message id or by
// ordering key. Reachable from any message row (Queues → Peek, Dead Letters) with one click.
#include <QWidget>

class QLabel;
class QLineEdit;
class QRadioButton;
class QTableWidget;

namespace depot::ui {

class BrokerLink;

class TracePage : public QWidget {
    Q_OBJECT

public:
    explicit TracePage(BrokerLink* link, QWidget* parent = nullptr);
    QTableWidget* timeline() const { return m_timeline; }
    QString summary() const;

public slots:
    void traceMessage(const QString& messageId);
    void traceKey(const QString& key);
    void search();

private:
    BrokerLink* m_link;
    QLineEdit* m_query;
    QRadioButton* m_byId;
    QRadioButton* m_byKey;
    QLabel* m_summary;
    QTableWidget* m_timeline;
    quint64 m_request = 0;
};

}  // namespace depot::ui
