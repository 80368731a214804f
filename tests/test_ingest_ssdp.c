/*
 * test_ingest_ssdp.c - SSDP over UDP (ingest/app_ssdp.c).
 *
 * The messages follow captures in the shared corpora (a Philips Hue bridge
 * NOTIFY and search response, a Chrome DIAL M-SEARCH, a Plex GDM search on
 * port 32412).  Payloads are malloc'd at their exact length.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "support/pkt.h"

TestSuite(ingest_ssdp, .timeout = 60);

static void assert_ssdp(const struct sx_ssdp *s)
{
	cr_assert(s->kind >= SX_SSDP_MSEARCH && s->kind <= SX_SSDP_RESPONSE);
	sx_tt_assert_printable(s->st, sizeof(s->st));
	sx_tt_assert_printable(s->nts, sizeof(s->nts));
	sx_tt_assert_printable(s->usn, sizeof(s->usn));
	sx_tt_assert_printable(s->server, sizeof(s->server));
}

static uint8_t run(struct sx_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport, const void *s,
		   size_t n)
{
	uint8_t *p = sx_tt_exact(s, n);

	sx_tt_set_pkt(pkt, proto, sport, dport, p, n, n);
	sx_app_dissect(pkt);
	free(p);
	pkt->payload = NULL;
	if (pkt->proto == SX_P_SSDP)
		assert_ssdp(&pkt->app.ssdp);
	return pkt->proto;
}

static uint8_t run_str(struct sx_pkt *pkt, uint16_t sport, uint16_t dport, const char *s)
{
	return run(pkt, SX_P_UDP, sport, dport, s, strlen(s));
}

static const char notify[] = "NOTIFY * HTTP/1.1\r\n"
			     "HOST: 239.255.255.250:1900\r\n"
			     "CACHE-CONTROL: max-age=100\r\n"
			     "LOCATION: http://192.168.1.141:80/description.xml\r\n"
			     "SERVER: Hue/1.0 UPnP/1.0 IpBridge/1.57.0\r\n"
			     "NTS: ssdp:alive\r\n"
			     "hue-bridgeid: 001788FFFE74C2DC\r\n"
			     "NT: upnp:rootdevice\r\n"
			     "USN: uuid:2f402f80-da50-11e1-9b23-00178874c2dc::upnp:rootdevice\r\n"
			     "\r\n";

static const char response[] = "HTTP/1.1 200 OK\r\n"
			       "HOST: 239.255.255.250:1900\r\n"
			       "EXT:\r\n"
			       "CACHE-CONTROL: max-age=100\r\n"
			       "LOCATION: http://192.168.1.141:80/description.xml\r\n"
			       "SERVER: Hue/1.0 UPnP/1.0 IpBridge/1.57.0\r\n"
			       "ST: upnp:rootdevice\r\n"
			       "USN: uuid:2f402f80-da50-11e1-9b23-00178874c2dc::upnp:rootdevice\r\n"
			       "\r\n";

static const char msearch[] = "M-SEARCH * HTTP/1.1\r\n"
			      "HOST: 239.255.255.250:1900\r\n"
			      "MAN: \"ssdp:discover\"\r\n"
			      "MX: 1\r\n"
			      "ST: urn:dial-multiscreen-org:service:dial:1\r\n"
			      "USER-AGENT: Google Chrome/99.0.4844.74 Mac OS X\r\n"
			      "\r\n";

Test(ingest_ssdp, notify)
{
	struct sx_pkt pkt;
	const struct sx_ssdp *s = &pkt.app.ssdp;

	cr_assert_eq(run_str(&pkt, 1900, 1900, notify), SX_P_SSDP);
	cr_assert_eq(s->kind, SX_SSDP_NOTIFY);
	cr_assert_str_eq(s->st, "upnp:rootdevice");
	cr_assert_str_eq(s->nts, "ssdp:alive");
	cr_assert_str_eq(s->usn, "uuid:2f402f80-da50-11e1-9b23-00178874c2dc::upnp:rootdevice");
	cr_assert_str_eq(s->server, "Hue/1.0 UPnP/1.0 IpBridge/1.57.0");
}

Test(ingest_ssdp, search_response)
{
	struct sx_pkt pkt;
	const struct sx_ssdp *s = &pkt.app.ssdp;

	cr_assert_eq(run_str(&pkt, 1900, 3942, response), SX_P_SSDP);
	cr_assert_eq(s->kind, SX_SSDP_RESPONSE);
	cr_assert_str_eq(s->st, "upnp:rootdevice");
	cr_assert_str_eq(s->nts, "");
	cr_assert_str_eq(s->server, "Hue/1.0 UPnP/1.0 IpBridge/1.57.0");
}

Test(ingest_ssdp, msearch)
{
	struct sx_pkt pkt;
	const struct sx_ssdp *s = &pkt.app.ssdp;

	cr_assert_eq(run_str(&pkt, 56446, 1900, msearch), SX_P_SSDP);
	cr_assert_eq(s->kind, SX_SSDP_MSEARCH);
	cr_assert_str_eq(s->st, "urn:dial-multiscreen-org:service:dial:1");
	cr_assert_str_eq(s->usn, "");
	cr_assert_str_eq(s->server, "");
}

Test(ingest_ssdp, start_line_on_other_ports)
{
	struct sx_pkt pkt;

	/* Plex GDM searches on 32412 with an SSDP start line */
	cr_assert_eq(run_str(&pkt, 42253, 32412, "M-SEARCH * HTTP/1.1\r\n\r\n"), SX_P_SSDP);
	cr_assert_eq(pkt.app.ssdp.kind, SX_SSDP_MSEARCH);
	/* a unicast response from an ephemeral port */
	cr_assert_eq(run_str(&pkt, 49153, 50000, response), SX_P_SSDP);
	/* but not over TCP: there it is HTTP */
	cr_assert_eq(run(&pkt, SX_P_TCP, 50000, 1900, msearch, strlen(msearch)), SX_P_HTTP);
}

Test(ingest_ssdp, header_names_any_case_values_trimmed)
{
	struct sx_pkt pkt;

	cr_assert_eq(run_str(&pkt, 1900, 1900,
			     "NOTIFY * HTTP/1.1\nnt:\t urn:x \nNts:ssdp:byebye\nusn :u1\n"
			     "Server:  s  \nNT: second\n\n"),
		     SX_P_SSDP);
	cr_assert_str_eq(pkt.app.ssdp.st, "urn:x");
	cr_assert_str_eq(pkt.app.ssdp.nts, "ssdp:byebye");
	cr_assert_str_eq(pkt.app.ssdp.usn, "u1");
	cr_assert_str_eq(pkt.app.ssdp.server, "s");
}

Test(ingest_ssdp, not_ssdp)
{
	static const char *const bad[] = {
	    "M-SEARCH / HTTP/1.1\r\n\r\n",
	    "M-SEARCH * HTTP/2.0\r\n\r\n",
	    "M-SEARCH * HTTP/1.1 extra\r\n\r\n",
	    "NOTIFY * HTTP/1.1", /* no end of line */
	    "HTTP/1.1 404 Not Found\r\n\r\n",
	    "HTTP/1.1 2000 OK\r\n\r\n",
	    "GET / HTTP/1.1\r\n\r\n",
	    "notify * HTTP/1.1\r\n\r\n",
	    "HTTP/1.1",
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sx_pkt pkt;

		cr_assert_eq(run_str(&pkt, 1900, 1900, bad[i]), SX_P_UDP, "\"%s\"", bad[i]);
	}
}

Test(ingest_ssdp, hostile_values_are_escaped_and_cut)
{
	static const uint8_t msg[] =
	    "NOTIFY * HTTP/1.1\r\n"
	    "NT: a\"b,c\x80\xff\x00\\\r\n"
	    "NTS: ssdp:alive-and-a-very-long-sub-type-that-does-not-fit\r\n"
	    "\r\n";
	char big[1024];
	struct sx_pkt pkt;
	size_t n;

	cr_assert_eq(run(&pkt, SX_P_UDP, 1900, 1900, msg, sizeof(msg) - 1), SX_P_SSDP);
	cr_assert_str_eq(pkt.app.ssdp.st, "a\"b,c\\x80\\xff\\x00\\\\");
	cr_assert_eq(strlen(pkt.app.ssdp.nts), sizeof(pkt.app.ssdp.nts) - 1);

	n = (size_t)snprintf(big, sizeof(big), "NOTIFY * HTTP/1.1\r\nUSN: ");
	memset(big + n, 0x01, 300);
	n += 300;
	memcpy(big + n, "\r\n\r\n", 4);
	n += 4;
	cr_assert_eq(run(&pkt, SX_P_UDP, 1900, 1900, big, n), SX_P_SSDP);
	cr_assert_eq(strlen(pkt.app.ssdp.usn) % 4, 0);
	cr_assert_gt(strlen(pkt.app.ssdp.usn), SX_TEXT_MAX - 6);
}

Test(ingest_ssdp, truncated_at_every_offset)
{
	const char *const msgs[] = {notify, response, msearch};
	size_t k;

	for (k = 0; k < 3; k++) {
		size_t n = strlen(msgs[k]);
		size_t i;

		for (i = 0; i <= n; i++) {
			struct sx_pkt pkt;
			uint8_t *p = sx_tt_exact(msgs[k], i);

			sx_tt_set_pkt(&pkt, SX_P_UDP, 1900, 1900, p, i, n);
			sx_app_dissect(&pkt);
			if (pkt.proto == SX_P_SSDP)
				assert_ssdp(&pkt.app.ssdp);
			free(p);
		}
	}
}

Test(ingest_ssdp, header_cut_by_capture_is_ignored)
{
	struct sx_pkt pkt;
	const char *s = "NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\nUSN: uuid:abc";

	cr_assert_eq(run_str(&pkt, 1900, 1900, s), SX_P_SSDP);
	cr_assert_str_eq(pkt.app.ssdp.nts, "ssdp:alive");
	cr_assert_str_eq(pkt.app.ssdp.usn, "");
}
