/* app_tplink.c - placeholder */
#include "ingest/app.h"

bool sx_app_tplink(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool over_tcp)
{
	(void)pkt, (void)p, (void)n, (void)over_tcp;
	return false;
}
