/*
 * fail_syncfs.c - a test shim (LD_PRELOAD): syncfs() fails with EIO from
 * its SX_FAIL_SYNCFS-th call in the process on (1: every call), as a disk
 * that stops writing would make it; without the variable it is the real
 * one.  Lets the tests reach what sigex does when its files cannot be made
 * durable.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

int syncfs(int fd);

static atomic_int calls;

int syncfs(int fd)
{
	static int (*real)(int);
	const char *from = getenv("SX_FAIL_SYNCFS");
	int n = atomic_fetch_add(&calls, 1) + 1;

	if (from && n >= atoi(from)) {
		errno = EIO;
		return -1;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "syncfs");
	return real ? real(fd) : (errno = ENOSYS, -1);
}
