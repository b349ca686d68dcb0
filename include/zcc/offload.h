/* SPDX-License-Identifier: ISC */
/*
 * Segmentation offloads between zcc0 and the data path (docs/DECISIONS.md,
 * "Offloads"). With TSO on zcc0 the kernel hands over TCP super-segments of
 * up to 64 KB; each is cut here into MSS-sized segments exactly as the
 * kernel's own GSO would cut it for a NIC, so every segment on the wire has
 * the headers it would have had without zcc, and each is sealed on its own.
 * The other way, consecutive opened segments of one flow are coalesced
 * (GRO-style) into one super-segment written to zcc0 in one system call.
 * Pure code: no I/O, no keys.
 */
#ifndef ZCC_OFFLOAD_H
#define ZCC_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include "zcc/packet.h"

/* What TUN with IFF_VNET_HDR puts before every packet (host byte order). */
#define OFFLOAD_VNET_LEN sizeof(struct virtio_net_hdr)

/*
 * Segment i (from 0) of the TCP super-segment p (IPv4 or IPv6), cut at mss
 * payload bytes, written to out (cap bytes). Headers are p's with the IP
 * total length (IPv6: payload length), IPv4's id (+i), sequence number
 * (+i*mss) and flags of segment i: FIN and PSH only on the last, CWR only
 * on the first. The TCP checksum is left partial (the segment's
 * pseudo-header sum, for csum_start at the TCP header and csum_offset 16),
 * IPv4's header checksum complete. Returns the segment's length, 0 past the last segment (a
 * super-segment without payload has one segment), or -1 when mss is 0 or
 * out is too small.
 */
long offload_segment(const struct packet *p, size_t mss, size_t i,
    uint8_t *out, size_t cap);

/* At most this many segments coalesce into one write (IOV_MAX is 1024). */
#define GRO_MAX_SEGS 64

/*
 * A run of opened segments of one flow being coalesced. The first
 * segment's headers become the super-segment's; later segments contribute
 * their payload only. Segments must stay in memory until the run is
 * written.
 */
struct gro {
	struct packet first;
	struct virtio_net_hdr vnet;
	struct iovec iov[1 + 1 + GRO_MAX_SEGS];   /* vnet, first, payloads */
	size_t nsegs;
	size_t len;                  /* IP length of the super-segment */
	size_t gso_size;             /* the first segment's payload */
	uint32_t next_seq;
	int closed;                  /* a short or PSH segment ended the run */
};

/* An empty run. */
void gro_init(struct gro *g);

/* True when the run holds no segment. */
int gro_empty(const struct gro *g);

/*
 * Add the parsed, opened segment p to the run: 1 when it joined (or began)
 * the run, 0 when it cannot (another flow, a gap, different headers, a
 * closed run, flags other than ACK and PSH, no payload, IP options): the
 * caller then writes the run out and either begins a new one with p or
 * writes p alone.
 */
int gro_add(struct gro *g, const struct packet *p);

/* Begin a run of p alone, for a segment gro_add refuses even then. */
void gro_one(struct gro *g, const struct packet *p);

/*
 * Finish the run for writing: fixes the first segment's lengths and
 * checksums (the TCP one partial, as for checksum offload, when the run
 * holds more than one segment) and fills the virtio header (GSO_TCPV4 or
 * GSO_TCPV6 by the run's family). Returns the
 * iovec count for writev on zcc0; g->iov holds it. The run must not be
 * empty; gro_init it again afterwards.
 */
int gro_finish(struct gro *g);

#endif
