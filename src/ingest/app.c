/* app.c - dissector dispatch (placeholder) */
#include "ingest/app.h"

void sx_app_dissect(struct sx_pkt *pkt)
{
	(void)pkt;
}
