/* SPDX-License-Identifier: ISC */
/*
 * The receive ring (include/zcc/intake.h). TPACKET_V2, not V3: a V3 reader
 * is woken only when a block of frames is retired, by filling up or by a
 * timer of at least a millisecond, which a request/response flow would pay
 * on every segment; V2 wakes the reader per frame, and a busy reader finds
 * many frames waiting.
 */
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcc/intake.h"
#include "zcc/log.h"

#define IPV4_HLEN 20
#define IPV6_HLEN 40
/* What the ring's filter keeps of a segment it takes: all of it. */
#define TAKE_ALL 0x40000
/* Frames in the ring: a few milliseconds of a busy link while we sleep. */
#define RING_FRAMES 4096
#define RING_BLOCK (1u << 16)

struct intake {
	int fd;
	uint8_t *ring;
	size_t ring_len;
	size_t frame_size, nframes, head;
	struct zcc_addr local, peer;
};

/* ---- the filter ---- */

struct prog {
	struct sock_filter *f;
	size_t n;
	uint32_t ip_off, take, leave;   /* see struct intake_prog */
};

static void
emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	p->f[p->n++] = (struct sock_filter){ code, jt, jf, k };
}

/* Load the size bytes at off in the IP packet. */
static void
load(struct prog *p, uint16_t size, uint32_t off)
{
	emit(p, BPF_LD | size | BPF_ABS, p->ip_off + off, 0, 0);
}

/* Load what the kernel knows of the packet (SKF_AD_*). */
static void
load_ancillary(struct prog *p, uint16_t size, uint32_t what)
{
	emit(p, BPF_LD | size | BPF_ABS, SKF_AD_OFF + what, 0, 0);
}

/*
 * Reject unless A == k. Every test jumps at most one instruction, to a
 * "ret" beside it, so no jump grows with the number of ports.
 */
static void
require(struct prog *p, uint32_t k)
{
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, k, 1, 0);
	emit(p, BPF_RET | BPF_K, p->leave, 0, 0);
}

/* Take when the 16 bits at off are one of the ports. */
static void
accept_ports(struct prog *p, uint32_t off, const uint16_t *ports, size_t n)
{
	load(p, BPF_H, off);
	for (size_t i = 0; i < n; i++) {
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, ports[i], 0, 1);
		emit(p, BPF_RET | BPF_K, p->take, 0, 0);
	}
}

static uint32_t
word_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* IPv4: IHL 5, TCP, not a fragment, from the peer to local. */
static void
match_ipv4(struct prog *p, const struct zcc_addr *local,
    const struct zcc_addr *peer)
{
	require(p, ETH_P_IP);
	load(p, BPF_B, 0);
	require(p, 0x45);
	load(p, BPF_B, 9);
	require(p, IPPROTO_TCP);
	load(p, BPF_H, 6);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 0, 1);
	emit(p, BPF_RET | BPF_K, p->leave, 0, 0);
	load(p, BPF_W, 12);
	require(p, word_at(peer->a));
	if (local->af == AF_INET) {
		load(p, BPF_W, 16);
		require(p, word_at(local->a));
	}
}

/* IPv6: next header TCP, from the peer to local. */
static void
match_ipv6(struct prog *p, const struct zcc_addr *local,
    const struct zcc_addr *peer)
{
	require(p, ETH_P_IPV6);
	load(p, BPF_B, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, 0xf0, 0, 0);
	require(p, 0x60);
	load(p, BPF_B, 6);
	require(p, IPPROTO_TCP);
	for (uint32_t i = 0; i < 4; i++) {
		load(p, BPF_W, 8 + 4 * i);
		require(p, word_at(peer->a + 4 * i));
	}
	for (uint32_t i = 0; local->af == AF_INET6 && i < 4; i++) {
		load(p, BPF_W, 24 + 4 * i);
		require(p, word_at(local->a + 4 * i));
	}
}

size_t
intake_filter(struct sock_filter *prog, const struct intake_prog *how,
    const struct zcc_addr *local, const struct zcc_addr *peer,
    const uint16_t *ports, size_t nports)
{
	struct prog p = { prog, 0, how->ip_off, how->take, how->leave };
	uint32_t hlen = peer->af == AF_INET6 ? IPV6_HLEN : IPV4_HLEN;

	if (nports > ZCC_MAX_PORTS)
		nports = ZCC_MAX_PORTS;
	/* Arriving for this host: not our own sending, not forwarded. */
	load_ancillary(&p, BPF_B, SKF_AD_PKTTYPE);
	require(&p, PACKET_HOST);
	load_ancillary(&p, BPF_H, SKF_AD_PROTOCOL);
	if (peer->af == AF_INET6)
		match_ipv6(&p, local, peer);
	else
		match_ipv4(&p, local, peer);
	accept_ports(&p, hlen, ports, nports);          /* source port */
	accept_ports(&p, hlen + 2, ports, nports);      /* destination port */
	emit(&p, BPF_RET | BPF_K, p.leave, 0, 0);
	return p.n;
}

static int
attach_filter(int fd, const struct zcc_addr *local, const struct zcc_addr *peer,
    const uint16_t *ports, size_t nports)
{
	/* A SOCK_DGRAM packet socket's filter sees the packet from its IP header. */
	static const struct intake_prog how = { 0, TAKE_ALL, 0 };
	struct sock_filter f[INTAKE_FILTER_MAX];
	struct sock_fprog prog = { 0, f };

	prog.len = (unsigned short)intake_filter(f, &how, local, peer, ports,
	    nports);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) == -1) {
		log_warn("receive ring: attaching its filter");
		return -1;
	}
	return 0;
}

/* ---- the ring ---- */

/* A frame holds the kernel's header, a sockaddr_ll, then a whole packet. */
static size_t
frame_size_for(int mtu)
{
	size_t need = TPACKET_ALIGN(TPACKET2_HDRLEN) + 16 + (size_t)mtu, f = 2048;

	while (f < need)
		f <<= 1;
	return f;
}

static int
map_ring(struct intake *in, int mtu)
{
	struct tpacket_req req = { 0 };
	int version = TPACKET_V2;

	in->frame_size = frame_size_for(mtu);
	req.tp_frame_size = (unsigned int)in->frame_size;
	req.tp_block_size = RING_BLOCK > in->frame_size ? RING_BLOCK :
	    (unsigned int)in->frame_size;
	req.tp_block_nr = (unsigned int)(RING_FRAMES * in->frame_size /
	    req.tp_block_size);
	req.tp_frame_nr = req.tp_block_nr *
	    (req.tp_block_size / req.tp_frame_size);
	if (setsockopt(in->fd, SOL_PACKET, PACKET_VERSION, &version,
	    sizeof(version)) == -1 ||
	    setsockopt(in->fd, SOL_PACKET, PACKET_RX_RING, &req,
	    sizeof(req)) == -1) {
		log_warn("receive ring: setting it up");
		return -1;
	}
	in->nframes = req.tp_frame_nr;
	in->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	in->ring = mmap(NULL, in->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
	    in->fd, 0);
	if (in->ring == MAP_FAILED) {
		in->ring = NULL;
		log_warn("receive ring: mapping it");
		return -1;
	}
	return 0;
}

static int
bind_to(int fd, const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ALL) };

	sll.sll_ifindex = (int)if_nametoindex(dev);
	if (sll.sll_ifindex == 0) {
		log_warn("receive ring: %s", dev);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		log_warn("receive ring: binding to %s", dev);
		return -1;
	}
	return 0;
}

/*
 * Protocol 0 receives nothing until the bind; by then the filter and the
 * ring are in place, so no packet is ever taken unfiltered.
 */
struct intake *
intake_open(const char *dev, int mtu, const struct zcc_addr *local,
    const struct zcc_addr *peer, const uint16_t *ports, size_t nports)
{
	struct intake *in = calloc(1, sizeof(*in));
	int one = 1;

	if (in == NULL) {
		log_warnx("out of memory");
		return NULL;
	}
	in->local = *local;
	in->peer = *peer;
	in->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (in->fd == -1) {
		log_warn("receive ring: packet socket");
		goto fail;
	}
	/* Saves running the filter on everything we send; it rejects those. */
	(void)setsockopt(in->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one));
	if (attach_filter(in->fd, local, peer, ports, nports) == -1 ||
	    map_ring(in, mtu) == -1 || bind_to(in->fd, dev) == -1)
		goto fail;
	return in;
fail:
	intake_close(in);
	return NULL;
}

int
intake_fd(const struct intake *in)
{
	return in->fd;
}

int
intake_set_ports(struct intake *in, const uint16_t *ports, size_t nports)
{
	return attach_filter(in->fd, &in->local, &in->peer, ports, nports);
}

static struct tpacket2_hdr *
frame(const struct intake *in, size_t i)
{
	return (struct tpacket2_hdr *)(void *)(in->ring + i * in->frame_size);
}

const uint8_t *
intake_next(struct intake *in, size_t *len, size_t *wire_len)
{
	struct tpacket2_hdr *h = frame(in, in->head);

	/* Acquire: the frame's bytes are the kernel's until its status says. */
	if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return NULL;
	*len = h->tp_snaplen;
	*wire_len = h->tp_len;
	return (const uint8_t *)h + h->tp_net;
}

void
intake_release(struct intake *in)
{
	__atomic_store_n(&frame(in, in->head)->tp_status, TP_STATUS_KERNEL,
	    __ATOMIC_RELEASE);
	in->head = (in->head + 1) % in->nframes;
}

uint64_t
intake_overruns(struct intake *in)
{
	struct tpacket_stats st = { 0 };
	socklen_t len = sizeof(st);

	/* Reading the statistics resets them. */
	if (getsockopt(in->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == -1)
		return 0;
	return st.tp_drops;
}

void
intake_close(struct intake *in)
{
	if (in == NULL)
		return;
	if (in->ring)
		munmap(in->ring, in->ring_len);
	if (in->fd != -1)
		close(in->fd);
	free(in);
}
