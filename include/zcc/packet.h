/* SPDX-License-Identifier: ISC */
/*
 * IPv4 and IPv6 TCP segments as they cross zcc0: bounded parsing of
 * untrusted bytes, checksums, and making or removing room for zcc's
 * 16-byte TCP option. Nothing here knows about keys.
 */
#ifndef ZCC_PACKET_H
#define ZCC_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The zcc option: kind 253 (RFC 6994 experimental), length 16. */
#define ZCC_OPT_KIND 253
#define ZCC_OPT_LEN 16
#define ZCC_OPT_EXID 0x7a63            /* "zc"; RFC 6994 experiment id */
#define ZCC_OPT_KEYID_OFF 4            /* offsets inside the option */
#define ZCC_OPT_TAG_OFF 5
#define ZCC_TAG_LEN 11

#define IPV6_MIN_MTU 1280       /* RFC 8200 5: every link carries this much */

#define ZCC_TCP_MAX_HLEN 60
#define ZCC_TCP_FIN 0x01
#define ZCC_TCP_SYN 0x02
#define ZCC_TCP_RST 0x04
#define ZCC_TCP_ACK 0x10

enum packet_error {
	PACKET_OK = 0,
	PACKET_SHORT = -1,       /* shorter than the headers it claims */
	PACKET_NOT_IP = -2,      /* version is neither 4 nor 6, or IHL < 5 */
	PACKET_BAD_LENGTH = -3,  /* IP total (IPv6 payload) length disagrees
	                          * with the buffer */
	PACKET_FRAGMENT = -4,    /* MF set or fragment offset nonzero; IPv6:
	                          * a fragment header */
	PACKET_NOT_TCP = -5,
	PACKET_BAD_TCP = -6,     /* data offset < 5 or past the end */
	PACKET_BAD_OPTIONS = -7, /* an option runs past the header, len < 2, or
	                          * a fixed-size kind (MSS, WS, SACK, TS) of
	                          * the wrong size */
	PACKET_EXT_HEADER = -8,  /* IPv6: an extension header other than a
	                          * fragment header before the upper layer */
};

/* A parsed view of one IPv4 or IPv6 packet held in buf. Offsets are into buf. */
struct packet {
	uint8_t *buf;
	int af;                  /* AF_INET or AF_INET6 */
	size_t len;              /* bytes in buf that count: IPv4's total length,
	                          * IPv6's payload length + 40 */
	size_t ip_hlen;          /* IPv4: IHL * 4; IPv6: 40, the fixed header */
	size_t tcp_hlen;         /* TCP data offset * 4; TCP header starts at ip_hlen */
	size_t payload_len;      /* len - ip_hlen - tcp_hlen */
};

/*
 * Parse an IPv4 or IPv6 packet of n bytes. Accepts only complete,
 * unfragmented TCP segments whose TCP options are well formed (EOL ends
 * the list); for IPv6, TCP must follow the fixed header directly
 * (PACKET_EXT_HEADER, PACKET_FRAGMENT otherwise). buf may hold more than
 * the packet: n is what was read, the IP length must fit in n and is what
 * counts. Returns PACKET_OK or an error; on error *p is zeroed.
 */
int packet_parse(struct packet *p, uint8_t *buf, size_t n);

/* Parse only the IP header: version, lengths (any protocol). */
int packet_parse_ip(struct packet *p, uint8_t *buf, size_t n);

/* Network byte order into buf (for headers and nonces built by hand). */
void packet_put16(uint8_t *buf, uint16_t v);
void packet_put32(uint8_t *buf, uint32_t v);
/* Little-endian, as the handshake and encapsulation messages carry them. */
void packet_put_le32(uint8_t *buf, uint32_t v);
void packet_put_le64(uint8_t *buf, uint64_t v);
uint32_t packet_get_le32(const uint8_t *buf);
uint64_t packet_get_le64(const uint8_t *buf);

/* Field accessors, host byte order where numeric. */
uint8_t packet_proto(const struct packet *p);          /* IPv6: next header */
size_t packet_addr_len(const struct packet *p);         /* 4 or 16 */
const uint8_t *packet_saddr(const struct packet *p);   /* packet_addr_len bytes */
const uint8_t *packet_daddr(const struct packet *p);
uint16_t packet_sport(const struct packet *p);
uint16_t packet_dport(const struct packet *p);
uint32_t packet_seq(const struct packet *p);
uint32_t packet_ack(const struct packet *p);
uint8_t packet_tcp_flags(const struct packet *p);
uint8_t *packet_tcp(const struct packet *p);           /* TCP header */
uint8_t *packet_payload(const struct packet *p);

/* True when the TCP options carry a timestamp option (kind 8). */
int packet_has_timestamps(const struct packet *p);
/* Its TSval into *tsval: 1, or 0 when there is no timestamp option. */
int packet_tsval(const struct packet *p, uint32_t *tsval);

/*
 * Internet checksum over the IPv4 header; 0 when the header is valid, and
 * always 0 for IPv6, which has none.
 */
uint16_t packet_ip_checksum(const struct packet *p);
/* Recompute and store the TCP checksum, and IPv4's header checksum. */
void packet_fix_checksums(struct packet *p);
/*
 * The pseudo-header sum (addresses, protocol, TCP length tcp_len; IPv6's
 * as RFC 8200 8.1 defines it) folded
 * but not complemented: what checksum offload expects in the TCP checksum
 * field, the device adding the segment's own sum.
 */
uint16_t packet_pseudo_sum(const struct packet *p, size_t tcp_len);
/* The same for another upper-layer protocol (ICMPv6's checksum, say). */
uint16_t packet_pseudo_sum_proto(const struct packet *p, uint8_t proto,
    size_t len);
/*
 * Finish a partial checksum as a NIC would for checksum offload: the sum
 * of buf[start, n), whose field at start + off holds the pseudo-header
 * sum, stored complemented at start + off (0 sent as 0xffff, which UDP
 * requires and TCP reads the same). -1 when the field lies outside n.
 */
int packet_finish_checksum(uint8_t *buf, size_t n, size_t start, size_t off);
/* True when the stored TCP checksum is correct. */
int packet_tcp_checksum_ok(const struct packet *p);

/*
 * Make room for the zcc option as the last ZCC_OPT_LEN bytes of the TCP
 * options: options after an EOL are dropped, the rest is padded with NOP to
 * a 4-byte boundary, and when 40 bytes would be exceeded SACK blocks are
 * trimmed (last first; the SACK option goes when empty). Never touches
 * other options. The option is written with kind, length and ExID, key id
 * and tag zero. cap is the size of buf; the packet grows by at most
 * ZCC_OPT_LEN (it shrinks when SACK blocks or bytes after an EOL go).
 * Updates p, the IP total (IPv6: payload) length and the data offset (not
 * the checksums). Returns 0, or -1 when it cannot fit, the length field
 * would pass 65535, or
 * p has no parsed TCP header (p unchanged). Call it once per segment.
 * *sack_trimmed (if not NULL) gets the number of SACK blocks removed.
 */
int packet_add_option(struct packet *p, size_t cap, int *sack_trimmed);

/*
 * Offset in buf of the zcc option when it is the last ZCC_OPT_LEN bytes of
 * the TCP options with the right kind, length and ExID; else -1.
 */
long packet_find_option(const struct packet *p);

/* Remove the trailing zcc option if found; updates lengths, not checksums. */
void packet_strip_option(struct packet *p);

#endif
