/* SPDX-License-Identifier: ISC */
/*
 * Intake: the peer's sealed segments, taken off the real interface through
 * an AF_PACKET receive ring (TPACKET_V2), so that a wake-up reads every
 * segment that has arrived, with no system call per segment. A classic BPF
 * filter takes exactly what steering's tc ingress filter, the same
 * program, then drops: arriving from the peer for the link's own address,
 * TCP right behind a fixed-size IP header, not a fragment, a selected port
 * as source or destination. Packet taps see a packet before tc ingress does, so the
 * ring has its copy before the kernel's own is dropped; nothing else on
 * the interface is copied.
 */
#ifndef ZCC_INTAKE_H
#define ZCC_INTAKE_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"
#include "zcc/options.h"

/* The most instructions intake_filter writes: ZCC_MAX_PORTS ports, twice. */
#define INTAKE_FILTER_MAX (40 + 4 * ZCC_MAX_PORTS)

/* Where a filter program runs, and what it answers. */
struct intake_prog {
	uint32_t ip_off;        /* where the IP header starts in what it sees */
	uint32_t take, leave;   /* its verdicts: the peer's segment, the rest */
};

/*
 * The filter for the peer's segments to local (any address when local has
 * another family: not known) to or from one of ports, into prog
 * (room for INTAKE_FILTER_MAX; ports beyond ZCC_MAX_PORTS are not taken).
 * The ring runs it from the IP header, with the verdicts "all of it" and
 * "none"; steering's tc ingress filter is the same program run from the
 * link header, with the verdicts "drop" and "not mine", so the two never
 * disagree. Returns the number of instructions.
 */
size_t intake_filter(struct sock_filter *prog, const struct intake_prog *how,
    const struct zcc_addr *local, const struct zcc_addr *peer,
    const uint16_t *ports, size_t nports);

struct intake;

/*
 * A ring on dev, whose MTU is mtu, taking the peer's segments to local on
 * ports. NULL on failure (logged). Needs CAP_NET_RAW; afterwards, nothing.
 */
struct intake *intake_open(const char *dev, int mtu,
    const struct zcc_addr *local, const struct zcc_addr *peer,
    const uint16_t *ports, size_t nports);

/* Readable when a segment waits in the ring. */
int intake_fd(const struct intake *in);

/* Take other ports from now on (SIGHUP). -1 on failure (logged). */
int intake_set_ports(struct intake *in, const uint16_t *ports, size_t nports);

/*
 * The oldest segment waiting, or NULL: its IP header at the pointer, len
 * bytes held, wire_len bytes on the wire (more when the frame cut it). It
 * stays until intake_release.
 */
const uint8_t *intake_next(struct intake *in, size_t *len, size_t *wire_len);

/* Give the segment intake_next returned back to the kernel. */
void intake_release(struct intake *in);

/* Segments the kernel dropped because the ring was full, since last asked. */
uint64_t intake_overruns(struct intake *in);

/* NULL is fine. */
void intake_close(struct intake *in);

#endif
