/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the data path's receiving side: the bytes a peer
 * (or anyone on the path) can send us. The first byte chooses, modulo 5:
 *   0: the rest is a segment from the peer, through datapath_handle_wire
 *      (parse, option lookup, key id, open) - must never crash;
 *   1: the rest is one of our own segments, IPv4 or IPv6: if it seals,
 *      the peer must open it again, and any single-bit change must then
 *      be refused;
 *   2: the rest is a datagram on the peer's UDP port (datapath_on_encap);
 *   3: the rest, sealed by the peer as an encapsulated message under the
 *      codec the next byte names, goes through datapath_on_encap: the
 *      authentic path, so decompression and the inner packet checks see
 *      arbitrary bytes;
 *   4: as 0, into a data path whose link is IPv6 (2001:db8::1 and ::2).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "zcc/datapath.h"
#include "zcc/keys.h"
#include "zcc/options.h"
#include "zcc/packet.h"
#include "zcc/seal.h"
#include "zcc/secmem.h"

#define CAP (65535 + ZCC_OPT_LEN)

static struct datapath *dp, *dp6;
static struct seal_key tx, rx;
static struct encap_tx peer_encap;
static uint8_t buf[CAP], copy[CAP];

static void
init_once(void)
{
	static const uint8_t link_key[ZCC_KEY_LEN] = { 1, 2, 3 };
	struct zcc_options o;
	struct zcc_addr local, peer, local6;
	int null = open("/dev/null", O_WRONLY);

	if (secmem_install() == -1 || sodium_init() < 0)
		abort();
	options_init(&o);
	addr_parse(&local, "10.0.0.1");
	addr_parse(&peer, "10.0.0.2");
	o.peer = peer;
	o.have_peer = 1;
	o.ports[0] = 80;
	o.nports = 1;
	/*
	 * The peer's schedule: what it seals with tx, the data path (whose rx
	 * is that same key) opens.
	 */
	seal_key_derive(&tx, link_key, 7, SEAL_SUITE_AES);
	memcpy(&rx, &tx, sizeof(rx));   /* before prepare: no contexts shared */
	rx.enc[0] ^= 1;
	rx.prf[0] ^= 1;
	rx.mac[0] ^= 1;
	if (seal_key_prepare(&tx) == -1)
		abort();
	{
		struct dp_io io = { .tun_fd = null, .raw_fd = -1, .udp_fd = -1,
		    .wire_mtu = 1500 };
		struct dp_key ours, theirs;
		const struct dp_key *open_with[] = { &theirs };

		dp_key_derive(&theirs, link_key, 7, SEAL_SUITE_AES);
		ours = theirs;
		ours.seal = rx;
		ours.encap.k[0] ^= 1;
		encap_tx_init(&peer_encap, link_key, 7);
		dp = datapath_new(&o.peer, local, o.ports, o.nports, &io, NULL,
		    NULL);
		addr_parse(&local6, "2001:db8::1");
		addr_parse(&o.peer, "2001:db8::2");
		dp6 = datapath_new(&o.peer, local6, o.ports, o.nports, &io,
		    NULL, NULL);
		if (dp == NULL || dp6 == NULL)
			abort();
		datapath_set_keys(dp, &ours, open_with, 1);
		datapath_set_keys(dp6, &ours, open_with, 1);
	}
}

static void
fuzz_encap_authentic(const uint8_t *data, size_t size)
{
	int len;

	if (size < 1)
		return;
	len = encap_seal(&peer_encap, data[0] % ENCAP_CODECS, data + 1,
	    size - 1, buf, sizeof(buf));
	if (len > 0)
		datapath_on_encap(dp, buf, (size_t)len);
	datapath_flush(dp);
}

static void
fuzz_incoming(struct datapath *to, const uint8_t *data, size_t size)
{
	datapath_handle_wire(to, data, size);
}

static void
fuzz_round_trip(const uint8_t *data, size_t size)
{
	struct packet p;
	size_t len;

	memcpy(buf, data, size);
	if (packet_parse(&p, buf, size) != PACKET_OK)
		return;
	if (seal_segment(&tx, &p, CAP, NULL) != SEAL_OK)
		return;
	len = p.len;
	memcpy(copy, buf, len);
	if (packet_parse(&p, buf, len) != PACKET_OK || seal_open(&tx, &p) != SEAL_OK)
		abort();        /* we must open what we sealed */

	/* Flip one covered bit chosen by the input: TCP header or payload. */
	memcpy(buf, copy, len);
	{
		size_t ihl = p.ip_hlen;
		size_t at = ihl + (size > 1 ? data[size - 1] : 0) % (len - ihl);

		if (at == ihl + 16 || at == ihl + 17)
			return;     /* the TCP checksum is not covered */
		buf[at] ^= 0x20;
		if (packet_parse(&p, buf, len) == PACKET_OK &&
		    seal_open(&tx, &p) == SEAL_OK)
			abort();    /* a forgery went through */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dp == NULL)
		init_once();
	if (size < 1 || size - 1 > CAP - ZCC_OPT_LEN)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_incoming(dp, data + 1, size - 1);
		break;
	case 1:
		fuzz_round_trip(data + 1, size - 1);
		break;
	case 2:
		datapath_on_encap(dp, data + 1, size - 1);
		datapath_flush(dp);
		break;
	case 3:
		fuzz_encap_authentic(data + 1, size - 1);
		break;
	case 4:
		fuzz_incoming(dp6, data + 1, size - 1);
		break;
	}
	return 0;
}
