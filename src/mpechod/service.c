/* service: the table of services, by name. */
#include "service.h"

#include <string.h>

static const struct service *const services[] = {
	&service_echo,
	&service_upper,
	&service_discard,
	&service_chargen,
	&service_daytime,
};

const struct service *
service_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(services[i]->name, name) == 0)
			return services[i];
	return NULL;
}

const char *
service_names(void)
{
	return "echo, upper, discard, chargen, daytime";
}
