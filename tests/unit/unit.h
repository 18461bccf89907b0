/* unit: the unit tests' one check macro, and the groups main.c runs. */
#ifndef MPECHO_UNIT_H
#define MPECHO_UNIT_H

#include <stdbool.h>

#define CHECK(cond) unit_check((cond), #cond, __FILE__, __LINE__)

/* Count one check; a failed one is printed with its place. */
void unit_check(bool ok, const char *what, const char *file, int line);

void unit_lib(void);		/* lib.c */
void unit_mpechod(void);	/* mpechod.c */
void unit_bench(void);		/* bench.c */
void unit_bench_options(void);	/* bench_options.c */
void unit_result(void);		/* result.c */
void unit_sample(void);		/* sample.c */
void unit_proxy(void);		/* proxy.c */
void unit_observe(void);	/* observe.c */
void unit_options(void);	/* options.c */
void unit_client(void);		/* client.c */
void unit_upgrade(void);	/* upgrade.c */
void unit_inetd(void);		/* inetd.c */
void unit_procstat(void);	/* procstat.c */
void unit_rules(void);		/* rules.c */
void unit_sockopt(void);	/* sockopt.c */

#endif
