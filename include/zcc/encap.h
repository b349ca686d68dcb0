/* SPDX-License-Identifier: ISC */
/*
 * Encapsulation (docs/PROTOCOL.md, "Encapsulation"): any packet routed into
 * zcc0 that is not sealed in place travels CIPE-style, the whole IP packet
 * AEAD-sealed in a UDP datagram on the link's port, as message type 5 beside
 * the handshake's types 1-4 and 6-7:
 *
 *   type 5, key id, 2 zero, counter (8, little-endian)     header, 12 bytes
 *   ChaChaPoly(K, nonce = 0 0 0 0 || counter, ad = header,
 *              codec (1) || packet)                        1 + n bytes, tag 16
 *
 * K is a crypto_kdf subkey of the sending direction's session key. The
 * receiver checks the counter against a sliding window (RFC 6479) before it
 * decrypts, and marks it only once the tag is verified, so a forged message
 * can neither replay nor move the window.
 *
 * Pure: no sockets, no clocks, no allocation.
 */
#ifndef ZCC_ENCAP_H
#define ZCC_ENCAP_H

#include <stddef.h>
#include <stdint.h>

#define ENCAP_TYPE_DATA 5       /* between handshake.h's types 1-4 and 6-7 */
#define ENCAP_KEY_LEN 32
#define ENCAP_HEADER_LEN 12
#define ENCAP_TAG_LEN 16
#define ENCAP_PACKET_OFF (ENCAP_HEADER_LEN + 1)         /* after the codec byte */
/* Bytes a message adds to a packet; UDP (8) and IP (20/40) are the caller's. */
#define ENCAP_OVERHEAD (ENCAP_HEADER_LEN + 1 + ENCAP_TAG_LEN)
#define ENCAP_MAX_PACKET 65535  /* the largest IP packet (no jumbograms) */
#define ENCAP_MAX_LEN (ENCAP_MAX_PACKET + ENCAP_OVERHEAD)

/*
 * A sender stops at 2^60 messages under one key, and a receiver refuses such
 * counters (WireGuard's REKEY_AFTER_MESSAGES): far beyond the 180 s a session
 * lives, so it is a backstop against a nonce ever wrapping, not a rekey cue.
 */
#define ENCAP_COUNTER_LIMIT ((uint64_t)1 << 60)

/*
 * The replay window: a ring of 128 64-bit words. A counter up to
 * ENCAP_WINDOW - 1 below the greatest accepted is accepted once; older ones
 * are refused (PROTOCOL.md says why this size).
 */
#define ENCAP_REPLAY_WORDS 128
#define ENCAP_WINDOW ((ENCAP_REPLAY_WORDS - 1) * 64)

/* What the packet after the codec byte is: the byte is authenticated. */
enum encap_codec {
	ENCAP_CODEC_STORED = 0,
	ENCAP_CODEC_LZ4 = 1,
	ENCAP_CODEC_LZS = 2,
	ENCAP_CODECS                    /* the first value that is not a codec */
};

enum encap_error {
	ENCAP_ERR_MALFORMED = -1,       /* open: short, long, not type 5, bytes 2-3
	                                   not zero, counter at or past the limit */
	ENCAP_ERR_KEY_ID = -2,          /* open: no key with the message's key id */
	ENCAP_ERR_REPLAY = -3,          /* open: counter seen, or older than the window */
	ENCAP_ERR_TAG = -4,             /* open: authentication failed */
	ENCAP_ERR_CODEC = -5,           /* authentic, but an unknown codec (open), or
	                                   seal asked for one */
	ENCAP_ERR_ROOM = -6,            /* the output buffer is too small, or the
	                                   packet is larger than ENCAP_MAX_PACKET */
	ENCAP_ERR_EXHAUSTED = -7,       /* seal: the key sealed ENCAP_COUNTER_LIMIT */
};

/* The key of one direction of one session, and the key id its messages carry. */
struct encap_key {
	uint8_t k[ENCAP_KEY_LEN];
	uint8_t id;
};

/* The sending side: the next message's counter starts at 0 and only grows. */
struct encap_tx {
	struct encap_key key;
	uint64_t counter;
};

/* Counters accepted under one key: bit c % 64 of word (c / 64) % WORDS. */
struct encap_replay {
	uint64_t top;                   /* greatest counter accepted + 1; 0: none */
	uint64_t bits[ENCAP_REPLAY_WORDS];
};

/* The receiving side: one window per key. */
struct encap_rx {
	struct encap_key key;
	struct encap_replay replay;
};

/*
 * K = crypto_kdf_derive_from_key(32, subkey id 1, ctx "zccencp1", session_key)
 * of the direction's session key: no subkey is shared with the in-place
 * sealing keys or the echo key ("zcckeys1").
 */
void encap_key_derive(struct encap_key *k,
    const uint8_t session_key[ENCAP_KEY_LEN], uint8_t id);

/* A sender or receiver under a new session key: counter 0, an empty window. */
void encap_tx_init(struct encap_tx *tx,
    const uint8_t session_key[ENCAP_KEY_LEN], uint8_t id);
void encap_rx_init(struct encap_rx *rx,
    const uint8_t session_key[ENCAP_KEY_LEN], uint8_t id);

/*
 * Seal the n-byte packet under tx's next counter into out (cap bytes), with
 * the codec byte the packet is encoded in. Returns the message length
 * (n + ENCAP_OVERHEAD) or ENCAP_ERR_CODEC, ENCAP_ERR_ROOM or
 * ENCAP_ERR_EXHAUSTED, and then out and the counter are untouched. The packet
 * may overlap out; read it to out + ENCAP_PACKET_OFF to seal without a copy.
 */
int encap_seal(struct encap_tx *tx, uint8_t codec, const uint8_t *packet,
    size_t n, uint8_t *out, size_t cap);

/*
 * Open the len-byte message msg with the key of rx[0..nrx) that its key id
 * names (NULL entries are skipped; when two keys share the id, as cur and
 * next may for a moment, each is tried in order). Returns the packet's length
 * with the packet in out (cap >= len - ENCAP_HEADER_LEN - ENCAP_TAG_LEN) and
 * its codec in *codec and the index of the key that opened it in *slot
 * (slot may be NULL), or an enum encap_error; the window moves only for an
 * authentic message. out must not overlap msg; on error its contents are
 * undefined.
 */
int encap_open(struct encap_rx *const rx[], size_t nrx, const uint8_t *msg,
    size_t len, uint8_t *out, size_t cap, uint8_t *codec, size_t *slot);

/* The key id of a type 5 message, or -1 when msg is not long enough for one. */
int encap_key_id(const uint8_t *msg, size_t len);

/* Wipe keys and state. */
void encap_key_wipe(struct encap_key *k);
void encap_tx_wipe(struct encap_tx *tx);
void encap_rx_wipe(struct encap_rx *rx);

#endif
