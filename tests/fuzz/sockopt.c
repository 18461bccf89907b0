/*
 * sockopt: a libFuzzer target for the socket options' list (-O, and -l's
 * options): whatever the text, sockopt_parse_list() takes it whole or refuses
 * it with one line; a list it takes is written back, option by option, as
 * text it takes again to the same values, and every check answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* so written back as a list ("keepalive=5:2:3,mark=7"), parsed again: the same options. */
static void
sockopt_round_trip(const struct sockopts *so)
{
	struct sockopts again = { 0 };
	char text[1024] = "", one[96], err[512];
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++)
		if (so->set & (1u << id)) {
			if (text[0] != '\0')
				strcat(text, ",");
			strcat(text, sockopt_text(so, (enum sockopt_id)id, one, sizeof(one)));
		}
	if (sockopt_parse_list(text, &again, err, sizeof(err)) < 0 || memcmp(so, &again, sizeof(*so)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockopts so = { 0 };
	char text[1024], err[512] = "";
	int place;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sockopt_parse_list(text, &so, err, sizeof(err)) < 0) {
		if (err[0] == '\0' || strchr(err, '\n') != NULL)
			abort();
		return 0;
	}
	if (so.set == 0 || so.set >= 1u << SOCKOPT_COUNT)
		abort();
	sockopt_round_trip(&so);
	for (place = SOCKOPT_AT_LISTENER; place <= SOCKOPT_AT_CLIENT_UDP; place++) {
		err[0] = '\0';
		if (sockopt_check(&so, (enum sockopt_place)place, err, sizeof(err)) < 0 &&
		    (err[0] == '\0' || strchr(err, '\n') != NULL))
			abort();
	}
	return 0;
}
