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
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"

int sx_cmd_packets(int argc, char **argv);
int sx_cmd_flows(int argc, char **argv);
int sx_cmd_mine(int argc, char **argv);
int sx_cmd_extract(int argc, char **argv);
int sx_cmd_batch(int argc, char **argv);
int sx_cmd_check(int argc, char **argv);
int sx_cmd_verify(int argc, char **argv);

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
	      "Exit status: 0 ok, 1 failure, 2 usage error, 3 some inputs unreadable.\n",
	      f);
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
		printf("sigex %s\n", SX_VERSION);
		return SX_EXIT_OK;
	}
	sx_cli_signals();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return sx_cmd_extract(argc, argv);
}
