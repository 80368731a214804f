/* app_coap.c - placeholder */
#include "ingest/app.h"

#include <stdio.h>

#include "ingest/ingest.h"

bool sx_app_coap(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool well_known_port)
{
	(void)pkt, (void)p, (void)n, (void)well_known_port;
	return false;
}

const char *sx_coap_code_name(uint8_t code, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%u.%02u", code >> 5, code & 31);
	return buf;
}
