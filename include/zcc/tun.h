/* The zcc0 TUN device. */
#ifndef ZCC_TUN_H
#define ZCC_TUN_H

/*
 * Create TUN device ifname (IFF_TUN | IFF_NO_PI), set its MTU, bring it up.
 * Refuses a name that already exists. Returns the fd or -1 (logged).
 */
int tun_open(const char *ifname, int mtu);

/* True when a network interface called ifname exists. */
int tun_exists(const char *ifname);

#endif
