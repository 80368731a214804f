/*
 * main.c - the sigex command: dispatch to a subcommand.
 *
 * Each subcommand parses its own options and returns an exit status
 * (core/err.h: 0 ok, 1 failure, 2 usage error, 3 partial).  The main job,
 * `sigex DEVICE IPV4 PCAP...`, is `sigex extract` spelled without its name:
 * a first argument that is not a command name (nor --help / --version)
 * makes the whole command line an extract command line, as the reference
 * tool's `main.py DEVICE IPV4 PCAP...`.  A device named like a command is
 * run as `sigex extract DEVICE ...`.
 *
 * A mistyped command (git's rule): when the first word is not a command but
 * is within two edits of one, and the rest of the line is not a main job
 * (DEVICE IPV4 PCAP...: at least three words, the second an IPv4 address),
 * the answer is `unknown command "chek"; did you mean "check"?` (exit 2).
 * When it is a main job whose device is one edit from a command (`sigex
 * flow 10.0.0.2 x.pcap`), the main job runs after a warning; `sigex extract
 * flow ...` says it on purpose and gets none.
 *
 * --version prints the versions of the libraries sigex runs with, as
 * tcpdump does for libpcap: libpcap, xxHash and libyaml from their run-time
 * queries, liburcu from its headers when they carry a version, else from
 * the version pkg-config found at build time (liburcu has no run-time
 * query).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "flows/flows.h"
#include "ingest/ingest.h"
#include "yaml/ydoc.h"

int sx_cmd_packets(int argc, char **argv);
int sx_cmd_flows(int argc, char **argv);
int sx_cmd_mine(int argc, char **argv);
int sx_cmd_extract(int argc, char **argv);
int sx_cmd_batch(int argc, char **argv);
int sx_cmd_check(int argc, char **argv);
int sx_cmd_verify(int argc, char **argv);
int sx_cmd_detect(int argc, char **argv);

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"packets", sx_cmd_packets, "packet stage: one CSV row per packet"},
    {"flows", sx_cmd_flows, "flow stage: one CSV row per flow"},
    {"mine", sx_cmd_mine, "signature-extractor stage: patterns from flow CSVs"},
    {"extract", sx_cmd_extract, "the main job (the default command, see below)"},
    {"batch", sx_cmd_batch, "the main job over a whole capture archive"},
    {"check", sx_cmd_check, "compare two signatures (regression check)"},
    {"verify", sx_cmd_verify, "replay captures through a profile as the firewall would"},
    {"detect", sx_cmd_detect, "find an event's occurrences in captures by its signature"},
};

static const char usage[] =
    "Usage: sigex DEVICE IPV4 PCAP... [-o DIR] [OPTIONS]\n"
    "       sigex COMMAND [OPTIONS] ...\n"
    "\n"
    "sigex finds the network signature of a smart-home device event (the flows\n"
    "that recur in every capture of the event) and writes it as a firewall profile.\n"
    "\n"
    "Commands:\n";

static void print_usage(FILE *f)
{
	size_t i;

	fputs(usage, f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nThe main job, `sigex DEVICE IPV4 PCAP...`, reads the captures of an event's\n"
	      "occurrences, mines their signature and writes DIR/profile.yaml, a device\n"
	      "profile for the smart-home firewall (same as `sigex extract ...`).\n"
	      "\nRun 'sigex COMMAND --help' for a command's options.\n"
	      "Exit status: 0 ok, 1 failure, 2 usage error (also: a named file that does\n"
	      "not exist), 3 some inputs unreadable, 130/143 SIGINT/SIGTERM, 141 standard\n"
	      "output closed.\n",
	      f);
}

static void print_version(void)
{
	unsigned x = sx_flows_xxhash_version();

	printf("sigex %s\n", SX_VERSION);
	printf("%s\n", sx_ingest_pcap_version());
	printf("liburcu %s\n", sx_flows_urcu_version());
	printf("xxHash %u.%u.%u\n", x / 10000, x / 100 % 100, x % 100);
	printf("libyaml %s\n", sx_yaml_version());
}

/* Optimal string alignment distance (an adjacent swap is one edit), capped
 * at 3: only "close or not" matters. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned d[16][16];
	size_t i, j, la = strlen(a), lb = strlen(b);

	if (la > 14 || lb > 14)
		return 3;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* The command closest to word, with its distance (3: none close). */
static const struct command *closest(const char *word, unsigned *dist)
{
	const struct command *best = NULL;
	size_t i;

	*dist = 3;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		unsigned d = edit_distance(word, commands[i].name);

		if (d < *dist) {
			*dist = d;
			best = &commands[i];
		}
	}
	return best;
}

/* Whether argv (from the first word) reads as DEVICE IPV4 PCAP... */
static bool is_main_job(int argc, char **argv)
{
	unsigned char a[4];

	return argc >= 4 && inet_pton(AF_INET, argv[2], a) == 1;
}

/* A first word that is no command: a typo (exit 2), or the main job. */
static int main_job_or_typo(int argc, char **argv)
{
	const struct command *near;
	unsigned dist;

	near = argv[1][0] != '-' ? closest(argv[1], &dist) : NULL;
	if (near && !is_main_job(argc, argv)) {
		fprintf(stderr, "sigex: unknown command \"%s\"; did you mean \"%s\"?\n", argv[1],
			near->name);
		fputs("Try 'sigex --help'.\n", stderr);
		return SX_EXIT_USAGE;
	}
	if (near && dist == 1)
		fprintf(stderr,
			"sigex: warning: device \"%s\" is one letter from the command \"%s\"; "
			"running the main job for it (say 'sigex extract %s ...' to mean it)\n",
			argv[1], near->name, argv[1]);
	return sx_cmd_extract(argc, argv);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return sx_cli_usage_error(NULL, "expected DEVICE IPV4 PCAP... or a command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_usage(stdout);
		return SX_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		print_version();
		return SX_EXIT_OK;
	}
	sx_cli_signals();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return main_job_or_typo(argc, argv);
}
