#pragma once
// AuditPage: what operators did to the broker — who, when, what, to which queue, how many messages — newest
// first, from the broker's audit log (policy changes, purges, deletes, requeues, broker settings).
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QTableWidget;

namespace depot::ui {

class BrokerLink;

class AuditPage : public QWidget {
    Q_OBJECT

public:
    explicit AuditPage(BrokerLink* link, QWidget* parent = nullptr);
    QTableWidget* table() const { return m_table; }

public slots:
    void refresh();

signals:
    void loaded(int entries);

protected:
    void showEvent(QShowEvent* event) override;

private:
    BrokerLink* m_link;
    QLineEdit* m_target;
    QComboBox* m_since;
    QLabel* m_summary;
    QTableWidget* m_table;
    quint64 m_request = 0;
};

}  // namespace depot::ui
