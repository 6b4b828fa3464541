#!/bin/bash
# A RabbitMQ node for `depot-bench compare --peer rabbitmq`, from Debian's rabbitmq-server, bound to loopback only:
# AMQP, Erlang distribution and epmd all listen on 127.0.0.1, on ports of their own (a system RabbitMQ or epmd on
# the default ports is left alone). Everything it writes stays under DIR. It is stopped by the PIDs recorded at
# start, never by name.
#
#   rabbitmq-local.sh start DIR [AMQP_PORT]   starts it, waits until it takes AMQP connections, prints
#                                             "amqp://127.0.0.1:PORT" (default port 5699)
#   rabbitmq-local.sh stop DIR                stops the node and its epmd, waits until both are gone
set -eu

command=${1:-}
dir=${2:-}
port=${3:-5699}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [AMQP_PORT]" >&2; exit 2; }

server=/usr/lib/rabbitmq/bin/rabbitmq-server
[ -x "$server" ] || { echo "$0: $server not found: apt-get install rabbitmq-server (installer/deps-debian.sh --bench)" >&2; exit 1; }

node_env() {
    export HOME="$dir/home"  # the Erlang cookie lives here
    export RABBITMQ_NODENAME="depotbench@localhost"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$port"
    export RABBITMQ_DIST_PORT=$((port + 20000))
    export ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_EPMD_PORT=$((port + 1))
    export RABBITMQ_MNESIA_BASE="$dir/mnesia"
    export RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
    export RABBITMQ_PID_FILE="$dir/beam.pid"
    export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"  # rabbitmq.conf
    # Erlang distribution (the node's and the CLI tools' own, rabbitmqctl stop included) on loopback only. No
    # scheduler busy-waiting (+sbwt none, as RabbitMQ advises on shared machines): an idle node spinning on both
    # cores would slow every other system measured in the same run.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits up to $2 seconds for the process in pid file $1 to be gone.
wait_gone() {
    i=0
    while alive "$1" && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    ! alive "$1"
}

case "$command" in
start)
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    dir=$(cd "$dir" && pwd)
    node_env
    if alive "$dir/server.pid"; then echo "$0: a node already runs from $dir (pid $(cat "$dir/server.pid"))" >&2; exit 1; fi
    echo "[]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    # Loopback only, the guest user (loopback-only by default), no disk-space alarm surprises on a small scratch disk.
    printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users.guest = true\ndisk_free_limit.absolute = 50MB\n' \
        "$port" > "$dir/rabbitmq.conf"
    epmd -address 127.0.0.1 -port "$ERL_EPMD_PORT" > "$dir/log/epmd.out" 2>&1 &
    echo $! > "$dir/epmd.pid"
    "$server" > "$dir/log/server.out" 2>&1 &
    echo $! > "$dir/server.pid"
    i=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! alive "$dir/server.pid" || [ $i -ge 600 ]; then
            echo "$0: RabbitMQ did not start listening on 127.0.0.1:$port; see $dir/log" >&2
            tail -n 20 "$dir/log/server.out" >&2 || true
            "$0" stop "$dir" "$port" || true
            exit 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "amqp://127.0.0.1:$port"
    ;;
stop)
    dir=$(cd "$dir" && pwd)
    node_env
    if alive "$dir/server.pid"; then
        kill -TERM "$(cat "$dir/server.pid")"  # the script stops the node (rabbitmqctl stop) and exits
        wait_gone "$dir/server.pid" 60 || kill -KILL "$(cat "$dir/server.pid")" 2>/dev/null || true
    fi
    if alive "$dir/beam.pid"; then
        kill -TERM "$(cat "$dir/beam.pid")"
        wait_gone "$dir/beam.pid" 30 || kill -KILL "$(cat "$dir/beam.pid")" 2>/dev/null || true
    fi
    if alive "$dir/epmd.pid"; then
        kill -TERM "$(cat "$dir/epmd.pid")"
        wait_gone "$dir/epmd.pid" 10 || kill -KILL "$(cat "$dir/epmd.pid")" 2>/dev/null || true
    fi
    rm -f "$dir/server.pid" "$dir/beam.pid" "$dir/epmd.pid"
    ;;
*)
    echo "usage: $0 start|stop DIR [AMQP_PORT]" >&2
    exit 2
    ;;
esac
