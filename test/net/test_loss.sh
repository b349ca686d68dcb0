#!/bin/bash
# SPDX-License-Identifier: ISC
# SACK trimming under loss (docs/PROTOCOL.md, "Making room"). The bridge
# drops ~3% of the port-5001 segments it forwards from A to B at random, so
# B's receive queue has holes and B's TCP sends ACKs with several SACK
# blocks (up to 3 fit beside timestamps in plain TCP). With timestamps and
# the 16-byte zcc option only one block fits: B's daemon removes the others
# (sack_trimmed > 0). 8 MB A -> B:5001 must still arrive byte-exact, every
# port-5001 segment on the wire must be sealed, B's ACKs on its zcc0 (before
# sealing) must carry more than one block sometimes, those on the wire
# exactly one at most, and neither daemon may drop anything as bad_tag,
# malformed, no_option, bad_key_id, no_timestamps or no_room.
set -euo pipefail
. "$(dirname "$0")/lib.sh" "$@"

LOSS=3                                  # percent, A -> B only

setup_topology
genkey "$TMP/key"
start_pair 5001
head -c 8M /dev/urandom >"$TMP/ab.in"

log "SW drops $LOSS% of the port-5001 segments from A to B"
ip netns exec "$NS_SW" nft -f - <<EOF || fail "nft does not accept the loss rule"
table bridge zcc_loss {
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "vA" oifname "vB" ether type $NFT_IP tcp dport 5001 numgen random mod 100 < $LOSS counter drop
	}
}
EOF
ip netns exec "$NS_SW" nft list table bridge zcc_loss | grep -c 'numgen random mod 100' >/dev/null ||
	fail "the loss rule is not installed"

capture_start "$NS_B" eth0 wire
# B's own segments on zcc0, before its daemon seals (and trims) them.
capture_start "$NS_B" zcc0 zcc0 -s 128 src host "$IP_B" and tcp port 5001

bg_start "$NS_B" "$TMP/srv.log" socat -u "$(tcp_listen 5001)" "CREATE:$TMP/ab.out"
SRV=$BG_PID
wait_listen "$NS_B" 5001
start=$(date +%s.%N)
ip netns exec "$NS_A" timeout 45 socat -u "FILE:$TMP/ab.in" \
	"$(tcp_to "$IP_B" 5001),connect-timeout=10" || fail "sender A -> B:5001 failed"
bg_wait "$SRV" 30 || fail "receiver on B:5001 did not finish"
log "transfer took $(echo "$(date +%s.%N) - $start" | bc) s"
capture_stop wire
capture_stop zcc0
capture_complete wire zcc0

lost=$(ip netns exec "$NS_SW" nft list table bridge zcc_loss |
	sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
sent=$($PCAP count "$TMP/wire.pcap" --port 5001 --src "$IP_A")
log "SW dropped $lost segments from A; B's wire shows $sent segments from A"
[ "$lost" -gt 0 ] || fail "SW dropped nothing: no loss was simulated"

[ "$(sha "$TMP/ab.in")" = "$(sha "$TMP/ab.out")" ] ||
	fail "received data differs ($(stat -c %s "$TMP/ab.out") of $(stat -c %s "$TMP/ab.in") bytes)"
check "8 MB A -> B:5001 arrived byte-exact despite $lost lost segments"

check_wire_sealed "$TMP/wire.pcap" 5001 "$TMP/ab.in"

lineA=$(counters_line A)
lineB=$(counters_line B)
log "A $lineA"
log "B $lineB"
trimmed=$(field "$lineB" sack_trimmed)

# SACK blocks: max=N with_sack=N segments=N blocks1=N blocks2=N blocks3=N blocks4=N
max='' with_sack='' segments='' blocks1='' blocks2='' blocks3='' blocks4=''
inner=$($PCAP sack-blocks "$TMP/zcc0.pcap" --port 5001 --src "$IP_B" --dst "$IP_A")
outer=$($PCAP sack-blocks "$TMP/wire.pcap" --port 5001 --src "$IP_B" --dst "$IP_A")
log "B -> A on B's zcc0 (as B's TCP sent them): $inner"
log "B -> A on the wire (sealed):               $outer"
eval "$inner"
[ "$max" -ge 2 ] ||
	fail "B's TCP never sent more than $max SACK blocks: nothing to trim, the loss pattern does not exercise trimming"
multi=$((blocks2 + blocks3 + blocks4))
[ "$trimmed" -gt 0 ] || fail "B's sack_trimmed is 0 although B's TCP sent $multi ACKs with 2 or more SACK blocks"
[ "$trimmed" -le "$multi" ] ||
	fail "B's sack_trimmed ($trimmed) exceeds the $multi ACKs with 2 or more blocks seen on zcc0"
check "of B's $segments segments on zcc0, $with_sack carried SACK, $multi with 2-3 blocks (max $max); B's daemon trimmed $trimmed"
eval "$outer"
[ "$max" = 1 ] || fail "on the wire, B's ACKs carry at most $max SACK blocks, expected exactly 1"
[ "$blocks1" -ge "$trimmed" ] ||
	fail "only $blocks1 ACKs with one SACK block on the wire, but $trimmed were trimmed to one"
check "on the wire $blocks1 of B's $segments segments carry exactly one SACK block, none more"

for d in A B; do
	line=$(counters_line "$d")
	for f in bad_tag malformed no_option bad_key_id no_timestamps no_room; do
		[ "$(field "$line" "$f")" = 0 ] || fail "$d dropped $(field "$line" "$f") as $f: $line"
	done
	[ "$(field "$line" sealed)" -gt 0 ] && [ "$(field "$line" opened)" -gt 0 ] ||
		fail "$d sealed or opened nothing: $line"
	log "$d nonzero drops: $(nonzero_drops "$d")"
done
check "no bad_tag, malformed, no_option, bad_key_id, no_timestamps or no_room drops on either end"

stop_zcc A
stop_zcc B
pass
