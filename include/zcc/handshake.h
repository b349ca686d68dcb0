/* SPDX-License-Identifier: ISC */
/*
 * The handshake (docs/PROTOCOL.md, "Handshake"), built from libsodium
 * primitives, in one of two Noise patterns:
 *  - a shared-key link: Noise_NNpsk0_25519_ChaChaPoly_SHA256. The link key
 *    from the key file is the Noise PSK and only authenticates;
 *  - a public-key link: Noise_IKpsk2_25519_ChaChaPoly_SHA256 (WireGuard's
 *    pattern): each end has a static X25519 key pair and knows the peer's
 *    public key; a shared key, when configured too, is the PSK, else 32
 *    zero bytes.
 * Both ends contribute an ephemeral X25519 key either way, so a key file
 * stolen later opens no captured session. Also the small authenticated
 * control messages (echo request and reply) that confirm a new session and
 * detect a dead peer.
 *
 * Pure: no sockets, no clocks, no randomness inside. Callers pass the
 * ephemeral private key and the timestamp, so tests replay the vectors.
 *
 * On the wire (all integers little-endian, as WireGuard):
 *   init  (type 1): type, codec, ports digest (2, big-endian), sender
 *                   index, e, enc(payload), mac1
 *   resp  (type 2): type, codec, ports digest, sender index, receiver
 *                   index, e, enc(view), mac1
 *   init  (type 6, public keys): as type 1 with enc(s) after e
 *   resp  (type 7, public keys): as type 2
 * Each end's view (its own address and UDP port, and the address it sends
 * to) travels encrypted and authenticated in its message, so that the
 * other end sees a NAT between them and opens sealed segments over the
 * addresses they were sealed with.
 *   echo  (types 3 request, 4 reply): type, flags, 2 zero, receiver
 *                  index, counter (8), AEAD tag over the header (16)
 * mac1 is a keyed BLAKE2b-128 of everything before it under a key derived
 * from the link key (public keys: from the receiver's public key and the
 * shared key, if any): a forged message costs one hash to reject, before
 * any X25519 or AEAD work.
 */
#ifndef ZCC_HANDSHAKE_H
#define ZCC_HANDSHAKE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "zcc/addr.h"

#define HS_KEY_LEN 32
#define HS_TAI64N_LEN 12
#define HS_VIEW_LEN 36          /* family, zero, port 2, self 16, peer 16 */
#define HS_INIT_LEN 124         /* 8 + e 32 + enc(tai64n 12, key id 1, 3 zero,
                                   view 36) 68 + mac1 16 */
#define HS_INIT_PK_LEN 172      /* HS_INIT_LEN + enc(s) 48 */
#define HS_INIT_MAX HS_INIT_PK_LEN
#define HS_RESP_LEN 112         /* 12 + e 32 + enc(view 36) 52 + mac1 16 */
#define HS_KEYSETS 2            /* the newest keys, and the previous ones
                                   during a rotation's overlap */
#define HS_ECHO_LEN 32          /* 8 + counter 8 + tag 16 */

enum hs_type {
	HS_TYPE_INIT = 1,
	HS_TYPE_RESP = 2,
	HS_TYPE_ECHO_REQUEST = 3,
	HS_TYPE_ECHO_REPLY = 4,
	HS_TYPE_INIT_PK = 6,     /* 5 is encap.h's data */
	HS_TYPE_RESP_PK = 7,
};

enum hs_error {
	HS_OK = 0,
	HS_ERR_SHORT = -1,      /* wrong length or type for the message */
	HS_ERR_MAC = -2,        /* mac1 wrong: forged, or a different link key */
	HS_ERR_DECRYPT = -3,    /* AEAD failed: tampered, or a different prologue */
	HS_ERR_INDEX = -4,      /* resp: not for our pending initiation */
	HS_ERR_REFLECTED = -5,  /* carries our own ephemeral, or our own view */
	HS_ERR_DH = -6,         /* X25519 gave the all-zero point */
	HS_ERR_PEER_KEY = -7,   /* init: authentic, from a public key that is
	                           not the peer's (hs_state.peer_static) */
};

/*
 * Compression codecs (compress.h's numbers): each end offers its own in
 * byte 1 of its init or resp, covered by mac1; both use it only if the
 * two agree (PROTOCOL.md, "Compression").
 */
#define HS_CODECS 3
#define HS_CODEC_MASK 0x0f

/*
 * The sealing suites (seal.h's SEAL_SUITE_BITs) each end runs, offered in
 * byte 1's high four bits (suite 1 in bit 4, and so on; zccseal2 goes
 * without saying); both use the best one both offer (PROTOCOL.md,
 * "Sealing suites").
 */
#define HS_SUITES_SHIFT 4

/* How one end addresses the link: what it sends from and to. */
struct hs_view {
	struct zcc_addr self;   /* its own address */
	struct zcc_addr peer;   /* the address it sends the other end to */
	uint16_t port;          /* its UDP port */
};

/*
 * One set of keys a link can handshake with: the shared key alone, or our
 * key pair and the peer's public key (with the shared key, or zeros).
 */
struct hs_keyset {
	int public_keys;                /* IKpsk2; else NNpsk0 */
	uint8_t psk[HS_KEY_LEN];
	uint8_t priv[HS_KEY_LEN], pub[HS_KEY_LEN];      /* ours */
	uint8_t peer_pub[HS_KEY_LEN];
	uint8_t mac1_in[HS_KEY_LEN];    /* checks what is sent to us */
	uint8_t mac1_out[HS_KEY_LEN];   /* for what we send */
};

/*
 * What both ends know before the handshake: the keys and the addresses.
 * keys[0] is the newest set; an init uses keys[use]; a message is checked
 * against every set, newest first (a key rotation's overlap).
 */
struct hs_config {
	struct hs_keyset keys[HS_KEYSETS];
	size_t nkeys, use;
	struct zcc_addr local, peer;    /* of one family: our view */
	uint16_t port;          /* our UDP port, for our view */
	uint8_t codec;          /* ours, offered (0: none) */
	uint8_t suites;         /* ours, offered: SEAL_SUITE_BITs, bit 0 set */
	uint16_t ports_digest;  /* hs_ports_digest of what we select */
};

/* The state of one handshake between its two messages, at either end. */
struct hs_state {
	uint8_t ck[HS_KEY_LEN], h[HS_KEY_LEN], k[HS_KEY_LEN];
	uint8_t e_priv[HS_KEY_LEN], e_pub[HS_KEY_LEN];   /* our ephemeral */
	uint8_t re[HS_KEY_LEN];                          /* theirs */
	uint8_t s_priv[HS_KEY_LEN];     /* public keys: our static, */
	uint8_t rs[HS_KEY_LEN];         /* the peer's, */
	uint8_t psk[HS_KEY_LEN];        /* the PSK of the pattern */
	uint8_t mac1[HS_KEY_LEN];       /* the mac1 key of the resp */
	uint8_t peer_static[HS_KEY_LEN];        /* the key an init carried */
	size_t keyset;                  /* the hs_config keys in use */
	int public_keys;
	uint32_t local_index, remote_index;
	uint8_t key_id;                                  /* from the init payload */
	uint8_t peer_codec;                              /* from the init */
	uint8_t peer_suites;                             /* from the init */
	uint8_t suites;                 /* what our init or resp offered */
	uint16_t peer_ports;                             /* its ports digest */
	struct hs_view peer_view;                        /* from the init */
	int initiator;
};

/* The outcome: one 32-byte key per direction, and the indices and key id. */
struct hs_keys {
	uint8_t send[HS_KEY_LEN], recv[HS_KEY_LEN];
	uint32_t local_index, remote_index;
	uint8_t key_id;
	uint8_t peer_codec;     /* the codec the peer offered */
	uint8_t peer_suites;    /* the sealing suites the peer offered */
	uint8_t suites;         /* the ones we offered in this handshake */
	uint16_t peer_ports;    /* the digest of the ports the peer selects */
	struct hs_view peer_view;       /* how the peer addresses the link */
	uint8_t binding[HS_KEY_LEN];    /* the Noise handshake hash: the same
	                                   at both ends, unique per session */
	size_t keyset;                  /* the hs_config keys it used */
};

/*
 * A shared-key link's config: one keyset of psk, and our addresses (our
 * view; port 0). hs_config_set_keys replaces the keysets.
 */
void hs_config_init(struct hs_config *c, const uint8_t psk[HS_KEY_LEN],
    const struct zcc_addr *local, const struct zcc_addr *peer);
void hs_config_set_keys(struct hs_config *c, const struct hs_keyset *sets,
    size_t n);
void hs_config_wipe(struct hs_config *c);

/*
 * A keyset: psk alone (priv NULL), or our private key priv and the peer's
 * public key peer_pub with psk or none (NULL). -1 when priv makes no
 * usable public key or peer_pub is a low-order point.
 */
int hs_keyset_init(struct hs_keyset *ks, const uint8_t *psk,
    const uint8_t *priv, const uint8_t *peer_pub);

/* The length of the init that c makes with keys[c->use]. */
size_t hs_init_len(const struct hs_config *c);

/*
 * A 16-bit digest of a set of selected ports (order and repeats do not
 * count), carried in bytes 2-3 of an init and a resp, covered by mac1:
 * two ends that select different ports find out at the handshake. 0 for
 * none (a VPN link), never 0 otherwise.
 */
uint16_t hs_ports_digest(const uint16_t *ports, size_t n);

/* The message type of a datagram, or -1 when it is too short to have one. */
int hs_type(const uint8_t *msg, size_t len);

/* True for an init of either pattern. */
int hs_is_init(const uint8_t *msg, size_t len);

/* The sender's ephemeral public key in an init of the right length. */
const uint8_t *hs_init_ephemeral(const uint8_t *msg, size_t len);

/* The receiver index of a resp or echo message (0 when it has none). */
uint32_t hs_receiver_index(const uint8_t *msg, size_t len);

/*
 * Initiator: message 1 under keys[c->use] with our ephemeral e_priv, our
 * session index, the key id for the new session and the TAI64N timestamp;
 * st keeps what message 2 needs. out must hold hs_init_len(c) bytes.
 */
int hs_init_create(const struct hs_config *c, struct hs_state *st,
    const uint8_t e_priv[HS_KEY_LEN], uint32_t local_index, uint8_t key_id,
    const uint8_t tai64n[HS_TAI64N_LEN], uint8_t out[HS_INIT_MAX]);

/*
 * Responder, first half: check mac1, then decrypt message 1 (hashes and one
 * AEAD, no X25519). On HS_OK, tai64n holds the peer's timestamp for the
 * replay check, and st->key_id, st->remote_index are set. pending_e, when
 * not NULL, is our own pending initiation's ephemeral public key: a message
 * carrying it is a reflection (HS_ERR_REFLECTED). Each keyset is tried,
 * newest first; st->keyset says which one took it. HS_ERR_PEER_KEY leaves
 * the key the init carried in st->peer_static, for the log.
 */
int hs_init_consume(const struct hs_config *c, struct hs_state *st,
    const uint8_t *msg, size_t len, const uint8_t *pending_e,
    uint8_t tai64n[HS_TAI64N_LEN]);

/*
 * Responder, second half, after the caller accepted the timestamp: message 2
 * with our ephemeral e_priv and index, and the session keys. Wipes st.
 */
int hs_resp_create(const struct hs_config *c, struct hs_state *st,
    const uint8_t e_priv[HS_KEY_LEN], uint32_t local_index,
    uint8_t out[HS_RESP_LEN], struct hs_keys *keys);

/*
 * Initiator: check mac1 and that message 2 answers st (receiver index), then
 * finish. On HS_OK fills keys and wipes st; on error st is unchanged.
 */
int hs_resp_consume(const struct hs_config *c, struct hs_state *st,
    const uint8_t *msg, size_t len, struct hs_keys *keys);

/*
 * Echo messages under a session: the key is hs_echo_key() of the sending
 * direction's session key; counter must grow (the receiver keeps the last).
 * flags (authenticated with the rest) tell the peer about the path.
 */
#define HS_ECHO_ENCAP 0x01      /* your in-place segments do not reach me
                                   intact: carry selected flows encapsulated */
#define HS_ECHO_NAT 0x02        /* a NAT rewrites your UDP port on the way to
                                   me, so it rewrites TCP's too: carry
                                   selected flows encapsulated */
#define HS_ECHO_FLAGS (HS_ECHO_ENCAP | HS_ECHO_NAT)     /* all defined */
void hs_echo_key(uint8_t out[HS_KEY_LEN], const uint8_t session_key[HS_KEY_LEN]);
void hs_echo_create(const uint8_t key[HS_KEY_LEN], enum hs_type type,
    uint8_t flags, uint32_t receiver_index, uint64_t counter,
    uint8_t out[HS_ECHO_LEN]);
/*
 * HS_OK and *type, *flags, *counter when authentic; the caller checks the
 * counter. Flags not defined make the message malformed (HS_ERR_SHORT).
 */
int hs_echo_open(const uint8_t key[HS_KEY_LEN], const uint8_t *msg, size_t len,
    enum hs_type *type, uint8_t *flags, uint64_t *counter);

/* The TAI64N label of a realtime clock reading (seconds, nanoseconds). */
void hs_tai64n(uint8_t out[HS_TAI64N_LEN], uint64_t sec, uint32_t nsec);

/* Wipe handshake state or keys. */
void hs_state_wipe(struct hs_state *st);
void hs_keys_wipe(struct hs_keys *k);

#endif
