/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the data path's sending side: what zcc0 hands
 * zcctund, a virtio header and a packet per read. Only the kernel writes
 * zcc0, but a header it never sends (a segment size past an IP packet, an
 * offload we never offered) must be dropped, never overflow the arena.
 *
 * The input is records, each: gso type selector (1 byte: modulo 4, none,
 * TCPv4, TCPv6, ECN-UDP), flags (1), hdr_len (2), gso_size (2), csum_start
 * (2), csum_offset (2), packet length (2, little-endian), repeat (1: the
 * read is queued 1 to 16 times) and the packet; 32 reads at most. They are
 * queued on a SOCK_SEQPACKET pair standing for zcc0 and read in one batch
 * by datapath_on_tun, as from the device, so the arena fills as it does
 * under load (corpus/tun/arena-end: 14 reads of 64 KB, then a TSO read
 * whose segment size overran the arena before the fix). The link is 10.0.0.1 to 10.0.0.2
 * with port 80 selected and keys in place: selected segments are sealed
 * (and cut, for TSO), the rest encapsulated.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <sodium.h>

#include "zcc/datapath.h"
#include "zcc/offload.h"
#include "zcc/options.h"

#define READS_MAX 32
#define RECORD_HDR 13

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct datapath *dp;
static int zcc0[2];             /* [0] the data path's, [1] the kernel's */
static uint8_t msg[OFFLOAD_VNET_LEN + 65535];

static void
init_once(void)
{
	static const uint8_t key[ZCC_KEY_LEN] = { 4, 5, 6 };
	struct zcc_addr local, peer;
	struct dp_key k;
	const struct dp_key *rx[] = { &k };
	uint16_t port = 80;
	int big = 4 << 20;

	if (sodium_init() < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, zcc0) == -1 ||
	    fcntl(zcc0[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(zcc0[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	/* Room for a batch of 64 KB reads (more than the default buffer). */
	setsockopt(zcc0[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	setsockopt(zcc0[0], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	addr_parse(&local, "10.0.0.1");
	addr_parse(&peer, "10.0.0.2");
	{
		struct dp_io io = { .tun_fd = zcc0[0], .raw_fd = -1,
		    .link_fd = -1, .udp_fd = -1, .wire_mtu = 1500 };

		dp = datapath_new(&peer, local, &port, 1, &io, NULL, NULL);
	}
	if (dp == NULL)
		abort();
	dp_key_derive(&k, key, 9, SEAL_SUITE_CHACHA);
	datapath_set_keys(dp, &k, rx, 1);
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
queue_read(const uint8_t *rec, const uint8_t *pkt, size_t len)
{
	static const uint8_t types[] = { VIRTIO_NET_HDR_GSO_NONE,
	    VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
	    VIRTIO_NET_HDR_GSO_ECN | VIRTIO_NET_HDR_GSO_UDP };
	struct virtio_net_hdr h = {
		.gso_type = types[rec[0] % 4], .flags = rec[1],
		.hdr_len = le16(rec + 2), .gso_size = le16(rec + 4),
		.csum_start = le16(rec + 6), .csum_offset = le16(rec + 8),
	};

	memcpy(msg, &h, sizeof(h));
	memcpy(msg + OFFLOAD_VNET_LEN, pkt, len);
	/* A full pair drops the read, as a full device queue would. */
	(void)send(zcc0[1], msg, OFFLOAD_VNET_LEN + len, MSG_DONTWAIT);
}

/* What the data path wrote into "zcc0" (ICMP too big): read and dropped. */
static void
drain(void)
{
	while (recv(zcc0[1], msg, sizeof(msg), MSG_DONTWAIT) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		init_once();
		ready = 1;
	}
	for (int reads = 0; reads < READS_MAX && size >= RECORD_HDR;) {
		size_t len = le16(data + 10);
		int repeat = data[12] % 16 + 1;

		if (len > size - RECORD_HDR)
			len = size - RECORD_HDR;
		for (; repeat > 0 && reads < READS_MAX; repeat--, reads++)
			queue_read(data, data + RECORD_HDR, len);
		data += RECORD_HDR + len;
		size -= RECORD_HDR + len;
	}
	datapath_on_tun(dp);
	drain();
	return 0;
}
