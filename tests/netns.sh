# netns.sh — "hosts" on this one machine for MPI over a real network stack:
# network namespaces NS_TAG-h0, -h1, ..., each with one veth link into a
# bridge that lives in a namespace of its own (NS_TAG-sw), so nothing is
# added to the machine's own namespace. Addresses are 10.77.0.1, .2, ...,
# used only inside these namespaces. Sourced by tests/test_mpi_netns.sh and
# bench/mpi-netns.sh; needs root, ip(8), and tc(8) for the shaping.
#
#   ns_up N            make N hosts (exit status 1 if namespaces cannot be made)
#   ns_shape RATE      tbf at RATE (e.g. 1gbit) on every host's link; "none" removes it
#   ns_mpirun ARGS     mpirun in host 0 with one rank per host over TCP
#   ns_link_down I     takes host I's link down
#   ns_down            kills what runs in them and removes them (also on exit)
NS_TAG=${NS_TAG:-bpn$$}
NS_N=0
NS_DIR=${NS_DIR:-$(mktemp -d)}

ns_up() {
    NS_N=$1
    ip netns add "$NS_TAG-sw" 2>/dev/null || return 1
    ip -n "$NS_TAG-sw" link add br0 type bridge &&
        ip -n "$NS_TAG-sw" link set br0 up || return 1
    i=0
    while [ $i -lt "$NS_N" ]; do
        h=$NS_TAG-h$i
        ip netns add "$h" &&
            ip -n "$h" link add eth0 type veth peer name p$i netns "$NS_TAG-sw" &&
            ip -n "$h" addr add 10.77.0.$((i + 1))/24 dev eth0 &&
            ip -n "$h" link set eth0 up && ip -n "$h" link set lo up &&
            ip -n "$NS_TAG-sw" link set p$i master br0 &&
            ip -n "$NS_TAG-sw" link set p$i up || return 1
        i=$((i + 1))
    done
    # Open MPI's launcher reaches a "host" through this instead of ssh
    cat >"$NS_DIR/agent" <<'AGENT'
#!/bin/sh
h=$1
shift
# each "host" has its own session folder, as a machine would
mkdir -p "$(dirname "$0")/$h"
exec ip netns exec "$h" env TMPDIR="$(dirname "$0")/$h" sh -c "$*"
AGENT
    chmod +x "$NS_DIR/agent"
    # mpirun waits for TCP to give up on a host that is cut off (15 min at
    # Linux's default of 15 retransmissions): 3 here, a few seconds
    i=0
    while [ $i -lt "$NS_N" ]; do
        ip netns exec "$NS_TAG-h$i" sysctl -qw net.ipv4.tcp_retries2=3 || return 1
        i=$((i + 1))
    done
    # no STP on the bridge: its ports forward at once
    ip -n "$NS_TAG-sw" link set br0 type bridge stp_state 0 forward_delay 0 2>/dev/null
    return 0
}

ns_shape() {
    i=0
    while [ $i -lt "$NS_N" ]; do
        tc -n "$NS_TAG-h$i" qdisc del dev eth0 root 2>/dev/null
        # a burst of at least 1 ms at the rate, and whole GSO segments
        [ "$1" = none ] || tc -n "$NS_TAG-h$i" qdisc add dev eth0 root tbf rate "$1" burst 2mb \
            latency 100ms || return 1
        i=$((i + 1))
    done
}

ns_hosts() {
    i=0 hosts=""
    while [ $i -lt "$NS_N" ]; do
        hosts="$hosts${hosts:+,}$NS_TAG-h$i"
        i=$((i + 1))
    done
    echo "$hosts"
}

ns_mpirun() {
    # PMIx's shared-memory store would be shared by the "hosts": its hash store instead
    mkdir -p "$NS_DIR/$NS_TAG-h0"
    ip netns exec "$NS_TAG-h0" env TMPDIR="$NS_DIR/$NS_TAG-h0" PMIX_MCA_gds=hash mpirun --allow-run-as-root --oversubscribe -np "$NS_N" \
        --host "$(ns_hosts)" --bind-to none --mca plm_rsh_agent "${NS_AGENT:-$NS_DIR/agent}" \
        --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 \
        --mca oob_tcp_if_include 10.77.0.0/24 "$@"
}

ns_link_down() { ip -n "$NS_TAG-h$1" link set eth0 down; }

ns_down() {
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_TAG-"); do
        pids=$(ip netns pids "$n" 2>/dev/null)
        [ -n "$pids" ] && kill -CONT $pids 2>/dev/null && kill -KILL $pids 2>/dev/null
        ip netns del "$n" 2>/dev/null
    done
    rm -rf "$NS_DIR/agent" "$NS_DIR/$NS_TAG"-h*
}

# ns_within S CMD...: CMD (a function too), killed after S seconds
ns_within() {
    s=$1
    shift
    "$@" &
    p=$!
    (sleep "$s"; kill -KILL $p 2>/dev/null) >/dev/null 2>&1 &
    w=$!
    wait $p
    r=$?
    kill $w 2>/dev/null
    return $r
}
