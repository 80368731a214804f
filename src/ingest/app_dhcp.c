/* app_dhcp.c - placeholder */
#include "ingest/app.h"

#include "ingest/ingest.h"

bool sx_app_dhcp(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	(void)pkt, (void)p, (void)n;
	return false;
}

const char *sx_dhcp_type_name(uint8_t type)
{
	(void)type;
	return NULL;
}
