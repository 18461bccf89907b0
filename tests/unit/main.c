/* main: the unit test runner; it ends with "unit: N passed, N failed", which tests/run.py reads. */
#include <stdio.h>

#include "unit.h"

static int passed, failed;

void
unit_check(bool ok, const char *what, const char *file, int line)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s:%d: %s\n", file, line, what);
	}
}

int
main(void)
{
	unit_lib();
	unit_mpechod();
	unit_bench();
	unit_bench_options();
	unit_result();
	unit_sample();
	unit_proxy();
	unit_observe();
	unit_options();
	unit_client();
	unit_upgrade();
	unit_inetd();
	unit_procstat();
	unit_rules();
	unit_sockopt();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
