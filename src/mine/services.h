/*
 * services.h - Debian netbase's services table, embedded (private to mine).
 */
#ifndef SX_MINE_SERVICES_H
#define SX_MINE_SERVICES_H

#include <stdint.h>

/*
 * sx_service_by_port - the service name of a port, as getservbyport() gives
 * it on Debian 12 with netbase: the first entry in file order for that port
 * and protocol ("tcp", "udp"), or for any protocol when proto is NULL.
 * Returns a static string or NULL.  Thread-safe.
 */
const char *sx_service_by_port(uint16_t port, const char *proto);

#endif /* SX_MINE_SERVICES_H */
