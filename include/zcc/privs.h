/* SPDX-License-Identifier: ISC */
/* Privileges: what zcctund keeps once set-up is done (docs/OPERATIONS.md). */
#ifndef ZCC_PRIVS_H
#define ZCC_PRIVS_H

/*
 * Keep only CAP_NET_ADMIN (to remove steering at exit), in the effective,
 * permitted and bounding sets, and set no_new_privs. Returns 0 or -1 (logged).
 */
int privs_drop(void);

#endif
