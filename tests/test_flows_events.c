/*
 * test_flows_events.c - the events file (--events): timestamps in both
 * forms, labels, headers and comments, RFC 4180 quoting, time order, and
 * hostile input (every malformed case rejected with a line number, random
 * bytes never crash).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "flows/flows.h"

TestSuite(flows_events, .timeout = 60);

static struct sx_events *parse_ok(const char *text)
{
	struct sx_events *ev = NULL;
	char msg[256] = "";

	cr_assert_eq(sx_events_parse(text, strlen(text), &ev, msg, sizeof(msg)), 0, "%s: %s", text,
		     msg);
	return ev;
}

static void parse_bad(const char *text, const char *what)
{
	struct sx_events *ev = (struct sx_events *)1;
	char msg[256] = "";

	cr_assert_eq(sx_events_parse(text, strlen(text), &ev, msg, sizeof(msg)), SX_E_FORMAT,
		     "accepted %s", what);
	cr_assert_null(ev);
	cr_assert_neq(msg[0], '\0');
}

static int64_t t(const char *s)
{
	int64_t ns = -1;

	cr_assert_eq(sx_time_parse(s, strlen(s), &ns), 0, "rejected %s", s);
	return ns;
}

static void t_bad(const char *s)
{
	int64_t ns;

	cr_assert_neq(sx_time_parse(s, strlen(s), &ns), 0, "accepted %s", s);
}

Test(flows_events, epoch_seconds)
{
	cr_assert_eq(t("0"), 0);
	cr_assert_eq(t("1724059939"), 1724059939LL * SX_NS_PER_SEC);
	cr_assert_eq(t("1724059939.5"), 1724059939LL * SX_NS_PER_SEC + 500000000);
	cr_assert_eq(t("1.000000001"), SX_NS_PER_SEC + 1);
	cr_assert_eq(t(" 12.25 "), 12 * SX_NS_PER_SEC + 250000000);
	cr_assert_eq(t("1.1234567891"), SX_NS_PER_SEC + 123456789, "digits beyond ns dropped");
	t_bad("");
	t_bad("-1");
	t_bad("1.");
	t_bad(".5");
	t_bad("1e9");
	t_bad("12a");
	t_bad("99999999999999999999");
	t_bad("1.0000000000000000000001");
}

Test(flows_events, iso_8601_with_zone)
{
	cr_assert_eq(t("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(t("2024-08-19T09:32:19Z"), 1724059939LL * SX_NS_PER_SEC);
	cr_assert_eq(t("2024-08-19 11:32:19+02:00"), 1724059939LL * SX_NS_PER_SEC);
	cr_assert_eq(t("2024-08-19T04:32:19.25-0500"), 1724059939LL * SX_NS_PER_SEC + 250000000);
	cr_assert_eq(t("2024-08-19T10:32:19+01"), 1724059939LL * SX_NS_PER_SEC);
	cr_assert_eq(t("2024-02-29T00:00:00z"), 1709164800LL * SX_NS_PER_SEC);
	cr_assert_eq(t("2000-02-29T00:00:00Z"), 951782400LL * SX_NS_PER_SEC);
	t_bad("2024-08-19T09:32:19"); /* no zone */
	t_bad("2023-02-29T00:00:00Z");
	t_bad("1900-02-29T00:00:00Z");
	t_bad("2024-13-01T00:00:00Z");
	t_bad("2024-00-01T00:00:00Z");
	t_bad("2024-01-32T00:00:00Z");
	t_bad("2024-01-01T24:00:00Z");
	t_bad("2024-01-01T00:60:00Z");
	t_bad("2024-01-01T00:00:00+24:00");
	t_bad("2024-01-01T00:00:00+01:");
	t_bad("2024-01-01T00:00:00Zjunk");
	t_bad("1969-12-31T23:59:59Z");
	t_bad("9999-01-01T00:00:00Z");
	t_bad("2024-1-01T00:00:00Z");
}

Test(flows_events, rows_labels_header_comments_order)
{
	struct sx_events *ev = parse_ok("\xef\xbb\xbftimestamp,label\r\n"
					"# comment\r\n"
					"\r\n"
					"200,  second  \r\n"
					"100\r\n"
					"\"150\",\"with \"\"quotes\"\", and comma\"\r\n"
					"100,tie keeps file order\n"
					"2024-08-19T09:32:19Z,\"multi\nline\"");

	cr_assert_eq(ev->n, 5);
	cr_assert_eq(ev->ev[0].start_ns, 100 * SX_NS_PER_SEC);
	cr_assert_str_eq(ev->ev[0].label, "");
	cr_assert_str_eq(ev->ev[1].label, "tie keeps file order");
	cr_assert_str_eq(ev->ev[2].label, "with \"quotes\", and comma");
	cr_assert_str_eq(ev->ev[3].label, "second");
	cr_assert_str_eq(ev->ev[4].label, "multi\\x0aline", "escaped to printable text");
	sx_events_free(ev);
}

Test(flows_events, malformed_files_are_rejected)
{
	parse_bad("", "an empty file");
	parse_bad("timestamp,label\n", "a header only");
	parse_bad("100,a,b\n", "three fields");
	parse_bad("100,\"unterminated\n", "an unterminated quote");
	parse_bad("100,\"a\"b\n", "text after a closing quote");
	parse_bad("100,a\"b\n", "a quote in an unquoted field");
	parse_bad("100\n2024-02-30T00:00:00Z\n", "a bad date after a good row");
	parse_bad("100\nlabel-only\n", "a text row that is not the first");
	parse_bad("1x00\n", "a header-like row with digits");
	{
		char big[4096];

		memset(big, 'a', sizeof(big));
		memcpy(big, "100,", 4);
		big[sizeof(big) - 1] = '\0';
		parse_bad(big, "a very long label");
	}
	{
		static const char nul[] = "10\0\n";
		struct sx_events *ev;
		char msg[128];

		cr_assert_eq(sx_events_parse(nul, 4, &ev, msg, sizeof(msg)), SX_E_FORMAT);
	}
}

Test(flows_events, random_bytes_never_crash)
{
	static const char alphabet[] = "0123456789.,:-+TZ \"\n\r#xa\t";
	unsigned seed = 12345;
	char buf[256];
	int i, n;
	size_t k, len;

	for (i = 0; i < 20000; i++) {
		struct sx_events *ev = NULL;
		char msg[128];

		len = (size_t)(rand_r(&seed) % sizeof(buf));
		for (k = 0; k < len; k++) {
			int r = rand_r(&seed);

			buf[k] = (r & 0x100) ? (char)(r & 0xff)
					     : alphabet[(unsigned)r % (sizeof(alphabet) - 1)];
		}
		n = sx_events_parse(buf, len, &ev, msg, sizeof(msg));
		cr_assert(n == 0 || n == SX_E_FORMAT);
		if (n == 0) {
			uint32_t j;

			cr_assert_gt(ev->n, 0);
			for (j = 1; j < ev->n; j++)
				cr_assert_leq(ev->ev[j - 1].start_ns, ev->ev[j].start_ns);
			for (j = 0; j < ev->n; j++)
				for (k = 0; ev->ev[j].label[k]; k++)
					cr_assert(ev->ev[j].label[k] >= 0x20 &&
						  ev->ev[j].label[k] <= 0x7e);
		} else {
			cr_assert_null(ev);
		}
		sx_events_free(ev);
	}
}

Test(flows_events, load_from_a_file)
{
	struct sx_events *ev;
	char msg[256];

	cr_assert_lt(sx_events_load("/nonexistent/events.csv", &ev, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "/nonexistent/events.csv") != NULL);
	cr_assert_lt(sx_events_load("/", &ev, msg, sizeof(msg)), 0);
}

Test(flows_events, relative_times_and_captures)
{
	struct sx_events *ev = parse_ok("capture,time,label\n"
					"+240,On\n"
					"+4:00.5,Off\n"
					"run2/wlan.pcap,+1:02:03,On\n"
					"wlan.pcap,+10\n"
					"1724059939,absolute\n");

	cr_assert_eq(ev->n, 5);
	cr_assert(ev->any_relative);
	cr_assert(ev->any_capture);
	cr_assert_eq(ev->ncaptures, 2);
	/* absolute events first, then relative ones by offset */
	cr_assert(!ev->ev[0].relative);
	cr_assert_eq(ev->ev[0].start_ns, 1724059939 * SX_NS_PER_SEC);
	cr_assert_eq(ev->ev[0].capture, 0);
	cr_assert(ev->ev[1].relative);
	cr_assert_eq(ev->ev[1].start_ns, 10 * SX_NS_PER_SEC);
	cr_assert_str_eq(ev->captures[ev->ev[1].capture - 1], "wlan.pcap");
	cr_assert_str_eq(ev->ev[1].label, "");
	cr_assert_eq(ev->ev[2].start_ns, 240 * SX_NS_PER_SEC);
	cr_assert_eq(ev->ev[2].capture, 0);
	cr_assert_eq(ev->ev[3].start_ns, 240 * SX_NS_PER_SEC + 500000000);
	cr_assert_str_eq(ev->ev[3].label, "Off");
	cr_assert_eq(ev->ev[4].start_ns, 3723 * SX_NS_PER_SEC);
	cr_assert_str_eq(ev->captures[ev->ev[4].capture - 1], "run2/wlan.pcap");
	cr_assert_eq(ev->ev[4].line, 4);
	sx_events_free(ev);
	parse_bad("+4:6,x\n", "minutes and seconds take two digits");
	parse_bad("+1:60\n", "seconds past 59");
	parse_bad("+1:2:3:4\n", "four parts");
	parse_bad("+\n", "a sign alone");
	parse_bad("cap,240x\n", "a capture row with a bad time");
	parse_bad(",+240\n", "an empty capture name");
	parse_bad("a,+1,b,c\n", "four fields");
}
