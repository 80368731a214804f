/*
 * test_flows_csv.c - the flow CSV: a row written reads back into the same
 * record (formula neutralisation undone, quoting undone), and the reader
 * rejects hostile input with a line number instead of trusting it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "flows/flows.h"

TestSuite(flows_csv, .timeout = 60);

static void sample_row(struct sx_flow_row *row)
{
	struct sx_flow_rec *r = &row->rec;

	memset(row, 0, sizeof(*row));
	r->key.family = 4;
	r->key.lo_addr[0] = 10;
	r->key.lo_addr[3] = 1;
	r->key.hi_addr[0] = 93;
	r->key.hi_addr[3] = 7;
	r->key.lo_port = 51000;
	r->key.hi_port = 443;
	r->key.proto = 6;
	r->key.vlan = 12;
	r->key.file = 0;
	r->key.event = 3;
	r->dev = 0;
	r->first_ns = 1724059940LL * SX_NS_PER_SEC + 552033000;
	r->last_ns = r->first_ns + 5 * SX_NS_PER_SEC + 1;
	r->pkts[0] = 10;
	r->pkts[1] = 8;
	r->bytes[0] = 1000;
	r->bytes[1] = 9000;
	r->init = SX_INIT_SYN;
	r->end = SX_END_RST;
	r->top_proto = SX_P_TLS;
	r->tcp_flags[0] = SX_TCP_SYN | SX_TCP_ACK | SX_TCP_PSH | SX_TCP_RST;
	r->tcp_flags[1] = SX_TCP_SYN | SX_TCP_ACK;
	r->nseq = 3;
	r->seq_len[0] = 583;
	r->seq_len[1] = -1514;
	r->seq_len[2] = 66;
	r->seq_iat[0] = 108627000;
	r->seq_iat[1] = 0;
	r->seq_iat[2] = 92000;
	strcpy(r->spec, "=HYPERLINK(\"evil\"),x");
	strcpy(r->attrs, "tls.sni=example.com tls.alpn=h2,http/1.1");
	sx_mac_unpack(0x50c7bfed0a54ull, r->mac[0]);
	sx_mac_unpack(0x7cb37be2245aull, r->mac[1]);
	row->index = 7;
	row->file = "dir/cap, \"1\".pcap";
	row->event_label = "-on";
	row->event_ns = 1724059939LL * SX_NS_PER_SEC;
	row->dev_host = "+device";
	row->other_host = "example.com";
	row->dev_local = "@plug.local";
	row->other_local = "";
	row->service_port = 443;
	row->ephemeral_port = 51000;
	row->service_side = SX_SIDE_OTHER;
}

static char *write_doc(const struct sx_flow_row *rows, size_t n)
{
	struct sx_buf b;
	char *s;
	size_t i;

	sx_buf_init(&b);
	sx_flows_csv_header(&b);
	for (i = 0; i < n; i++)
		sx_flows_csv_row(&b, &rows[i]);
	sx_buf_putc(&b, '\0');
	cr_assert_eq(b.err, 0);
	s = strdup(b.data);
	sx_buf_fini(&b);
	return s;
}

/* Read every row of text; returns the last sx_flows_csv_next() result. */
static int read_all(const char *text, size_t len, size_t *rows, char *msg, size_t msglen)
{
	struct sx_flows_csv_reader *rd;
	struct sx_flow_row row;
	FILE *f = fmemopen((void *)text, len, "r");
	int ret;

	cr_assert_not_null(f);
	cr_assert_eq(sx_flows_csv_reader_new(f, &rd), 0);
	*rows = 0;
	while ((ret = sx_flows_csv_next(rd, &row, msg, msglen)) == 1)
		(*rows)++;
	sx_flows_csv_reader_free(rd);
	fclose(f);
	return ret;
}

Test(flows_csv, row_round_trips)
{
	struct sx_flow_row in[2], out;
	struct sx_flows_csv_reader *rd;
	char *text, *again;
	char msg[256];
	struct sx_buf b;
	FILE *f;

	sample_row(&in[0]);
	sample_row(&in[1]);
	/* an ICMP flow over IPv6, device side = hi, no event */
	in[1].rec.key.family = 6;
	memset(in[1].rec.key.lo_addr, 0, 16);
	memset(in[1].rec.key.hi_addr, 0, 16);
	in[1].rec.key.lo_addr[0] = 0x20;
	in[1].rec.key.lo_addr[15] = 1;
	in[1].rec.key.hi_addr[0] = 0xfe;
	in[1].rec.key.hi_addr[15] = 2;
	in[1].rec.key.lo_port = in[1].rec.key.hi_port = 0;
	in[1].rec.key.proto = 58;
	in[1].rec.key.event = SX_FLOW_NO_EVENT;
	in[1].rec.dev = 1;
	in[1].rec.nseq = 0;
	in[1].rec.top_proto = SX_P_ICMPV6;
	in[1].rec.init = SX_INIT_FIRST;
	in[1].rec.end = SX_END_IDLE;
	in[1].rec.tcp_flags[0] = in[1].rec.tcp_flags[1] = 0;
	in[1].rec.attrs[0] = '\0';
	memset(in[1].rec.mac, 0, sizeof(in[1].rec.mac)); /* no link-layer addresses */
	strcpy(in[1].rec.spec, "type 128 code 0");
	in[1].event_label = "";
	in[1].event_ns = 0;
	in[1].service_side = SX_SIDE_NONE;
	in[1].service_port = in[1].ephemeral_port = 0;
	in[1].index = 0;
	text = write_doc(in, 2);

	f = fmemopen(text, strlen(text), "r");
	cr_assert_eq(sx_flows_csv_reader_new(f, &rd), 0);
	sx_buf_init(&b);
	sx_flows_csv_header(&b);
	cr_assert_eq(sx_flows_csv_next(rd, &out, msg, sizeof(msg)), 1, "%s", msg);
	cr_assert_eq(memcmp(&out.rec.key, &in[0].rec.key, sizeof(out.rec.key)), 0);
	cr_assert_eq(out.rec.first_ns, in[0].rec.first_ns);
	cr_assert_eq(out.rec.last_ns, in[0].rec.last_ns);
	cr_assert_eq(out.rec.pkts[1], 8);
	cr_assert_eq(out.rec.bytes[1], 9000);
	cr_assert_eq(out.rec.seq_len[1], -1514);
	cr_assert_eq(out.rec.seq_iat[2], 92000);
	cr_assert_eq(out.rec.tcp_flags[0], in[0].rec.tcp_flags[0]);
	cr_assert_eq(memcmp(out.rec.mac, in[0].rec.mac, sizeof(out.rec.mac)), 0);
	cr_assert_eq(out.rec.end, SX_END_RST);
	cr_assert_eq(out.rec.top_proto, SX_P_TLS);
	cr_assert_str_eq(out.rec.spec, in[0].rec.spec, "neutralisation undone");
	cr_assert_str_eq(out.rec.attrs, in[0].rec.attrs);
	cr_assert_str_eq(out.file, in[0].file);
	cr_assert_str_eq(out.event_label, "-on");
	cr_assert_str_eq(out.dev_host, "+device");
	cr_assert_str_eq(out.dev_local, "@plug.local");
	cr_assert_eq(out.event_ns, in[0].event_ns);
	cr_assert_eq(out.service_port, 443);
	cr_assert_eq(out.service_side, SX_SIDE_OTHER);
	cr_assert_eq(out.index, 7);
	sx_flows_csv_row(&b, &out);
	cr_assert_eq(sx_flows_csv_next(rd, &out, msg, sizeof(msg)), 1, "%s", msg);
	cr_assert_eq(memcmp(&out.rec.key, &in[1].rec.key, sizeof(out.rec.key)), 0);
	cr_assert_eq(out.rec.dev, 1);
	cr_assert_eq(out.rec.key.file, 0, "same File, same index");
	cr_assert(sx_mac_is_zero(out.rec.mac[0]) && sx_mac_is_zero(out.rec.mac[1]));
	sx_flows_csv_row(&b, &out);
	cr_assert_eq(sx_flows_csv_next(rd, &out, msg, sizeof(msg)), 0);
	sx_buf_putc(&b, '\0');
	again = b.data;
	cr_assert_str_eq(again, text);
	/* the neutralised cells really are neutralised on disk */
	cr_assert(strstr(text, ",'+device,") != NULL);
	cr_assert(strstr(text, ",\"'=HYPERLINK(\"\"evil\"\"),x\",") != NULL);
	sx_buf_fini(&b);
	sx_flows_csv_reader_free(rd);
	fclose(f);
	free(text);
}

/* Replace the n-th field (0-based) of the single data row of a document. */
static char *with_field(const char *doc, unsigned n, const char *value)
{
	struct sx_buf b;
	const char *row = strchr(doc, '\n') + 1, *p = row, *start, *end;
	unsigned i = 0;
	char *s;

	/* fields of the sample contain no quoted commas before column 11 and
	 * after it only in quoted fields; walk with quote awareness */
	while (i < n) {
		bool q = false;

		for (; *p && (q || *p != ','); p++)
			if (*p == '"')
				q = !q;
		p++;
		i++;
	}
	start = p;
	{
		bool q = false;

		for (end = p; *end && (q || (*end != ',' && *end != '\n')); end++)
			if (*end == '"')
				q = !q;
	}
	sx_buf_init(&b);
	sx_buf_put(&b, doc, (size_t)(start - doc));
	sx_buf_puts(&b, value);
	sx_buf_puts(&b, end);
	sx_buf_putc(&b, '\0');
	s = strdup(b.data);
	sx_buf_fini(&b);
	return s;
}

static void expect_rejected(const char *doc, const char *what)
{
	char msg[256] = "";
	size_t rows;
	int ret = read_all(doc, strlen(doc), &rows, msg, sizeof(msg));

	cr_expect_eq(ret, SX_E_FORMAT, "accepted %s", what);
	cr_expect(strstr(msg, "line ") != NULL, "%s: no line in \"%s\"", what, msg);
}

Test(flows_csv, hostile_rows_are_rejected)
{
	static const struct {
		unsigned col;
		const char *value;
		const char *what;
	} bad[] = {
	    {0, "-1", "negative index"},
	    {0, "18446744073709551616", "index overflow"},
	    {1, "1.0000000001", "ten fraction digits"},
	    {1, "99999999999", "timestamp out of range"},
	    {1, "abc", "text timestamp"},
	    {3, "65536", "port out of range"},
	    {8, "10001", "Length not the sum of the sides"},
	    {10, "0", "nbPacket not the sum"},
	    {7, "NOPE", "unknown protocol"},
	    {12, "4294967295", "event out of range"},
	    {14, "", "event without a time"},
	    {16, "10.0.0.256", "bad address"},
	    {17, "::1", "mixed families"},
	    {22, "256", "IP protocol out of range"},
	    {23, "4096", "VLAN out of range"},
	    {25, "18446744073709551615", "packet counts that overflow"},
	    {28, "sin", "unknown initiator"},
	    {29, "SS", "repeated flag"},
	    {29, "Z", "unknown flag"},
	    {31, "closed", "unknown end"},
	    {34, "both", "unknown side"},
	    {35,
	     "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 "
	     "30 31 32 33",
	     "33 payload lengths"},
	    {35, "1  2", "empty list item"},
	    {35, "2147483648", "length beyond int32"},
	    {36, "1 2", "IAT count differs"},
	    {36, "-5 1 1", "negative IAT"},
	    {15, "1724059939.000000000", "last before first"},
	    {11, "", "empty File"},
	    {18, "00:00:00:00:00:00", "an all-zero MAC"},
	    {18, "50:c7:bf:ed:0a", "a short MAC"},
	    {19, "50:c7:bf:ed:0a:5g", "a MAC with a non-hex digit"},
	};
	struct sx_flow_row row;
	char *doc;
	size_t i;

	sample_row(&row);
	doc = write_doc(&row, 1);
	for (i = 0; i < SX_ARRAY_SIZE(bad); i++) {
		char *d = with_field(doc, bad[i].col, bad[i].value);

		expect_rejected(d, bad[i].what);
		free(d);
	}
	free(doc);
}

Test(flows_csv, hostile_documents_are_rejected)
{
	struct sx_flow_row row;
	char *doc, *d;
	size_t n;

	sample_row(&row);
	doc = write_doc(&row, 1);
	n = strlen(doc);

	expect_rejected("Index,Timestamp\n0,1\n", "a short header");
	expect_rejected("index,Timestamp,DeviceHost,DevicePort,OtherHost,OtherPort,"
			"TransportProtocol,Protocol,Length,ApplicationSpecific,nbPacket,File,Event,"
			"EventLabel,EventTime,LastTimestamp,DeviceIP,OtherIP,DeviceLocalName,"
			"OtherLocalName,IpProto,Vlan,DevicePackets,OtherPackets,DeviceBytes,"
			"OtherBytes,Initiator,DeviceTcpFlags,OtherTcpFlags,End,ServicePort,"
			"EphemeralPort,ServiceSide,PayloadLengths,PayloadIats,AppAttributes\n",
			"a misspelt column");
	/* a row cut short */
	d = strndup(doc, n - 40);
	expect_rejected(d, "a truncated row");
	free(d);
	/* an unterminated quote */
	d = with_field(doc, 2, "\"abc");
	expect_rejected(d, "an unterminated quote");
	free(d);
	d = with_field(doc, 2, "\"abc\"x");
	expect_rejected(d, "text after a quote");
	free(d);
	d = with_field(doc, 2, "a\"b");
	expect_rejected(d, "a quote inside a field");
	free(d);
	d = with_field(doc, 2, "a\rb");
	expect_rejected(d, "a bare CR");
	free(d);
	{
		/* a host name longer than any name */
		char *big = malloc(5000);

		memset(big, 'a', 4999);
		big[4999] = '\0';
		d = with_field(doc, 2, big);
		expect_rejected(d, "a 5000-byte host");
		free(d);
		free(big);
	}
	{
		/* a record over the limit */
		size_t len = 2u << 20;
		char *big = malloc(len + 1);

		memset(big, 'a', len);
		big[len] = '\0';
		d = with_field(doc, 37, big);
		expect_rejected(d, "a 2 MiB record");
		free(d);
		free(big);
	}
	{
		/* a NUL byte */
		char *nul = strdup(doc);
		size_t rows;
		char msg[128];

		nul[strlen(nul) - 5] = '\0';
		cr_expect_eq(read_all(nul, n, &rows, msg, sizeof(msg)), SX_E_FORMAT);
		free(nul);
	}
	free(doc);
}

Test(flows_csv, mutated_documents_never_crash)
{
	struct sx_flow_row rows[3];
	unsigned seed = 99;
	char *doc;
	size_t n, i;
	int k;

	sample_row(&rows[0]);
	sample_row(&rows[1]);
	sample_row(&rows[2]);
	rows[1].index = 8;
	rows[2].file = "other.pcap";
	doc = write_doc(rows, 3);
	n = strlen(doc);
	for (k = 0; k < 5000; k++) {
		char *m = malloc(n + 1);
		char msg[256];
		size_t nrows;
		int ret, flips = 1 + rand_r(&seed) % 8;

		memcpy(m, doc, n + 1);
		for (i = 0; i < (size_t)flips; i++) {
			size_t at = (size_t)rand_r(&seed) % n;
			static const char pick[] = ",\"\n\r 0-9.aZ:";

			m[at] = (rand_r(&seed) & 1)
				    ? (char)rand_r(&seed)
				    : pick[(unsigned)rand_r(&seed) % (sizeof(pick) - 1)];
		}
		ret = read_all(m, n, &nrows, msg, sizeof(msg));
		cr_assert(ret == 0 || ret == SX_E_FORMAT, "returned %d", ret);
		free(m);
	}
	free(doc);
}

Test(flows_csv, service_name_fallback_reads_back_as_no_spec)
{
	struct sx_flow_row in, out;
	struct sx_flows_csv_reader *rd;
	char *text, msg[256];
	FILE *f;

	sample_row(&in);
	in.rec.spec[0] = '\0';
	text = write_doc(&in, 1);
	cr_assert(strstr(text, ",https,") != NULL, "%s", text);
	f = fmemopen(text, strlen(text), "r");
	cr_assert_eq(sx_flows_csv_reader_new(f, &rd), 0);
	cr_assert_eq(sx_flows_csv_next(rd, &out, msg, sizeof(msg)), 1, "%s", msg);
	cr_assert_str_eq(out.rec.spec, "");
	sx_flows_csv_reader_free(rd);
	fclose(f);
	free(text);
}
