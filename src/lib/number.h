/* number: range-checked parsing of whole numbers from the command line (never atoi). */
#ifndef MPECHO_NUMBER_H
#define MPECHO_NUMBER_H

/*
 * Parse text as a whole decimal number in [min, max] into *out.
 * Returns 0, or -1 with errno EINVAL (not a number) or ERANGE (out of bounds).
 */
int number_parse(const char *text, long min, long max, long *out);

#endif
