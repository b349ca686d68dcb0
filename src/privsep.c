/* SPDX-License-Identifier: ISC */
/* Messages between the parent and the engine, and the engine's drop. */
#include <errno.h>
#include <sodium.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zcc/log.h"
#include "zcc/privsep.h"

static int
from_engine_type(uint32_t t)
{
	return (t >= PRIV_READY && t <= PRIV_RELOAD) || t == PRIV_MTU;
}

static int
config_valid(const struct privsep_config *c)
{
	if (c->nports > ZCC_MAX_PORTS)
		return 0;
	for (uint32_t i = 0; i < c->nports; i++)
		if (c->ports[i] == 0)
			return 0;
	for (uint32_t i = c->nports; i < ZCC_MAX_PORTS; i++)
		if (c->ports[i] != 0)
			return 0;
	return c->rekey_interval >= 1 && c->rekey_interval <= 86400 &&
	    c->keepalive_interval <= 3600 &&
	    c->keepalive_failure >= 1 && c->keepalive_failure <= 100 &&
	    c->holdoff <= 86400 && c->maxfail <= 1000000 &&
	    c->busy_poll <= ZCC_MAX_BUSY_POLL && c->persist <= 1;
}

static int
mtu_valid(uint32_t type, uint32_t mtu)
{
	if (type != PRIV_MTU)
		return mtu == 0;
	return mtu == 0 || (mtu >= PRIVSEP_MTU_MIN && mtu <= 65535);
}

static int
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

int
privsep_parse(const void *buf, size_t len, int from_engine,
    struct privsep_msg *m)
{
	if (len != sizeof(*m))
		return -1;
	memcpy(m, buf, sizeof(*m));
	if (from_engine)
		return from_engine_type(m->type) &&
		    all_zero(&m->config, sizeof(m->config)) &&
		    mtu_valid(m->type, m->mtu) ? 0 : -1;
	return m->type == PRIV_CONFIG && config_valid(&m->config) &&
	    m->mtu == 0 ? 0 : -1;
}

static int
send_msg(int fd, const struct privsep_msg *m)
{
	if (send(fd, m, sizeof(*m), MSG_NOSIGNAL) != (ssize_t)sizeof(*m)) {
		log_warn("privsep: send");
		return -1;
	}
	return 0;
}

int
privsep_send(int fd, enum privsep_type type, const struct privsep_config *config)
{
	struct privsep_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	if (config)
		m.config = *config;
	return send_msg(fd, &m);
}

int
privsep_send_mtu(int fd, uint32_t mtu)
{
	struct privsep_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PRIV_MTU;
	m.mtu = mtu;
	return send_msg(fd, &m);
}

int
privsep_send_keys(int fd, const struct privsep_keys *k)
{
	if (send(fd, k, sizeof(*k), MSG_NOSIGNAL) != (ssize_t)sizeof(*k)) {
		log_warn("privsep: cannot hand the engine its keys");
		return -1;
	}
	return 0;
}

static int
creds_valid(const struct zcc_creds *c)
{
	return c->flags != 0 &&
	    (c->flags & ~(uint32_t)(ZCC_CREDS_SHARED | ZCC_CREDS_PUBLIC)) == 0;
}

int
privsep_parse_keys(const void *buf, size_t len, struct privsep_keys *k)
{
	if (len != sizeof(*k))
		return -1;
	if (buf != k)
		memcpy(k, buf, sizeof(*k));
	if (k->type != PRIV_KEYS || k->zero != 0 ||
	    k->nsets < 1 || k->nsets > 2 || !creds_valid(&k->sets[0]))
		goto bad;
	if (k->nsets == 2 ? !creds_valid(&k->sets[1]) || k->prev_seconds < 1 ||
	    k->prev_seconds > 604800 :
	    k->prev_seconds != 0 || !all_zero(&k->sets[1], sizeof(k->sets[1])))
		goto bad;
	return 0;
bad:
	sodium_memzero(k, sizeof(*k));
	return -1;
}

int
privsep_recv_keys(int fd, struct privsep_keys *k)
{
	ssize_t n;

	while ((n = recv(fd, k, sizeof(*k), 0)) == -1 && errno == EINTR)
		;
	if (n < 0 || privsep_parse_keys(k, (size_t)n, k) == -1) {
		log_warnx("engine: no keys from the parent");
		return -1;
	}
	return 0;
}

void
privsep_config_from(struct privsep_config *c, const struct zcc_options *o)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->ports, o->ports, o->nports * sizeof(o->ports[0]));
	c->nports = (uint32_t)o->nports;
	c->rekey_interval = o->rekey_interval;
	c->keepalive_interval = o->keepalive_interval;
	c->keepalive_failure = o->keepalive_failure;
	c->holdoff = o->holdoff;
	c->maxfail = o->maxfail;
	c->busy_poll = o->busy_poll;
	c->persist = o->persist ? 1 : 0;
}

/* Before the uid changes: dropping from the bounding set needs CAP_SETPCAP. */
static int
drop_bounding_set(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			log_warn("cannot drop capability %d from the bounding set", cap);
			return -1;
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		log_warn("ambient capabilities");
		return -1;
	}
	return 0;
}

/* setresuid away from 0 cleared them; say so explicitly. */
static int
clear_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capset, &hdr, data) == -1) {
		log_warn("capset");
		return -1;
	}
	return 0;
}

int
privsep_drop(uid_t uid, gid_t gid, pid_t parent)
{
	uid_t r, e, s;

	if (uid == 0) {
		log_warnx("the engine's user must not be root");
		return -1;
	}
	if (drop_bounding_set() == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_warn("cannot become uid %u gid %u", (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (getresuid(&r, &e, &s) == -1 || r != uid || e != uid || s != uid ||
	    clear_capabilities() == -1) {
		log_warnx("privileges were not dropped");
		return -1;
	}
	/*
	 * Killed with the parent, so an engine never outlives its supervisor
	 * (set after the uid change, which clears it), and checked against
	 * a parent that died before.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		log_warn("prctl");
		return -1;
	}
	if (getppid() != parent) {
		log_warnx("the parent is gone");
		return -1;
	}
	log_debug("engine: uid %u gid %u, no capabilities, no_new_privs",
	    (unsigned)uid, (unsigned)gid);
	return 0;
}

int
privsep_user(const char *name, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL || pw->pw_uid == 0) {
		snprintf(err, errlen, "user %s: %s; the engine runs as its own "
		    "unprivileged user: create it (useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin %s) or name "
		    "another with 'user NAME'", name, pw ? "is root" :
		    "no such user", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}
