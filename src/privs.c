/* SPDX-License-Identifier: ISC */
/*
 * Privileges. Once zcc0, the raw socket and the steering exist, zcctund
 * needs root powers for one thing only: removing the steering at exit
 * (ip, tc and nft need CAP_NET_ADMIN). It keeps CAP_NET_ADMIN and drops
 * every other capability, from the bounding set too, so neither it nor
 * what it executes can regain them; no_new_privs closes setuid binaries.
 */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zcc/log.h"
#include "zcc/privs.h"

static int
drop_bounding_set(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (cap == CAP_NET_ADMIN)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			log_warn("cannot drop capability %d from the bounding set", cap);
			return -1;
		}
	}
	return 0;
}

static int
keep_only_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	data[0].effective = data[0].permitted = 1u << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &hdr, data) == -1) {
		log_warn("capset");
		return -1;
	}
	return 0;
}

int
privs_drop(void)
{
	if (drop_bounding_set() == -1 || keep_only_net_admin() == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("no_new_privs");
		return -1;
	}
	log_debug("capabilities dropped: keeping CAP_NET_ADMIN only");
	return 0;
}
