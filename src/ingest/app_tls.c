/* app_tls.c - placeholder */
#include "ingest/app.h"

bool sx_app_tls(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	(void)pkt, (void)p, (void)n;
	return false;
}
