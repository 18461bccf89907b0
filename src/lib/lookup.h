/* lookup: where the C library looks up users, groups, host and service names. */
#ifndef MPECHO_LOOKUP_H
#define MPECHO_LOOKUP_H

/* 1 in the static build (make static), which links the C library in. */
#ifndef MPECHO_STATIC
#define MPECHO_STATIC 0
#endif

/*
 * Call first in main(). A dynamic build changes nothing: /etc/nsswitch.conf
 * decides. A static build cannot load the C library's lookup modules
 * (nsswitch.conf's "systemd", "ldap", "db"...: glibc would load a second,
 * shared C library into the process, and the lookup of a name the files do
 * not have crashed that way): it reads /etc/passwd, /etc/group, /etc/services
 * and /etc/hosts, and asks DNS for other host names.
 */
void lookup_init(void);

#endif
